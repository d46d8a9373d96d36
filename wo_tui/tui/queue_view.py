"""What the dashboard's table shows, without any Textual: a small buffer of queue rows
around the visible part, fetched in keyset windows, a cursor, and the marks.

Only the rows near the screen are ever loaded, so moving, paging and jumping to the end cost
one indexed query at most, whatever the size of the queue. Marks are order ids and survive
scrolling, filtering, sorting and refreshes.

The methods that read import `queue` (the statements, and SQLAlchemy with them) when they
run: the app's first frame is painted before SQLAlchemy is loaded (`first_window`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from wo_tui.core.queue_types import QueueFilter, QueueRow, SortOrder, Window

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from wo_tui.core.db import Database

Today = Callable[[], date]

CHROME_LINES = 4
"""The lines of the dashboard around the queue's rows: the bucket bar, the table header, the
status line and the footer (the table's own resize sets the exact height)."""


def rows_for(screen_lines: int) -> int:
    """How many queue rows a screen of that many lines shows."""
    return max(screen_lines - CHROME_LINES, 1)


def first_read_size(screen_lines: int) -> int:
    """How many rows the dashboard's first read asks for on such a screen (two screens:
    `QueueView.snapshot_request`)."""
    return 2 * rows_for(screen_lines)


@dataclass(frozen=True)
class Snapshot:
    """A read of the queue made off the screen's thread: what was asked, and the answer."""

    filter: QueueFilter
    sort: SortOrder
    keep: bool
    """Re-read around the current rows (a refresh) rather than from the top."""
    start_key: tuple[Any, ...] | None
    limit: int
    window: Window | None = None
    total: int = 0
    first_index: int = 0
    """Position of the window's first row in the whole filtered queue."""


@dataclass
class QueueView:
    """The visible slice of the queue under a filter and sort order."""

    db: Database
    today: Today
    height: int = 20
    filter: QueueFilter = field(default_factory=QueueFilter)
    sort: SortOrder = field(default_factory=SortOrder)
    rows: list[QueueRow] = field(default_factory=list)
    """The buffer: the visible rows plus up to one screen before and after."""
    top: int = 0
    """Index in `rows` of the first visible row."""
    cursor: int = 0
    """Index in `rows` of the cursor row."""
    first_index: int = 0
    """Position in the whole filtered queue of rows[0]."""
    total: int = 0
    """How many orders the filter matches."""
    has_before: bool = False
    has_after: bool = False
    marks: set[int] = field(default_factory=set)
    seen: set[int] = field(default_factory=set)
    """Orders shown before (a refresh highlights the others as new)."""

    # -- reading ----------------------------------------------------------------------------
    def _fetch(self, conn: Connection, **where: Any) -> Window:
        from wo_tui.core import queue

        return queue.fetch_window(
            conn, self.filter, self.sort, self.today(), limit=self.height, **where
        )

    def load_start(self, *, recount: bool = False) -> None:
        """Show the first rows of the queue. `recount` also counts what the filter matches
        (after a new filter); g keeps the total of the last read."""
        from wo_tui.core import queue

        with self.db.read() as conn:
            window = self._fetch(conn)
            if not window.has_after:
                self.total = len(window.rows)
            elif recount:
                self.total = queue.count_matching(conn, self.filter, self.today())
        self._replace(window, first_index=0, cursor=0)

    def load_end(self) -> None:
        """Show the last rows of the queue, cursor on the last one. Their position comes from
        the total the last read counted: counting again here (~7 ms at 100,000 open orders)
        was a third of the key's time, and the next refresh counts the rows before the view
        anyway, which puts a position right that changes made meanwhile had moved."""
        with self.db.read() as conn:
            window = self._fetch(conn, from_end=True)
        if not window.has_before:
            self.total = len(window.rows)
        self._replace(window, first_index=max(self.total - len(window.rows), 0), cursor=-1)

    def _replace(self, window: Window, *, first_index: int, cursor: int) -> None:
        self.rows = list(window.rows)
        self.has_before, self.has_after = window.has_before, window.has_after
        self.first_index = first_index
        self.top = 0
        self.cursor = max(len(self.rows) + cursor, 0) if cursor < 0 else cursor
        self._clamp()

    def _extend_after(self, conn: Connection) -> bool:
        if not self.has_after or not self.rows:
            return False
        window = self._fetch(conn, after=self.sort.key_of(self.rows[-1]))
        self.rows.extend(window.rows)
        self.has_after = window.has_after
        self._trim_front()
        return bool(window.rows)

    def _extend_before(self, conn: Connection) -> bool:
        if not self.has_before or not self.rows:
            return False
        window = self._fetch(conn, before=self.sort.key_of(self.rows[0]))
        count = len(window.rows)
        self.rows[:0] = window.rows
        self.has_before = window.has_before
        self.first_index = max(self.first_index - count, 0)
        self.top += count
        self.cursor += count
        self._trim_back()
        return bool(count)

    def _trim_front(self) -> None:
        extra = self.top - self.height
        if extra > 0:
            del self.rows[:extra]
            self.top -= extra
            self.cursor -= extra
            self.first_index += extra
            self.has_before = True

    def _trim_back(self) -> None:
        keep = self.top + 2 * self.height
        if len(self.rows) > keep:
            del self.rows[keep:]
            self.has_after = True

    def _clamp(self) -> None:
        if not self.rows:
            self.cursor = self.top = 0
            return
        self.cursor = min(max(self.cursor, 0), len(self.rows) - 1)
        if self.cursor < self.top:
            self.top = self.cursor
        if self.cursor >= self.top + self.height:
            self.top = self.cursor - self.height + 1
        self.top = max(min(self.top, max(len(self.rows) - self.height, 0)), 0)

    # -- reading in a worker thread ---------------------------------------------------------
    def snapshot_request(self, *, keep: bool) -> Snapshot:
        """What to read: the current rows again (`keep`) or the top of the queue. A refresh
        reads from the top when the buffer starts there: an order that now sorts first (a
        new urgent one, or one reopened by undo) must show up."""
        start = None
        if keep and self.rows and self.first_index:
            start = self.sort.key_of(self.rows[0])
        limit = max(len(self.rows), 3 * self.height) if keep else 2 * self.height
        return Snapshot(self.filter, self.sort, keep, start, limit)

    def read(self, request: Snapshot, *, with_total: bool = True) -> Snapshot:
        """Run a request (safe in a thread: touches only the database). Without the total
        the rows come back at once even when counting the matches takes long (a text
        filter scans the table); `total` is then -1."""
        from wo_tui.core import queue

        today = self.today()
        flt, sort = request.filter, request.sort
        with self.db.read() as conn:
            window = queue.fetch_window(
                conn, flt, sort, today, limit=request.limit, at_or_after=request.start_key
            )
            first_index = 0
            if request.start_key is not None:
                if not window.rows:
                    # Nothing left from the old place on (a bulk action closed those rows):
                    # the rows just before it, which are the last ones. Reading back from
                    # the place, not from the end, does not scan again what was just found
                    # empty (a filter that now matches nothing scans the whole queue).
                    window = queue.fetch_window(
                        conn, flt, sort, today, limit=request.limit, before=request.start_key
                    )
                    window = replace(window, has_after=False)
                if window.rows:
                    key = sort.key_of(window.rows[0])
                    first_index = queue.count_before(conn, flt, sort, today, key)
            total = queue.count_matching(conn, flt, today) if with_total else -1
        return replace(request, window=window, total=total, first_index=first_index)

    def apply(self, snapshot: Snapshot) -> list[int] | None:
        """Show a snapshot; returns the buffer indices of visible rows that changed, or
        None when everything must be redrawn. A stale snapshot (the filter or sort changed
        since it was asked for) is ignored."""
        if snapshot.window is None or (snapshot.filter, snapshot.sort) != (self.filter, self.sort):
            return []
        if snapshot.total >= 0:
            self.total = snapshot.total
        window = snapshot.window
        if not snapshot.keep:
            self._replace(window, first_index=0, cursor=0)
            return None
        old_visible = self.visible
        old_first = self.first_index
        cursor_id = self.current_id
        view_start = self.first_index + self.top
        cursor_at = self.first_index + self.cursor
        self.rows = list(window.rows)
        self.has_before = snapshot.first_index > 0
        self.has_after = window.has_after
        self.first_index = snapshot.first_index
        # The view stays at the same place in the queue (a new order sorting first shows up
        # at the top); the cursor stays on its order if that is still in view.
        self.top = max(view_start - self.first_index, 0)
        ids = [row.id for row in self.rows]
        if cursor_id in ids and self.top <= ids.index(cursor_id) < self.top + self.height:
            self.cursor = ids.index(cursor_id)
        elif cursor_id not in ids:  # its order is gone: the same place in the queue, or
            self.cursor = cursor_at - self.first_index  # the last row when that is gone too
        self._clamp()
        new_visible = self.visible
        if len(new_visible) != len(old_visible) or old_first != self.first_index:
            return None
        return [
            self.top + i
            for i, (old, new) in enumerate(zip(old_visible, new_visible, strict=True))
            if old != new
        ] + ([self.cursor] if cursor_id != self.current_id else [])

    def jump_to(self, order_id: int) -> bool:
        """Put the cursor on an order if the filter matches it; False when it does not."""
        from wo_tui.core import queue

        today = self.today()
        with self.db.read() as conn:
            row = queue.find_row(conn, self.filter, today, order_id)
            if row is None:
                return False
            key = self.sort.key_of(row)
            window = queue.fetch_window(
                conn, self.filter, self.sort, today, at_or_after=key, limit=2 * self.height
            )
            before = queue.count_before(conn, self.filter, self.sort, today, key)
            self.total = queue.count_matching(conn, self.filter, today)
        self._replace(window, first_index=before, cursor=0)
        self.has_before = before > 0
        return True

    # -- moving -----------------------------------------------------------------------------
    def move(self, delta: int) -> None:
        """Move the cursor by `delta` rows (fetching a window when it leaves the buffer).
        Extending or trimming the buffer shifts `cursor` with it, so `cursor + delta` keeps
        naming the same target row throughout."""
        with self.db.read() as conn:
            while self.cursor + delta >= len(self.rows) and self._extend_after(conn):
                pass
            while self.cursor + delta < 0 and self._extend_before(conn):
                pass
            self.cursor += delta
            self._clamp()
            # Keep a screen of rows below the view, so the next page is ready.
            if self.top + 2 * self.height > len(self.rows) and self.has_after:
                self._extend_after(conn)

    def page(self, pages: int) -> None:
        """Move a screen down (positive) or up (negative), view and cursor together."""
        offset = self.cursor - self.top
        self.move(pages * max(self.height - 1, 1))
        self.top = self.cursor - offset
        self._clamp()

    def resize(self, height: int) -> None:
        """Adapt to a new number of visible rows."""
        self.height = max(height, 1)
        if len(self.rows) - self.top < self.height and self.has_after:
            with self.db.read() as conn:
                self._extend_after(conn)
        self._clamp()

    # -- what is shown ----------------------------------------------------------------------
    @property
    def visible(self) -> list[QueueRow]:
        """The rows on screen, top to bottom."""
        return self.rows[self.top : self.top + self.height]

    @property
    def current_id(self) -> int | None:
        """The order under the cursor."""
        return self.rows[self.cursor].id if self.rows else None

    @property
    def current(self) -> QueueRow | None:
        """The row under the cursor."""
        return self.rows[self.cursor] if self.rows else None

    @property
    def position(self) -> int:
        """The cursor's position in the whole filtered queue (0-based)."""
        return self.first_index + self.cursor

    # -- marks ------------------------------------------------------------------------------
    def toggle_mark(self) -> None:
        """Mark or unmark the cursor row."""
        row = self.current
        if row is not None:
            self.marks.symmetric_difference_update({row.id})

    def mark_between(self, first_id: int | None, last_id: int | None) -> None:
        """Mark the rows from one order to another (both in the buffer), inclusive."""
        ids = [row.id for row in self.rows]
        if first_id not in ids or last_id not in ids:
            return
        a, b = sorted((ids.index(first_id), ids.index(last_id)))
        self.marks.update(ids[a : b + 1])

    def mark_all_matching(self) -> int:
        """Mark every order the filter matches, on screen or not; returns how many."""
        from wo_tui.core import queue

        with self.db.read() as conn:
            ids = queue.matching_ids(conn, self.filter, self.today())
        self.marks.update(ids)
        return len(ids)

    def invert_marks(self) -> None:
        """Marked rows of the filter become unmarked and the others marked."""
        from wo_tui.core import queue

        with self.db.read() as conn:
            ids = set(queue.matching_ids(conn, self.filter, self.today()))
        self.marks = (self.marks - ids) | (ids - self.marks)

    def hidden_marks(self, ids: list[int]) -> int:
        """How many of these marked orders the filter hides (marked under another filter or
        bucket); 0 when nothing is marked (the cursor row is always shown)."""
        from wo_tui.core import queue

        if not self.marks or not ids:
            return 0
        if replace(self.filter, include_closed=False) == QueueFilter():
            return 0  # the whole open queue: every order an action can change is on it
        with self.db.read() as conn:
            return len(ids) - queue.count_matching_among(conn, self.filter, self.today(), ids)

    def targets(self) -> list[int]:
        """What an action acts on: the marked orders, else the cursor row."""
        if self.marks:
            return sorted(self.marks)
        row = self.current
        return [row.id] if row else []
