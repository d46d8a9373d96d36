"""`?`: the keys of the screen underneath, and of the whole app."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from wo_tui.app import bindings_for, styles_dir
from wo_tui.keys import HELP_BINDINGS


class HelpScreen(ModalScreen[None]):
    """Lists every binding (with the keys in force after the user's keymap)."""

    CSS_PATH = styles_dir() / "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(HELP_BINDINGS)

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        lines: list[Content] = []
        for _key, (node, binding, _enabled, _tooltip) in self.under.active_bindings.items():
            del node
            if binding.description:
                keys = self.app.get_key_display(binding)
                lines.append(Content.assemble((f"{keys:>12}", "bold"), "  ", binding.description))
        with Vertical(id="help"):
            yield Static("Keys", id="help-title")
            yield Static(Content("\n").join(lines), id="help-keys")
            yield Static("Esc closes this help · ctrl+p lists every action", id="help-hint")
