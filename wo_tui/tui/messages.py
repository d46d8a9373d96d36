"""Messages that cross the app, as small dataclasses with past-tense names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from textual.message import Message

from wo_tui.core.queue_types import BucketCounts, QueueFilter
from wo_tui.tui.queue_view import Snapshot

Recount = Literal["all", "matching", "none"]
"""What a re-read of the queue counts besides the rows: everything after a change or on the
timer, only the filter's matches when just the filter changed, nothing when just the order
did."""


@dataclass
class QueueRefreshed(Message):
    """The dashboard's rows were read again (posted from a worker thread)."""

    snapshot: Snapshot
    at: datetime
    recount: Recount = "none"
    """What to count once the rows are painted."""


@dataclass
class QueueCounted(Message):
    """The matches of a filter and the bucket counts were counted (from a worker thread)."""

    filter: QueueFilter
    total: int
    counts: BucketCounts | None = None
    """None: not counted this time (only the filter changed; the buckets did not)."""
    failed_emails: int | None = None
    """Emails refused for good, waiting for a person (shown so they cannot go unnoticed);
    None when not counted this time."""


@dataclass
class EventsIngested(Message):
    """The app's poller turned billing events into orders (posted from a worker thread)."""

    orders_created: int
    duplicates: int
    dead: int


@dataclass
class BackgroundFailed(Message):
    """A background job (poller, sender) failed and will try again; said once per outage."""

    job: str
    error: str


@dataclass
class EmailsSent(Message):
    """The app's sender ran: how many emails went out, failed for good, or wait to retry."""

    sent: int
    failed: int
    retried: int


@dataclass
class EmailsPaused(Message):
    """Sending is paused until someone acts (login refused, no TLS); said once."""

    reason: str


@dataclass
class EmailsQueued(Message):
    """A screen queued emails (an assignment): the app's sender sends them now."""
