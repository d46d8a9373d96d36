"""A long read-only page drawn with the line API: only the visible lines are ever built.

The page is a list of rows; a row is a few (text, role) pieces, where the text is plain
(never markup) and the role names one of the widget's component styles. A row longer than
the width folds onto the next lines. Folding is by cells, so the line count of every row is
known from its length alone: an order with a thousand history rows is measured in a
millisecond and only the rows on screen are cut into strips.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

Piece = tuple[str, str]
"""Plain text and its role: '', 'dim', 'strong', 'heading', 'alert'."""
Row = tuple[Piece, ...]

ROLES = ("dim", "strong", "heading", "alert")


class Document(ScrollView, can_focus=True):
    """Rows of plain text with a few roles, folded to the width, scrolled by lines."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"document--{role}" for role in ROLES}
    DEFAULT_CSS = """
    Document { height: 1fr; overflow-x: hidden; }
    Document > .document--dim { color: $text-muted; }
    Document > .document--strong { text-style: bold; }
    Document > .document--heading { text-style: bold underline; }
    Document > .document--alert { color: $error; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] = []
        self._cells: list[int] = []
        self._starts: list[int] = [0]
        """First page line of each row (and the total after the last) at `_width`."""
        self._width = 0
        self._styles: dict[str, Style] = {}

    @property
    def text(self) -> str:
        """The whole page as plain text, one row per line (for tests and copying)."""
        return "\n".join("".join(text for text, _ in row) for row in self.rows)

    def update(self, rows: Sequence[Row]) -> None:
        """Show new rows (keeps the scroll position where it still makes sense)."""
        self.rows = list(rows)
        self._cells = [sum(cell_len(text) for text, _ in row) for row in self.rows]
        self._width = 0
        self._measure()
        self.refresh()

    def _measure(self) -> None:
        width = max(self.scrollable_content_region.width, 1)
        if width == self._width:
            return
        self._width = width
        heights = [max((cells + width - 1) // width, 1) for cells in self._cells]
        self._starts = [0, *accumulate(heights)]
        self.virtual_size = Size(width, self._starts[-1])

    def on_resize(self) -> None:
        self._measure()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}

    def _style(self, role: str) -> Style:
        """The widget's style combined with a role's (cached until the styles change:
        working out `rich_style` walks the DOM, too slow to do for every line)."""
        if not self._styles:
            base = self.rich_style
            self._styles = {"": base}
            for r in ROLES:
                self._styles[r] = base + self.get_component_rich_style(f"document--{r}")
        return self._styles.get(role, self._styles[""])

    def render_line(self, y: int) -> Strip:
        self._measure()
        width = self._width
        base = self._style("")
        line = y + int(self.scroll_y)
        if line >= self._starts[-1] or not self.rows:
            return Strip.blank(self.size.width, base)
        index = bisect_right(self._starts, line) - 1
        fold = line - self._starts[index]
        segments = [Segment(text, self._style(role)) for text, role in self.rows[index]]
        start, end = fold * width, (fold + 1) * width
        pieces = list(Segment.divide(segments, [start, end]))
        part = pieces[1] if fold else pieces[0] + pieces[1]
        return Strip(part).adjust_cell_length(self.size.width, base)
