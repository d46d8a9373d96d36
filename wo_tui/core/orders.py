"""Creating, reading and editing one work order, notes, and assignment.

Every write runs in one transaction with its history rows; edits are guarded by the order's
version so that a change made by someone else in between is never overwritten.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from wo_tui.core.assignees import assignee_named
from wo_tui.core.context import Context
from wo_tui.core.drafts import FIELD_LABELS, NewOrder, OrderFields, validate_fields
from wo_tui.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from wo_tui.core.life_support import needs_life_support_override
from wo_tui.core.models import assignees, history, notes, outbox, work_order_types, work_orders
from wo_tui.core.numbers import format_number
from wo_tui.core.sanitize import clean_text
from wo_tui.core.status_writer import actor, write_status
from wo_tui.core.statuses import Priority, WorkOrderStatus


@dataclass(frozen=True)
class OrderType:
    """A row of the work-order types table."""

    code: str
    name: str
    default_priority: Priority
    sla_business_days: int
    completion_needs: str
    fee_code: str | None
    required_fields: tuple[str, ...]

    @property
    def needs_reading(self) -> bool:
        """Read types ask for a meter reading (or 'reading to follow') on completion."""
        return self.completion_needs == "reading"


def order_types(conn: Connection, *, include_inactive: bool = False) -> dict[str, OrderType]:
    """Every active work-order type by code (every type with `include_inactive`)."""
    query = select(work_order_types)
    if not include_inactive:
        query = query.where(work_order_types.c.active)
    rows = conn.execute(query).mappings()
    return {
        r["code"]: OrderType(
            code=r["code"],
            name=r["name"],
            default_priority=Priority(r["default_priority"]),
            sla_business_days=r["sla_business_days"],
            completion_needs=r["completion_needs"],
            fee_code=r["fee_code"],
            required_fields=tuple(f for f in r["required_fields"].split(",") if f),
        )
        for r in rows
    }


def _record(
    conn: Connection,
    ctx: Context,
    order_id: int,
    changes: list[tuple[str, Any, Any]],
    reason: str | None = None,
    batch_id: str | None = None,
) -> None:
    """Write one history row per (field, old, new)."""
    if not changes:
        return
    now = ctx.now()
    conn.execute(
        insert(history),
        [
            {
                "work_order_id": order_id,
                "at": now,
                "actor": actor(ctx),
                "field": field,
                "old_value": _as_text(old),
                "new_value": _as_text(new),
                "reason": reason,
                "batch_id": batch_id,
            }
            for field, old, new in changes
        ],
    )


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Priority):
        return value.label
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _check_required(order_type: OrderType, values: Mapping[str, Any]) -> None:
    missing = {
        FIELD_LABELS.get(f, f.replace("_", " ")): f"required for a {order_type.name}"
        for f in order_type.required_fields
        if values.get(f) in (None, "")
    }
    if missing:
        raise InvalidInput(missing)


def active_assignee(conn: Connection, name: str) -> RowMapping:
    """The assignee of that name (any case); NotFound, or NotAllowed when deactivated."""
    row = assignee_named(conn, name)
    if row is None:
        raise NotFound(f"no assignee named {name!r} (see `wo-tui technicians list`)")
    if not row["active"]:
        raise NotAllowed(f"{row['name']} is deactivated and cannot be given new orders")
    return row


def create_order(ctx: Context, data: Mapping[str, Any] | NewOrder) -> int:
    """Validate and insert a new order (status NEW, or SETUP when an assignee is given);
    returns its id. The type supplies the default priority and the due date (its SLA in
    business days)."""
    draft = data if isinstance(data, NewOrder) else validate_fields(NewOrder, dict(data))
    with ctx.db.write() as conn:
        return insert_order(conn, ctx, draft)


def insert_order(
    conn: Connection,
    ctx: Context,
    draft: NewOrder,
    *,
    source: str = "manual",
    source_event_id: int | None = None,
    related_order_id: int | None = None,
    status: WorkOrderStatus = WorkOrderStatus.NEW,
    reason: str | None = None,
) -> int:
    """Insert an order inside the caller's transaction (used by the event poller too)."""
    types = order_types(conn)
    order_type = types.get(draft.type_code)
    if order_type is None:
        raise InvalidInput(
            {"type": f"unknown type {draft.type_code!r}; use one of {', '.join(sorted(types))}"}
        )
    values = draft.model_dump(exclude={"type_code", "assignee"}, exclude_none=True)
    _check_required(order_type, values)
    now = ctx.now()
    values.update(
        type_code=order_type.code,
        priority=int(draft.priority or order_type.default_priority),
        status=status.value,
        source=source,
        source_event_id=source_event_id,
        related_order_id=related_order_id,
        created_at=now,
        created_by=actor(ctx),
        updated_at=now,
        updated_by=actor(ctx),
        version=1,
    )
    values.setdefault("due_date", ctx.due_date(order_type.sla_business_days))
    values.setdefault("service_time", "any")
    order_id = int(
        conn.execute(insert(work_orders).returning(work_orders.c.id), values).scalar_one()
    )
    _record(conn, ctx, order_id, [("status", None, status.value)], reason or "created")
    if draft.assignee:
        _assign_in(conn, ctx, order_id, draft.assignee, note=None)
    return order_id


