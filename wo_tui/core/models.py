"""The database tables, declared once for the application and for Alembic's checks.

Statements are written with SQLAlchemy Core over these tables (rows, not ORM objects: bulk
work stays fast); the mapped classes exist so the schema reads well and Alembic can compare it
with the migrations. Times are stored in UTC without a zone.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from wo_tui.core.sql import utc_now
from wo_tui.core.statuses import OPEN_STATUSES, WorkOrderStatus

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OPEN_STATUS_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in OPEN_STATUSES))
"""The open-queue predicate as literal SQL: the partial indexes and the queue query share it
(a bound-parameter IN list would stop SQLite from using the partial index)."""


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class WorkOrderType(Base):
    """A kind of field job; the defaults of domain.md are seeded by the first migration."""

    __tablename__ = "work_order_types"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    default_priority: Mapped[int] = mapped_column(Integer, default=2)
    sla_business_days: Mapped[int] = mapped_column(Integer, default=5)
    completion_needs: Mapped[str] = mapped_column(String(20), default="note")
    """'reading' for read types (a reading or 'to follow'), else 'note'."""
    fee_code: Mapped[str | None] = mapped_column(String(40))
    required_fields: Mapped[str] = mapped_column(String(400), default="site_address")
    """Comma-separated order fields that must be filled for this type."""
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class Assignee(Base):
    """An internal technician, an external technician or a partner service provider."""

    __tablename__ = "assignees"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=utc_now())


class Event(Base):
    """A billing-system event: the public contract documented in docs/events.md."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(60))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    external_ref: Mapped[str] = mapped_column(String(120), unique=True)
    account_number: Mapped[str | None] = mapped_column(String(60))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    site_address: Mapped[str | None] = mapped_column(String(400))
    site_id: Mapped[str | None] = mapped_column(String(40))
    meter_number: Mapped[str | None] = mapped_column(String(60))
    life_support: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    payload: Mapped[str | None] = mapped_column(Text)
    # Owned by the product; defaults let the billing system leave them out.
    status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime, server_default=utc_now())
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    work_order_id: Mapped[int | None] = mapped_column(Integer)
    """The order this event made (or was linked to); not a foreign key, to keep the two
    tables free of a creation cycle."""

    __table_args__ = (
        Index(
            "ix_events_pending",
            "id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class WorkOrder(Base):
    """One field job: the groups of fields follow domain.md (identity, where, when, what,
    who, outcome). `version` grows with every write and guards against lost updates."""

    __tablename__ = "work_orders"

    # identity
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type_code: Mapped[str] = mapped_column(ForeignKey("work_order_types.code"))
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(60), default="manual")
    source_event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), unique=True)
    related_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    # where
    account_number: Mapped[str | None] = mapped_column(String(60))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    site_address: Mapped[str | None] = mapped_column(String(400))
    site_id: Mapped[str | None] = mapped_column(String(40), index=True)
    meter_number: Mapped[str | None] = mapped_column(String(60))
    meter_location: Mapped[str | None] = mapped_column(String(200))
    # when
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(120))
    preferred_date: Mapped[date | None] = mapped_column(Date)
    scheduled_date: Mapped[date | None] = mapped_column(Date)
    window_start: Mapped[time | None] = mapped_column(Time)
    window_end: Mapped[time | None] = mapped_column(Time)
    service_time: Mapped[str] = mapped_column(String(20), default="any")
    due_date: Mapped[date] = mapped_column(Date)
    # what
    instructions: Mapped[str | None] = mapped_column(Text)
    materials: Mapped[str | None] = mapped_column(Text)
    access_details: Mapped[str | None] = mapped_column(Text)
    hazards: Mapped[str | None] = mapped_column(Text)
    life_support: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # who
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("assignees.id"))
    assigned_by: Mapped[str | None] = mapped_column(String(120))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # outcome
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_by: Mapped[str | None] = mapped_column(String(120))
    completion_note: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    reading: Mapped[str | None] = mapped_column(String(40))
    reading_to_follow: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(120))
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    cancel_note: Mapped[str | None] = mapped_column(Text)
    hold_note: Mapped[str | None] = mapped_column(Text)
    fee_code: Mapped[str | None] = mapped_column(String(40))
    # trail
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # The open queue in its default order (priority, due date, number): keyset windows
        # and the bucket counts read only open rows, through these partial indexes.
        Index(
            "ix_work_orders_open_queue",
            "priority",
            "due_date",
            "id",
            sqlite_where=text(OPEN_STATUS_SQL),
            postgresql_where=text(OPEN_STATUS_SQL),
        ),
        Index(
            "ix_work_orders_open_due",
            "due_date",
            "priority",
            "id",
            sqlite_where=text(OPEN_STATUS_SQL),
            postgresql_where=text(OPEN_STATUS_SQL),
        ),
        # One small partial index per open status: the bucket counts are index counts. None
        # leads with `status`, which would tempt SQLite away from the queue's ordered index.
        *(
            Index(
                f"ix_work_orders_{status.value.lower()}",
                "due_date",
                sqlite_where=text(f"status = '{status.value}'"),
                postgresql_where=text(f"status = '{status.value}'"),
            )
            for status in OPEN_STATUSES
        ),
        Index("ix_work_orders_assignee", "assignee_id"),
    )


