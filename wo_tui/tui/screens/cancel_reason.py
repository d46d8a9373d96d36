"""Asks for the reason code (required) and a note (optional) before a cancel."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from wo_tui.core.statuses import CancelReason
from wo_tui.keys import CANCEL_REASON_BINDINGS
from wo_tui.tui.bindings import bindings_for, keys_in_force, styles_dir
from wo_tui.tui.screens.leaving import KeepsTyping


class CancelReasonScreen(KeepsTyping, ModalScreen[tuple[CancelReason, str] | None]):
    """Pick a reason code with the arrows, type an optional note, Enter to go on."""

    CSS_PATH = styles_dir() / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(CANCEL_REASON_BINDINGS)

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            orders = f"{self.count} order{'s' if self.count != 1 else ''}"
            yield Static(f"Cancel {orders}: why?", id="dialog-title")
            yield OptionList(
                *(Option(reason.label, id=reason.value) for reason in CancelReason),
                id="reasons",
            )
            yield Input(placeholder="note (required for Other)", id="note")
            yield Static("", id="dialog-error")
            yield Static("", id="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0
        back = keys_in_force(self).get("cancel_reason.back", "esc")
        self.query_one("#dialog-hint", Static).update(
            f"↑↓ pick a reason · ⏎ to the note, ⏎ again to go on · {back} back"
        )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#note", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        index = options.highlighted
        if index is None:
            self.query_one("#dialog-error", Static).update("Choose a reason first.")
            return
        reason = CancelReason(str(options.get_option_at_index(index).id))
        note = event.value.strip()
        if reason is CancelReason.OTHER and not note:
            self.query_one("#dialog-error", Static).update("A note is required for Other.")
            return
        self.dismiss((reason, note))

    def action_dismiss_none(self) -> None:
        """Go back without cancelling anything (asks first when a note was typed)."""
        self.leave(None)
