"""The one writer of an order's status: every move (a bulk complete, an assignment, the mail
server accepting an assignment email) goes through `write_status`.

It changes the orders by set, never read into Python first. Why an order cannot make the
move (already there, a move the status machine of `statuses.py` forbids, the caller's own
`skips`) is one SQL expression, `why_not`; per version the caller saw there are two
statements over the same condition, `id IN (<ids>) AND version = :v AND <why not> IS NULL`
(and the caller's own `where`): an `INSERT ... SELECT` of the history rows, with each order's
status before the change, and the guarded `UPDATE`. So the status machine and the lost-update
guard are enforced in the write itself, and every move leaves its row in the trail. Both run
under the write lock (`BEGIN IMMEDIATE` on SQLite; on PostgreSQL the rows are locked
`FOR UPDATE` first, in id order), so they match the same rows; their counts are checked.

A rule that every move must obey, whoever asks for it, belongs in `why_not` (as the status
machine does); who made the change is `actor(ctx)`, for the history row and `updated_by`
alike, and for the other columns that name a person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, String, case, func, insert, literal, null, select, update
from sqlalchemy.sql.elements import ColumnElement

from wo_tui.core.context import Context
from wo_tui.core.errors import Conflict
from wo_tui.core.models import history, work_orders
from wo_tui.core.sql import id_set
from wo_tui.core.statuses import WorkOrderStatus, allowed_from


def actor(ctx: Context) -> str:
    """The name a change is recorded under (history, `updated_by`, `completed_by`, ...):
    the operator the context acts as."""
    return ctx.operator


class Skip(NamedTuple):
    """A reason of an action's own to leave an order as it is, in SQL: `when` is a condition
    on the order's columns, `why` the reason as SQL text (`said`, `status_is`). An order
    is changed unless some `when` is true: a `when` that is NULL for an order (a comparison
    with a NULL column) does not skip it, so write conditions that are true or false for
    every order (`IS NULL`, `IS NOT DISTINCT FROM`, columns that are NOT NULL)."""

    when: ColumnElement[bool]
    why: ColumnElement[str]


def said(text: str) -> ColumnElement[str]:
    """A reason as SQL text."""
    return literal(text, String())


def status_is(rest: str) -> ColumnElement[str]:
    """'is ' || status || rest: a reason that names the order's status."""
    return said("is ") + work_orders.c.status + said(rest)


def why_not(
    target: WorkOrderStatus, skips: Sequence[Skip] = (), *, stay: bool = False
) -> ColumnElement[str | None]:
    """Why an order cannot make the move to `target`, as one SQL expression (NULL when it
    can): already there (unless `stay`), a move the status machine forbids, or one of the
    action's own `skips`, in that order. The write changes exactly the orders for which it
    is NULL; a preview and the report of a batch read their reasons from the same
    expression, so what is shown and what is done cannot disagree."""
    status = work_orders.c.status
    allowed = {s.value for s in allowed_from(target)}
    forbidden = [s.value for s in WorkOrderStatus if s is not target and s.value not in allowed]
    whens = [] if stay else [(status == target.value, said(f"already {target.value}"))]
    if forbidden:
        whens.append((status.in_(forbidden), status_is(f"; cannot go to {target.value}")))
    # A reason that came out NULL would read as "no reason": the order would be changed.
    whens.extend((when, func.coalesce(why, said("skipped"))) for when, why in skips)
    return case(*whens, else_=null())


def write_status(
    conn: Connection,
    ctx: Context,
    ids: Sequence[int],
    target: WorkOrderStatus,
    *,
    values: Mapping[str, Any],
    reason: str | None,
    now: datetime,
    versions: Mapping[int, int] | None = None,
    where: Sequence[ColumnElement[bool]] = (),
    skips: Sequence[Skip] = (),
    stay: bool = False,
    batch_id: str | None = None,
) -> int:
    """Move the orders of `ids` to `target` where the status machine, the caller's `where`
    and `skips` allow it, and the order is still at the version the caller saw (`versions`,
    id → version; an id without one is not checked), inside the caller's transaction.
    Sets `values` (beyond the status, version and updated_* columns, set here) and writes
    one history row per order moved, with `reason` and `batch_id`. `stay`: an order already
    at `target` is changed too (a reassignment keeps SETUP), without a status row in its
    history. Returns the number of orders changed."""
    order = work_orders.c
    if conn.dialect.name == "postgresql":
        # Lock in id order: two batches over overlapping orders would otherwise lock in
        # opposite orders and deadlock.
        conn.execute(
            select(order.id)
            .where(order.id.in_(id_set(conn, ids)))
            .order_by(order.id)
            .with_for_update(of=work_orders)
        ).all()
    who = actor(ctx)
    changes = {
        **values,
        "status": target.value,
        "version": order.version + 1,
        "updated_at": now,
        "updated_by": who,
    }
    guard = why_not(target, skips, stay=stay).is_(None)
    changed = 0
    for version, group in _by_version(ids, versions or {}).items():
        eligible = [order.id.in_(id_set(conn, group)), guard, *where]
        if version is not None:
            eligible.append(order.version == version)
        moves = [*eligible, order.status != target.value] if stay else eligible
        logged = _write_history(conn, moves, who, target, reason, batch_id, now)
        moved = conn.execute(update(work_orders).where(*eligible).values(changes)).rowcount
        if moved < logged or (moved > logged and not stay):
            # Cannot happen under the lock; never commit a wrong trail.
            raise Conflict(
                f"{moved} orders changed but {logged} history rows were written: the "
                "orders changed while the batch ran, so nothing was saved; run it again"
            )
        changed += moved
    return changed


def _by_version(ids: Sequence[int], versions: Mapping[int, int]) -> dict[int | None, list[int]]:
    """The ids per version the caller saw (None: no version given). A batch has a handful of
    distinct versions, and a plain `version = :v` costs SQLite nothing where matching (id,
    version) pairs against a set cost a quarter of the statement."""
    groups: dict[int | None, list[int]] = defaultdict(list)
    for order_id in ids:
        groups[versions.get(order_id)].append(order_id)
    return groups


def _write_history(
    conn: Connection,
    eligible: Sequence[ColumnElement[bool]],
    who: str,
    target: WorkOrderStatus,
    reason: str | None,
    batch_id: str | None,
    now: datetime,
) -> int:
    """One history row per order that `eligible` matches, with its status before the change:
    `INSERT ... SELECT`, run just before the UPDATE with the same condition. Returns the
    number of rows written."""
    order = work_orders.c
    trail = history.c
    row = {
        "work_order_id": order.id,
        "at": literal(now, trail.at.type),
        "actor": literal(who, trail.actor.type),
        "field": literal("status", trail.field.type),
        "old_value": order.status,
        "new_value": literal(target.value, trail.new_value.type),
        "reason": literal(reason, trail.reason.type),
        "batch_id": literal(batch_id, trail.batch_id.type),
    }
    source = select(*row.values()).where(*eligible)
    statement = insert(history).from_select(list(row), source)
    # An INSERT's row count is kept only on request (psycopg's would read -1).
    return conn.execute(statement.execution_options(preserve_rowcount=True)).rowcount
