"""A one-line input under a list (the filter, the command line, the search box) that takes
the keys typed right after the key that opened it, and gives the keys typed right after
Enter or Esc back to the list.

Keys typed in a burst (fast, or arriving together over a slow SSH link) are handed out by
the app to whichever widget has the focus *when the app reads them*, and the bindings run
later, when a key bubbles back up. So `/` then `e` opened the edit form instead of filtering
for "e" (the `e` was handed to the list before `/` had run), and `/kelly` Enter `c` filtered
for "kellyc". Three things close that gap:
- the keys that open a line are priority bindings: they run in the app's own turn, and the
  line takes the focus at once (`Widget.focus()` moves it a turn later);
- Enter and Esc are handled by the line itself, in order with the characters before them;
- a key that reaches a line after it closed is passed on to the widget that has the focus.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.actions import SkipAction
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input


class PromptLine(Input):
    """An input that opens and closes itself with the focus moved at once. With
    `hides=True` it is shown only while open (the `hidden` class)."""

    def __init__(self, *, hides: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hides = hides
        self._back_to: Widget | None = None

    def open(self, value: str | None = None) -> None:
        """Show the line (with `value`, which comes selected as in any input: typing
        replaces it, End keeps it) and type into it from the next key on."""
        if self.hides:
            self.remove_class("hidden")
        if value is not None:
            self.value = value
        focused = self.screen.focused
        if focused is not self:
            self._back_to = focused
        self.screen.set_focus(self)

    def close(self) -> None:
        """Hide the line (if it hides) and give the next key to the widget that had the
        focus before it opened."""
        if self.hides:
            self.add_class("hidden")
        back_to, self._back_to = self._back_to, None
        if back_to is not None and back_to.is_attached:
            self.screen.set_focus(back_to)
        else:
            self.screen.focus_next()

    async def _on_key(self, event: events.Key) -> None:
        # Runs before Input's own handler (the handlers run down the class hierarchy until
        # one prevents the default).
        if self.screen.focused is not self:
            # Handed here while the line was open; it closed since: the key belongs to
            # whatever has the focus now.
            self._done_with(event)
            target = self.screen.focused or self.screen
            target._forward_event(events.Key(event.key, event.character))
        elif event.key == "enter":
            self._done_with(event)
            await self.action_submit()
        elif event.key == "escape":
            self._done_with(event)
            self.close()  # what was typed stays (a live filter stays in force)

    @staticmethod
    def _done_with(event: events.Key) -> None:
        event.stop()
        event.prevent_default()

    async def action_submit(self) -> None:
        """Enter: close first (the next key goes to the list), then post `Submitted`."""
        self.close()
        await super().action_submit()


def skip_when_typing(screen: Screen[Any]) -> None:
    """For a priority key's action: when an input has the focus the key is text (`/` in
    "12/34 Smith St", `:` in "status:new"), so let the input have it."""
    if isinstance(screen.focused, Input):
        raise SkipAction()
