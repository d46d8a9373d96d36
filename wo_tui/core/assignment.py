"""Assigning several orders at once (the dashboard's `a` on marked rows, `orders assign WO...`),
each with its own outcome: done, skipped (why) or conflict."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from wo_tui.core.context import Context
from wo_tui.core.errors import Conflict, InvalidInput, WorkOrderError
from wo_tui.core.orders import active_assignee, assign
from wo_tui.core.outcomes import BatchResult, OrderOutcome, Result


def assign_orders(
    ctx: Context,
    ids: Iterable[int],
    assignee_name: str,
    *,
    scheduled_date: date | None = None,
    note: str | None = None,
    life_support_override: str | None = None,
) -> BatchResult:
    """Assign each order (one transaction each, each queueing its email); an order that
    cannot be assigned is reported with the reason and the others go on. An unknown or
    deactivated assignee stops the whole call before anything changes."""
    batch = BatchResult(batch_id=uuid.uuid4().hex, action=f"assigned to {assignee_name}")
    order_ids = list(dict.fromkeys(int(i) for i in ids))
    if life_support_override and len(order_ids) != 1:
        raise InvalidInput({"override": "a life-support override is given for one order at a time"})
    with ctx.db.read() as conn:
        active_assignee(conn, assignee_name)  # unknown or deactivated: nothing is done
    for order_id in order_ids:
        try:
            assign(
                ctx,
                order_id,
                assignee_name,
                scheduled_date=scheduled_date,
                note=note,
                life_support_override=life_support_override,
            )
        except Conflict as exc:
            batch.outcomes.append(OrderOutcome(order_id, Result.CONFLICT, str(exc)))
        except WorkOrderError as exc:
            batch.outcomes.append(OrderOutcome(order_id, Result.SKIPPED, str(exc)))
        else:
            batch.outcomes.append(OrderOutcome(order_id, Result.DONE))
    return batch
