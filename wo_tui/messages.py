"""Messages that cross the app, as small dataclasses with past-tense names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.message import Message

from wo_tui.core.queue import BucketCounts


@dataclass
class QueueCounted(Message):
    """The open queue's bucket counts were read (posted from a worker thread)."""

    counts: BucketCounts
    at: datetime
