"""Someone else saved the order after the form was opened: what they changed (from the
history since then) beside what you changed; reload (discard yours) or re-apply yours on
top of theirs. Nothing is overwritten without the dispatcher choosing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import RowMapping
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from wo_tui.keys import CONFLICT_BINDINGS
from wo_tui.tui.bindings import bindings_for, styles_dir
from wo_tui.tui.screens.detail_text import FIELD_NAMES, show


def _name(field: str) -> str:
    return FIELD_NAMES.get(field, field.replace("_", " "))


class ConflictScreen(ModalScreen[str | None]):
    """Answers 'reload', 'reapply' or None (back to the form, nothing saved)."""

    CSS_PATH: ClassVar = [styles_dir() / "dialogs.tcss", styles_dir() / "detail.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(CONFLICT_BINDINGS)

    def __init__(
        self,
        number: str,
        theirs: Sequence[RowMapping],
        mine: Sequence[tuple[str, Any, Any]],
        current: dict[str, Any],
    ) -> None:
        super().__init__()
        self.number = number
        self.theirs = theirs
        self.mine = mine
        self.current = current

    def compose(self) -> ComposeResult:
        who = show(self.current.get("updated_by"))
        zone_time = self.app.ctx.local  # type: ignore[attr-defined]
        lines: list[Content] = [
            Content.styled(f"Changed by others since you opened it ({len(self.theirs)}):", "bold")
        ]
        for h in self.theirs:
            lines.append(
                Content.assemble(
                    (f"  {zone_time(h['at']):%H:%M} ", "dim"),
                    (show(h["actor"]), "bold"),
                    f"  {_name(h['field'])}: ",
                    show(h["old_value"]) or "—",
                    " → ",
                    (show(h["new_value"]) or "—", "bold"),
                )
            )
        if not self.theirs:
            lines.append(Content("  (no history entries; the version changed)"))
        lines.append(Content(""))
        lines.append(Content.styled(f"Your changes ({len(self.mine)}):", "bold"))
        clash = {h["field"] for h in self.theirs}
        for field, old, new in self.mine:
            mark = "  ⚠ " if field in clash else "    "
            lines.append(
                Content.assemble(
                    mark,
                    f"{_name(field)}: ",
                    show(old) or "—",
                    " → ",
                    (show(new) or "—", "bold"),
                    (" (they changed it too)", "$error") if field in clash else "",
                )
            )
        with Vertical(id="dialog"):
            yield Static(
                Content(f"{self.number} was changed by {who} after you opened it"),
                id="dialog-title",
            )
            with VerticalScroll(id="dialog-list"):
                yield Static(Content("\n").join(lines), id="conflict-body")
            yield Static(
                "Reload shows their version (yours is discarded); re-apply saves your "
                "changes on top of theirs.",
                id="dialog-hint",
            )
            with Horizontal(id="dialog-buttons"):
                yield Button("Back (Esc)", id="back")
                yield Button("Reload theirs (l)", id="reload", variant="primary")
                yield Button("Re-apply mine (a)", id="reapply", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#reload", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "back" else event.button.id)

    def action_answer(self, answer: str | None) -> None:
        """l reloads, a re-applies, Esc goes back to the form."""
        self.dismiss(answer)
