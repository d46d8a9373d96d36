"""Everything the detail screen shows about one order, read in a handful of statements.

Plain Python over SQLAlchemy Core (no Textual): the screen reads an `OrderDetail` in a
worker thread and draws it; the command line could print the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, func, literal, or_, select, union_all

from wo_tui.core.errors import NotFound
from wo_tui.core.models import (
    assignees,
    events,
    history,
    notes,
    open_status_clause,
    outbox,
    work_order_types,
    work_orders,
)
from wo_tui.core.numbers import format_number
from wo_tui.core.statuses import WorkOrderStatus


@dataclass(frozen=True)
class LinkedOrder:
    """Another order tied to this one: by `related_order_id` (either way) or by the site."""

    id: int
    type_code: str
    status: str
    relation: str
    """'follows' (this order's related order), 'followed by' (links here), 'same site'."""

    @property
    def number(self) -> str:
        """The linked order's number."""
        return format_number(self.id)


@dataclass(frozen=True)
class PreviousReading:
    """The last reading recorded on the same meter by another completed order."""

    reading: str
    order_id: int
    completed_at: datetime | None

    @property
    def value(self) -> Decimal | None:
        """The reading as a number (None if it is not one)."""
        try:
            return Decimal(self.reading)
        except InvalidOperation:
            return None


@dataclass
class OrderDetail:
    """One order with its type, trail, notes, emails, source event and linked orders."""

    order: dict[str, Any]
    type_name: str
    needs_reading: bool
    history: list[RowMapping] = field(default_factory=list)
    notes: list[RowMapping] = field(default_factory=list)
    emails: list[RowMapping] = field(default_factory=list)
    source_event: RowMapping | None = None
    linked: list[LinkedOrder] = field(default_factory=list)
    trail_rows: int = 0
    """How many history rows and notes the order has (known before they are read)."""
    trail_loaded: bool = False
    """False until history, notes, emails and the source event have been read."""

    @property
    def id(self) -> int:
        """The order id."""
        return int(self.order["id"])

    @property
    def number(self) -> str:
        """The order number."""
        return format_number(self.id)

    @property
    def version(self) -> int:
        """The version the detail was read at (what an edit is guarded with)."""
        return int(self.order["version"])

    @property
    def last_history_id(self) -> int:
        """The newest trail entry read: `changes_since` starts after it."""
        return max((int(h["id"]) for h in self.history), default=0)

    @property
    def is_open(self) -> bool:
        """True while the order is in the open queue."""
        return WorkOrderStatus(self.order["status"]).is_open

    def warnings(self, today: date) -> list[str]:
        """What matters in the field, most serious first (plain text, uncleaned)."""
        order = self.order
        found: list[str] = []
        if order["life_support"]:
            found.append("LIFE SUPPORT registered at this site")
        if order["hazards"]:
            found.append(f"HAZARDS: {order['hazards']}")
        if order["access_details"]:
            found.append(f"ACCESS: {order['access_details']}")
        if self.is_open and order["due_date"] < today:
            days = (today - order["due_date"]).days
            found.append(f"OVERDUE by {days} day{'s' if days != 1 else ''}")
        others = [o for o in self.linked if o.relation == "same site"]
        if others:
            listed = ", ".join(f"{o.number} {o.type_code} {o.status}" for o in others[:3])
            more = f" and {len(others) - 3} more" if len(others) > 3 else ""
            found.append(f"ANOTHER OPEN ORDER for this site: {listed}{more}")
        return found


ORDER_COLUMNS = (
    work_orders,
    assignees.c.name.label("assignee_name"),
    assignees.c.kind.label("assignee_kind"),
    work_order_types.c.name.label("type_name"),
    work_order_types.c.completion_needs,
)


def load_order(conn: Connection, order_id: int) -> OrderDetail:
    """The order, its type, its linked orders and the size of its trail (two statements):
    enough to draw the top of the detail at once."""
    history_count = (
        select(func.count()).where(history.c.work_order_id == order_id).scalar_subquery()
    )
    notes_count = select(func.count()).where(notes.c.work_order_id == order_id).scalar_subquery()
    row = (
        conn.execute(
            select(
                *ORDER_COLUMNS,
                history_count.label("history_count"),
                notes_count.label("notes_count"),
            )
            .outerjoin(assignees, assignees.c.id == work_orders.c.assignee_id)
            .outerjoin(work_order_types, work_order_types.c.code == work_orders.c.type_code)
            .where(work_orders.c.id == order_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"there is no work order {format_number(order_id)}")
    order = dict(row)
    detail = OrderDetail(
        order=order,
        type_name=order.pop("type_name") or order["type_code"],
        needs_reading=order.pop("completion_needs") == "reading",
        trail_rows=int(order.pop("history_count") or 0) + int(order.pop("notes_count") or 0),
    )
    detail.linked = linked_orders(conn, order)
    return detail


def load_trail(conn: Connection, detail: OrderDetail) -> None:
    """Read the order's history, notes, emails and source event into `detail` (four
    statements at most)."""
    order_id = detail.id
    detail.history = list(
        conn.execute(
            select(history).where(history.c.work_order_id == order_id).order_by(history.c.id)
        ).mappings()
    )
    detail.notes = list(
        conn.execute(
            select(notes).where(notes.c.work_order_id == order_id).order_by(notes.c.id)
        ).mappings()
    )
    detail.emails = list(
        conn.execute(
            select(
                outbox.c.id,
                outbox.c.kind,
                outbox.c.recipient,
                outbox.c.status,
                outbox.c.attempts,
                outbox.c.last_reply,
                outbox.c.created_at,
                outbox.c.sent_at,
            )
            .where(outbox.c.work_order_id == order_id)
            .order_by(outbox.c.id)
        ).mappings()
    )
    if detail.order["source_event_id"] is not None:
        detail.source_event = (
            conn.execute(select(events).where(events.c.id == detail.order["source_event_id"]))
            .mappings()
            .first()
        )
    detail.trail_loaded = True


def load_detail(conn: Connection, order_id: int) -> OrderDetail:
    """Read one order and everything around it (six statements at most)."""
    detail = load_order(conn, order_id)
    load_trail(conn, detail)
    return detail


def linked_orders(conn: Connection, order: dict[str, Any] | RowMapping) -> list[LinkedOrder]:
    """Orders linked by `related_order_id` in both directions, then the other open orders
    for the same site (by site id, else by the exact site address), in one statement."""
    cols = (work_orders.c.id, work_orders.c.type_code, work_orders.c.status)
    order_id = order["id"]
    parts = [
        select(*cols, literal("followed by").label("relation")).where(
            work_orders.c.related_order_id == order_id
        )
    ]
    if order["related_order_id"] is not None:
        parts.append(
            select(*cols, literal("follows").label("relation")).where(
                work_orders.c.id == order["related_order_id"]
            )
        )
    site = None
    if order["site_id"]:
        site = work_orders.c.site_id == order["site_id"]
    elif order["site_address"]:
        site = work_orders.c.site_address == order["site_address"]
    if site is not None:
        parts.append(
            select(*cols, literal("same site").label("relation"))
            .where(site, open_status_clause(), work_orders.c.id != order_id)
            .limit(20)
            .subquery()
            .select()
        )
    rows = conn.execute(union_all(*parts)).all()
    rank = {"follows": 0, "followed by": 1, "same site": 2}
    found = sorted(
        (LinkedOrder(int(r[0]), r[1], r[2], r[3]) for r in rows),
        key=lambda o: (rank[o.relation], o.id),
    )
    return found


def changes_since(conn: Connection, order_id: int, after_history_id: int) -> list[RowMapping]:
    """The trail entries written after the one a form saw (`OrderDetail.last_history_id`):
    what someone else changed since. The trail has no version column, so the newest
    history id stands for the version the form was opened at."""
    return list(
        conn.execute(
            select(history)
            .where(history.c.work_order_id == order_id, history.c.id > after_history_id)
            .order_by(history.c.id)
        ).mappings()
    )


def previous_reading(
    conn: Connection, site_id: str | None, meter_number: str | None, *, exclude: int | None = None
) -> PreviousReading | None:
    """The newest reading recorded for the meter (and site, when known) by a completed
    order other than `exclude`; None when there is none."""
    if not meter_number:
        return None
    where = [
        work_orders.c.meter_number == meter_number,
        work_orders.c.reading.is_not(None),
        work_orders.c.status == WorkOrderStatus.COMPLETED.value,
    ]
    if site_id:
        where.append(or_(work_orders.c.site_id == site_id, work_orders.c.site_id.is_(None)))
    if exclude is not None:
        where.append(work_orders.c.id != exclude)
    row = conn.execute(
        select(work_orders.c.reading, work_orders.c.id, work_orders.c.completed_at)
        .where(and_(*where))
        .order_by(func.coalesce(work_orders.c.completed_at, work_orders.c.created_at).desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return PreviousReading(str(row[0]), int(row[1]), row[2])


def last_history_id(conn: Connection, order_id: int) -> int:
    """The newest trail entry of an order (0 for none): a form remembers it with the
    version it opened, and `changes_since` lists what came after."""
    found = conn.execute(
        select(func.max(history.c.id)).where(history.c.work_order_id == order_id)
    ).scalar()
    return int(found or 0)
