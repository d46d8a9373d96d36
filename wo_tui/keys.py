"""The key bindings of the app, by stable id, in one place.

Plain data (no Textual import) so the config loader can check a user's keymap against the
known ids, and the screens can build their bindings from the same table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeyBinding:
    """One remappable action: its stable id, default keys, action name and help text."""

    id: str
    keys: str
    action: str
    description: str
    show: bool = True


APP_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("app.quit", "Q,ctrl+q", "quit", "Quit", show=False),
    KeyBinding("app.help", "question_mark", "help", "Help"),
)

HOME_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("home.close", "q", "app.quit", "Quit"),
    KeyBinding("home.refresh", "r", "refresh", "Refresh"),
)

ALL_BINDINGS: tuple[KeyBinding, ...] = APP_BINDINGS + HOME_BINDINGS

BINDING_IDS: frozenset[str] = frozenset(b.id for b in ALL_BINDINGS)
