"""indexes for sorting the queue by customer and by address

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SORT_INDEXES = {
    "ix_work_orders_customer_sort": "customer_name",
    "ix_work_orders_address_sort": "site_address",
}
"""Expression indexes (not partial ones): a status change does not touch them, so bulk
completions do not pay for them; only a new order or an edit of the name/address does."""


def upgrade() -> None:
    """Index the queue's sort keys `coalesce(column, '')`, then the number."""
    for name, column in SORT_INDEXES.items():
        op.create_index(name, "work_orders", [sa.text(f"coalesce({column}, '')"), "id"])


def downgrade() -> None:
    """Drop the sort indexes."""
    for name in SORT_INDEXES:
        op.drop_index(name, table_name="work_orders")
