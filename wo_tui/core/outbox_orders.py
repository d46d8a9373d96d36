"""SETUP → SENT for the orders whose assignment email the mail server accepted.

Runs inside the transaction that marks the emails sent, through the one status writer
(`status_writer.py`): the move is guarded by the status machine (only from the statuses SENT
may be reached from) and by the assignee the email was for, so an order cancelled, put on
hold or reassigned meanwhile is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, RowMapping, tuple_

from wo_tui.core.context import Context
from wo_tui.core.models import work_orders
from wo_tui.core.status_writer import write_status
from wo_tui.core.statuses import WorkOrderStatus

SENT_REASON = "the mail server accepted the assignment email"


def orders_sent(conn: Connection, ctx: Context, emails: Sequence[RowMapping]) -> int:
    """Move the orders of these accepted assignment emails (rows with `work_order_id` and
    `assignee_id`) to SENT, with history; returns how many orders moved."""
    pairs = list({(e["work_order_id"], e["assignee_id"]) for e in emails})
    if not pairs:
        return 0
    now = ctx.now()
    return write_status(
        conn,
        ctx,
        sorted({order_id for order_id, _ in pairs}),
        WorkOrderStatus.SENT,
        values={"sent_at": now},
        reason=SENT_REASON,
        now=now,
        where=[tuple_(work_orders.c.id, work_orders.c.assignee_id).in_(pairs)],
    )
