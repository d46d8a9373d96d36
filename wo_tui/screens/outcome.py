"""After a bulk action: one line per order (done / skipped with why / conflict with who)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from wo_tui.app import styles_dir
from wo_tui.core.sanitize import clean_text
from wo_tui.core.status_changes import BatchResult, Result

RESULT_STYLE = {Result.DONE: "", Result.SKIPPED: "bold", Result.CONFLICT: "bold reverse"}


class BatchOutcomeScreen(ModalScreen[None]):
    """The per-order result of the last bulk action; `u` on the dashboard undoes it."""

    CSS_PATH = styles_dir() / "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "dismiss", "Close", id="outcome.close"),
    ]

    def __init__(self, batch: BatchResult) -> None:
        super().__init__()
        self.outcome = batch

    def compose(self) -> ComposeResult:
        not_done = [o for o in self.outcome.outcomes if o.result is not Result.DONE]
        done = [o for o in self.outcome.outcomes if o.result is Result.DONE]
        lines = [
            Content.assemble(
                (o.number, "bold"),
                "  ",
                (o.result.value.upper(), RESULT_STYLE[o.result]),
                f"  {clean_text(o.detail)}" if o.detail else "",
            )
            for o in [*not_done, *done[:200]]
        ]
        if len(done) > 200:
            lines.append(Content(f"… and {len(done) - 200} more done"))
        with Vertical(id="dialog"):
            yield Static(Content(self.outcome.summary()), id="dialog-title")
            with VerticalScroll(id="dialog-list"):
                yield Static(Content("\n").join(lines))
            hint = "u on the queue undoes this" if done else "nothing was changed"
            yield Static(f"Esc closes · {hint}", id="dialog-hint")
