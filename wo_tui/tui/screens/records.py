"""A screen that lists database records in a table: the base of the Events, Outbox and
Assignees screens. Every cell is plain `Text` (never markup) and cleaned of control
characters, because every value comes from the database (docs/guarantees.md)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from wo_tui.core.clock import Zone, local_time
from wo_tui.core.context import Context
from wo_tui.core.errors import WorkOrderError
from wo_tui.core.sanitize import clean_text
from wo_tui.keys import RECORDS_BINDINGS
from wo_tui.tui.bindings import bindings_for, styles_dir
from wo_tui.tui.widgets.key_bar import KeyBar

ROW_LIMIT = 500
"""Rows a records screen shows: the newest first; older ones are for the command line."""


def cell(value: Any, zone: Zone = None) -> Text:
    """A safe table cell: None → '', stored times to the minute in the utility's zone, text
    cleaned and literal."""
    if value is None:
        return Text("")
    if isinstance(value, datetime):
        return Text(f"{local_time(value, zone):%Y-%m-%d %H:%M}")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    return Text(clean_text(str(value)).replace("\n", " "))


class RecordsScreen(Screen[None]):
    """A title, a table with a row cursor, a detail line for the cursor row, a status line."""

    CSS_PATH: ClassVar = [styles_dir() / "records.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(RECORDS_BINDINGS)
    TITLE_TEXT = ""
    COLUMNS: Sequence[str] = ()

    @property
    def ctx(self) -> Context:
        """The app's service context."""
        return self.app.ctx  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Static(self.TITLE_TEXT, id="records-title")
        table: DataTable[Text] = DataTable(cursor_type="row", id="records-table")
        yield table
        yield Static("", id="records-detail")
        yield Static("", id="records-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*self.COLUMNS)
        self.action_reload()

    # -- what subclasses provide -------------------------------------------------------
    def load(self) -> tuple[list[tuple[str, list[Any]]], str]:
        """The rows as (key, values) and a status line; runs on every reload."""
        raise NotImplementedError

    def describe(self, key: str) -> str:
        """The detail line for the row with `key` (e.g. the full error)."""
        return ""

    # -- shared behaviour --------------------------------------------------------------
    @property
    def current_key(self) -> str | None:
        """The key of the cursor row, if there is one."""
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def show_rows(self, rows: Iterable[tuple[str, list[Any]]], status: str) -> None:
        """Replace the table's rows, keeping the cursor on the same record if it is there."""
        table = self.query_one(DataTable)
        keep = self.current_key
        table.clear()
        for key, values in rows:
            table.add_row(*(cell(v, self.ctx.zone) for v in values), key=key)
        if keep is not None and keep in {str(k.value) for k in table.rows}:
            table.move_cursor(row=table.get_row_index(keep))
        self.query_one("#records-status", Static).update(Text(status))
        self._show_detail()

    def action_reload(self) -> None:
        """Read the records again."""
        try:
            rows, status = self.load()
        except WorkOrderError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.show_rows(rows, status)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row (the table takes the key itself): the screen's main action."""
        self.open_row()

    def open_row(self) -> None:
        """What Enter does on a row; nothing unless a screen says so."""

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        key = self.current_key
        text = self.describe(key) if key is not None else ""
        self.query_one("#records-detail", Static).update(Text(clean_text(text, multiline=True)))

    def do_and_reload(self, call: Any, done: str) -> None:
        """Run a service call; say what happened (or what went wrong) and reload."""
        try:
            call()
        except WorkOrderError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(done, markup=False)
        self.action_reload()

    def action_close(self) -> None:
        """Back to the previous screen."""
        self.dismiss(None)
