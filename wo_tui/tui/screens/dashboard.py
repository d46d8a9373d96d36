"""The dashboard: the open queue, bucket counts, marking, bulk complete and cancel, undo,
filter, sort, jump, and a live refresh that keeps the cursor, the marks and the filter."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from wo_tui.core.context import Context
from wo_tui.core.errors import InvalidInput, WorkOrderError
from wo_tui.core.numbers import parse_number
from wo_tui.core.outcomes import BatchResult, Result
from wo_tui.core.queue_types import BUCKETS, BucketCounts, QueueFilter, SortOrder, parse_filter
from wo_tui.core.statuses import CancelReason, WorkOrderStatus
from wo_tui.keys import BUCKET_NAMES, DASHBOARD_BINDINGS
from wo_tui.tui.bindings import bindings_for, styles_dir
from wo_tui.tui.messages import QueueCounted, QueueRefreshed, Recount
from wo_tui.tui.queue_view import QueueView, Snapshot, rows_for
from wo_tui.tui.screens.leaving import MayLose
from wo_tui.tui.screens.queue_actions import QueueActions
from wo_tui.tui.widgets.key_bar import KeyBar
from wo_tui.tui.widgets.prompt_line import PromptLine, skip_when_typing
from wo_tui.tui.widgets.queue_table import QueueTable

BUCKET_TITLES = {b: name.capitalize() for b, name in zip(BUCKETS, BUCKET_NAMES, strict=True)}
SHORT_TITLES = {
    "all": "All",
    "new": "New",
    "setup": "Setup",
    "sent": "Sent",
    "on_hold": "Hold",
    "overdue": "Late",
    "due_today": "Today",
}
FRESH_SECONDS = 4.0
READ_NOW_S = 0.1
"""How long a key that changes the filter, sort or bucket holds its frame for the rows."""


def _show(line: Static, content: Content) -> None:
    """Put new text in a one-line bar, repainting only that bar and only when the text
    changed (the bars have a fixed size: no layout pass, which would repaint the queue)."""
    if line.content != content:
        line.update(content, layout=False)


def _failed_emails(count: int) -> Content:
    """A loud start of the status line while emails have failed for good (M: the Outbox)."""
    if not count:
        return Content("")
    return Content.styled(f"✉ {count} failed email{'s' if count != 1 else ''} (M) ", "$error bold")


def _cancel_note(reason: CancelReason, emails: int) -> str:
    """What a cancel will do beyond the status: its reason and the emails it queues."""
    if not emails:
        return f"Reason: {reason.label}. No emails are sent."
    plural = "s" if emails != 1 else ""
    return (
        f"Reason: {reason.label}. {emails} cancellation notice{plural} will be emailed to "
        "the assignees of orders already sent."
    )


class DashboardScreen(QueueActions, MayLose, Screen[None]):
    """The open queue, where a dispatcher spends the day."""

    CSS_PATH = styles_dir() / "dashboard.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(DASHBOARD_BINDINGS)

    def __init__(self) -> None:
        super().__init__()
        self.ctx: Context = self.app.ctx  # type: ignore[attr-defined]
        self.view = QueueView(self.ctx.db, self.ctx.today)
        self.bucket = "all"
        self.query_text = ""
        self.counts = BucketCounts()
        self.counted = False
        """The counts have been read once (the first frame comes before them)."""
        self.failed_emails = 0
        self.range_anchor: bool = False
        self.show_closed = False
        """Closed orders shown too (the `t` toggle)."""
        self.last_batch: BatchResult | None = None
        self.updated_at: datetime | None = None
        self._timer: Timer | None = None

    # -- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="buckets")
        yield QueueTable(self.view, self.ctx.today(), id="queue")
        yield PromptLine(
            placeholder="filter: words, status:, type:, pri:, tech:, overdue, due:today",
            id="filter",
            classes="hidden",
            hides=True,
        )
        yield PromptLine(
            placeholder=":123 opens WO-000123 · :export PATH.csv|json",
            id="command",
            classes="hidden",
            hides=True,
        )
        yield Static("", id="status-line")
        yield KeyBar()

    @property
    def table(self) -> QueueTable:
        """The queue table widget."""
        return self.query_one(QueueTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.first_read()

    def first_read(self) -> None:
        """Show the first rows in the first frame: the rows the command line read before
        the app started (`first_window`, no SQLAlchemy) when they answer this request, else
        read here, in the mount's own turn (a keyset window takes a few milliseconds). Read
        in a worker thread they came a frame later: the thread waited for the interpreter
        while the app started, and the empty queue was drawn first."""
        self.view.height = rows_for(self.app.size.height)
        request = self.view.snapshot_request(keep=False)
        ready: Snapshot | None = self.app.first_read  # type: ignore[attr-defined]
        self.app.first_read = None  # type: ignore[attr-defined]
        if ready is None or replace(ready, window=None, total=request.total) != request:
            ready = self.view.read(request, with_total=False)
        self.show_rows(ready, self.ctx.now())
        # Not `call_after_refresh`: during the mount it can run before this screen's first
        # frame (the screen is not the current one yet), and the counts' read loads
        # SQLAlchemy in its thread, which then competes with drawing the frame.
        self.table.when_painted(lambda: self.count_queue(request.filter, "all"))

    # -- reading (in a thread; the screen is updated from the message) -----------------------
    def reload(self, *, keep: bool = False, recount: Recount = "all") -> None:
        """Read the queue again: from the top, or (`keep`) around the current rows. Then
        count what may have changed: everything after a change or on the timer, only the
        filter's matches when just the filter changed, nothing when just the order did."""
        self.read_queue(self.view.snapshot_request(keep=keep), recount)

    @work(thread=True, exclusive=True, group="queue", name="read the queue")
    def read_queue(self, request: Snapshot, recount: Recount = "all") -> None:
        # Rows first (a keyset window is quick); the counts (a text filter's count scans the
        # table) once the rows are painted, so they do not compete with painting them.
        snapshot = self.view.read(request, with_total=False)
        self.post_message(QueueRefreshed(snapshot, self.ctx.now(), recount))

    async def reread(self, recount: Recount, *, keep: bool = False) -> None:
        """Read from the top after a key changed the filter, sort or bucket, and paint the
        key's echo and the new rows in ONE frame: the read runs in a thread and the frame
        waits for it, for at most READ_NOW_S (a keyset window takes a few milliseconds). A
        slower read paints the key now and its rows when they come. Then the counts."""
        request = self.view.snapshot_request(keep=keep)
        with self.app.batch_update():
            reading = asyncio.ensure_future(
                asyncio.to_thread(self.view.read, request, with_total=False)
            )
            await asyncio.wait({reading}, timeout=READ_NOW_S)
            if reading.done():
                self.show_rows(reading.result(), self.ctx.now())
                # Let the table hand its repaint to the screen before the batch ends, so it
                # is in the same frame as the key's echo rather than in the next one.
                for _ in range(3):
                    await asyncio.sleep(0)
        self.check_idle()  # the screen paints what the batch held back (it may be idle now)
        if not reading.done():
            reading.add_done_callback(
                lambda done: self.post_message(QueueRefreshed(done.result(), self.ctx.now()))
            )
        self._count_after_frame(request.filter, recount)

    def _count_after_frame(self, flt: QueueFilter, recount: Recount) -> None:
        """Count once the frame is painted: a text filter's count scans the table, and
        should not compete with painting the rows for the processor."""
        if recount != "none":
            self.call_after_refresh(self.count_queue, flt, recount)

    @work(thread=True, exclusive=True, group="counts", name="count the queue")
    def count_queue(self, flt: QueueFilter, recount: Recount) -> None:
        """Count (in a worker thread) and post what `recount` asks for."""
        self.post_message(self._count(flt, recount))

    def _count(self, flt: QueueFilter, recount: Recount) -> QueueCounted:
        from wo_tui.core import queue
        from wo_tui.core.outbox import count_failed

        today = self.ctx.today()
        with self.ctx.db.read() as conn:
            total = queue.count_matching(conn, flt, today)
            if recount == "matching":
                return QueueCounted(flt, total)
            counts = queue.count_buckets(conn, today)
            failed = count_failed(conn)
        return QueueCounted(flt, total, counts, failed)

    def on_queue_refreshed(self, message: QueueRefreshed) -> None:
        self.show_rows(message.snapshot, message.at)
        self._count_after_frame(message.snapshot.filter, message.recount)

    def show_rows(self, snapshot: Snapshot, at: datetime) -> None:
        """Show a read of the queue (a stale one, for an older filter or sort, is ignored),
        repainting only the rows that changed."""
        before = {row.id for row in self.view.rows}
        changed = self.view.apply(snapshot)
        self.updated_at = at
        if snapshot.keep and before:
            fresh = {row.id for row in self.view.rows} - before - self.view.seen
            if fresh:
                self.table.fresh |= fresh
                self.set_timer(FRESH_SECONDS, lambda: self._unhighlight(fresh))
        self.view.seen |= {row.id for row in self.view.rows}
        self.table.today = self.ctx.today()
        if changed is None:
            self.table.refresh()
        else:
            for index in changed:
                self.table.refresh_row(index)
        self.show_status()

    def on_queue_counted(self, message: QueueCounted) -> None:
        if message.filter == self.view.filter:
            self.view.total = message.total
        if message.counts is not None:
            self.counts = message.counts
            self.counted = True
            self.show_buckets()
        if message.failed_emails is not None:
            self.failed_emails = message.failed_emails
        self.show_status()
        self._arm_timer()

    def _unhighlight(self, rows: set[int]) -> None:
        """End the highlight of one refresh's new rows (a later refresh's keep their time)."""
        self.table.fresh -= rows
        self.table.refresh()

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        interval = self.app.settings.ui.refresh_interval_seconds  # type: ignore[attr-defined]
        self._timer = self.set_timer(interval, lambda: self.reload(keep=True), name="refresh")

    def show_buckets(self) -> None:
        """Repaint the bucket bar (after a read; not on every key)."""
        parts: list[Content] = []
        for n, bucket in enumerate(BUCKETS, start=1):
            count = getattr(self.counts, bucket)
            if self.size.width >= 140:
                text = f" {n} {BUCKET_TITLES[bucket]} {count:,} "
            else:  # 80 columns: short names, large counts in thousands
                shown = f"{count / 1000:.0f}k" if count >= 10_000 else f"{count:,}"
                text = f"{n} {SHORT_TITLES[bucket]} {shown}"
            style = "reverse bold" if bucket == self.bucket else ""
            if bucket == "overdue" and self.counts.overdue:
                style += " $error"
            parts.append(Content.styled(text, style.strip()) if style else Content(text))
        _show(self.query_one("#buckets", Static), Content("│").join(parts))

    def show_status(self) -> None:
        """Repaint the status line: marks, counts, position, sort, filter, last read."""
        updated = f"{self.ctx.local(self.updated_at):%H:%M:%S}" if self.updated_at else "-"
        status = (
            f"{len(self.view.marks):,} marked / {self.view.total:,} shown / "
            f"{self.counts.all:,} open"
            if self.counted
            else f"{len(self.view.marks):,} marked / counting…"
        )
        sort = self.view.sort
        extras = [
            f"row {self.view.position + 1:,}" if self.view.rows else "no rows",
            f"{'▼' if sort.descending else '▲'}{sort.column}",
        ]
        if self.view.filter.include_closed:
            extras.append("closed too")
        if self.range_anchor:
            extras.append("RANGE (V ends)")
        if self.query_text:
            extras.append(f"/{self.query_text}")
        extras.append(updated)
        _show(
            self.query_one("#status-line", Static),
            Content.assemble(
                _failed_emails(self.failed_emails), (status, "bold"), " │ ", " │ ".join(extras)
            ),
        )

    # -- moving -----------------------------------------------------------------------------
    def _move(self, delta: int, *, page: bool = False) -> None:
        view = self.view
        old_top, old_cursor, old_id = view.first_index + view.top, view.position, view.current_id
        if page:
            view.page(1 if delta > 0 else -1)
        else:
            view.move(delta)
        if self.range_anchor:
            view.mark_between(old_id, view.current_id)
        if view.first_index + view.top != old_top or self.range_anchor:
            self.table.refresh()
        else:
            self.table.refresh_row(old_cursor - view.first_index)
            self.table.refresh_row(view.cursor)
        self.show_status()

    def action_all_orders(self) -> None:
        """Search every order, closed ones too."""
        from wo_tui.tui.screens.all_orders import AllOrdersScreen

        self.app.push_screen(AllOrdersScreen(), lambda _: self.after_change())

    def action_column(self, delta: int) -> None:
        """Move the column cursor (what `o` sorts by)."""
        self.table.column_index += delta
        self.table.refresh_header()

    # -- marking ----------------------------------------------------------------------------
    def action_toggle_mark(self) -> None:
        """Mark or unmark the row and move down."""
        self.view.toggle_mark()
        self.table.refresh_row(self.view.cursor)
        self._move(1)

    def action_range_mode(self) -> None:
        """Start (or stop) marking every row the cursor passes."""
        self.range_anchor = not self.range_anchor
        if self.range_anchor and self.view.current_id is not None:
            self.view.marks.add(self.view.current_id)
            self.table.refresh_row(self.view.cursor)
        self.show_status()

    def action_mark_move(self, delta: int) -> None:
        """Mark the row and the next one (shift+arrows)."""
        if self.view.current_id is not None:
            self.view.marks.add(self.view.current_id)
        self._move(delta)
        if self.view.current_id is not None:
            self.view.marks.add(self.view.current_id)
        self.table.refresh()
        self.show_status()

    def action_mark_all(self) -> None:
        """Mark every order the filter matches, on screen or not."""
        count = self.view.mark_all_matching()
        self.table.refresh()
        self.show_status()
        self.notify(f"{count:,} orders matching the filter are marked")

    def action_invert_marks(self) -> None:
        """Swap marked and unmarked among the orders the filter matches."""
        self.view.invert_marks()
        self.table.refresh()
        self.show_status()

    def action_clear(self) -> None:
        """Esc: leave range marking, else clear the marks (an open prompt line closes itself
        on Esc: `PromptLine`)."""
        if self.range_anchor:
            self.range_anchor = False
        else:
            self.view.marks.clear()
        self.table.refresh()
        self.show_status()

    def would_lose(self) -> str | None:
        """Quitting drops the marks (they live only in this window)."""
        marks = len(self.view.marks)
        return f"drop {marks:,} mark{'s' if marks != 1 else ''}" if marks else None

    # -- bulk actions -----------------------------------------------------------------------
    def _targets(self) -> list[int]:
        targets = self.view.targets()
        if not targets:
            self.notify("Nothing to act on: the queue is empty.", severity="warning")
        return targets

    async def action_complete(self) -> None:
        """Complete the marked orders (or the cursor row), after a confirmation."""
        from wo_tui.core import status_changes

        ids = self._targets()
        if not ids:
            return
        preview = status_changes.preview(self.ctx, ids, WorkOrderStatus.COMPLETED)
        skipped = [(o.number, o.detail) for o in preview.outcomes if o.result is not Result.DONE]
        will = len(ids) - len(skipped)
        if len(ids) == 1 and not skipped:
            await self._run_complete(ids, preview.versions)
            return
        reads = " Read types are completed with 'reading to follow'." if will else ""
        hidden = self._hidden_note(preview.ids(Result.DONE))

        async def run(yes: bool | None) -> None:
            if yes:
                await self._run_complete(ids, preview.versions)

        self.app.push_screen(
            self._confirm("Complete", will, skipped, f"{hidden}No emails are sent.{reads}"), run
        )

    def _hidden_note(self, ids: list[int]) -> str:
        """Say so when some of the marked orders the action would change are not shown (a
        filter or bucket chosen after marking them hides them)."""
        hidden = self.view.hidden_marks(ids)
        if not hidden:
            return ""
        verb, pronoun = ("is", "it") if hidden == 1 else ("are", "them")
        return f"{hidden:,} of them {verb} marked but not on the list: the filter hides {pronoun}. "

    def _confirm(self, verb: str, will: int, skipped: list[tuple[str, str]], note: str):
        from wo_tui.tui.screens.confirm import ConfirmBulkScreen

        title = f"{verb} {will:,} order{'s' if will != 1 else ''}?"
        return ConfirmBulkScreen(title, will, skipped, note)

    async def _run_complete(self, ids: list[int], versions: dict[int, int]) -> None:
        from wo_tui.core import status_changes

        await self._finish(
            lambda: status_changes.bulk_complete(self.ctx, ids, expected_versions=versions)
        )

    def action_cancel(self) -> None:
        """Cancel the marked orders (or the cursor row) with a reason code."""
        from wo_tui.core import status_changes
        from wo_tui.tui.screens.cancel_reason import CancelReasonScreen

        ids = self._targets()
        if not ids:
            return

        def chosen(answer: tuple[CancelReason, str] | None) -> None:
            if answer is None:
                return
            reason, note = answer
            preview = status_changes.preview(self.ctx, ids, WorkOrderStatus.CANCELLED)
            skipped = [
                (o.number, o.detail) for o in preview.outcomes if o.result is not Result.DONE
            ]
            will = len(ids) - len(skipped)

            async def run(yes: bool | None) -> None:
                if yes:
                    await self._finish(
                        lambda: status_changes.bulk_cancel(
                            self.ctx,
                            ids,
                            reason,
                            note=note or None,
                            expected_versions=preview.versions,
                        )
                    )

            hidden = self._hidden_note(preview.ids(Result.DONE))
            self.app.push_screen(
                self._confirm(
                    "Cancel", will, skipped, hidden + _cancel_note(reason, preview.emails)
                ),
                run,
            )

        self.app.push_screen(CancelReasonScreen(len(ids)), chosen)

    async def _finish(self, call) -> None:
        """Run a bulk action, re-read the queue around the current rows and repaint it,
        then show the per-order result over it (pushed after the repaint, so the queue
        under the result is already the new one)."""
        from wo_tui.tui.screens.outcome import BatchOutcomeScreen

        try:
            batch: BatchResult = call()
        except WorkOrderError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        done = set(batch.ids(Result.DONE))
        self.view.marks -= done
        if done:
            self.last_batch = batch
        await self.reread("none", keep=True)
        # The counts too before the result goes up (~10 ms): a dashboard under a dialog does
        # not repaint until the dialog closes, and its counts would be the old ones until then.
        self.on_queue_counted(await asyncio.to_thread(self._count, self.view.filter, "all"))
        if len(batch.outcomes) == 1 and batch.all_done:
            self.notify(f"{batch.outcomes[0].number} {batch.action}", markup=False)
        else:
            self.call_after_refresh(self.app.push_screen, BatchOutcomeScreen(batch))

    def action_undo(self) -> None:
        """Undo the last bulk action: reopen exactly what it closed."""
        from wo_tui.core import status_changes

        batch = self.last_batch
        if batch is None:
            self.notify("Nothing to undo.", severity="warning")
            return
        result = status_changes.undo(self.ctx, batch)
        self.last_batch = None
        self.reload(keep=True)
        self.notify(
            f"Undo: {result.summary()}",
            markup=False,
            severity="information" if result.all_done else "warning",
        )

    # -- filter, sort, jump -----------------------------------------------------------------
    def action_filter(self) -> None:
        """Open the live filter."""
        skip_when_typing(self)
        self.query_one("#filter", PromptLine).open(self.query_text)

    async def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter":
            return
        try:
            flt = parse_filter(event.value, include_closed=self.show_closed)
        except InvalidInput as exc:
            event.input.border_subtitle = "; ".join(exc.problems.values())
            return
        event.input.border_subtitle = ""
        self.query_text = event.value
        self.view.filter = flt.with_bucket(self.bucket)  # type: ignore[arg-type]
        await self.reread("matching")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # The line has closed itself and given the focus back (PromptLine).
        if event.input.id == "command":
            self.run_command(event.value)

    async def action_sort(self, descending: bool) -> None:
        """Sort by the cursor column (O: reverse)."""
        self.view.sort = SortOrder(self.table.cursor_column.key, descending)
        await self.reread("none")

    async def action_toggle_closed(self) -> None:
        """Show closed orders too (or only open ones again)."""
        self.show_closed = not self.show_closed
        self.view.filter = replace(self.view.filter, include_closed=self.show_closed)
        await self.reread("matching")

    async def action_bucket(self, index: int) -> None:
        """Show one bucket of the queue."""
        self.bucket = BUCKETS[index]
        base = parse_filter(self.query_text, include_closed=self.show_closed)
        self.view.filter = base.with_bucket(self.bucket)
        self.show_buckets()
        await self.reread("matching")

    def action_command(self) -> None:
        """Open the command line (`:123` jumps to WO-000123)."""
        skip_when_typing(self)
        self.query_one("#command", PromptLine).open("")

    def run_command(self, text: str) -> None:
        """Run one command-line entry: `:123` opens WO-000123 (putting the cursor on it when
        the view shows it), `:export PATH` writes the view to a .csv or .json file."""
        command = text.strip().removeprefix(":").strip()
        if not command:
            return
        verb, _, rest = command.partition(" ")
        if verb.lower() == "export":
            if rest.strip():
                self.export_to(rest.strip())
            else:
                self.notify("Say where: :export ~/orders.csv (or .json)", severity="warning")
            return
        try:
            order_id = parse_number(command)
        except InvalidInput:
            self.notify(
                f"Unknown command {command!r}; try :123 or :export PATH",
                severity="warning",
                markup=False,
            )
            return
        if self.view.jump_to(order_id):
            self.table.refresh()
            self.show_status()
        self.open_detail(order_id)

    def after_change(self) -> None:
        """Back from a detail or a form: read the queue again around the cursor."""
        self.reload(keep=True)

    def action_refresh(self) -> None:
        """Read the queue again now."""
        self.reload(keep=True)
