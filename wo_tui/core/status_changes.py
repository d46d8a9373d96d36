"""Status changes on one or many orders: complete, cancel, hold, release, reopen.

Each call is one transaction that reports a per-order outcome (done, skipped with the reason,
or conflict with who changed the order). The orders are changed by set, never read into
Python first, by the one status writer (`status_writer.py`): why an order cannot make the
move (already there, a move the status machine forbids, the action's own rules such as a
life-support disconnection) is one SQL expression, and the guarded `UPDATE ... WHERE id IN
(...) AND version = :v AND <why not> IS NULL` changes the orders for which it is NULL, so
the status machine and the lost-update guard are enforced in the write itself. History rows
(`INSERT ... SELECT`, just before the UPDATE, with the same condition) and the billing feed
are written in the same transaction. A preview for the confirmation reads its reasons from
the same expression.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, case, func, insert, literal, select
from sqlalchemy.sql.elements import ColumnElement

from wo_tui.core.context import Context
from wo_tui.core.errors import InvalidInput
from wo_tui.core.life_support import life_support_disconnection
from wo_tui.core.models import (
    assignees,
    billing_outbound,
    history,
    work_order_types,
    work_orders,
)
from wo_tui.core.orders import queue_email
from wo_tui.core.outcomes import BatchResult, OrderOutcome, Result
from wo_tui.core.sanitize import clean_text
from wo_tui.core.sql import id_set, order_number
from wo_tui.core.status_writer import Skip, actor, said, status_is, why_not, write_status
from wo_tui.core.statuses import OPEN_STATUSES, CancelReason, Outcome, WorkOrderStatus

NO_SUCH_ORDER = "no such order"
LIFE_SUPPORT_SKIP = (
    "life-support site: a disconnection is never closed in bulk; "
    "open the order and give an explicit override"
)


class OrderType(NamedTuple):
    """What a status change needs of an order's type: its completion rule and its fee."""

    code: str
    completion_needs: str | None
    fee_code: str | None


Changes = Callable[[OrderType], dict[str, Any]]
"""The column values to set on an order of one type (beyond status, version and updated_*).
They depend on the type only: they are worked out once per type, and where the types differ
the UPDATE sets them with a `CASE type_code`."""


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(i) for i in ids))


def change_status(
    ctx: Context,
    ids: Iterable[int],
    target: WorkOrderStatus,
    *,
    action: str,
    reason: str | None,
    changes: Changes,
    skips: Sequence[Skip] = (),
    billing_action: str | None = None,
    expected_versions: Mapping[int, int] | None = None,
    after: Callable[[Connection, str], None] | None = None,
) -> BatchResult:
    """Move every order in `ids` to `target` where the status machine and the action's
    `skips` allow it, in one transaction, by set: the orders are not read into Python.

    The orders are written by `write_status` (history rows and the guarded `UPDATE`, per
    version the caller saw in `expected_versions`, id → version: a change made by someone
    else since then is a conflict, not an overwrite). Only when some order was not changed,
    or the versions after the change are not known from the caller's, is each order's
    outcome read back (one statement). `after` runs in the same transaction with the batch
    id (its history rows name the changed orders)."""
    order_ids = _unique(ids)
    wanted = expected_versions or {}
    expected = {i: int(wanted[i]) for i in order_ids if i in wanted}
    batch = BatchResult(batch_id=uuid.uuid4().hex, action=action)
    now = ctx.now()
    with ctx.db.write() as conn:
        changed = write_status(
            conn,
            ctx,
            order_ids,
            target,
            values=_new_values(conn, changes),
            reason=reason,
            now=now,
            versions=expected,
            skips=skips,
            batch_id=batch.batch_id,
        )
        if changed == len(order_ids):
            batch.outcomes = [OrderOutcome(i, Result.DONE) for i in order_ids]
            if len(expected) == len(order_ids):
                batch.versions = {i: v + 1 for i, v in expected.items()}
            else:
                batch.versions = _versions(conn, order_ids)
        else:
            batch.outcomes, batch.versions = _report(
                conn, ctx, batch.batch_id, order_ids, expected, why_not(target, skips)
            )
        if changed:
            if billing_action is not None:
                _write_billing(conn, ctx, batch.batch_id, reason, billing_action, now)
            if after is not None:
                after(conn, batch.batch_id)
    return batch


