"""The database tables, declared once for the application and for Alembic's checks.

Statements are written with SQLAlchemy Core over these tables (rows, not ORM objects: bulk
work stays fast, and the app starts without importing the ORM). Alembic compares this
metadata with the migrations. Times are stored in UTC without a zone.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import (
    Boolean,
    Column,
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
    func,
    literal_column,
    text,
)

from wo_tui.core.sql import utc_now
from wo_tui.core.statuses import CLOSED_STATUSES, OPEN_STATUSES, WorkOrderStatus

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OPEN_STATUS_SQL = "status NOT IN ({})".format(", ".join(f"'{s.value}'" for s in CLOSED_STATUSES))
"""The open-queue predicate as literal SQL: the partial indexes and the queue query share it
(a bound-parameter IN list would stop SQLite from using the partial index).

Open is "not closed": two values, not the four open ones. SQLite tests an IN list of more
than two constants through a temporary index, and when it checks a partial index's WHERE
while an UPDATE changes `status`, it builds that index anew for every order, twice per
index: 40,000 temporary indexes per 10,000 orders completed, a quarter of the bulk
complete's work (migration 0005)."""


metadata = MetaData(naming_convention=NAMING_CONVENTION)
"""Every table, with a naming convention so migrations name constraints stably."""


work_order_types = Table(
    "work_order_types",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("default_priority", Integer, default=2, nullable=False),
    Column("sla_business_days", Integer, default=5, nullable=False),
    # 'reading' for read types (a reading or 'to follow'), else 'note'.
    Column("completion_needs", String(20), default="note", nullable=False),
    Column("fee_code", String(40), nullable=True),
    # Comma-separated order fields that must be filled for this type.
    Column("required_fields", String(400), default="site_address", nullable=False),
    Column("active", Boolean, default=True, server_default=text("true"), nullable=False),
)
"""A kind of field job; the defaults (docs/domain.md) are seeded by the first migration."""


assignees = Table(
    "assignees",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), unique=True, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("email", String(254), nullable=False),
    Column("phone", String(40), nullable=True),
    Column("active", Boolean, default=True, server_default=text("true"), nullable=False),
    Column("created_at", DateTime, server_default=utc_now(), nullable=False),
)
"""An internal technician, an external technician or a partner service provider."""


events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_type", String(60), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("external_ref", String(120), unique=True, nullable=False),
    Column("account_number", String(60), nullable=True),
    Column("customer_name", String(200), nullable=True),
    Column("site_address", String(400), nullable=True),
    Column("site_id", String(40), nullable=True),
    Column("meter_number", String(60), nullable=True),
    Column("life_support", Boolean, default=False, server_default=false(), nullable=False),
    Column("payload", Text, nullable=True),
    # Owned by the product; defaults let the billing system leave them out.
    Column("status", String(20), default="pending", server_default="pending", nullable=False),
    Column("attempts", Integer, default=0, server_default="0", nullable=False),
    Column("last_error", Text, nullable=True),
    Column("next_attempt_at", DateTime, nullable=True),
    Column("received_at", DateTime, server_default=utc_now(), nullable=False),
    Column("processed_at", DateTime, nullable=True),
    # The order this event made (or was linked to); not a foreign key, to keep the two
    # tables free of a creation cycle.
    Column("work_order_id", Integer, nullable=True),
    Index(
        "ix_events_pending",
        "id",
        sqlite_where=text("status = 'pending'"),
    ),
)
"""A billing-system event: the public contract documented in docs/events.md."""


