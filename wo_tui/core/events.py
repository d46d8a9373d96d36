"""The `events` table: what the billing system writes (see docs/events.md)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from wo_tui.core.context import Context
from wo_tui.core.errors import InvalidInput, NotAllowed, NotFound
from wo_tui.core.models import events
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import EventStatus

EVENT_TEXT_FIELDS = ("account_number", "customer_name", "site_address", "site_id", "meter_number")
LIMITS = {
    "event_type": 60,
    "external_ref": 120,
    "account_number": 60,
    "customer_name": 200,
    "site_address": 400,
    "site_id": 40,
    "meter_number": 60,
}


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
        name.replace("_", " "): f"at most {limit} characters"
        for name, limit in LIMITS.items()
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
) -> list[RowMapping]:
    """Events, newest first, optionally of one status."""
    query = select(events).order_by(events.c.id.desc())
    if status is not None:
        query = query.where(events.c.status == status.value)
    if limit:
        query = query.limit(limit)
    return list(conn.execute(query).mappings())


def count_events(conn: Connection) -> dict[str, int]:
    """How many events are in each status."""
    query = select(events.c.status, func.count()).group_by(events.c.status)
    return {status: int(n) for status, n in conn.execute(query).all()}


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


def _require_dead(conn: Connection, event_id: int, verb: str) -> RowMapping:
    query = select(events.c.status, events.c.last_error).where(events.c.id == event_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"there is no event {event_id} (see `wo-tui events list`)")
    if row["status"] != EventStatus.DEAD.value:
        raise NotAllowed(
            f"event {event_id} is {row['status']}; only a dead event can be {verb} "
            "(see `wo-tui events list --status dead`)"
        )
    return row
