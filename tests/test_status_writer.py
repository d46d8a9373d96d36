"""Every status move goes through the one writer (`core/status_writer.py`): a bulk action,
an assignment and the mail server accepting an assignment email each leave their status row
in the history, checked by the status machine, under the actor of `status_writer.actor`.
The writer's guards and counts are tested through the bulk actions (test_bulk,
test_status_machine)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from wo_tui.core import status_writer
from wo_tui.core.context import Context
from wo_tui.core.models import history, work_orders
from wo_tui.core.orders import assign, create_order
from wo_tui.core.outbox import claim_due
from wo_tui.core.outbox_marks import mark_sent
from wo_tui.core.status_changes import bulk_complete

from conftest import NOW
from mailserver import contexts, new_order, technician


def status_moves(ctx: Context, order_id: int) -> list[tuple[str | None, str, str]]:
    """(old, new, actor) of each status row after the order was made."""
    trail = history.c
    with ctx.db.read() as conn:
        rows = conn.execute(
            select(trail.old_value, trail.new_value, trail.actor)
            .where(trail.work_order_id == order_id, trail.field == "status")
            .order_by(trail.id)
        ).all()
    return [tuple(row) for row in rows[1:]]


def test_every_status_move_is_written_by_the_one_writer_under_its_actor(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Assigning (NEW -> SETUP), the mail server accepting the email (SETUP -> SENT) and a
    completion (SENT -> COMPLETED) each leave their status row, and their actor comes from
    `status_writer.actor`: where the actor comes from changes there only."""
    monkeypatch.setattr(status_writer, "actor", lambda ctx: f"{ctx.operator} (signed in)")
    ctx, sender, _ = contexts(db, NOW)
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    (claim,) = claim_due(sender, limit=10)
    assert mark_sent(sender, claim.outbox_id, claim.token, "250 OK")
    assert bulk_complete(ctx, [order_id]).all_done
    assert status_moves(ctx, order_id) == [
        ("NEW", "SETUP", "dispatcher-a (signed in)"),
        ("SETUP", "SENT", "mail-sender (signed in)"),
        ("SENT", "COMPLETED", "dispatcher-a (signed in)"),
    ]
    with db.read() as conn:
        updated_by = conn.execute(
            select(work_orders.c.updated_by).where(work_orders.c.id == order_id)
        ).scalar_one()
    assert updated_by == "dispatcher-a (signed in)"


def test_a_reassignment_keeps_setup_and_the_trail_in_its_order(ctx: Context) -> None:
    """SETUP -> SETUP changes the assignee without a status row; an override comes after
    the move it allowed."""
    technician(ctx, "Ann Lee", "ann@field.example")
    technician(ctx, "Bo Diaz", "bo@field.example")
    site = {"account_number": "A", "site_address": "1 A St"}
    order_id = create_order(ctx, {"type_code": "DISCONNECT", "life_support": True, **site})
    assign(ctx, order_id, "Ann Lee", life_support_override="site confirmed empty")
    assign(ctx, order_id, "Bo Diaz", life_support_override="site confirmed empty")
    with ctx.db.read() as conn:
        trail = conn.execute(
            select(history.c.field, history.c.old_value, history.c.new_value)
            .where(history.c.work_order_id == order_id)
            .order_by(history.c.id)
        ).all()
    assert [tuple(row) for row in trail[1:]] == [
        ("assignee", None, "Ann Lee"),
        ("status", "NEW", "SETUP"),
        ("life_support_override", None, "site confirmed empty"),
        ("assignee", "Ann Lee", "Bo Diaz"),
        ("life_support_override", None, "site confirmed empty"),
    ]