def _new_values(conn: Connection, changes: Changes) -> dict[str, Any]:
    """The values of the guarded UPDATE (beyond the status and version): `changes` worked
    out for each order type (a handful of rows), a plain value where every type gets the
    same, else `CASE type_code ...`."""
    types = work_order_types.c
    per_type = {
        kind.code: changes(kind)
        for kind in map(
            OrderType._make,
            conn.execute(select(types.code, types.completion_needs, types.fee_code)),
        )
    }
    order = work_orders.c
    values: dict[str, Any] = {}
    for name in dict.fromkeys(name for given in per_type.values() for name in given):
        column = order[name]
        if all(name in given for given in per_type.values()):
            distinct = {given[name] for given in per_type.values()}
            if len(distinct) == 1:
                values[name] = distinct.pop()
                continue
        values[name] = case(
            {
                code: literal(given[name], column.type)
                for code, given in per_type.items()
                if name in given
            },
            value=order.type_code,
            else_=column,
        )
    return values


def _changed_by(batch_id: str) -> Select[Any]:
    """The ids of the orders a batch changed: its history rows say which."""
    return select(history.c.work_order_id).where(history.c.batch_id == batch_id)


def _by_id(conn: Connection, order_ids: list[int], *columns: Any) -> dict[int, tuple[Any, ...]]:
    """id → (the `columns`) of each order of `order_ids` that exists, in one statement."""
    order = work_orders.c
    query = select(order.id, *columns).where(order.id.in_(id_set(conn, order_ids)))
    return {row[0]: tuple(row[1:]) for row in conn.execute(query).all()}


def _versions(conn: Connection, order_ids: list[int]) -> dict[int, int]:
    """id → version now, of each order."""
    return {
        order_id: row[0] for order_id, row in _by_id(conn, order_ids, work_orders.c.version).items()
    }


def _report(
    conn: Connection,
    ctx: Context,
    batch_id: str,
    order_ids: list[int],
    expected: dict[int, int],
    skip: ColumnElement[str | None],
) -> tuple[list[OrderOutcome], dict[int, int]]:
    """Every order's outcome, in the order asked, and the version of each changed order,
    read after the write in one statement. An order the batch did not change is as it was,
    so the skip reason read now is the one that kept it: a conflict when its version is not
    the one the caller saw, else skipped with that reason."""
    order = work_orders.c
    found = _by_id(conn, order_ids, order.version, order.id.in_(_changed_by(batch_id)), skip)
    outcomes: dict[int, OrderOutcome] = {}
    versions: dict[int, int] = {}
    for order_id in order_ids:
        row = found.get(order_id)
        if row is None:
            outcomes[order_id] = OrderOutcome(order_id, Result.SKIPPED, NO_SUCH_ORDER)
            continue
        version, done, why = row
        if done:
            outcomes[order_id] = OrderOutcome(order_id, Result.DONE)
            versions[order_id] = version
        elif expected.get(order_id, version) != version:
            outcomes[order_id] = OrderOutcome(order_id, Result.CONFLICT)  # who: below
        elif why is not None:
            outcomes[order_id] = OrderOutcome(order_id, Result.SKIPPED, why)
        else:
            outcomes[order_id] = OrderOutcome(
                order_id, Result.CONFLICT, "changed by someone else just now"
            )
    _name_who_changed(conn, ctx, outcomes)
    return [outcomes[i] for i in order_ids], versions


def preview(
    ctx: Context,
    ids: Iterable[int],
    target: WorkOrderStatus,
    *,
    life_support_override: str | None = None,
) -> BatchResult:
    """What a change to `target` would do to each order, without changing anything: the
    outcomes a confirmation shows, and the versions to guard the real change with."""
    order_ids = _unique(ids)
    closing = target in (WorkOrderStatus.COMPLETED, WorkOrderStatus.CANCELLED)
    skip = why_not(target, _life_support_skips(life_support_override) if closing else [])
    result = BatchResult(batch_id="", action=f"to {target.value}")
    order = work_orders.c
    with ctx.db.read() as conn:
        found = _by_id(conn, order_ids, order.version, skip, order.status, order.assignee_id)
    for order_id in order_ids:
        row = found.get(order_id)
        if row is None:
            result.outcomes.append(OrderOutcome(order_id, Result.SKIPPED, NO_SUCH_ORDER))
            continue
        version, why, status, assignee_id = row
        result.versions[order_id] = version
        if why is not None:
            result.outcomes.append(OrderOutcome(order_id, Result.SKIPPED, why))
            continue
        result.outcomes.append(OrderOutcome(order_id, Result.DONE))
        told = status == WorkOrderStatus.SENT.value and assignee_id is not None
        if target is WorkOrderStatus.CANCELLED and told:
            result.emails += 1
    return result


