"""SETUP → SENT for the orders whose assignment email the mail server accepted.

Runs inside the transaction that marks the emails sent. The `UPDATE` is guarded by the status
machine (only from the statuses SENT may be reached from) and by the assignee the email was
for, so an order cancelled, put on hold or reassigned meanwhile is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, RowMapping, insert, tuple_, update

from wo_tui.core.context import Context
from wo_tui.core.models import history, work_orders
from wo_tui.core.statuses import WorkOrderStatus, allowed_from

SENT_REASON = "the mail server accepted the assignment email"


def orders_sent(conn: Connection, ctx: Context, emails: Sequence[RowMapping]) -> list[int]:
    """Move the orders of these accepted assignment emails (rows with `work_order_id` and
    `assignee_id`) to SENT, with history; returns the ids of the orders moved."""
    pairs = list({(e["work_order_id"], e["assignee_id"]) for e in emails})
    if not pairs:
        return []
    now = ctx.now()
    allowed = [s.value for s in allowed_from(WorkOrderStatus.SENT)]
    moved = conn.execute(
        update(work_orders)
        .where(
            work_orders.c.id.in_([order_id for order_id, _ in pairs]),
            tuple_(work_orders.c.id, work_orders.c.assignee_id).in_(pairs),
            work_orders.c.status.in_(allowed),
        )
        .values(
            status=WorkOrderStatus.SENT.value,
            sent_at=now,
            version=work_orders.c.version + 1,
            updated_at=now,
            updated_by=ctx.operator,
        )
        .returning(work_orders.c.id)
    ).scalars()
    ids = sorted(moved)
    if ids:
        # Every allowed source status is SETUP today; the trail names it as such.
        conn.execute(
            insert(history),
            [
                {
                    "work_order_id": order_id,
                    "at": now,
                    "actor": ctx.operator,
                    "field": "status",
                    "old_value": WorkOrderStatus.SETUP.value,
                    "new_value": WorkOrderStatus.SENT.value,
                    "reason": SENT_REASON,
                }
                for order_id in ids
            ],
        )
    return ids
