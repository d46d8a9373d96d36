"""The first rows of the open queue, read straight from an SQLite file with the `sqlite3`
module, so that the app's first frame does not wait for SQLAlchemy (~0.3 s to import, a
third of the start-up). SQLAlchemy is loaded after that frame, by the first read that needs
it (the bucket counts, right after the frame).

The statement is `queue`'s window for the default filter and sort order, as SQLAlchemy
compiles it for SQLite; a test keeps the text here the same as the compiled one and checks
that both read the same rows. Anything unusual (not a plain SQLite file, a schema that is
not at `SCHEMA_HEAD`, any SQLite error) gives None, and the app reads through SQLAlchemy as
it always does, upgrading or reporting as it always does.
"""

from __future__ import annotations

import sqlite3
from datetime import date

from wo_tui.core.db import BUSY_TIMEOUT_MS, sqlite_file
from wo_tui.core.queue_types import QueueRow, Window
from wo_tui.core.schema import SCHEMA_HEAD

FIRST_WINDOW_SQL = (
    "SELECT work_orders.id, work_orders.type_code, work_orders.status, work_orders.priority, "
    "work_orders.customer_name, work_orders.site_address, work_orders.site_id, "
    "work_orders.meter_number, work_orders.scheduled_date, assignees.name AS assignee_name, "
    "work_orders.due_date, work_orders.life_support, work_orders.version \n"
    "FROM work_orders LEFT OUTER JOIN assignees ON assignees.id = work_orders.assignee_id \n"
    "WHERE status NOT IN ('COMPLETED', 'CANCELLED') ORDER BY work_orders.priority ASC, "
    "work_orders.due_date ASC, work_orders.id ASC\n"
    " LIMIT ? OFFSET ?"
)
"""`queue.fetch_window(conn, QueueFilter(), SortOrder(), today, limit=n)` compiled for
SQLite; its parameters are n + 1 and 0."""


def read_first_window(url: str, limit: int) -> Window | None:
    """The first `limit` rows of the open queue in the default order, or None when they
    should be read the usual way (see the module's docstring)."""
    path = sqlite_file(url)
    if path is None or limit < 1:
        return None
    try:
        if not path.is_file():
            return None
        # mode=rw: never create a file here; a missing one is the usual path's to make.
        conn = sqlite3.connect(
            f"{path.absolute().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
        )
    except (OSError, sqlite3.Error):  # e.g. a folder on the way that cannot be entered
        return None
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("BEGIN")  # one snapshot for the revision and the rows
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        if revision != [(SCHEMA_HEAD,)]:
            return None
        rows = [_row(*r) for r in conn.execute(FIRST_WINDOW_SQL, (limit + 1, 0))]
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        conn.close()
    return Window(rows[:limit], has_before=False, has_after=len(rows) > limit)


def _row(
    order_id: int,
    type_code: str,
    status: str,
    priority: int,
    customer_name: str | None,
    site_address: str | None,
    site_id: str | None,
    meter_number: str | None,
    scheduled_date: str | None,
    assignee_name: str | None,
    due_date: str,
    life_support: int,
    version: int,
) -> QueueRow:
    """A row as SQLAlchemy's types give it: dates from their ISO text, booleans from 0/1."""
    return QueueRow(
        order_id,
        type_code,
        status,
        priority,
        customer_name,
        site_address,
        site_id,
        meter_number,
        date.fromisoformat(scheduled_date) if scheduled_date is not None else None,
        assignee_name,
        date.fromisoformat(due_date),
        bool(life_support),
        version,
    )
