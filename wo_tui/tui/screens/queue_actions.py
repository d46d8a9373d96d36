"""What the dashboard and the all-orders view share beyond the table: opening an order's
detail (and stepping through the list from it), new and edit forms, and export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from wo_tui.core.context import Context
from wo_tui.core.errors import WorkOrderError
from wo_tui.core.export import export_file, matching_rows, record
from wo_tui.core.numbers import format_number
from wo_tui.core.outcomes import Result
from wo_tui.tui.queue_view import QueueView
from wo_tui.tui.widgets.queue_table import QueueTable

if TYPE_CHECKING:
    from textual.screen import Screen

    _Base = Screen[None]
else:
    _Base = object


class QueueActions(_Base):
    """Mixed into a screen that has `ctx`, `view` and a `_move(delta)` that redraws."""

    ctx: Context
    view: QueueView

    @property
    def table(self) -> QueueTable:  # provided by the screen
        raise NotImplementedError

    def _move(self, delta: int, *, page: bool = False) -> None:  # provided by the screen
        raise NotImplementedError

    def show_status(self) -> None:  # provided by the screen
        raise NotImplementedError

    # -- moving -----------------------------------------------------------------------------
    def action_cursor_down(self) -> None:
        """Move down a row."""
        self._move(1)

    def action_cursor_up(self) -> None:
        """Move up a row."""
        self._move(-1)

    def action_page_down(self) -> None:
        """Move down a screen."""
        self._move(1, page=True)

    def action_page_up(self) -> None:
        """Move up a screen."""
        self._move(-1, page=True)

    def action_first(self) -> None:
        """Jump to the first row."""
        self.view.load_start()
        self.table.refresh()
        self.show_status()

    def action_last(self) -> None:
        """Jump to the last row."""
        self.view.load_end()
        self.table.refresh()
        self.show_status()

    def after_change(self) -> None:
        """Read the list again after an order changed (the screen overrides it)."""

    # -- detail -----------------------------------------------------------------------------
    def step_order(self, from_id: int, delta: int) -> int | None:
        """From the order `from_id`, move the list's cursor by one and return the order now
        under it (None at an end or when the list does not show `from_id`): the detail's
        `]` / `[`."""
        if self.view.current_id != from_id and not self.view.jump_to(from_id):
            return None
        before = self.view.current_id
        self._move(delta)
        after = self.view.current_id
        return after if after is not None and after != before else None

    def open_detail(self, order_id: int) -> None:
        """Open an order's detail (a warning when there is no such order)."""
        from sqlalchemy import select

        from wo_tui.core.models import work_orders
        from wo_tui.tui.screens.detail import DetailScreen

        with self.ctx.db.read() as conn:
            found = conn.execute(
                select(work_orders.c.id).where(work_orders.c.id == order_id)
            ).first()
        if found is None:
            self.notify(f"there is no work order {format_number(order_id)}", severity="warning")
            return
        self.app.push_screen(
            DetailScreen(order_id, stepper=self.step_order), lambda _: self.after_change()
        )

    def action_open_detail(self) -> None:
        """Open the detail of the order under the cursor."""
        order_id = self.view.current_id
        if order_id is None:
            self.notify("Nothing to open: the list is empty.", severity="warning")
            return
        self.open_detail(order_id)

    def action_new_order(self) -> None:
        """Create a new order; its detail opens after saving."""
        from wo_tui.tui.screens.order_form import OrderFormScreen

        def saved(order_id: int | None) -> None:
            self.after_change()
            if order_id is not None:
                self.open_detail(order_id)

        self.app.push_screen(OrderFormScreen(None), saved)

    def action_edit_order(self) -> None:
        """Edit the order under the cursor."""
        from wo_tui.tui.screens.order_form import OrderFormScreen

        order_id = self.view.current_id
        if order_id is None:
            self.notify("Nothing to edit: the list is empty.", severity="warning")
            return
        self.app.push_screen(OrderFormScreen(order_id), lambda _: self.after_change())

    # -- assign -----------------------------------------------------------------------------
    def action_assign(self) -> None:
        """Assign the marked orders (or the cursor row); each queues its email, sent at once."""
        from wo_tui.core.assignment import assign_orders
        from wo_tui.tui.messages import EmailsQueued
        from wo_tui.tui.screens.outcome import BatchOutcomeScreen
        from wo_tui.tui.screens.status_dialogs import AssignAnswer, AssignScreen

        ids = self.view.targets()
        if not ids:
            self.notify("Nothing to assign: the list is empty.", severity="warning")
            return
        what = format_number(ids[0]) if len(ids) == 1 else f"{len(ids):,} orders"
        hidden = self.view.hidden_marks(ids)
        if hidden:
            what += f" ({hidden:,} of them hidden by the filter)"

        def chosen(answer: AssignAnswer | None) -> None:
            if answer is None:
                return
            try:
                batch = assign_orders(
                    self.ctx,
                    ids,
                    answer.assignee,
                    scheduled_date=answer.scheduled_date,
                    note=answer.note or None,
                )
            except WorkOrderError as exc:
                self.notify(str(exc), severity="error", markup=False, timeout=8)
                return
            self.view.marks -= set(batch.ids(Result.DONE))
            self.after_change()
            if len(batch.outcomes) == 1 and batch.all_done:
                self.notify(f"{what} assigned to {answer.assignee}", markup=False)
            else:
                self.app.push_screen(BatchOutcomeScreen(batch))
            if batch.ids(Result.DONE):
                self.post_message(EmailsQueued())  # the app sends them now

        self.app.push_screen(AssignScreen(what, self.ctx.today()), chosen)

    # -- export -----------------------------------------------------------------------------
    def action_export(self) -> None:
        """Export the view (its filter and sort, every matching row) to CSV or JSON."""
        from wo_tui.tui.screens.export_dialog import ExportScreen

        def chosen(path: str | None) -> None:
            if path:
                self.export_to(path)

        self.app.push_screen(ExportScreen(self.view.total), chosen)

    def export_to(self, path: str) -> Path | None:
        """Write the view to `path` (format from the extension); says where and how many."""
        today = self.ctx.today()
        flt, sort = self.view.filter, self.view.sort
        try:
            with self.ctx.db.read() as conn:
                rows = (record(r, today) for r in matching_rows(conn, flt, sort, today))
                written, count = export_file(path, rows)
        except WorkOrderError as exc:
            self.notify(f"Export failed: {exc}", severity="error", markup=False, timeout=10)
            return None
        except OSError as exc:
            self.notify(f"Export failed: {exc}", severity="error", markup=False, timeout=10)
            return None
        self.notify(f"Exported {count:,} orders to {written}", markup=False)
        return written
