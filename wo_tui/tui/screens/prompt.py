"""Asks for one line of text (a reason, a note) before an action; Esc goes back."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from wo_tui.keys import PROMPT_BINDINGS
from wo_tui.tui.bindings import bindings_for, styles_dir
from wo_tui.tui.screens.leaving import KeepsTyping


class TextPromptScreen(KeepsTyping, ModalScreen[str | None]):
    """A question, one input line, and an error line when a required answer is empty."""

    CSS_PATH: ClassVar = [styles_dir() / "dialogs.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(PROMPT_BINDINGS)

    def __init__(self, question: str, *, placeholder: str = "", required: bool = True) -> None:
        super().__init__()
        self.question = question
        self.placeholder = placeholder
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, id="dialog-title", markup=False)
            yield Input(placeholder=self.placeholder, id="answer")
            yield Static("", id="dialog-error")
            yield Static("Enter to go on, Esc to go back", id="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        answer = event.value.strip()
        if self.required and not answer:
            self.query_one("#dialog-error", Static).update("An answer is required.")
            return
        self.dismiss(answer)

    def action_dismiss_none(self) -> None:
        """Go back without doing anything (asks first when something was typed)."""
        self.leave(None)
