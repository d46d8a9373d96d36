"""`?`: the keys of the screen underneath, and of the whole app."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from wo_tui.keys import HELP_BINDINGS
from wo_tui.tui.bindings import bindings_for, keys_in_force, styles_dir


class HelpScreen(ModalScreen[None]):
    """Lists every binding (with the keys in force after the user's keymap): one line per
    action with all its keys, wo-tui's own actions first and Textual's (focus, copy) after
    them. The list scrolls when the terminal is too short for it (80x24)."""

    CSS_PATH = styles_dir() / "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(HELP_BINDINGS)

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as box:
            box.border_title = "Keys"
            yield Static(Content("\n").join(self.key_lines()), id="help-keys")

    def on_mount(self) -> None:
        box = self.query_one("#help")
        close = keys_in_force(self).get("help.close", "esc")
        box.border_subtitle = f"↑↓ PgUp PgDn scroll · {close} closes · ctrl+p every action"
        box.focus()

    def key_lines(self) -> list[Content]:
        """One line per action: its keys, then what it does."""
        actions: dict[tuple[bool, str, str], list[str]] = {}
        for _node, binding, _enabled, _tooltip in self.under.active_bindings.values():
            if binding.description:
                # wo-tui's own bindings (from keys.py, each with an id) before Textual's
                key = (binding.id is None, binding.action, binding.description)
                actions.setdefault(key, []).append(self.app.get_key_display(binding))
        ordered = sorted(actions.items(), key=lambda item: item[0][0])  # stable
        width = max((len(" ".join(keys)) for _, keys in ordered), default=0)
        return [
            Content.assemble((f"{' '.join(keys):>{width}}", "bold"), "  ", description)
            for (_textual, _action, description), keys in ordered
        ]
