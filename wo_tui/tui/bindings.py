"""What every screen needs from the app's side, below the app so that screens never import it:
Textual bindings from the key table by id, the keys in force on a screen, the style sheets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.binding import Binding, BindingType
from textual.screen import Screen

from wo_tui.keys import KeyBinding


def styles_dir() -> Path:
    """The .tcss sheets: inside the package when installed from a wheel, else the
    top-level `styles/` folder of a source checkout."""
    package = Path(__file__).resolve().parents[1]  # wo_tui/
    packaged = package / "styles"
    return packaged if packaged.is_dir() else package.parent / "styles"


def bindings_for(table: tuple[KeyBinding, ...]) -> list[BindingType]:
    """Textual bindings, each with its stable id so the config can remap it."""
    return [
        Binding(b.keys, b.action, b.description, show=b.show, id=b.id, priority=b.priority)
        for b in table
    ]


def keys_in_force(screen: Screen[Any]) -> dict[str, str]:
    """Binding id -> the key that runs it now on `screen` (after the config's keymap), as
    the help shows it: the first of its keys."""
    shown: dict[str, str] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.id and binding.id not in shown:
            shown[binding.id] = screen.app.get_key_display(binding)
    return shown