class History(Base):
    """One row per change of one field: who, when, old → new, why, and the batch it was
    part of (so a bulk action can be undone exactly)."""

    __tablename__ = "history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(120))
    field: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[str | None] = mapped_column(String(32), index=True)

    __table_args__ = (Index("ix_history_order_at", "work_order_id", "at"),)


class Note(Base):
    """A free-text note on an order."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    author: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)


class OutboxEmail(Base):
    """An email queued in the same transaction as the change that causes it
    (transactional outbox); senders claim rows with a lease and an attempt token."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    """assignment, reassignment_notice, cancellation_notice."""
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("assignees.id"))
    recipient: Mapped[str] = mapped_column(String(254))
    """Exactly one address per row: a refusal or a retry concerns one recipient only."""
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    """An `EmailStatus`: queued, sending, retry, sent, failed or superseded."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_reply: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(120))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Added by migration 0002.
    ical_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """The iCalendar SEQUENCE of this email's invitation: grows with every email queued for
    the same order, so a calendar updates the one entry (UID per order) on a reschedule."""
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)


class BillingOutbound(Base):
    """What goes back to billing: written in the same transaction as a completion, a
    cancellation or a reopen; the billing system reads rows and sets `acknowledged_at`."""

    __tablename__ = "billing_outbound"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    order_number: Mapped[str] = mapped_column(String(20))
    order_type: Mapped[str] = mapped_column(String(40))
    account_number: Mapped[str | None] = mapped_column(String(60))
    site_id: Mapped[str | None] = mapped_column(String(40))
    meter_number: Mapped[str | None] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(20))
    """COMPLETED, CANCELLED or REOPENED."""
    outcome: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    reading: Mapped[str | None] = mapped_column(String(40))
    reading_to_follow: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    fee_code: Mapped[str | None] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(DateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index(
            "ix_billing_outbound_unacknowledged",
            "id",
            sqlite_where=text("acknowledged_at IS NULL"),
            postgresql_where=text("acknowledged_at IS NULL"),
        ),
    )


# The tables, for Core statements.
work_orders = cast(Table, WorkOrder.__table__)
work_order_types = cast(Table, WorkOrderType.__table__)
assignees = cast(Table, Assignee.__table__)
events = cast(Table, Event.__table__)
history = cast(Table, History.__table__)
notes = cast(Table, Note.__table__)
outbox = cast(Table, OutboxEmail.__table__)
billing_outbound = cast(Table, BillingOutbound.__table__)


def open_status_clause() -> ColumnElement[bool]:
    """The open-queue predicate as literal SQL, for WHERE clauses."""
    # text(), not literal_column(..., Boolean): SQLite would get "... = 1" appended and no
    # longer match the partial indexes.
    return cast(ColumnElement[bool], text(OPEN_STATUS_SQL))


def status_is(status: str) -> ColumnElement[bool]:
    """`status = '<status>'` as literal SQL (matches the per-status partial indexes)."""
    return cast(ColumnElement[bool], text(f"status = '{WorkOrderStatus(status).value}'"))
