"""initial schema

Revision ID: 0001
Revises: -
Create Date: 2026-11-26 05:45:53.958358
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from wo_tui.core.sql import utc_now

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The work-order types of docs/domain.md: code, name, priority (1 High, 2 Medium, 3 Low), SLA in
# business days, what completion needs, fee code, required fields.
DEFAULT_TYPES = [
    (
        "RECONNECT",
        "Reconnection (re-energisation)",
        1,
        1,
        "reading",
        "FEE_RECONNECT",
        "account_number,site_address",
    ),
    (
        "DISCONNECT",
        "Disconnection (de-energisation)",
        2,
        2,
        "reading",
        "FEE_DISCONNECT",
        "account_number,site_address",
    ),
    (
        "SPECIAL_READ",
        "Special read",
        2,
        3,
        "reading",
        "FEE_SPECIAL_READ",
        "site_address,meter_number",
    ),
    ("FINAL_READ", "Final read", 2, 3, "reading", None, "account_number,site_address,meter_number"),
    (
        "METER_INVESTIGATION",
        "Meter investigation",
        3,
        10,
        "note",
        None,
        "site_address,meter_number",
    ),
    ("METER_EXCHANGE", "Meter exchange", 3, 15, "note", None, "site_address,meter_number"),
    ("NEW_CONNECTION", "Service connection", 3, 10, "note", "FEE_CONNECTION", "site_address"),
    ("MISC", "Miscellaneous", 3, 10, "note", None, "site_address"),
]


def upgrade() -> None:
    op.create_table(
        "assignees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=utc_now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignees")),
        sa.UniqueConstraint("name", name=op.f("uq_assignees_name")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("external_ref", sa.String(length=120), nullable=False),
        sa.Column("account_number", sa.String(length=60), nullable=True),
        sa.Column("customer_name", sa.String(length=200), nullable=True),
        sa.Column("site_address", sa.String(length=400), nullable=True),
        sa.Column("site_id", sa.String(length=40), nullable=True),
        sa.Column("meter_number", sa.String(length=60), nullable=True),
        sa.Column("life_support", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("received_at", sa.DateTime(), server_default=utc_now(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_events_external_ref")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_pending",
            ["id"],
            unique=False,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "work_order_types",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("default_priority", sa.Integer(), nullable=False),
        sa.Column("sla_business_days", sa.Integer(), nullable=False),
        sa.Column("completion_needs", sa.String(length=20), nullable=False),
        sa.Column("fee_code", sa.String(length=40), nullable=True),
        sa.Column("required_fields", sa.String(length=400), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_work_order_types")),
    )
    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_code", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("source_event_id", sa.Integer(), nullable=True),
        sa.Column("related_order_id", sa.Integer(), nullable=True),
        sa.Column("account_number", sa.String(length=60), nullable=True),
        sa.Column("customer_name", sa.String(length=200), nullable=True),
        sa.Column("site_address", sa.String(length=400), nullable=True),
        sa.Column("site_id", sa.String(length=40), nullable=True),
        sa.Column("meter_number", sa.String(length=60), nullable=True),
        sa.Column("meter_location", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("preferred_date", sa.Date(), nullable=True),
        sa.Column("scheduled_date", sa.Date(), nullable=True),
        sa.Column("window_start", sa.Time(), nullable=True),
        sa.Column("window_end", sa.Time(), nullable=True),
        sa.Column("service_time", sa.String(length=20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("materials", sa.Text(), nullable=True),
        sa.Column("access_details", sa.Text(), nullable=True),
        sa.Column("hazards", sa.Text(), nullable=True),
        sa.Column("life_support", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("assigned_by", sa.String(length=120), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("completed_by", sa.String(length=120), nullable=True),
        sa.Column("completion_note", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("outcome_reason", sa.Text(), nullable=True),
        sa.Column("reading", sa.String(length=40), nullable=True),
        sa.Column("reading_to_follow", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_by", sa.String(length=120), nullable=True),
        sa.Column("cancel_reason", sa.String(length=40), nullable=True),
        sa.Column("cancel_note", sa.Text(), nullable=True),
        sa.Column("hold_note", sa.Text(), nullable=True),
        sa.Column("fee_code", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["assignees.id"], name=op.f("fk_work_orders_assignee_id_assignees")
        ),
        sa.ForeignKeyConstraint(
            ["related_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_orders_related_order_id_work_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["source_event_id"], ["events.id"], name=op.f("fk_work_orders_source_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["type_code"],
            ["work_order_types.code"],
            name=op.f("fk_work_orders_type_code_work_order_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
        sa.UniqueConstraint("source_event_id", name=op.f("uq_work_orders_source_event_id")),
    )
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.create_index("ix_work_orders_assignee", ["assignee_id"], unique=False)
        batch_op.create_index(
            "ix_work_orders_open_due",
            ["due_date", "priority", "id"],
            unique=False,
            sqlite_where=sa.text("status IN ('NEW', 'SETUP', 'SENT', 'ON_HOLD')"),
            postgresql_where=sa.text("status IN ('NEW', 'SETUP', 'SENT', 'ON_HOLD')"),
        )
        for status in ("NEW", "SETUP", "SENT", "ON_HOLD"):
            batch_op.create_index(
                f"ix_work_orders_{status.lower()}",
                ["due_date"],
                unique=False,
                sqlite_where=sa.text(f"status = '{status}'"),
                postgresql_where=sa.text(f"status = '{status}'"),
            )
        batch_op.create_index(
            "ix_work_orders_open_queue",
            ["priority", "due_date", "id"],
            unique=False,
            sqlite_where=sa.text("status IN ('NEW', 'SETUP', 'SENT', 'ON_HOLD')"),
            postgresql_where=sa.text("status IN ('NEW', 'SETUP', 'SENT', 'ON_HOLD')"),
        )
        batch_op.create_index(batch_op.f("ix_work_orders_site_id"), ["site_id"], unique=False)

    op.create_table(
        "billing_outbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=20), nullable=False),
        sa.Column("order_type", sa.String(length=40), nullable=False),
        sa.Column("account_number", sa.String(length=60), nullable=True),
        sa.Column("site_id", sa.String(length=40), nullable=True),
        sa.Column("meter_number", sa.String(length=60), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reading", sa.String(length=40), nullable=True),
        sa.Column("reading_to_follow", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("fee_code", sa.String(length=40), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_billing_outbound_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_outbound")),
    )
    with op.batch_alter_table("billing_outbound", schema=None) as batch_op:
        batch_op.create_index(
            "ix_billing_outbound_unacknowledged",
            ["id"],
            unique=False,
            sqlite_where=sa.text("acknowledged_at IS NULL"),
            postgresql_where=sa.text("acknowledged_at IS NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_billing_outbound_work_order_id"), ["work_order_id"], unique=False
        )

    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_history_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history")),
    )
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_history_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index("ix_history_order_at", ["work_order_id", "at"], unique=False)

    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_notes_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notes_work_order_id"), ["work_order_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_reply", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["assignees.id"], name=op.f("fk_outbox_assignee_id_assignees")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_outbox_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status_next", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbox_work_order_id"), ["work_order_id"], unique=False
        )

    types = sa.table(
        "work_order_types",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("default_priority", sa.Integer),
        sa.column("sla_business_days", sa.Integer),
        sa.column("completion_needs", sa.String),
        sa.column("fee_code", sa.String),
        sa.column("required_fields", sa.String),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(
        types,
        [
            dict(
                zip(
                    (
                        "code",
                        "name",
                        "default_priority",
                        "sla_business_days",
                        "completion_needs",
                        "fee_code",
                        "required_fields",
                    ),
                    row,
                    strict=True,
                ),
                active=True,
            )
            for row in DEFAULT_TYPES
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_work_order_id"))
        batch_op.drop_index("ix_outbox_status_next")

    op.drop_table("outbox")
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notes_work_order_id"))

    op.drop_table("notes")
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.drop_index("ix_history_order_at")
        batch_op.drop_index(batch_op.f("ix_history_batch_id"))

    op.drop_table("history")
    with op.batch_alter_table("billing_outbound", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_outbound_work_order_id"))
        batch_op.drop_index(
            "ix_billing_outbound_unacknowledged",
            sqlite_where=sa.text("acknowledged_at IS NULL"),
            postgresql_where=sa.text("acknowledged_at IS NULL"),
        )

    op.drop_table("billing_outbound")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_orders_site_id"))
        batch_op.drop_index(
            "ix_work_orders_open_queue",
            sqlite_where=sa.text("status IN ('NEW', 'SETUP', 'SENT', 'ON_HOLD')"),
            postgresql_where=sa.text("status IN ('NEW', 'SETUP', 'SENT', 'ON_HOLD')"),
        )
        for status in ("NEW", "SETUP", "SENT", "ON_HOLD"):
            batch_op.drop_index(f"ix_work_orders_{status.lower()}")
        batch_op.drop_index("ix_work_orders_open_due")
        batch_op.drop_index("ix_work_orders_assignee")

    op.drop_table("work_orders")
    op.drop_table("work_order_types")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_events_pending",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.drop_table("events")
    op.drop_table("assignees")