def undo(ctx: Context, batch: BatchResult) -> BatchResult:
    """Undo a batch that closed orders: reopen exactly the orders it changed, unless someone
    changed one since (then that order is a conflict and stays as it is)."""
    return reopen(
        ctx,
        batch.ids(Result.DONE),
        f"undo of the batch that {batch.action} {len(batch.ids(Result.DONE))} orders",
        expected_versions=batch.versions,
    )


def _name_who_changed(conn: Connection, ctx: Context, outcomes: dict[int, OrderOutcome]) -> None:
    """Fill in who changed each conflicting order and when, in the utility's time (read only
    for the conflicts: most batches have none)."""
    ids = [i for i, o in outcomes.items() if o.result is Result.CONFLICT and not o.detail]
    if not ids:
        return
    query = select(work_orders.c.id, work_orders.c.updated_by, work_orders.c.updated_at).where(
        work_orders.c.id.in_(id_set(conn, ids))
    )
    for order_id, who, when in conn.execute(query):
        at = ctx.local(when)
        outcomes[order_id] = OrderOutcome(
            order_id, Result.CONFLICT, f"changed by {clean_text(who)} at {at:%Y-%m-%d %H:%M:%S}"
        )


def _write_billing(
    conn: Connection,
    ctx: Context,
    batch_id: str,
    reason: str | None,
    billing_action: str,
    now: Any,
) -> None:
    """One row of the billing feed per order the batch changed, with the order's values as
    they are after the change: one `INSERT ... SELECT`, whatever the number of orders."""
    order = work_orders.c
    feed = {
        "work_order_id": order.id,
        "order_number": order_number(order.id),
        "order_type": order.type_code,
        "account_number": order.account_number,
        "site_id": order.site_id,
        "meter_number": order.meter_number,
        "action": literal(billing_action, billing_outbound.c.action.type),
        "outcome": order.outcome,
        "reason": func.coalesce(
            func.nullif(order.cancel_reason, ""),
            func.nullif(order.outcome_reason, ""),
            literal(reason, billing_outbound.c.reason.type),
        ),
        "reading": order.reading,
        "reading_to_follow": order.reading_to_follow,
        "fee_code": order.fee_code,
        "actor": literal(actor(ctx), billing_outbound.c.actor.type),
        "at": literal(now, billing_outbound.c.at.type),
    }
    source = select(*feed.values()).where(order.id.in_(_changed_by(batch_id))).order_by(order.id)
    conn.execute(insert(billing_outbound).from_select(list(feed), source))


def _text(value: str | None, *, what: str, required: bool = False) -> str | None:
    cleaned = clean_text(value, multiline=True).strip() if value else ""
    if required and not cleaned:
        raise InvalidInput({what: f"a {what} is required"})
    return cleaned or None


def _life_support_skips(override: str | None) -> list[Skip]:
    """A disconnection at a life-support site is not closed, unless overridden."""
    if override:
        return []
    return [Skip(life_support_disconnection(), said(LIFE_SUPPORT_SKIP))]


def _single_override(ids: list[int], override: str | None) -> str | None:
    override = _text(override, what="override reason")
    if override and len(ids) != 1:
        raise InvalidInput({"override": "a life-support override is given for one order at a time"})
    return override


READING_WHOLE_DIGITS = 12
"""At most this many digits before the point (leading zeros aside): more than any meter's
register shows, and the longest reading still fits `billing_outbound.reading` (40)."""
READING_FRACTION_DIGITS = 4
"""At most this many digits after the point (kept exactly as typed, never rounded)."""
READING_EXAMPLE = "e.g. 12345.6"
_READING = re.compile(r"(?P<whole>[0-9]*)(?:\.(?P<fraction>[0-9]*))?")
"""ASCII digits with at most one point (`re` would take any script's digits for `\\d`)."""


def parse_reading(text: str) -> str:
    """A meter reading as billing gets it (docs/events.md, `billing_outbound.reading`): the
    digits 0-9 with at most one point and a digit on each side of it; leading zeros are
    removed and the digits after the point kept exactly as typed (`00012.50` -> `12.50`).
    InvalidInput says what to type instead."""
    typed = text.strip()
    found = _READING.fullmatch(typed)
    if found is None:
        raise InvalidInput({"reading": _not_a_reading(typed)})
    whole, fraction = found["whole"], found["fraction"]
    if not whole and not fraction:
        problem = f"type the reading in digits, {READING_EXAMPLE}"
    elif not whole:
        problem = "type a digit before the point, e.g. 0.5"
    elif fraction == "":
        problem = "type the digits after the point, or leave the point out"
    elif len(whole.lstrip("0")) > READING_WHOLE_DIGITS:
        problem = f"a reading has at most {READING_WHOLE_DIGITS} digits before the point"
    elif fraction is not None and len(fraction) > READING_FRACTION_DIGITS:
        problem = f"a reading has at most {READING_FRACTION_DIGITS} digits after the point"
    else:
        return (whole.lstrip("0") or "0") + ("" if fraction is None else "." + fraction)
    raise InvalidInput({"reading": problem})


