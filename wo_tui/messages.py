"""Messages that cross the app, as small dataclasses with past-tense names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.message import Message

from wo_tui.core.queue import BucketCounts, QueueFilter
from wo_tui.queue_view import Snapshot


@dataclass
class QueueRefreshed(Message):
    """The dashboard's rows were read again (posted from a worker thread)."""

    snapshot: Snapshot
    at: datetime


@dataclass
class QueueCounted(Message):
    """The matches of a filter and the bucket counts were counted (from a worker thread)."""

    filter: QueueFilter
    total: int
    counts: BucketCounts
