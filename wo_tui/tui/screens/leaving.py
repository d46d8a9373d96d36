"""Asking before work is lost: one rule for closing a form or a dialog (Esc) and for quitting
the app (`q`, `Q`, `ctrl+q`, the command palette's Quit).

A screen that can hold something a person would lose is a `MayLose`, and `would_lose` says
what, as the end of a question: "drop 243 marks", "discard your changes to WO-000012". The
app's quit asks every screen on the stack and puts one question for all of them; closing a
screen asks about that screen. Both default to No; with nothing to lose, both stay one key.

What is protected (README.md, "New and edit"): the marks on the queue, the order form, the
technician form, and the dialogs whose text goes on an order (notes, reasons, readings,
override reasons). The filter, the command line, the search box and the export path only
look things up or name a file, and close without asking.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    from wo_tui.tui.screens.confirm import ConfirmBulkScreen


class MayLose:
    """Mixed into a screen that can hold something its closing (or quitting) would lose."""

    def would_lose(self) -> str | None:
        """What closing this screen now would throw away, as the end of a question ("drop
        3 marks"); None when nothing would be lost."""
        return None


def typed_values(screen: Screen[Any]) -> list[object]:
    """What every field of `screen` holds now: its inputs, text areas, selects and boxes."""
    from textual.widgets import Checkbox, Input, Select, TextArea

    return [
        field.text if isinstance(field, TextArea) else field.value
        for field in screen.query("*")
        if isinstance(field, Input | TextArea | Select | Checkbox)
    ]


class KeepsTyping(MayLose):
    """Mixed into a form or dialog (before the Screen class): what its fields hold when it
    opens is "unchanged"; any change would be lost by closing it, and `leave` asks first."""

    LOSES = "discard what you typed"
    """`would_lose`'s answer when a field changed (a screen may say more)."""

    _as_opened: list[object] | None = None

    def on_mount(self) -> None:
        # Textual calls the mount handler of every class of the screen, the screen's own
        # first: so the fields are taken as they are once the screen has filled them.
        self.take_as_unchanged()

    def take_as_unchanged(self) -> None:
        """What the fields hold now counts as nothing typed (after opening or a reload)."""
        self._as_opened = typed_values(self._screen)

    def would_lose(self) -> str | None:
        if self._as_opened is None or typed_values(self._screen) == self._as_opened:
            return None
        return self.what_is_typed()

    def what_is_typed(self) -> str:
        """What `would_lose` says once a field changed."""
        return self.LOSES

    def leave(self, result: object = None) -> None:
        """Close with `result`; asks first when a field changed since the screen opened."""
        screen = self._screen
        lost = self.would_lose()
        if lost is None:
            screen.dismiss(result)
            return
        question = yes_or_no(
            f"{lost[:1].upper()}{lost[1:]}?", "Nothing has been saved yet; No goes back to it."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                screen.dismiss(result)

        screen.app.push_screen(question, answered)

    @property
    def _screen(self) -> Screen[Any]:
        return cast("Screen[Any]", self)


def yes_or_no(title: str, note: str) -> ConfirmBulkScreen:
    """A question with No focused (Enter, n and Esc answer No)."""
    from wo_tui.tui.screens.confirm import ConfirmBulkScreen

    return ConfirmBulkScreen(title, 1, [], note)


def losses(screens: Iterable[object]) -> list[str]:
    """What closing each of `screens` would lose (the top one first)."""
    found = (s.would_lose() for s in reversed(list(screens)) if isinstance(s, MayLose))
    return [lost for lost in found if lost]


def in_words(items: list[str]) -> str:
    """Items in a sentence: "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


QUIT_QUESTION = "quit-question"
"""The id of the open quit question."""


def quit_question(lost: list[str]) -> ConfirmBulkScreen:
    """The question before quitting ("Quit and drop 243 marks?"), No focused."""
    question = yes_or_no(f"Quit and {in_words(lost)}?", "No goes back to where you were.")
    question.id = QUIT_QUESTION
    return question


def quit_or_ask(app: App[Any]) -> None:
    """Quit now when no screen would lose anything; else ask once (No is the default). A
    quit key pressed while the question is open leaves it to the answer."""
    if any(s.id == QUIT_QUESTION for s in app.screen_stack):
        return
    lost = losses(app.screen_stack)
    if not lost:
        app.exit()
        return
    app.push_screen(quit_question(lost), lambda yes: app.exit() if yes else None)