def _not_a_reading(typed: str) -> str:
    """Why text that is not digits with one point is refused, and what to type."""
    if typed.startswith("-"):
        return f"a reading is zero or more: type it without a sign, {READING_EXAMPLE}"
    shown = typed if len(typed) <= 24 else typed[:23] + "…"
    return (
        f"{shown!r} is not a plain number: type the digits 0-9 and at most one point, "
        f"{READING_EXAMPLE}"
    )


def bulk_complete(
    ctx: Context,
    ids: Iterable[int],
    *,
    note: str | None = None,
    reading: str | None = None,
    outcome: Outcome = Outcome.DONE,
    outcome_reason: str | None = None,
    life_support_override: str | None = None,
    expected_versions: Mapping[int, int] | None = None,
) -> BatchResult:
    """Complete orders. Read types record `reading` (one order only) or 'reading to
    follow'; the type's fee is charged when the job was done. A life-support disconnection
    is skipped unless one order is completed with an explicit override reason."""
    order_ids = _unique(ids)
    note = _text(note, what="note")
    outcome_reason = _text(outcome_reason, what="reason", required=outcome is Outcome.NOT_DONE)
    override = _single_override(order_ids, life_support_override)
    stored_reading = parse_reading(reading) if reading is not None else None
    if stored_reading is not None and len(order_ids) != 1:
        raise InvalidInput({"reading": "a reading is given for one order at a time"})
    now = ctx.now()

    skips = _life_support_skips(override)
    if stored_reading is not None:
        types = work_order_types.c
        read_types = select(types.code).where(types.completion_needs == "reading")
        kind = work_orders.c.type_code
        skips.insert(
            0,
            Skip(
                kind.not_in(read_types), said("a ") + kind + said(" order takes no meter reading")
            ),
        )

    def changes(kind: OrderType) -> dict[str, Any]:
        needs_reading = kind.completion_needs == "reading" and outcome is Outcome.DONE
        return {
            "completed_at": now,
            "completed_by": actor(ctx),
            "completion_note": note,
            "outcome": outcome.value,
            "outcome_reason": outcome_reason,
            "reading": stored_reading if needs_reading else None,
            "reading_to_follow": needs_reading and stored_reading is None,
            "fee_code": kind.fee_code if outcome is Outcome.DONE else None,
        }

    reason = note or outcome_reason
    if override:
        reason = f"life-support override: {override}" + (f"; {reason}" if reason else "")
    return change_status(
        ctx,
        order_ids,
        WorkOrderStatus.COMPLETED,
        action="completed",
        reason=reason,
        changes=changes,
        skips=skips,
        billing_action="COMPLETED",
        expected_versions=expected_versions,
    )


def bulk_cancel(
    ctx: Context,
    ids: Iterable[int],
    reason: CancelReason | str,
    *,
    note: str | None = None,
    life_support_override: str | None = None,
    expected_versions: Mapping[int, int] | None = None,
) -> BatchResult:
    """Cancel orders with a reason code (and an optional note)."""
    order_ids = _unique(ids)
    code = parse_cancel_reason(reason)
    note = _text(note, what="note", required=code is CancelReason.OTHER)
    override = _single_override(order_ids, life_support_override)
    now = ctx.now()
    fields = {
        "cancelled_at": now,
        "cancelled_by": actor(ctx),
        "cancel_reason": code.value,
        "cancel_note": note,
        "fee_code": None,
    }
    why = code.label + (f": {note}" if note else "")
    if override:
        why = f"life-support override: {override}; {why}"
    return change_status(
        ctx,
        order_ids,
        WorkOrderStatus.CANCELLED,
        action="cancelled",
        reason=why,
        changes=lambda _kind: fields,
        skips=_life_support_skips(override),
        billing_action="CANCELLED",
        expected_versions=expected_versions,
        after=lambda conn, batch_id: _tell_assignees(conn, ctx, batch_id),
    )


