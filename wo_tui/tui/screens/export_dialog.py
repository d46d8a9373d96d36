"""Asks where to export the current view; the file name's extension picks CSV or JSON."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from wo_tui.core.errors import InvalidInput
from wo_tui.core.export import format_for
from wo_tui.keys import EXPORT_BINDINGS
from wo_tui.tui.bindings import bindings_for, styles_dir


class ExportScreen(ModalScreen[str | None]):
    """A path ending in .csv or .json; Enter exports, Esc goes back."""

    CSS_PATH: ClassVar = [styles_dir() / "dialogs.tcss", styles_dir() / "detail.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(EXPORT_BINDINGS)

    def __init__(self, count: int, suggested: str = "orders.csv") -> None:
        super().__init__()
        self.count = count
        self.suggested = suggested

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            plural = "s" if self.count != 1 else ""
            yield Static(
                Content(f"Export {self.count:,} order{plural} (this view, as sorted) to"),
                id="dialog-title",
            )
            yield Input(value=self.suggested, placeholder="path ending in .csv or .json", id="path")
            yield Static("", id="dialog-error")
            yield Static("Enter exports · Esc goes back", id="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        try:
            format_for(path)
        except InvalidInput as exc:
            self.query_one("#dialog-error", Static).update(Content(exc.problems["path"]))
            return
        self.dismiss(path)

    def action_back(self) -> None:
        """Go back without exporting."""
        self.dismiss(None)
