"""The event poller: billing events become work orders exactly once (docs/guarantees.md).

A batch is claimed and handled in ONE write transaction: the orders, their history, any
assignment emails and the events' `processed` mark commit together, so a crash at any point
leaves either everything or nothing. New events are found by "status is pending and due",
never by "id greater than the last seen". Several pollers never take the same event:
PostgreSQL claims with `FOR UPDATE SKIP LOCKED`; SQLite's `BEGIN IMMEDIATE` lets one writer
at a time (SQLite silently drops `FOR UPDATE`).

Speed: one SQLAlchemy executemany per table per batch (orders with RETURNING, history,
events), a fixed handful of look-ups per batch, never one per event, and on SQLite no
savepoint around the batch (see `_handle_batch`). Figures: bench/README.md.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, TextClause, bindparam, or_, text, update
from sqlalchemy.exc import DBAPIError

from wo_tui.core.backoff import backoff_seconds
from wo_tui.core.bulk import insert_rows
from wo_tui.core.context import Context
from wo_tui.core.event_rows import POLLER_COLUMNS, ReadRow, reader
from wo_tui.core.event_rules import EventPlan, NewOrderRow, plan_batch
from wo_tui.core.event_settings import EventsSettings
from wo_tui.core.models import events, history, work_orders
from wo_tui.core.orders import queue_email
from wo_tui.core.redact import scrub
from wo_tui.core.sql import id_set
from wo_tui.core.statuses import EventStatus

__all__ = [
    "POLLER_OPERATOR",
    "Hooks",
    "PollResult",
    "backoff_delay",
    "drain_events",
    "process_batch",
]

POLLER_OPERATOR = "event-poller"
"""The name the poller's changes are recorded under (created_by, history actor)."""
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
BACKOFF_JITTER = 0.25
"""Each delay is the nominal one ±25%: retries of many events spread out, and a delay
still always exceeds the one before it (0.75 x 2 > 1.25) until the cap."""

Hooks = Callable[[str], None]
"""Called with "claimed", "inserted", "before_commit" (inside the transaction) and
"after_commit": the crash tests kill the worker there."""