def get_order(conn: Connection, order_id: int) -> RowMapping:
    """One order with its assignee's name; NotFound when there is none."""
    query = (
        select(work_orders, assignees.c.name.label("assignee_name"))
        .outerjoin(assignees, assignees.c.id == work_orders.c.assignee_id)
        .where(work_orders.c.id == order_id)
    )
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"there is no work order {format_number(order_id)}")
    return row


def order_history(conn: Connection, order_id: int) -> list[RowMapping]:
    """The order's trail, oldest first."""
    query = select(history).where(history.c.work_order_id == order_id).order_by(history.c.id)
    return list(conn.execute(query).mappings())


def edit_order(
    ctx: Context, order_id: int, expected_version: int, changes: Mapping[str, Any]
) -> int:
    """Apply `changes` to an open order that is still at `expected_version`; writes one
    history row per changed field and returns the new version. Raises Conflict naming who
    changed the order when someone else saved first."""
    fields = validate_fields(OrderFields, dict(changes))
    wanted = fields.model_dump(exclude_unset=True)
    with ctx.db.write() as conn:
        current = get_order(conn, order_id)
        if current["version"] != expected_version:
            raise Conflict(
                f"{format_number(order_id)} was changed by {current['updated_by']} at "
                f"{ctx.local(current['updated_at']):%Y-%m-%d %H:%M} after you opened it"
            )
        if not WorkOrderStatus(current["status"]).is_open:
            raise NotAllowed(
                f"{format_number(order_id)} is {current['status']}; reopen it before editing"
            )
        diff = {k: v for k, v in wanted.items() if _stored(v) != current[k]}
        merged = {**dict(current), **{k: _stored(v) for k, v in diff.items()}}
        # An order keeps its type after the type is retired (made inactive): still editable.
        types = order_types(conn, include_inactive=True)
        _check_required(types[current["type_code"]], merged)
        if not diff:
            return expected_version
        result = conn.execute(
            update(work_orders)
            .where(work_orders.c.id == order_id, work_orders.c.version == expected_version)
            .values(
                {
                    **{k: _stored(v) for k, v in diff.items()},
                    "version": work_orders.c.version + 1,
                    "updated_at": ctx.now(),
                    "updated_by": actor(ctx),
                }
            )
        )
        if result.rowcount != 1:
            raise Conflict(f"{format_number(order_id)} was changed by someone else just now")
        # Priorities go in the trail as High/Medium/Low on both sides (not 1/2/3).
        shown = [
            (k, Priority(current[k]) if k == "priority" else current[k], v) for k, v in diff.items()
        ]
        _record(conn, ctx, order_id, shown)
        return expected_version + 1


def _stored(value: Any) -> Any:
    return int(value) if isinstance(value, Priority) else value


def add_note(ctx: Context, order_id: int, body: str) -> int:
    """Add a note to an order (any status); returns the note's id."""
    text = clean_text(body, multiline=True).strip()
    if not text:
        raise InvalidInput({"note": "a note cannot be empty"})
    with ctx.db.write() as conn:
        get_order(conn, order_id)
        note_id = conn.execute(
            insert(notes).returning(notes.c.id),
            {"work_order_id": order_id, "at": ctx.now(), "author": actor(ctx), "body": text},
        ).scalar_one()
        return int(note_id)