def _tell_assignees(conn: Connection, ctx: Context, batch_id: str) -> None:
    """Queue a cancellation notice to the assignee of every order of the batch that had been
    SENT (docs/domain.md: cancelling a SENT order tells the assignee), in the same transaction."""
    order = work_orders.c
    was_sent = _changed_by(batch_id).where(history.c.old_value == WorkOrderStatus.SENT.value)
    sent = conn.execute(
        select(order.id, order.assignee_id)
        .where(order.id.in_(was_sent), order.assignee_id.is_not(None))
        .order_by(order.id)
    ).all()
    if not sent:
        return
    wanted = {assignee_id for _, assignee_id in sent}
    people = {
        p["id"]: p
        for p in conn.execute(select(assignees).where(assignees.c.id.in_(wanted))).mappings()
    }
    for order_id, assignee_id in sent:
        queue_email(conn, ctx, order_id, people[assignee_id], "cancellation_notice")


def parse_cancel_reason(reason: CancelReason | str) -> CancelReason:
    """A reason code from its value or label (any case, '-' or ' ' for '_')."""
    if isinstance(reason, CancelReason):
        return reason
    key = str(reason).strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return CancelReason(key)
    except ValueError:
        codes = ", ".join(c.value for c in CancelReason)
        raise InvalidInput(
            {"reason": f"unknown reason code {reason!r}; use one of {codes}"}
        ) from None


def reopen(
    ctx: Context,
    ids: Iterable[int],
    reason: str,
    *,
    expected_versions: Mapping[int, int] | None = None,
) -> BatchResult:
    """Reopen closed orders (back to NEW) with a reason; billing is told, the outcome
    fields are cleared (the history keeps them)."""
    why = _text(reason, what="reason", required=True)
    cleared = {
        "completed_at": None,
        "completed_by": None,
        "completion_note": None,
        "outcome": None,
        "outcome_reason": None,
        "reading": None,
        "reading_to_follow": False,
        "cancelled_at": None,
        "cancelled_by": None,
        "cancel_reason": None,
        "cancel_note": None,
        "fee_code": None,
    }
    return change_status(
        ctx,
        ids,
        WorkOrderStatus.NEW,
        action="reopened",
        reason=why,
        changes=lambda _kind: cleared,
        skips=[Skip(work_orders.c.status.in_(OPEN_STATUSES), status_is(", not closed"))],
        billing_action="REOPENED",
        expected_versions=expected_versions,
    )


def hold(
    ctx: Context,
    ids: Iterable[int],
    note: str,
    *,
    expected_versions: Mapping[int, int] | None = None,
) -> BatchResult:
    """Put open orders on hold (e.g. no access); a note is required."""
    why = _text(note, what="note", required=True)
    return change_status(
        ctx,
        ids,
        WorkOrderStatus.ON_HOLD,
        action="put on hold",
        reason=why,
        changes=lambda _kind: {"hold_note": why},
        expected_versions=expected_versions,
    )


def release_hold(
    ctx: Context,
    ids: Iterable[int],
    note: str | None = None,
    *,
    to: WorkOrderStatus = WorkOrderStatus.NEW,
    expected_versions: Mapping[int, int] | None = None,
) -> BatchResult:
    """Take orders off hold, back to NEW (or SETUP)."""
    if to not in (WorkOrderStatus.NEW, WorkOrderStatus.SETUP):
        raise InvalidInput({"status": "an order leaves hold to NEW or SETUP"})
    why = _text(note, what="note")
    order = work_orders.c
    skips = [Skip(order.status != WorkOrderStatus.ON_HOLD.value, status_is(", not on hold"))]
    if to is WorkOrderStatus.SETUP:
        # SETUP means scheduled and assigned, ready to send: not without an assignee.
        skips.append(
            Skip(order.assignee_id.is_(None), said("has no assignee; assign it to set it up"))
        )

    return change_status(
        ctx,
        ids,
        to,
        action="released",
        reason=why,
        changes=lambda _kind: {"hold_note": None},
        skips=skips,
        expected_versions=expected_versions,
    )


def mark_sent(ctx: Context, ids: Iterable[int]) -> BatchResult:
    """SETUP → SENT: the assignee has the order (the mail server accepted the email)."""
    now = ctx.now()
    return change_status(
        ctx,
        ids,
        WorkOrderStatus.SENT,
        action="sent",
        reason="sent to the assignee",
        changes=lambda _kind: {"sent_at": now},
    )


def unassign(ctx: Context, ids: Iterable[int], note: str | None = None) -> BatchResult:
    """SETUP → NEW: take the assignee off an order that was not sent yet."""
    return change_status(
        ctx,
        ids,
        WorkOrderStatus.NEW,
        action="unassigned",
        reason=_text(note, what="note") or "unassigned",
        changes=lambda _kind: {"assignee_id": None, "assigned_at": None, "assigned_by": None},
        skips=[Skip(work_orders.c.status != WorkOrderStatus.SETUP.value, status_is(", not SETUP"))],
    )
