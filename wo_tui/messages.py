"""Messages that cross the app, as small dataclasses with past-tense names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.message import Message

from wo_tui.core.queue import BucketCounts
from wo_tui.queue_view import Snapshot


@dataclass
class QueueRefreshed(Message):
    """The dashboard's rows and counts were read again (posted from a worker thread)."""

    snapshot: Snapshot
    counts: BucketCounts
    at: datetime