def order_notes(conn: Connection, order_id: int) -> list[RowMapping]:
    """The order's notes, oldest first."""
    query = select(notes).where(notes.c.work_order_id == order_id).order_by(notes.c.id)
    return list(conn.execute(query).mappings())


def assign(
    ctx: Context,
    order_id: int,
    assignee_name: str,
    *,
    scheduled_date: date | None = None,
    note: str | None = None,
    life_support_override: str | None = None,
) -> None:
    """Assign (or reassign) an order and queue the assignment email in the same
    transaction; the order becomes SETUP. Reassigning a SENT order needs a note and tells
    the previous assignee. A disconnection at a life-support site is only sent with an
    explicit override reason, which the history keeps."""
    note = (clean_text(note, multiline=True).strip() or None) if note else None
    with ctx.db.write() as conn:
        if scheduled_date is not None:
            before = get_order(conn, order_id)["scheduled_date"]
            if before != scheduled_date:
                # The version grows in _assign_in (same transaction); the trail keeps the
                # change like every other field's.
                conn.execute(
                    update(work_orders)
                    .where(work_orders.c.id == order_id)
                    .values(scheduled_date=scheduled_date)
                )
                _record(conn, ctx, order_id, [("scheduled_date", before, scheduled_date)], note)
        _assign_in(conn, ctx, order_id, assignee_name, note=note, override=life_support_override)


LIFE_SUPPORT_SEND = (
    "is a disconnection at a life-support site: it is not sent to anyone without an "
    "explicit override reason"
)


def _assign_in(
    conn: Connection,
    ctx: Context,
    order_id: int,
    assignee_name: str,
    *,
    note: str | None,
    override: str | None = None,
) -> None:
    order = get_order(conn, order_id)
    override = (clean_text(override).strip() or None) if override else None
    life_support = needs_life_support_override(order)
    if life_support and not override:
        raise NotAllowed(f"{format_number(order_id)} {LIFE_SUPPORT_SEND}")
    status = WorkOrderStatus(order["status"])
    person = active_assignee(conn, assignee_name)
    note = (clean_text(note, multiline=True).strip() or None) if note else None
    if not status.is_open:
        raise NotAllowed(f"{format_number(order_id)} is {status}; reopen it before assigning")
    if status is WorkOrderStatus.SENT and not note:
        raise InvalidInput({"note": "reassigning a SENT order needs a note"})
    now = ctx.now()
    # The trail reads assignee, then status (written with the move), then the override.
    _record(conn, ctx, order_id, [("assignee", order["assignee_name"], person["name"])], note)
    moved = write_status(
        conn,
        ctx,
        [order_id],
        WorkOrderStatus.SETUP,
        values={"assignee_id": person["id"], "assigned_by": actor(ctx), "assigned_at": now},
        reason=note,
        now=now,
        versions={order_id: order["version"]},
        stay=True,
    )
    if moved != 1:
        raise Conflict(f"{format_number(order_id)} was changed by someone else just now")
    if override and life_support:
        _record(conn, ctx, order_id, [("life_support_override", None, override)], note)
    queue_email(conn, ctx, order_id, person, "assignment")
    previous = order["assignee_id"]
    if status is WorkOrderStatus.SENT and previous and previous != person["id"]:
        old = conn.execute(select(assignees).where(assignees.c.id == previous)).mappings().one()
        queue_email(conn, ctx, order_id, old, "reassignment_notice")


def queue_email(
    conn: Connection,
    ctx: Context,
    order_id: int,
    assignee: Mapping[str, Any] | RowMapping,
    kind: str,
) -> None:
    """Add an outbox row; its Message-ID is fixed now and reused on every retry. Its
    iCalendar SEQUENCE is the number of emails queued for the order before it, so each
    invitation or cancellation updates the same calendar entry."""
    token = uuid.uuid4().hex
    sequence = conn.execute(
        select(func.count()).select_from(outbox).where(outbox.c.work_order_id == order_id)
    ).scalar_one()
    conn.execute(
        insert(outbox),
        {
            "work_order_id": order_id,
            "kind": kind,
            "assignee_id": assignee["id"],
            "recipient": assignee["email"],
            "message_id": f"<{format_number(order_id).lower()}.{token}@{ctx.mail_domain}>",
            "status": "queued",
            "attempts": 0,
            "ical_sequence": int(sequence),
            "created_at": ctx.now(),
            "created_by": actor(ctx),
        },
    )
