"""Rows of `events` written as billing's own SQL would write them: each column an SQL
expression, so any storage type SQLite accepts can be written (a blob, a number, text that
is not UTF-8), and good events to put around them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

GOOD_TIME = "'2026-03-02 09:15:00'"


def insert_event(
    conn: Connection, ref: str, params: dict[str, Any] | None = None, **sql: str
) -> int:
    """Insert a move-in event for its own site (reference `ref`), with the columns named in
    `sql` given as SQL expressions (`:name` binds from `params`); returns its id."""
    values = {
        "event_type": "'move_in'",
        "occurred_at": GOOD_TIME,
        "external_ref": f"'{ref}'",
        "account_number": f"'ACC-{ref}'",
        "site_address": f"'{ref} Example St'",
        **sql,
    }
    statement = (
        f"INSERT INTO events ({', '.join(values)}) VALUES ({', '.join(values.values())}) "
        "RETURNING id"
    )
    return int(conn.execute(text(statement), params or {}).scalar_one())


def insert_good_events(conn: Connection, first: int, count: int) -> list[int]:
    """`count` good events, GOOD-<n> from n = `first`."""
    return [insert_event(conn, f"GOOD-{n:03d}") for n in range(first, first + count)]


def event_states(conn: Connection) -> dict[int, tuple[str, int, str | None, bool]]:
    """(status, attempts, last_error, waiting for a retry) of every event by id, read only
    from the columns wo-tui writes (the others may hold anything)."""
    rows = conn.execute(
        text(
            "SELECT id, status, attempts, last_error, next_attempt_at IS NOT NULL "
            "FROM events ORDER BY id"
        )
    )
    return {r[0]: (r[1], r[2], r[3], bool(r[4])) for r in rows}


def order_sources(conn: Connection) -> list[int]:
    """The source event of every order, in id order."""
    query = "SELECT source_event_id FROM work_orders ORDER BY id"
    return [r[0] for r in conn.execute(text(query))]
