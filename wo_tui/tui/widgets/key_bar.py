"""The key bar: the bottom line of every screen, listing the keys that work right now.

Textual's `Footer` builds one widget per key and rebuilds them all whenever the bindings
change (the focus moves, a prompt opens or closes): some 25 widgets, each styled on its
own, were ~45 ms of the dashboard's first frame. This is one widget drawing one line of
text; it redraws when the screen says its bindings changed and when it is resized.

It keeps the Footer's look (the theme's footer colours, the command palette key on the
right) and does a little better at 80 columns: a key that does not fit is left out whole
instead of being cut in half. A click on a key presses it, as in the Footer.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

PALETTE_SEPARATOR = "▏"


class KeyItem(NamedTuple):
    """One key as shown: what is pressed, how it is written, what it does."""

    key: str
    display: str
    description: str
    enabled: bool


class KeySpan(NamedTuple):
    """Where one key is drawn on the line: columns start..end."""

    start: int
    end: int
    item: KeyItem


class KeyBar(Widget):
    """One line with the keys of the focused widget, its screen and the app."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--separator"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-bar--separator {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._spans: list[KeySpan] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        # Only on the screen on top: a screen under a dialog would keep the repaint pending
        # until it comes back, and its bindings are published again when it does.
        if screen is self.screen and screen.is_active:
            self.refresh()

    def items(self) -> tuple[list[KeyItem], KeyItem | None]:
        """The keys to show, in the order of the bindings (one per action, the first key
        bound to it), and the command palette key apart (it is drawn on the right)."""
        app = self.app
        active = self.screen.active_bindings
        seen: set[str] = set()
        shown: list[KeyItem] = []
        for _node, binding, enabled, _tooltip in active.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            shown.append(self._item(binding, enabled))
        palette: KeyItem | None = None
        if app.ENABLE_COMMAND_PALETTE:
            found = active.get(app.COMMAND_PALETTE_BINDING)
            if found is not None:
                palette = self._item(found.binding, found.enabled)
                shown = [item for item in shown if item.key != palette.key]
        return shown, palette

    def _item(self, binding: Binding, enabled: bool) -> KeyItem:
        return KeyItem(binding.key, self.app.get_key_display(binding), binding.description, enabled)

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        separator_style = self.get_component_rich_style("key-bar--separator")
        width = self.size.width
        shown, palette = self.items()
        palette_text = (
            f"{PALETTE_SEPARATOR}{palette.display} {palette.description}" if palette else ""
        )
        room = width - cell_len(palette_text)
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[KeySpan] = []

        dim = Style(dim=True)
        for item in shown:
            if line.cell_len + cell_len(item.display) + cell_len(item.description) + 3 > room:
                break
            start = line.cell_len
            line.append(f" {item.display} ", key_style if item.enabled else key_style + dim)
            line.append(
                f"{item.description} ",
                description_style if item.enabled else description_style + dim,
            )
            spans.append(KeySpan(start, line.cell_len, item))
        if palette is not None and room >= 0:
            line.append(" " * (room - line.cell_len))
            line.append(PALETTE_SEPARATOR, separator_style)
            start = line.cell_len
            line.append(palette.display, key_style)
            line.append(f" {palette.description}", description_style)
            spans.append(KeySpan(start, line.cell_len, palette))
        self._spans = spans
        return line

    def key_at(self, x: int) -> KeySpan | None:
        """The key drawn at column `x`, if any."""
        for span in self._spans:
            if span.start <= x < span.end:
                return span
        return None

    def on_click(self, event: events.Click) -> None:
        span = self.key_at(event.x)
        if span is None:
            return
        event.stop()
        if span.item.enabled:
            self.app.simulate_key(span.item.key)
        else:
            self.app.bell()
