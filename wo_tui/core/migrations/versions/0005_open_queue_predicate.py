"""the open-queue indexes name the two closed statuses instead of the four open ones

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN_QUEUE_INDEXES = {
    "ix_work_orders_open_queue": ["priority", "due_date", "id"],
    "ix_work_orders_open_due": ["due_date", "priority", "id"],
}
NOT_CLOSED = "status NOT IN ('COMPLETED', 'CANCELLED')"
OPEN = "status IN ('NEW', 'SETUP', 'SENT', 'ON_HOLD')"


def _recreate(predicate: str) -> None:
    for name, columns in OPEN_QUEUE_INDEXES.items():
        op.drop_index(name, table_name="work_orders")
        op.create_index(
            name,
            "work_orders",
            columns,
            sqlite_where=sa.text(predicate),
            postgresql_where=sa.text(predicate),
        )


def upgrade() -> None:
    """Rebuild the two open-queue indexes with `status NOT IN (<the two closed statuses>)`:
    the same orders, but SQLite tests a list of more than two constants through a temporary
    index, which it built anew for every order an UPDATE of `status` touched (four times
    per order): a quarter of a 10,000-order bulk complete. Rebuilding takes well under a
    second per 100,000 orders; writers wait for it."""
    _recreate(NOT_CLOSED)


def downgrade() -> None:
    """Back to the list of the four open statuses."""
    _recreate(OPEN)
