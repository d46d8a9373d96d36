"""mail_accounts: the login claim and the pause that all senders share

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the empty table; a sender adds its account's row the first time it logs in."""
    op.create_table(
        "mail_accounts",
        sa.Column("account", sa.String(length=600), nullable=False),
        sa.Column("paused_until", sa.DateTime(), nullable=True),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("login_token", sa.String(length=32), nullable=True),
        sa.Column("login_until", sa.DateTime(), nullable=True),
        sa.Column("login_ok_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_mail_accounts")),
    )


def downgrade() -> None:
    """Drop the table (a pause in force is forgotten)."""
    op.drop_table("mail_accounts")
