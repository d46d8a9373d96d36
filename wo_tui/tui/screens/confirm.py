"""The confirmation before a bulk action: what will happen, what will be skipped and why.
It defaults to No: Enter on the first focus declines."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from wo_tui.core.sanitize import clean_text
from wo_tui.keys import CONFIRM_BINDINGS
from wo_tui.tui.bindings import bindings_for, styles_dir

MAX_LISTED = 8


class ConfirmBulkScreen(ModalScreen[bool]):
    """Asks "Complete 48 orders; 2 will be skipped: ..." with No focused."""

    CSS_PATH = styles_dir() / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(CONFIRM_BINDINGS)

    def __init__(self, title: str, will_change: int, skipped: list[tuple[str, str]], note: str):
        super().__init__()
        self.title_text = title
        self.will_change = will_change
        self.skipped = skipped
        self.note = note

    def compose(self) -> ComposeResult:
        lines: list[Content] = []
        if self.skipped:
            lines.append(Content(f"{len(self.skipped)} will be skipped:"))
            for number, why in self.skipped[:MAX_LISTED]:
                lines.append(Content.assemble("  ", (number, "bold"), f"  {clean_text(why)}"))
            if len(self.skipped) > MAX_LISTED:
                lines.append(Content(f"  … and {len(self.skipped) - MAX_LISTED} more"))
        if self.note:
            lines.append(Content(self.note))
        with Vertical(id="dialog"):
            yield Static(Content(self.title_text), id="dialog-title")
            yield Static(Content("\n").join(lines), id="dialog-body")
            with Horizontal(id="dialog-buttons"):
                yield Button("No", id="no", variant="primary")
                yield Button("Yes", id="yes", variant="warning", disabled=not self.will_change)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """y answers yes (when there is anything to do), n / Esc no."""
        self.dismiss(bool(yes and self.will_change))
