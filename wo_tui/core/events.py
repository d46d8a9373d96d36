"""The `events` table: what the billing system writes (see docs/events.md)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnClause

from wo_tui.core.context import Context
from wo_tui.core.errors import InvalidInput, NotAllowed, NotFound
from wo_tui.core.event_rows import COLUMN_LIMITS, LISTED_COLUMNS, Column, reader
from wo_tui.core.models import events
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import EventStatus

_STATE_COLUMNS = tuple(c for c in LISTED_COLUMNS if c.name in ("status", "last_error"))
"""What retrying or discarding an event reads of it."""
EVENT_TEXT_FIELDS = ("account_number", "customer_name", "site_address", "site_id", "meter_number")


def add_event(
    ctx: Context,
    event_type: str,
    *,
    external_ref: str | None = None,
    occurred_at: datetime | None = None,
    life_support: bool = False,
    payload: str | None = None,
    **fields: str | None,
) -> int:
    """Append an event as the billing system would (for scripts, tests and demos)."""
    unknown = set(fields) - set(EVENT_TEXT_FIELDS)
    if unknown:
        raise InvalidInput({name: "is not a column of the events table" for name in unknown})
    kind = event_type.strip().lower()
    if not kind:
        raise InvalidInput({"event type": "an event type is required"})
    if payload is not None:
        try:
            json.loads(payload)
        except ValueError as exc:
            raise InvalidInput({"payload": f"not valid JSON ({exc})"}) from None
    row: dict[str, Any] = {
        "event_type": kind,
        "occurred_at": occurred_at or ctx.now(),
        "external_ref": (external_ref or f"cli-{uuid.uuid4().hex}").strip(),
        "life_support": life_support,
        "payload": payload,
        **{k: (clean_text(v).strip() or None) if v else None for k, v in fields.items()},
    }
    too_long = {
        name.replace("_", " "): f"at most {limit:,} characters"
        for name, limit in COLUMN_LIMITS.items()
        if row.get(name) and len(row[name]) > limit
    }
    if too_long:
        raise InvalidInput(too_long)
    try:
        with ctx.db.write() as conn:
            return int(conn.execute(insert(events).returning(events.c.id), row).scalar_one())
    except IntegrityError:
        raise InvalidInput(
            {"external ref": f"an event with reference {row['external_ref']!r} already exists"}
        ) from None


def list_events(
    conn: Connection, *, status: EventStatus | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Events, newest first, optionally of one status: every column by name. Billing may
    have written anything (docs/events.md): a value that cannot be understood is listed as
    the text it holds, or described (a blob, a value too long to show), so one bad row
    never stops the listing. An unreadable `work_order_id` is None."""
    query = reader(conn.dialect.name, LISTED_COLUMNS).select().order_by(events.c.id.desc())
    if status is not None:
        query = query.where(events.c.status == status.value)
    if limit:
        query = query.limit(limit)
    return _listed(conn, LISTED_COLUMNS, query)


def _listed(
    conn: Connection, columns: tuple[Column, ...], query: Select[Any]
) -> list[dict[str, Any]]:
    """The rows of `query` (from the reader of `columns`) for a person to read: a value
    that cannot be understood as the text it holds, or described; `work_order_id` None."""
    found = []
    for row in reader(conn.dialect.name, columns).read(conn, query, quick=False):
        values = dict(row.values)
        for trouble in row.troubles:
            if trouble.column.name != "work_order_id":
                values[trouble.column.name] = trouble.listed()
        found.append(values)
    return found


def count_events(conn: Connection) -> dict[str, int]:
    """How many events are in each status. On SQLite a status is read as bytes (a text that
    is not UTF-8 must not stop the count) and one that is not text is left out."""
    status = events.c.status
    query = select(func.count(), status).group_by(status)
    if conn.dialect.name == "sqlite":
        raw: ColumnClause[bytes] = literal_column("CAST(status AS BLOB)")
        query = (
            select(func.count(), raw)
            .select_from(events)
            .where(text("typeof(status) = 'text'"))
            .group_by(status)
        )
    counts: dict[str, int] = {}
    for n, value in conn.execute(query).all():
        name = value.decode(errors="replace") if isinstance(value, bytes) else value
        counts[name] = counts.get(name, 0) + int(n)
    return counts


def retry_event(ctx: Context, event_id: int) -> None:
    """Put a dead event back in the queue: pending, attempts reset, due now. Its last error
    stays visible until it is processed."""
    with ctx.db.write() as conn:
        _require_dead(conn, event_id, "retried")
        _guarded(
            conn,
            event_id,
            status=EventStatus.PENDING.value,
            attempts=0,
            next_attempt_at=ctx.now(),
        )


def discard_event(ctx: Context, event_id: int, reason: str) -> None:
    """Give up on a dead event for good (status discarded); who, when and why are kept in
    its last_error, after the error it died of."""
    why = clean_text(reason or "").strip()
    if not why:
        raise InvalidInput({"reason": "say why the event is discarded (--reason TEXT)"})
    with ctx.db.write() as conn:
        row = _require_dead(conn, event_id, "discarded")
        note = f"discarded by {ctx.operator} at {ctx.now():%Y-%m-%d %H:%M} UTC: {why}"
        if row["last_error"]:
            note += f" (last error: {row['last_error']})"
        _guarded(
            conn,
            event_id,
            status=EventStatus.DISCARDED.value,
            last_error=note,
            next_attempt_at=None,
        )


def _guarded(conn: Connection, event_id: int, **values: object) -> None:
    """Update a dead event; a poller or person that changed it first wins."""
    result = conn.execute(
        update(events)
        .where(events.c.id == event_id, events.c.status == EventStatus.DEAD.value)
        .values(**values)
    )
    if result.rowcount != 1:
        raise NotAllowed(f"event {event_id} was changed by someone else just now; look again")


def _require_dead(conn: Connection, event_id: int, verb: str) -> dict[str, Any]:
    read = reader(conn.dialect.name, _STATE_COLUMNS)
    rows = _listed(conn, _STATE_COLUMNS, read.select().where(events.c.id == event_id))
    if not rows:
        raise NotFound(f"there is no event {event_id} (see `wo-tui events list`)")
    row = rows[0]
    if row["status"] != EventStatus.DEAD.value:
        raise NotAllowed(
            f"event {event_id} is {row['status']}; only a dead event can be {verb} "
            "(see `wo-tui events list --status dead`)"
        )
    return row
