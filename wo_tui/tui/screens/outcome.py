"""After a bulk action: one line per order (done / skipped with why / conflict with who),
every order of the batch (the list draws only the lines on screen)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from wo_tui.core.outcomes import BatchResult, Result
from wo_tui.keys import OUTCOME_BINDINGS
from wo_tui.tui.bindings import bindings_for, keys_in_force, styles_dir
from wo_tui.tui.widgets.outcome_list import OutcomeList


class BatchOutcomeScreen(ModalScreen[None]):
    """The per-order result of the last bulk action; `u` on the dashboard undoes it."""

    CSS_PATH = styles_dir() / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(OUTCOME_BINDINGS)
    AUTO_FOCUS = "#dialog-list"  # the arrows and page keys scroll the list

    def __init__(self, batch: BatchResult) -> None:
        super().__init__()
        self.outcome = batch

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Content(self.outcome.summary()), id="dialog-title")
            yield OutcomeList(self.outcome.outcomes, id="dialog-list")
            yield Static("", id="dialog-hint")

    def on_mount(self) -> None:
        close = keys_in_force(self).get("outcome.close", "esc")
        if any(o.result is Result.DONE for o in self.outcome.outcomes):
            undo = keys_in_force(self.app.screen_stack[-2]).get("queue.undo")
            hint = f"{undo} on the queue undoes this" if undo else "undo it from the queue"
        else:
            hint = "nothing was changed"
        self.query_one("#dialog-hint", Static).update(f"{close} closes · {hint}")
