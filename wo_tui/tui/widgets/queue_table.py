"""The open-queue table: draws only the visible rows of a `QueueView`, line by line.

Built on Textual's line API rather than `DataTable`: the widget never holds more than a
screen of rows, a cursor move repaints two lines, and every cell is plain text (cleaned of
control characters) placed in a segment, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from wo_tui.core.queue_types import QueueRow
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import Priority
from wo_tui.tui.queue_view import QueueView

MARK_GLYPH = "●"
OVERDUE_WORD = "LATE"


@dataclass(frozen=True)
class Column:
    """A table column: its key (and sort key), title, width, and how early it gives way
    when the terminal is narrow (lower `keep` = kept longer)."""

    key: str
    title: str
    width: int
    keep: int
    flexible: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("mark", " ", 1, 0),
    Column("number", "Number", 9, 0),
    Column("status", "Status", 7, 1),
    Column("priority", "Pri", 5, 2),
    Column("due", "Due", 11, 1),
    Column("type", "Type", 12, 3),
    Column("customer", "Customer", 18, 2, flexible=True),
    Column("address", "Site address", 24, 4, flexible=True),
    Column("site", "Site / meter", 11, 6),
    Column("scheduled", "Scheduled", 10, 5),
    Column("assignee", "Assignee", 14, 5),
)
GAP = 1


@lru_cache(maxsize=16)
def layout(width: int) -> tuple[tuple[Column, int], ...]:
    """The columns that fit in `width` cells and their widths, in display order (cached:
    every painted row asks for it)."""
    chosen: set[str] = set()
    used = 0
    for column in sorted(COLUMNS, key=lambda c: c.keep):
        need = column.width + (GAP if chosen else 0)
        if used + need > width:
            break  # a less important column never takes the place of a more important one
        chosen.add(column.key)
        used += need
    shown = [c for c in COLUMNS if c.key in chosen]
    spare = max(width - used, 0)
    flexible = [c for c in shown if c.flexible]
    widths = {c.key: c.width for c in shown}
    for i, column in enumerate(flexible):
        share = spare // len(flexible) + (1 if i < spare % len(flexible) else 0)
        widths[column.key] += share
    return tuple((c, widths[c.key]) for c in shown)


PRIORITY_WORDS = {Priority.HIGH: "High", Priority.MEDIUM: "Med", Priority.LOW: "Low"}
STATUS_WORDS = {
    "NEW": "NEW",
    "SETUP": "SET UP",
    "SENT": "SENT",
    "ON_HOLD": "HOLD",
    "COMPLETED": "DONE",
    "CANCELLED": "CANCLD",
}
"""Status words that fit the 7-character column (closed orders show in the all-orders view)."""


def cell_text(row: QueueRow, key: str, today: date, marked: bool) -> str:
    """The plain text of one cell (no markup: this is what the terminal will show)."""
    if key == "mark":
        return MARK_GLYPH if marked else " "
    if key == "number":
        return row.number
    if key == "status":
        return STATUS_WORDS.get(row.status, row.status)
    if key == "priority":
        return PRIORITY_WORDS[Priority(row.priority)]
    if key == "due":
        late = row.is_overdue(today)
        text = "today" if row.due_date == today else f"{row.due_date:%d %b}"
        return f"{text} {OVERDUE_WORD}" if late else text
    if key == "type":
        return row.type_code
    if key == "customer":
        name = row.customer_name or ""
        return f"LS {name}" if row.life_support else name
    if key == "address":
        return row.site_address or ""
    if key == "site":
        return row.site_id or row.meter_number or ""
    if key == "scheduled":
        return f"{row.scheduled_date:%Y-%m-%d}" if row.scheduled_date else ""
    if key == "assignee":
        return row.assignee_name or ""
    raise KeyError(key)


def fit(text: str, width: int) -> str:
    """`text` cleaned, cut with an ellipsis or padded to exactly `width` cells."""
    if text.isascii() and text.isprintable():
        # Most cells: one character per cell and nothing to clean, so no cell-width tables
        # (a sort or filter paints a screen of strings never measured before).
        if len(text) > width:
            return text[: width - 1] + "…" if width > 1 else text[:width]
        return text.ljust(width)
    text = clean_text(text)
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    return set_cell_size(text, width)


class QueueTable(Widget, can_focus=True):
    """Draws the header and the visible rows of a QueueView."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-table--header",
        "queue-table--cursor",
        "queue-table--cursor-column",
        "queue-table--marked",
        "queue-table--overdue",
        "queue-table--fresh",
    }
    DEFAULT_CSS = """
    QueueTable { height: 1fr; }
    QueueTable > .queue-table--header { text-style: bold; background: $panel; }
    QueueTable > .queue-table--cursor { background: $accent; color: $text; }
    QueueTable:blur > .queue-table--cursor { background: $accent 50%; }
    QueueTable > .queue-table--cursor-column { text-style: bold underline; }
    QueueTable > .queue-table--marked { text-style: bold; color: $warning; }
    QueueTable > .queue-table--overdue { color: $error; text-style: bold; }
    QueueTable > .queue-table--fresh { background: $success 30%; }
    QueueTable:nocolor > .queue-table--cursor { text-style: reverse; }
    QueueTable:nocolor > .queue-table--fresh { text-style: italic; }
    """

    def __init__(self, view: QueueView, today: date, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = view
        self.today = today
        self.column_index = 1
        self.fresh: set[int] = set()
        """Order ids to highlight briefly (new since the last refresh)."""
        self._row_styles: dict[str, Style] = {}
        self._after_paint: Callable[[], object] | None = None

    # -- geometry ---------------------------------------------------------------------------
    @property
    def body_height(self) -> int:
        """Rows of orders that fit under the header."""
        return max(self.size.height - 1, 1)

    def on_resize(self) -> None:
        self.view.resize(self.body_height)
        self.refresh()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return container.height

    @property
    def columns(self) -> tuple[tuple[Column, int], ...]:
        """The columns shown at the current width."""
        return layout(self.size.width)

    @property
    def cursor_column(self) -> Column:
        """The column `o`/`O` sorts by."""
        shown = [c for c, _ in self.columns if c.key != "mark"]
        self.column_index = min(max(self.column_index, 1), len(shown))
        return shown[self.column_index - 1]

    # -- drawing ----------------------------------------------------------------------------
    def when_painted(self, callback: Callable[[], object], *, at_most: float = 1.0) -> None:
        """Call `callback` once the next frame that draws the table has gone to the terminal
        (or after `at_most` seconds, if the table is not drawn at all). The callback is
        posted while the frame is being drawn, so it runs after it. A table drawn while the
        app holds its repaints (`batch_update`: the whole start-up is one) does not count:
        that drawing is not sent, the frame after the batch is."""
        self._after_paint = callback
        self.set_timer(at_most, lambda: self._not_painted(callback))

    def _not_painted(self, callback: Callable[[], object]) -> None:
        """The fallback: `callback` has not run yet (and was not replaced by a later one)."""
        if self._after_paint is callback:
            self._after_paint = None
            callback()

    def render_line(self, y: int) -> Strip:
        if self._after_paint is not None and not self.app._batch_count:
            self.call_later(self._after_paint)  # once: not again for the frame's other lines
            self._after_paint = None
        width = self.size.width
        if y == 0:
            return self._header(width)
        rows = self.view.visible
        index = y - 1
        if index >= len(rows):
            if not rows and y == 1:
                return Strip([Segment(fit("  No orders match.", width), self.rich_style)])
            return Strip.blank(width, self.rich_style)
        row = rows[index]
        return self._row(row, self.view.top + index == self.view.cursor, width)

    def _header(self, width: int) -> Strip:
        style = self.get_component_rich_style("queue-table--header")
        sort_style = style + self.get_component_rich_style("queue-table--cursor-column")
        current = self.cursor_column.key
        segments: list[Segment] = []
        sort = self.view.sort
        for i, (column, size) in enumerate(self.columns):
            title = column.title
            if column.key == sort.column or (sort.column == "site" and column.key == "site"):
                title += " ▼" if sort.descending else " ▲"
            if i:
                segments.append(Segment(" " * GAP, style))
            segments.append(
                Segment(fit(title, size), sort_style if column.key == current else style)
            )
        return Strip(segments).adjust_cell_length(width, style)

    def _component(self, name: str) -> Style:
        """A component class's style, looked up once per style change (every painted row
        needs several of them)."""
        style = self._row_styles.get(name)
        if style is None:
            style = self._row_styles[name] = self.get_component_rich_style(name)
        return style

    def notify_style_update(self) -> None:
        self._row_styles.clear()
        super().notify_style_update()

    def _row(self, row: QueueRow, is_cursor: bool, width: int) -> Strip:
        marked = row.id in self.view.marks
        base = self._row_styles.get("")
        if base is None:  # the widget's own style: resolving it walks the ancestors
            base = self._row_styles[""] = self.rich_style
        if row.id in self.fresh:
            base = base + self._component("queue-table--fresh")
        if marked:
            base = base + self._component("queue-table--marked")
        if is_cursor:
            base = base + self._component("queue-table--cursor")
        # One segment per run of equally styled cells: only the Due cell of an overdue order
        # differs (the colour and weight of the overdue style; its background would punch a
        # hole in the cursor bar).
        overdue = row.is_overdue(self.today)
        gap = " " * GAP
        runs: list[Segment] = []
        text: list[str] = []
        for i, (column, size) in enumerate(self.columns):
            cell = fit(cell_text(row, column.key, self.today, marked), size)
            if column.key == "due" and overdue:
                late = self._component("queue-table--overdue")
                runs.append(Segment("".join(text) + (gap if i else ""), base))
                runs.append(Segment(cell, base + Style(color=late.color, bold=late.bold)))
                text = []
                continue
            text.append(gap + cell if i else cell)
        runs.append(Segment("".join(text), base))
        return Strip(runs).adjust_cell_length(width, base)

    # -- partial repaints -------------------------------------------------------------------
    def refresh_row(self, buffer_index: int) -> None:
        """Repaint one row (given by its index in the view's buffer) if it is visible."""
        y = buffer_index - self.view.top + 1
        if 1 <= y <= self.body_height:
            self.refresh(Region(0, y, self.size.width, 1))

    def refresh_header(self) -> None:
        """Repaint the header line (sort arrows, column cursor)."""
        self.refresh(Region(0, 0, self.size.width, 1))