work_orders = Table(
    "work_orders",
    metadata,
    # identity
    Column("id", Integer, primary_key=True),
    Column("type_code", ForeignKey("work_order_types.code"), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("source", String(60), default="manual", nullable=False),
    Column("source_event_id", ForeignKey("events.id"), unique=True, nullable=True),
    Column("related_order_id", ForeignKey("work_orders.id"), nullable=True),
    # where
    Column("account_number", String(60), nullable=True),
    Column("customer_name", String(200), nullable=True),
    Column("site_address", String(400), nullable=True),
    Column("site_id", String(40), index=True, nullable=True),
    Column("meter_number", String(60), nullable=True),
    Column("meter_location", String(200), nullable=True),
    # when
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("preferred_date", Date, nullable=True),
    Column("scheduled_date", Date, nullable=True),
    Column("window_start", Time, nullable=True),
    Column("window_end", Time, nullable=True),
    Column("service_time", String(20), default="any", nullable=False),
    Column("due_date", Date, nullable=False),
    # what
    Column("instructions", Text, nullable=True),
    Column("materials", Text, nullable=True),
    Column("access_details", Text, nullable=True),
    Column("hazards", Text, nullable=True),
    Column("life_support", Boolean, default=False, server_default=false(), nullable=False),
    # who
    Column("assignee_id", ForeignKey("assignees.id"), nullable=True),
    Column("assigned_by", String(120), nullable=True),
    Column("assigned_at", DateTime, nullable=True),
    Column("sent_at", DateTime, nullable=True),
    # outcome
    Column("completed_at", DateTime, nullable=True),
    Column("completed_by", String(120), nullable=True),
    Column("completion_note", Text, nullable=True),
    Column("outcome", String(20), nullable=True),
    Column("outcome_reason", Text, nullable=True),
    Column("reading", String(40), nullable=True),
    Column("reading_to_follow", Boolean, default=False, server_default=false(), nullable=False),
    Column("cancelled_at", DateTime, nullable=True),
    Column("cancelled_by", String(120), nullable=True),
    Column("cancel_reason", String(40), nullable=True),
    Column("cancel_note", Text, nullable=True),
    Column("hold_note", Text, nullable=True),
    Column("fee_code", String(40), nullable=True),
    # trail
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", String(120), nullable=False),
    Column("version", Integer, default=1, nullable=False),
    # The open queue in its default order (priority, due date, number): keyset windows
    # and the bucket counts read only open rows, through these partial indexes.
    Index(
        "ix_work_orders_open_queue",
        "priority",
        "due_date",
        "id",
        sqlite_where=text(OPEN_STATUS_SQL),
    ),
    Index(
        "ix_work_orders_open_due",
        "due_date",
        "priority",
        "id",
        sqlite_where=text(OPEN_STATUS_SQL),
    ),
    # One small partial index per open status: the bucket counts are index counts. None
    # leads with `status`, which would tempt SQLite away from the queue's ordered index.
    *(
        Index(
            f"ix_work_orders_{status.value.lower()}",
            "due_date",
            sqlite_where=text(f"status = '{status.value}'"),
        )
        for status in OPEN_STATUSES
    ),
    Index("ix_work_orders_assignee", "assignee_id"),
)
"""One field job: the groups of fields follow docs/domain.md (identity, where, when, what,
    who, outcome). `version` grows with every write and guards against lost updates."""


# Sorting the queue by customer or by address walks these (queue.SORT_KEYS uses the same
# expressions). Not partial: a status change does not touch them (migration 0003).
Index(
    "ix_work_orders_customer_sort",
    func.coalesce(work_orders.c.customer_name, literal_column("''")),
    work_orders.c.id,
)
Index(
    "ix_work_orders_address_sort",
    func.coalesce(work_orders.c.site_address, literal_column("''")),
    work_orders.c.id,
)
# `type:X` reads its window and count through this one (migration 0004); not partial either.
Index(
    "ix_work_orders_type_queue",
    work_orders.c.type_code,
    work_orders.c.priority,
    work_orders.c.due_date,
    work_orders.c.id,
)


history = Table(
    "history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("work_order_id", ForeignKey("work_orders.id"), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("field", String(60), nullable=False),
    Column("old_value", Text, nullable=True),
    Column("new_value", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("batch_id", String(32), index=True, nullable=True),
    Index("ix_history_order_at", "work_order_id", "at"),
)
"""One row per change of one field: who, when, old → new, why, and the batch it was
    part of (so a bulk action can be undone exactly)."""


notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("work_order_id", ForeignKey("work_orders.id"), index=True, nullable=False),
    Column("at", DateTime, nullable=False),
    Column("author", String(120), nullable=False),
    Column("body", Text, nullable=False),
)
"""A free-text note on an order."""


outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("work_order_id", ForeignKey("work_orders.id"), index=True, nullable=False),
    # assignment, reassignment_notice, cancellation_notice.
    Column("kind", String(30), nullable=False),
    Column("assignee_id", ForeignKey("assignees.id"), nullable=True),
    # Exactly one address per row: a refusal or a retry concerns one recipient only.
    Column("recipient", String(254), nullable=False),
    Column("message_id", String(250), unique=True, nullable=False),
    # An `EmailStatus`: queued, sending, retry, sent, failed or superseded.
    Column("status", String(20), default="queued", nullable=False),
    Column("attempts", Integer, default=0, nullable=False),
    Column("next_attempt_at", DateTime, nullable=True),
    Column("lease_token", String(32), nullable=True),
    Column("lease_until", DateTime, nullable=True),
    Column("last_reply", Text, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("sent_at", DateTime, nullable=True),
    # Added by migration 0002.
    # The iCalendar SEQUENCE of this email's invitation: grows with every email queued for
    # the same order, so a calendar updates the one entry (UID per order) on a reschedule.
    Column("ical_sequence", Integer, default=0, server_default="0", nullable=False),
    Column("last_attempt_at", DateTime, nullable=True),
    Column("failed_at", DateTime, nullable=True),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
)
"""An email queued in the same transaction as the change that causes it
    (transactional outbox); senders claim rows with a lease and an attempt token."""


mail_accounts = Table(
    "mail_accounts",
    metadata,
    # "user@host:port" (or "@host:port" without a login): one row per mail account.
    Column("account", String(600), primary_key=True),
    Column("paused_until", DateTime, nullable=True),
    Column("pause_reason", Text, nullable=True),
    # The one sender allowed to try a login now, and until when (a token, as on the outbox).
    Column("login_token", String(32), nullable=True),
    Column("login_until", DateTime, nullable=True),
    Column("login_ok_at", DateTime, nullable=True),
)
"""What every sender shares about one mail account (migration 0006): a refused login
    pauses sending everywhere until `paused_until`, and a sender tries a login only while it
    holds `login_token` (docs/email.md, "One login at a time")."""


billing_outbound = Table(
    "billing_outbound",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("work_order_id", ForeignKey("work_orders.id"), index=True, nullable=False),
    Column("order_number", String(20), nullable=False),
    Column("order_type", String(40), nullable=False),
    Column("account_number", String(60), nullable=True),
    Column("site_id", String(40), nullable=True),
    Column("meter_number", String(60), nullable=True),
    # COMPLETED, CANCELLED or REOPENED.
    Column("action", String(20), nullable=False),
    Column("outcome", String(20), nullable=True),
    Column("reason", Text, nullable=True),
    Column("reading", String(40), nullable=True),
    Column("reading_to_follow", Boolean, default=False, server_default=false(), nullable=False),
    Column("fee_code", String(40), nullable=True),
    Column("actor", String(120), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("acknowledged_at", DateTime, nullable=True),
    Index(
        "ix_billing_outbound_unacknowledged",
        "id",
        sqlite_where=text("acknowledged_at IS NULL"),
    ),
)
"""What goes back to billing: written in the same transaction as a completion, a
    cancellation or a reopen; the billing system reads rows and sets `acknowledged_at`."""


def open_status_clause() -> ColumnElement[bool]:
    """The open-queue predicate as literal SQL, for WHERE clauses."""
    # text(), not literal_column(..., Boolean): SQLite would get "... = 1" appended and no
    # longer match the partial indexes.
    return cast(ColumnElement[bool], text(OPEN_STATUS_SQL))


def status_is(status: str) -> ColumnElement[bool]:
    """`status = '<status>'` as literal SQL (matches the per-status partial indexes)."""
    return cast(ColumnElement[bool], text(f"status = '{WorkOrderStatus(status).value}'"))


def with_postgresql_options() -> MetaData:
    """The metadata with each partial index's WHERE also given for PostgreSQL (the same SQL
    as for SQLite). Not done at import: naming a PostgreSQL option loads SQLAlchemy's
    PostgreSQL dialect (~50 ms), which a SQLite user's start-up should not pay. Alembic and
    the schema tests call this."""
    for table in metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"]["where"]
            if where is not None and index.dialect_options["postgresql"]["where"] is None:
                index.dialect_kwargs["postgresql_where"] = where
    return metadata
