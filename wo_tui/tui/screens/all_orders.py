"""Every order, closed ones too: a search in the dashboard's filter language over the same
table and keyset-window machinery (`QueueTable`, `QueueView`); Enter opens the detail."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static

from wo_tui.core import queue, status_changes
from wo_tui.core.context import Context
from wo_tui.core.errors import InvalidInput
from wo_tui.core.queue import QueueFilter, SortOrder
from wo_tui.core.statuses import WorkOrderStatus
from wo_tui.keys import ALL_ORDERS_BINDINGS
from wo_tui.tui.bindings import bindings_for, styles_dir
from wo_tui.tui.queue_view import QueueView
from wo_tui.tui.screens.queue_actions import QueueActions
from wo_tui.tui.widgets.key_bar import KeyBar
from wo_tui.tui.widgets.prompt_line import PromptLine, skip_when_typing
from wo_tui.tui.widgets.queue_table import QueueTable


class AllOrdersScreen(QueueActions, Screen[None]):
    """Search all orders; newest first until another sort is asked for."""

    CSS_PATH: ClassVar = [styles_dir() / "dashboard.tcss", styles_dir() / "detail.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(ALL_ORDERS_BINDINGS)

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.ctx: Context = self.app.ctx  # type: ignore[attr-defined]
        self.view = QueueView(
            self.ctx.db,
            self.ctx.today,
            filter=QueueFilter(include_closed=True),
            sort=SortOrder("number", descending=True),
        )
        self.query_text = query

    def compose(self) -> ComposeResult:
        yield Static("All orders, closed too", id="all-title")
        yield PromptLine(
            value=self.query_text,
            placeholder="search: words, status:completed, type:, pri:, tech:, overdue",
            id="search",
        )
        yield QueueTable(self.view, self.ctx.today(), id="queue")
        yield Static("", id="status-line")
        yield KeyBar()

    @property
    def table(self) -> QueueTable:
        """The orders table."""
        return self.query_one(QueueTable)

    def on_mount(self) -> None:
        self.search(self.query_text)
        self.table.focus()

    def search(self, text: str) -> bool:
        """Show the orders matching `text` (False, and the error shown, if it is not
        understood)."""
        box = self.query_one("#search", Input)
        try:
            flt = queue.parse_filter(text, include_closed=True)
        except InvalidInput as exc:
            box.border_subtitle = "; ".join(exc.problems.values())
            return False
        box.border_subtitle = ""
        self.query_text = text
        self.view.filter = flt
        self.view.load_start(recount=True)
        self.table.refresh()
        self.show_status()
        return True

    def show_status(self) -> None:
        """Repaint the status line: how many match, where the cursor is."""
        where = f"row {self.view.position + 1:,}" if self.view.rows else "no rows"
        self.query_one("#status-line", Static).update(
            Content.assemble(
                (f"{self.view.total:,} orders match", "bold"),
                f" │ {where} │ Enter opens · / searches · E exports · Esc back",
            )
        )

    def after_change(self) -> None:
        """Back from a detail: read the rows again where they were."""
        self.view.apply(self.view.read(self.view.snapshot_request(keep=True)))
        self.table.refresh()
        self.show_status()

    # -- keys -------------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    def action_reopen(self) -> None:
        """Reopen the closed order under the cursor (a reason is required)."""
        from wo_tui.tui.screens.status_dialogs import TextPromptScreen

        row = self.view.current
        if row is None:
            return
        if WorkOrderStatus(row.status).is_open:
            self.notify(f"{row.number} is open already", severity="warning")
            return

        def reopen(why: str | None) -> None:
            if not why:
                return
            batch = status_changes.reopen(
                self.ctx, [row.id], why, expected_versions={row.id: row.version}
            )
            outcome = batch.outcomes[0]
            self.notify(
                f"{outcome.number} {batch.action if batch.all_done else outcome.detail}",
                severity="information" if batch.all_done else "warning",
                markup=False,
            )
            self.after_change()

        self.app.push_screen(TextPromptScreen(f"Reopen {row.number}: why?", "reason"), reopen)

    def action_filter(self) -> None:
        """Go to the search box."""
        skip_when_typing(self)
        self.query_one("#search", PromptLine).open()

    def action_back(self) -> None:
        """Back to the dashboard (Esc in the search box only leaves the box: PromptLine)."""
        self.dismiss()

    def _move(self, delta: int, *, page: bool = False) -> None:
        if page:
            self.view.page(1 if delta > 0 else -1)
        else:
            self.view.move(delta)
        self.table.refresh()
        self.show_status()