@dataclass
class PollResult:
    """What one batch (or a whole run) did."""

    events: int = 0
    """Events claimed."""
    processed: int = 0
    """Events marked processed (an order created, or linked to an existing one)."""
    orders_created: int = 0
    duplicates: int = 0
    """Events linked to an open order of the same type for the same site."""
    retried: int = 0
    """Events that failed and will be tried again later."""
    dead: int = 0
    """Events that failed for the last time and are parked."""

    def __add__(self, other: PollResult) -> PollResult:
        return PollResult(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def summary(self) -> str:
        """One line for a log: "created N orders from M events, K retried, D dead"."""
        line = f"created {self.orders_created} orders from {self.events} events"
        if self.duplicates:
            line += f" ({self.duplicates} duplicates linked)"
        return f"{line}, {self.retried} retried, {self.dead} dead"


def backoff_delay(attempts: int, rand: Callable[[], float] = random.random) -> timedelta:
    """How long to wait after the `attempts`-th failure: 30 s doubling up to 1 h, ±25%."""
    wait = backoff_seconds(
        attempts,
        first=BACKOFF_FIRST.total_seconds(),
        cap=BACKOFF_MAX.total_seconds(),
        spread=(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER),
        rand=rand,
    )
    return timedelta(seconds=wait)


def process_batch(
    ctx: Context, settings: EventsSettings, *, limit: int | None = None, hooks: Hooks | None = None
) -> PollResult:
    """Claim up to `limit` (default `settings.batch_size`) due pending events, oldest first,
    and turn them into orders in one transaction. A failing event is counted, given a later
    `next_attempt_at` (or parked as dead) with its error; it never stops the others."""
    hook = hooks or _no_hook
    now = ctx.now()
    try:
        with ctx.db.write() as conn:
            claimed = _claim(conn, now, limit or settings.batch_size)
            hook("claimed")
            if not claimed:
                return PollResult()
            result = _handle_batch(conn, ctx, settings, claimed, hook)
            hook("before_commit")
    except _RedoOneByOne as redo:
        with ctx.db.write() as conn:
            # Claimed again: whatever another poller handled in between is left out.
            claimed = _claim(conn, now, len(redo.ids), only=redo.ids)
            result = _handle_one_by_one(conn, ctx, settings, claimed, hook)
            hook("before_commit")
    hook("after_commit")
    return result


def _no_hook(point: str) -> None:
    return None


class _RedoOneByOne(Exception):
    """SQLite: the database refused the batch; it was rolled back, to be redone one event at
    a time in a new transaction."""

    def __init__(self, ids: list[int]) -> None:
        super().__init__(f"redo {len(ids)} events one by one")
        self.ids = ids


def _handle_batch(
    conn: Connection,
    ctx: Context,
    settings: EventsSettings,
    claimed: Sequence[ReadRow],
    hook: Hooks,
) -> PollResult:
    """Validation happens in Python first; if the database still refuses something, the
    batch is redone one event at a time so only the bad event is marked.

    PostgreSQL redoes it in the same transaction, from a savepoint. SQLite has no savepoint
    here: while one is open, SQLite copies every page the batch changes to a statement
    journal (measured: ~10% of the poller's CPU time). The claim before it wrote nothing,
    so on SQLite the whole transaction is rolled back instead and the redo claims again."""
    if conn.dialect.name == "sqlite":
        try:
            return _handle(conn, ctx, settings, claimed, hook)
        except DBAPIError:
            raise _RedoOneByOne([int(event.values["id"]) for event in claimed]) from None
    try:
        with conn.begin_nested():
            return _handle(conn, ctx, settings, claimed, hook)
    except DBAPIError:
        return _handle_one_by_one(conn, ctx, settings, claimed, hook)


def _claim(
    conn: Connection, now: datetime, limit: int, *, only: Sequence[int] | None = None
) -> list[ReadRow]:
    """Up to `limit` due pending events (of the ids `only`, if given), oldest first, each
    read defensively (`wo_tui/core/event_rows.py`): a value that cannot be understood is a
    trouble of its event, never an error of the claim."""
    dialect = conn.dialect.name
    due: list[ColumnElement[bool] | TextClause] = [
        events.c.next_attempt_at.is_(None),
        events.c.next_attempt_at <= now,
    ]
    if dialect == "sqlite":  # a next_attempt_at that is not a time must not hide the event
        due.append(text("julianday(next_attempt_at) IS NULL"))
    read = reader(dialect, POLLER_COLUMNS)
    # Literal `status = 'pending'`: it matches the partial index ix_events_pending.
    query = (
        read.select()
        .where(text("status = 'pending'"), or_(*due))
        .order_by(events.c.id)
        .limit(limit)
    )
    if only is not None:
        query = query.where(events.c.id.in_(id_set(conn, only)))
    if dialect != "sqlite":
        query = query.with_for_update(skip_locked=True)
    return read.read(conn, query)


def _handle(
    conn: Connection,
    ctx: Context,
    settings: EventsSettings,
    claimed: Sequence[ReadRow],
    hook: Hooks,
) -> PollResult:
    plans = plan_batch(conn, ctx, settings, claimed)
    created = _insert_orders(conn, plans)
    hook("inserted")
    _write_trail(conn, ctx, plans)
    for row in created:
        if row.assignee is not None and row.order_id is not None:
            queue_email(conn, ctx, row.order_id, row.assignee, "assignment")
    return _mark_events(conn, ctx, settings, plans, len(created))


def _handle_one_by_one(
    conn: Connection,
    ctx: Context,
    settings: EventsSettings,
    claimed: Sequence[ReadRow],
    hook: Hooks,
) -> PollResult:
    total = PollResult()
    for event in claimed:
        try:
            with conn.begin_nested():
                total += _handle(conn, ctx, settings, [event], hook)
        except DBAPIError as exc:
            message = (scrub(str(exc.orig or exc)).splitlines() or ["error"])[0][:300]
            plan = EventPlan(event.values, error=f"the database refused the order: {message}")
            total += _mark_events(conn, ctx, settings, [plan], 0)
    return total


def _insert_orders(conn: Connection, plans: Sequence[EventPlan]) -> list[NewOrderRow]:
    """Insert every new order with one executemany per round: first the orders that link
    to nothing new, then those that link to an order of this batch (a move-out's final
    read, a payment's reconnection after a disconnection made in the same batch)."""
    rows = [r for p in plans for r in (p.order, p.companion) if r is not None]
    pending = rows
    while pending:
        ready = [r for r in pending if r.related is None or r.related.order_id is not None]
        if not ready:  # cannot happen: an order only ever links to one planned before it
            raise RuntimeError("orders of a batch link to each other in a cycle")
        for row in ready:
            if row.related is not None:
                row.values["related_order_id"] = row.related.order_id
        # RETURNING rows come back in no promised order, and asking SQLAlchemy to sort them
        # makes SQLite insert row by row: match them by what identifies each row instead
        # (the event id; a companion by the order it belongs to and its type).
        c = work_orders.c
        returning = (c.id, c.source_event_id, c.related_order_id, c.type_code)
        returned = insert_rows(conn, work_orders, [r.values for r in ready], returning)
        by_key = {
            _identity(row.source_event_id, row.related_order_id, row.type_code): row.id
            for row in returned
        }
        for row in ready:
            v = row.values
            row.order_id = int(
                by_key[_identity(v["source_event_id"], v["related_order_id"], v["type_code"])]
            )
        pending = [r for r in pending if r.order_id is None]
    return rows


def _identity(event_id: int | None, related_id: int | None, type_code: str) -> tuple[Any, ...]:
    return ("event", event_id) if event_id is not None else ("of", related_id, type_code)


def _write_trail(conn: Connection, ctx: Context, plans: Sequence[EventPlan]) -> None:
    now, actor = ctx.now(), ctx.operator
    trail: list[dict[str, Any]] = []

    def add(order_id: int, field: str, old: Any, new: Any, reason: str | None) -> None:
        trail.append(
            {
                "work_order_id": order_id,
                "at": now,
                "actor": actor,
                "field": field,
                "old_value": old,
                "new_value": new,
                "reason": reason,
                "batch_id": None,
            }
        )

    for plan in plans:
        for row in (plan.order, plan.companion):
            if row is not None and row.order_id is not None:
                for field, old, new, reason in row.trail:
                    add(row.order_id, field, old, new, reason)
        target = _linked_id(plan)
        if plan.duplicate_of is not None and target is not None:
            kind = plan.event["event_type"]
            add(target, "event", None, f"duplicate event {plan.ref} linked", f"{kind} event")
    insert_rows(conn, history, trail)


def _linked_id(plan: EventPlan) -> int | None:
    """The order an event ends up pointing at: the one it created, or the duplicate's."""
    if plan.order is not None:
        return plan.order.order_id
    if isinstance(plan.duplicate_of, NewOrderRow):
        return plan.duplicate_of.order_id
    return plan.duplicate_of


def _mark_events(
    conn: Connection,
    ctx: Context,
    settings: EventsSettings,
    plans: Sequence[EventPlan],
    orders_created: int,
) -> PollResult:
    now = ctx.now()
    result = PollResult(events=len(plans), orders_created=orders_created)
    changes: list[dict[str, Any]] = []
    for plan in plans:
        attempts = (plan.event["attempts"] or 0) + 1  # None: unreadable, counted from 0
        if plan.error is None:
            result.processed += 1
            result.duplicates += plan.duplicate_of is not None
            status, error, due, processed_at = EventStatus.PROCESSED, None, None, now
        else:
            dead = attempts >= settings.max_attempts or plan.final
            result.dead += dead
            result.retried += not dead
            error, processed_at = plan.error, None
            due = None if dead else now + backoff_delay(attempts)
            status = EventStatus.DEAD if dead else EventStatus.PENDING
        changes.append(
            {
                "event_id": plan.event["id"],
                "new_attempts": attempts,
                "new_status": status.value,
                "new_last_error": error,
                "new_next_attempt_at": due,
                "new_processed_at": processed_at,
                "new_work_order_id": _linked_id(plan) if plan.error is None else None,
            }
        )
    conn.execute(_MARK_EVENT, changes)
    return result


_MARK_EVENT = (
    update(events)
    .where(events.c.id == bindparam("event_id"), text("status = 'pending'"))
    .values(
        {
            name: bindparam(f"new_{name}")
            for name in (
                "attempts",
                "status",
                "last_error",
                "next_attempt_at",
                "processed_at",
                "work_order_id",
            )
        }
    )
)
"""Marks one event (an executemany of `_mark_events`' changes); an event no longer pending
(another poller took it, someone discarded it meanwhile) is left alone. The status is
written into the statement: one parameter fewer per event (-1% instructions per event)."""


def drain_events(
    ctx: Context,
    settings: EventsSettings,
    *,
    stop: threading.Event | None = None,
    limit: int | None = None,
    rest_factor: float = 0.0,
    on_batch: Callable[[PollResult], None] | None = None,
) -> PollResult:
    """Process the due events batch by batch (of `limit`, default `settings.batch_size`)
    until a batch comes back short (nothing more is due) or `stop` is set; returns the
    totals. `on_batch` gets each non-empty batch's result. After a full batch the next one
    follows after a rest of `rest_factor` times the batch's own time (the app rests, so that
    the dispatcher's keys stay quick while a backlog drains; the worker does not). One round
    of the poller job under the supervisor (`wo_tui/core/supervisor.py`), which retries a
    round that raised (e.g. the database restarting)."""
    stop = stop or threading.Event()
    batch = limit or settings.batch_size
    total = PollResult()
    while not stop.is_set():
        started = time.perf_counter()
        result = process_batch(ctx, settings, limit=batch)
        total += result
        if result.events and on_batch is not None:
            on_batch(result)
        if result.events < batch:
            break
        if rest_factor:
            stop.wait((time.perf_counter() - started) * rest_factor)
    return total
