"""The first screen: the open queue's counts per bucket (the dashboard issue replaces it)."""

from __future__ import annotations

from datetime import UTC
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Static

from wo_tui.app import bindings_for, styles_dir
from wo_tui.core import queue
from wo_tui.keys import HOME_BINDINGS
from wo_tui.messages import QueueCounted

BUCKET_LABELS = {
    "all": "All open",
    "new": "Needs attention",
    "setup": "Set up",
    "sent": "Sent",
    "on_hold": "On hold",
    "overdue": "Overdue",
    "due_today": "Due today",
}


class BucketTile(Static):
    """One bucket: its name and its count."""

    def __init__(self, bucket: str) -> None:
        super().__init__(id=f"bucket-{bucket}", classes="bucket")
        self.bucket = bucket
        self.show(None)

    def show(self, count: int | None) -> None:
        """Show the count (or a dash before the first read)."""
        shown = "-" if count is None else f"{count:,}"
        self.update(Content.assemble((shown, "bold"), "\n", BUCKET_LABELS[self.bucket]))


class HomeScreen(Screen[None]):
    """Counts of the open queue per bucket, refreshed on a timer."""

    CSS_PATH = styles_dir() / "home.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(HOME_BINDINGS)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Vertical(id="home"):
            yield Static("Open work orders", id="home-title")
            with Grid(id="buckets"):
                for bucket in queue.BUCKETS:
                    yield BucketTile(bucket)
            yield Static("", id="updated")
        yield Footer()

    def on_mount(self) -> None:
        self._next_refresh: Timer | None = None
        self.action_refresh()

    def action_refresh(self) -> None:
        """Read the counts now (in a thread: the database never blocks the screen)."""
        self.count_buckets()

    @work(thread=True, exclusive=True, group="counts", name="bucket counts")
    def count_buckets(self) -> None:
        ctx = self.app.ctx  # type: ignore[attr-defined]
        with ctx.db.read() as conn:
            counts = queue.count_buckets(conn, ctx.today())
        self.post_message(QueueCounted(counts, ctx.now()))

    def on_queue_counted(self, message: QueueCounted) -> None:
        for bucket in queue.BUCKETS:
            self.query_one(f"#bucket-{bucket}", BucketTile).show(getattr(message.counts, bucket))
        local = message.at.replace(tzinfo=UTC).astimezone()
        self.query_one("#updated", Static).update(f"updated {local:%H:%M:%S}")
        # Re-arm one timer after each read, so reads never overlap or pile up.
        if self._next_refresh is not None:
            self._next_refresh.stop()
        interval = self.app.settings.ui.refresh_interval_seconds  # type: ignore[attr-defined]
        self._next_refresh = self.set_timer(interval, self.action_refresh, name="refresh counts")
