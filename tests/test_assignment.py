"""Assigning: several orders at once with a per-order outcome (the dashboard's `a` on marked
rows), and the life-support rule: a disconnection at a life-support site is never sent to
anyone without an explicit override reason, kept in its history."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_dashboard import _app, add_assignee, add_orders, db_orders
from textual.widgets import OptionList

from wo_tui.core.assignees import set_active
from wo_tui.core.assignment import assign_orders
from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.errors import InvalidInput, NotAllowed, NotFound
from wo_tui.core.models import history, outbox
from wo_tui.core.numbers import format_number
from wo_tui.core.orders import assign
from wo_tui.core.outcomes import Result
from wo_tui.tui.screens.outcome import BatchOutcomeScreen
from wo_tui.tui.screens.status_dialogs import AssignScreen
from wo_tui.tui.widgets.outcome_list import OutcomeList

SIZE = (120, 30)


def emails(db: Database) -> list[tuple[int, str]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(select(outbox.c.work_order_id, outbox.c.kind))]


def test_assign_orders_reports_each_order(ctx: Context) -> None:
    add_assignee(ctx.db, "Ann Lee")
    ids = add_orders(ctx.db, [{}, {"status": "COMPLETED"}, {}])
    batch = assign_orders(ctx, [*ids, 99], "Ann Lee")
    assert [(o.order_id, o.result) for o in batch.outcomes] == [
        (ids[0], Result.DONE),
        (ids[1], Result.SKIPPED),
        (ids[2], Result.DONE),
        (99, Result.SKIPPED),
    ]
    assert "COMPLETED" in batch.outcomes[1].detail
    assert "no work order WO-000099" in batch.outcomes[3].detail
    statuses = {i: r["status"] for i, r in db_orders(ctx.db, ids).items()}
    assert statuses == {ids[0]: "SETUP", ids[1]: "COMPLETED", ids[2]: "SETUP"}
    assert sorted(emails(ctx.db)) == [(ids[0], "assignment"), (ids[2], "assignment")]


def test_an_unknown_or_deactivated_assignee_changes_nothing(ctx: Context) -> None:
    add_assignee(ctx.db, "Ann Lee")
    ids = add_orders(ctx.db, [{}, {}])
    with pytest.raises(NotFound, match="no assignee named 'Nobody'"):
        assign_orders(ctx, ids, "Nobody")
    set_active(ctx, "Ann Lee", False)
    with pytest.raises(NotAllowed, match="deactivated"):
        assign_orders(ctx, ids, "Ann Lee")
    assert emails(ctx.db) == []
    assert {r["status"] for r in db_orders(ctx.db, ids).values()} == {"NEW"}


def test_a_life_support_disconnection_is_not_sent_without_an_override(ctx: Context) -> None:
    add_assignee(ctx.db, "Ann Lee")
    (order_id,) = add_orders(ctx.db, [{"type_code": "DISCONNECT", "life_support": True}])
    with pytest.raises(NotAllowed, match="life-support site"):
        assign(ctx, order_id, "Ann Lee")
    batch = assign_orders(ctx, [order_id], "Ann Lee")
    assert batch.outcomes[0].result is Result.SKIPPED
    assert "override" in batch.outcomes[0].detail
    assert emails(ctx.db) == []
    assign(ctx, order_id, "Ann Lee", life_support_override="customer moved out; site confirmed")
    assert emails(ctx.db) == [(order_id, "assignment")]
    with ctx.db.read() as conn:
        trail = conn.execute(
            select(history.c.field, history.c.new_value).where(history.c.work_order_id == order_id)
        ).all()
    assert ("life_support_override", "customer moved out; site confirmed") in trail


def test_an_override_is_for_one_order_at_a_time(ctx: Context) -> None:
    add_assignee(ctx.db, "Ann Lee")
    ids = add_orders(ctx.db, [{}, {}])
    with pytest.raises(InvalidInput, match="one order at a time"):
        assign_orders(ctx, ids, "Ann Lee", life_support_override="why")


async def test_a_on_marked_rows_assigns_them_all_and_shows_each_outcome(db: Database) -> None:
    add_assignee(db, "Ann Lee")
    ids = add_orders(db, [{}, {"type_code": "DISCONNECT", "life_support": True}, {}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+a", "a")
        await pilot.pause()
        assert isinstance(app.screen, AssignScreen)
        assert app.screen.query_one(OptionList).highlighted == 0
        await pilot.press("enter", "enter")  # Ann Lee, no date
        await pilot.pause()
        assert isinstance(app.screen, BatchOutcomeScreen)
        listed = app.screen.query_one(OutcomeList)
        assert any("life-support site" in listed.line(i) for i in range(len(listed.outcomes)))
        await pilot.pause(0.2)
        shown = "".join(s.text for strip in app.screen._compositor.render_strips() for s in strip)
        skipped = format_number(ids[1])
        assert f"{skipped}  SKIPPED  {skipped} is a disconnection" in shown
    statuses = {i: r["status"] for i, r in db_orders(db, ids).items()}
    assert statuses == {ids[0]: "SETUP", ids[1]: "NEW", ids[2]: "SETUP"}
    assert sorted(emails(db)) == [(ids[0], "assignment"), (ids[2], "assignment")]


async def test_a_on_the_cursor_row_assigns_it(db: Database) -> None:
    add_assignee(db, "Ann Lee")
    ids = add_orders(db, [{}, {}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert any("assigned to Ann Lee" in str(n.message) for n in app._notifications)
    statuses = sorted(r["status"] for r in db_orders(db, ids).values())
    assert statuses == ["NEW", "SETUP"]


def test_cli_assign_with_a_life_support_override(
    db_url: str, ctx: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    from wo_tui.cli import run

    add_assignee(ctx.db, "Ann Lee")
    (order_id,) = add_orders(ctx.db, [{"type_code": "DISCONNECT", "life_support": True}])
    argv = ["orders", "assign", str(order_id), "--to", "Ann Lee", "--db", db_url]
    assert run(argv) == 1
    assert "life-support site" in capsys.readouterr().err
    assert emails(ctx.db) == []
    assert run([*argv, "--life-support-override", "site vacant, confirmed by phone"]) == 0
    assert emails(ctx.db) == [(order_id, "assignment")]
    assert run(["orders", "assign", "1", "2", "--to", "Ann Lee", "--db", db_url,
                "--life-support-override", "x"]) == 2  # fmt: skip
