"""The dashboard screen: every key, bulk actions checked on the screen and in the database,
a remapped key, untrusted text in every column, a race with another process, and snapshots.

Every app runs with the fixed test clock (`NOW`), so the snapshots are the same on SQLite
and on PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from rich.segment import Segment
from sqlalchemy import func, insert, or_, select, update
from textual import events
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Input, OptionList, Static

from wo_tui.config import load_settings
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database, connect
from wo_tui.core.models import assignees, history, outbox, work_orders
from wo_tui.core.numbers import format_number
from wo_tui.core.orders import create_order
from wo_tui.core.queue import count_buckets, count_matching, parse_filter
from wo_tui.core.seed import seed_orders
from wo_tui.core.status_changes import LIFE_SUPPORT_SKIP
from wo_tui.core.statuses import OPEN_STATUSES
from wo_tui.tui.app import WoTuiApp, make_app
from wo_tui.tui.screens.cancel_reason import CancelReasonScreen
from wo_tui.tui.screens.confirm import ConfirmBulkScreen
from wo_tui.tui.screens.dashboard import DashboardScreen
from wo_tui.tui.screens.help import HelpScreen
from wo_tui.tui.screens.outcome import BatchOutcomeScreen
from wo_tui.tui.widgets.outcome_list import OutcomeList
from wo_tui.tui.widgets.queue_table import MARK_GLYPH, QueueTable

from conftest import NOW

SIZE = (120, 30)
"""The pilot tests' terminal: 26 rows of orders under the header."""
BODY = SIZE[1] - 4
TODAY = NOW.date()
OPEN = [s.value for s in OPEN_STATUSES]


# -- building the app and the data ---------------------------------------------------------
def _app(db: Database, **ui: object) -> WoTuiApp:
    # The queue refreshes itself every 5 s by default: far apart here, so that only `r` (or
    # a test that asks for it) reloads in the middle of a test.
    # The background jobs are off: their own tests run them (test_app_background.py,
    # test_sending_everywhere.py); here they would only add noise.
    ui = {"theme": "textual-dark", "refresh_interval_seconds": 600, **ui}
    overrides = {"ui": ui, "events": {"poll_in_app": False}, "smtp": {"send_from_app": False}}
    settings = load_settings(None, environ={}, overrides=overrides)
    return make_app(settings, Context(db, "dispatcher-a", clock=fixed_clock(NOW)))


def add_assignee(db: Database, name: str) -> int:
    """An active technician, inserted directly (no validation, as another tool might)."""
    with db.write() as conn:
        return int(
            conn.execute(
                insert(assignees).returning(assignees.c.id),
                {"name": name, "kind": "internal", "email": "tech@utility.example"},
            ).scalar_one()
        )


def add_orders(db: Database, specs: Sequence[dict[str, Any]]) -> list[int]:
    """Insert orders with Core (the ingestion sanitizer is bypassed on purpose), each with
    its creation history row; returns their ids (1, 2, ... on a fresh database)."""
    with db.write() as conn:
        first = (conn.execute(select(func.max(work_orders.c.id))).scalar() or 0) + 1
        rows = []
        for n, spec in enumerate(specs):
            order_id = first + n
            rows.append(
                {
                    "id": order_id,
                    "type_code": "MISC",
                    "priority": 3,
                    "status": "NEW",
                    "source": "manual",
                    "account_number": f"A{order_id:05d}",
                    "customer_name": f"Customer {order_id}",
                    "site_address": f"{order_id} Test St, Newtown NSW 2042",
                    "site_id": None,
                    "meter_number": f"M{order_id:07d}",
                    "created_at": NOW - timedelta(days=1),
                    "created_by": "seed",
                    "service_time": "any",
                    "due_date": TODAY + timedelta(days=3),
                    "life_support": False,
                    "assignee_id": None,
                    "updated_at": NOW - timedelta(days=1),
                    "updated_by": "seed",
                    "version": 1,
                    **spec,
                }
            )
        conn.execute(insert(work_orders), rows)
        conn.execute(
            insert(history),
            [
                {
                    "work_order_id": r["id"],
                    "at": r["created_at"],
                    "actor": "seed",
                    "field": "status",
                    "old_value": None,
                    "new_value": r["status"],
                    "reason": "created",
                }
                for r in rows
            ],
        )
        if conn.dialect.name == "postgresql":  # explicit ids: move the sequence past them
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('work_orders', 'id'), "
                "(SELECT max(id) FROM work_orders))"
            )
    return [r["id"] for r in rows]


def mixed_orders(db: Database) -> dict[str, int]:
    """A small queue with every case a bulk complete meets; returns ids by role.

    Sorted (priority, due, number) the open ones come as 2, 3, 4, 1, 5, 6."""
    tech = add_assignee(db, "Sam Carter")
    ids = add_orders(
        db,
        [
            {"customer_name": "Ann Able"},  # 1 MISC NEW
            {  # 2 a read type that was sent: completes with 'reading to follow'
                "type_code": "SPECIAL_READ",
                "priority": 2,
                "status": "SENT",
                "assignee_id": tech,
                "scheduled_date": TODAY,
            },
            {  # 3 life-support disconnection: never closed in bulk
                "type_code": "DISCONNECT",
                "priority": 2,
                "life_support": True,
                "customer_name": "Lou Support",
            },
            {  # 4 another read type
                "type_code": "FINAL_READ",
                "priority": 2,
                "status": "SETUP",
                "assignee_id": tech,
                "scheduled_date": TODAY + timedelta(days=1),
            },
            {"status": "ON_HOLD", "hold_note": "No access"},  # 5
            {"customer_name": "Fay Later", "due_date": TODAY + timedelta(days=5)},  # 6
            {  # 7 closed
                "status": "CANCELLED",
                "cancelled_at": NOW,
                "cancelled_by": "seed",
                "cancel_reason": "duplicate",
            },
        ],
    )
    roles = ["misc", "read_sent", "ls_disconnect", "read_setup", "held", "later", "closed"]
    return dict(zip(roles, ids, strict=True))


def db_orders(db: Database, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The stored rows of some orders, by id."""
    with db.read() as conn:
        rows = conn.execute(select(work_orders).where(work_orders.c.id.in_(list(ids))))
        return {r["id"]: dict(r) for r in rows.mappings()}


def statuses(db: Database, ids: Iterable[int]) -> dict[int, str]:
    return {i: r["status"] for i, r in db_orders(db, ids).items()}


def queue_ids(db: Database, *order: Any, where: Sequence[Any] = ()) -> list[int]:
    """The open queue's ids in the given SQL order (default: priority, due date, number),
    read with a query of its own, not with the code under test."""
    query = (
        select(work_orders.c.id)
        .select_from(work_orders)
        .outerjoin(assignees, assignees.c.id == work_orders.c.assignee_id)
        .where(work_orders.c.status.in_(OPEN), *where)
        .order_by(*(order or (work_orders.c.priority, work_orders.c.due_date, work_orders.c.id)))
    )
    with db.read() as conn:
        return list(conn.execute(query).scalars())


def _contains(word: str) -> Any:
    """The free-text filter's meaning, written here: any of the searched columns contains
    `word`, in any case."""
    columns = (
        work_orders.c.customer_name,
        work_orders.c.site_address,
        work_orders.c.site_id,
        work_orders.c.meter_number,
        work_orders.c.account_number,
    )
    return or_(*(func.lower(column).contains(word.lower()) for column in columns))


# -- looking at the screen ------------------------------------------------------------------
async def settle(pilot: Pilot[Any]) -> None:
    """Let a reload finish: the worker thread, then its message."""
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def dashboard(app: WoTuiApp) -> DashboardScreen:
    screen = app.screen
    assert isinstance(screen, DashboardScreen), f"expected the dashboard, got {screen!r}"
    return screen


def table(app: WoTuiApp) -> QueueTable:
    return (
        app.screen.query_one(QueueTable) if isinstance(app.screen, DashboardScreen) else _under(app)
    )


def _under(app: WoTuiApp) -> QueueTable:
    return next(s for s in app.screen_stack if isinstance(s, DashboardScreen)).query_one(QueueTable)


def lines(app: WoTuiApp) -> list[str]:
    """The table's rendered lines (header first)."""
    widget = table(app)
    return [widget.render_line(y).text for y in range(widget.size.height)]


def shown_numbers(app: WoTuiApp) -> list[str]:
    """The order numbers on screen, top to bottom, read from the rendered lines."""
    return [line[2:11] for line in lines(app)[1:] if line[2:5] == "WO-"]


def line_of(app: WoTuiApp, order_id: int) -> str:
    (line,) = [line for line in lines(app)[1:] if format_number(order_id) in line]
    return line


def is_marked_on_screen(app: WoTuiApp, order_id: int) -> bool:
    return line_of(app, order_id).startswith(MARK_GLYPH)


def cursor_number(app: WoTuiApp) -> str:
    """The number in the one rendered row drawn with the cursor's background."""
    widget = table(app)
    cursor_bg = widget.get_component_rich_style("queue-table--cursor").bgcolor
    found = []
    for y in range(1, widget.size.height):
        number = [seg for seg in widget.render_line(y) if "WO-" in seg.text]
        if number and number[0].style and number[0].style.bgcolor == cursor_bg:
            found.append(re.findall(r"WO-\d{6}", number[0].text)[0])
    assert len(found) == 1, f"cursor drawn on {len(found)} rows"
    return found[0]


def status_line(app: WoTuiApp) -> str:
    screen = next(s for s in app.screen_stack if isinstance(s, DashboardScreen))
    return str(screen.query_one("#status-line", Static).render())


def outcome_lines(app: WoTuiApp) -> str:
    """Every line of the result of a bulk action (the list draws only those on screen)."""
    listed = app.screen.query_one("#dialog-list", OutcomeList)
    return "\n".join(listed.line(i) for i in range(len(listed.outcomes)))


def counts_part(app: WoTuiApp) -> str:
    return status_line(app).split(" │ ")[0]


def text_of(app: WoTuiApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def notes(app: WoTuiApp) -> list[str]:
    return [n.message for n in app._notifications]


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*text)


async def jump(pilot: Pilot[Any], order_id: int) -> None:
    """Put the cursor on an order: `:N` (which also opens its detail), then Esc back."""
    await pilot.press("colon", *str(order_id), "enter")
    await pilot.pause()
    if not isinstance(pilot.app.screen, DashboardScreen):
        await pilot.press("escape")
        await pilot.pause()


async def mark(pilot: Pilot[Any], *order_ids: int) -> None:
    """Mark orders in a short queue (all on one screen): from the top, space on each wanted
    row and j over the others."""
    app: WoTuiApp = pilot.app  # type: ignore[assignment]
    await pilot.press("g")
    wanted = {n(i) for i in order_ids}
    for number in shown_numbers(app):
        if number in wanted:
            assert cursor_number(app) == number
            await pilot.press("space")
            wanted.discard(number)
        else:
            await pilot.press("j")
        if not wanted:
            break
    assert not wanted, f"not on screen: {wanted}"


def n(order_id: int) -> str:
    return format_number(order_id)


# -- moving -------------------------------------------------------------------------------
async def test_j_k_and_arrows_move_the_cursor(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 60, seed=3)
    expected = [n(i) for i in queue_ids(db)]
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_numbers(app) == expected[:BODY]
        assert cursor_number(app) == expected[0]
        for key, index in [("j", 1), ("down", 2), ("j", 3), ("k", 2), ("up", 1), ("up", 0)]:
            await pilot.press(key)
            assert cursor_number(app) == expected[index], key
            assert dashboard(app).view.current_id == int(expected[index][3:])
            assert f"row {index + 1}" in status_line(app)
        await pilot.press("k")  # already at the top: stays
        assert cursor_number(app) == expected[0]
        # Past the bottom of the screen the view scrolls by one row.
        await pilot.press(*["j"] * BODY)
        assert cursor_number(app) == expected[BODY]
        assert shown_numbers(app) == expected[1 : BODY + 1]


async def test_page_down_and_up(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 150, seed=4)
    expected = [n(i) for i in queue_ids(db)]
    step = BODY - 1
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("pagedown")
        assert cursor_number(app) == expected[step]
        assert shown_numbers(app) == expected[step : step + BODY]
        await pilot.press("pagedown")
        assert cursor_number(app) == expected[2 * step]
        assert shown_numbers(app) == expected[2 * step : 2 * step + BODY]
        assert f"row {2 * step + 1}" in status_line(app)
        await pilot.press("pageup")
        assert cursor_number(app) == expected[step]
        await pilot.press("pageup", "pageup")  # the second one stops at the top
        assert cursor_number(app) == expected[0]
        assert shown_numbers(app) == expected[:BODY]
        await pilot.press("ctrl+f")
        assert cursor_number(app) == expected[step]
        await pilot.press("ctrl+b")
        assert cursor_number(app) == expected[0]


async def test_g_and_G_go_to_the_first_and_last_order(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 150, seed=5)
    expected = [n(i) for i in queue_ids(db)]
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("G")
        assert cursor_number(app) == expected[-1]
        assert shown_numbers(app) == expected[-BODY:]
        assert f"row {len(expected)}" in status_line(app)
        await pilot.press("k", "k")
        assert cursor_number(app) == expected[-3]
        await pilot.press("g")
        assert cursor_number(app) == expected[0]
        assert shown_numbers(app) == expected[:BODY]
        assert "row 1 " in status_line(app)
        await pilot.press("end")
        assert cursor_number(app) == expected[-1]
        await pilot.press("home")
        assert cursor_number(app) == expected[0]


async def test_h_l_choose_the_column_o_sorts_and_O_reverses(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 150, seed=6)
    c = work_orders.c
    by_customer = [n(i) for i in queue_ids(db, func.coalesce(c.customer_name, ""), c.id)]
    by_customer_desc = [
        n(i) for i in queue_ids(db, func.coalesce(c.customer_name, "").desc(), c.id.desc())
    ]
    by_type = [n(i) for i in queue_ids(db, c.type_code, c.id)]
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert table(app).cursor_column.key == "number"
        await pilot.press(*"lllll")  # status, priority, due, type, customer
        assert table(app).cursor_column.key == "customer"
        await pilot.press("o")
        await settle(pilot)
        assert "Customer ▲" in lines(app)[0]
        assert "▲customer" in status_line(app)
        assert shown_numbers(app) == by_customer[:BODY]
        assert cursor_number(app) == by_customer[0]
        # Further rows come from the database in the same order (keyset windows).
        await pilot.press("pagedown", "pagedown")
        assert shown_numbers(app) == by_customer[2 * (BODY - 1) : 2 * (BODY - 1) + BODY]
        await pilot.press("G")
        assert shown_numbers(app) == by_customer[-BODY:]
        await pilot.press("O")
        await settle(pilot)
        assert "Customer ▼" in lines(app)[0]
        assert shown_numbers(app) == by_customer_desc[:BODY]
        await pilot.press("pagedown")
        assert shown_numbers(app) == by_customer_desc[BODY - 1 : 2 * BODY - 1]
        await pilot.press("right", "left", "h")
        assert table(app).cursor_column.key == "type"
        await pilot.press("o")
        await settle(pilot)
        assert "Type ▲" in lines(app)[0]
        assert shown_numbers(app) == by_type[:BODY]
        await pilot.press(*"hhhhhhhh")  # stops at the first column
        assert table(app).cursor_column.key == "number"
        await pilot.press("O")
        await settle(pilot)
        assert shown_numbers(app) == [n(i) for i in queue_ids(db, c.id.desc())][:BODY]


# -- marking ------------------------------------------------------------------------------
async def test_space_marks_the_row_and_moves_down(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 40, seed=7)
    ids = queue_ids(db)
    total = len(ids)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not any(line.startswith(MARK_GLYPH) for line in lines(app))
        await pilot.press("space")
        assert is_marked_on_screen(app, ids[0])
        assert not is_marked_on_screen(app, ids[1])
        assert cursor_number(app) == n(ids[1])
        await pilot.press("space")
        assert is_marked_on_screen(app, ids[1])
        assert cursor_number(app) == n(ids[2])
        assert dashboard(app).view.marks == {ids[0], ids[1]}
        assert counts_part(app) == f"2 marked / {total} shown / {total} open"
        await pilot.press("k", "space")  # unmarks
        assert not is_marked_on_screen(app, ids[1])
        assert counts_part(app) == f"1 marked / {total} shown / {total} open"


async def test_V_then_moves_marks_a_range(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 40, seed=8)
    ids = queue_ids(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "V")
        assert "RANGE" in status_line(app)
        await pilot.press("j", "j")
        assert dashboard(app).view.marks == set(ids[1:4])
        assert [is_marked_on_screen(app, i) for i in ids[:5]] == [False, True, True, True, False]
        await pilot.press("V")  # ends the range
        assert "RANGE" not in status_line(app)
        await pilot.press("j", "j")
        assert dashboard(app).view.marks == set(ids[1:4])
        assert counts_part(app).startswith("3 marked")


async def test_shift_arrows_mark(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 40, seed=9)
    ids = queue_ids(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("shift+down")
        assert dashboard(app).view.marks == set(ids[:2])
        await pilot.press("shift+down")
        assert dashboard(app).view.marks == set(ids[:3])
        assert cursor_number(app) == n(ids[2])
        assert all(is_marked_on_screen(app, i) for i in ids[:3])
        await pilot.press("j", "j", "shift+up")
        assert dashboard(app).view.marks == set(ids[:5])
        assert counts_part(app).startswith("5 marked")


async def test_ctrl_a_marks_every_matching_order_even_off_screen(
    db: Database, ctx: Context
) -> None:
    seed_orders(ctx, 300, seed=10)
    with db.read() as conn:
        matching = count_matching(conn, parse_filter(""), TODAY)
        open_count = count_buckets(conn, TODAY).all
    ids = queue_ids(db)
    assert matching == len(ids) == open_count > BODY * 3
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+a")
        view = dashboard(app).view
        assert view.marks == set(ids)
        assert len(view.marks) == matching
        assert not set(ids) <= {row.id for row in view.rows}  # most are not even loaded
        assert counts_part(app) == f"{matching} marked / {matching} shown / {open_count} open"
        assert f"{matching} orders matching the filter are marked" in notes(app)
        assert all(line.startswith(MARK_GLYPH) for line in lines(app)[1:])
        await pilot.press("G")
        assert all(line.startswith(MARK_GLYPH) for line in lines(app)[1:])
        # With a filter, only what it matches is marked.
        await pilot.press("escape")
        assert counts_part(app).startswith("0 marked")
        await pilot.press("slash", *"status:new", "enter")
        await settle(pilot)
        await pilot.press("ctrl+a")
        news = queue_ids(db, where=[work_orders.c.status == "NEW"])
        assert dashboard(app).view.marks == set(news)
        assert counts_part(app) == f"{len(news)} marked / {len(news)} shown / {open_count} open"


async def test_star_inverts_and_escape_clears(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 40, seed=11)
    ids = queue_ids(db)
    total = len(ids)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space", "space")
        await pilot.press("asterisk")
        assert dashboard(app).view.marks == set(ids[2:])
        assert not is_marked_on_screen(app, ids[0]) and not is_marked_on_screen(app, ids[1])
        assert all(is_marked_on_screen(app, i) for i in ids[2:BODY])
        assert counts_part(app) == f"{total - 2} marked / {total} shown / {total} open"
        await pilot.press("escape")
        assert dashboard(app).view.marks == set()
        assert not any(line.startswith(MARK_GLYPH) for line in lines(app))
        assert counts_part(app) == f"0 marked / {total} shown / {total} open"
        await pilot.press("asterisk")  # nothing marked: inverting marks everything
        assert dashboard(app).view.marks == set(ids)


# -- completing -----------------------------------------------------------------------------
async def test_complete_marked_confirms_lists_skips_and_reports_each_row(db: Database) -> None:
    o = mixed_orders(db)
    marked = [o["misc"], o["read_sent"], o["ls_disconnect"], o["read_setup"], o["held"]]
    before = db_orders(db, o.values())
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")  # closed orders too, to mark the cancelled one
        await settle(pilot)
        await mark(pilot, *marked, o["closed"])
        await pilot.press("t")
        await settle(pilot)
        assert counts_part(app) == "6 marked / 6 shown / 6 open"

        # n, Esc and Enter (No has the focus) all decline; nothing changes.
        for decline in ("n", "escape", "enter"):
            await pilot.press("c")
            assert isinstance(app.screen, ConfirmBulkScreen)
            assert text_of(app, "#dialog-title") == "Complete 4 orders?"
            body = text_of(app, "#dialog-body")
            assert "2 will be skipped:" in body
            assert f"{n(o['ls_disconnect'])}  {LIFE_SUPPORT_SKIP}" in body
            assert f"{n(o['closed'])}  is CANCELLED; cannot go to COMPLETED" in body
            assert "No emails are sent." in body and "reading to follow" in body
            assert app.screen.focused is not None and app.screen.focused.id == "no"
            await pilot.press(decline)
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen), decline
            assert db_orders(db, o.values()) == before
            assert counts_part(app) == "6 marked / 6 shown / 6 open"

        await pilot.press("c", "y")
        await settle(pilot)
        assert isinstance(app.screen, BatchOutcomeScreen)
        assert text_of(app, "#dialog-title") == "4 completed, 2 skipped, 0 conflicts"
        listed = outcome_lines(app)
        assert f"{n(o['ls_disconnect'])}  SKIPPED  {LIFE_SUPPORT_SKIP}" in listed
        assert f"{n(o['closed'])}  SKIPPED  is CANCELLED" in listed
        for key in ("misc", "read_sent", "read_setup", "held"):
            assert f"{n(o[key])}  DONE" in listed
        assert "u on the queue undoes this" in text_of(app, "#dialog-hint")

        after = db_orders(db, o.values())
        for key in ("misc", "read_sent", "read_setup", "held"):
            row = after[o[key]]
            assert row["status"] == "COMPLETED", key
            assert row["completed_by"] == "dispatcher-a"
            assert row["version"] == before[o[key]]["version"] + 1
            assert row["reading_to_follow"] is (key in ("read_sent", "read_setup")), key
        assert after[o["ls_disconnect"]] == before[o["ls_disconnect"]]
        assert after[o["closed"]] == before[o["closed"]]
        assert after[o["later"]] == before[o["later"]]

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert shown_numbers(app) == [n(o["ls_disconnect"]), n(o["later"])]
        # The skipped ones stay marked (the cancelled one off screen), the done ones do not.
        assert dashboard(app).view.marks == {o["ls_disconnect"], o["closed"]}
        assert counts_part(app) == "2 marked / 2 shown / 2 open"


async def test_the_result_goes_up_over_a_queue_with_its_new_counts(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queue under the result is complete, counts included: a screen under a dialog is
    not repainted until the dialog closes, so counts that came after it stayed old."""
    o = mixed_orders(db)
    seen: list[tuple[int, str]] = []
    original = BatchOutcomeScreen.compose

    def compose(screen: BatchOutcomeScreen) -> Any:
        under = next(s for s in screen.app.screen_stack if isinstance(s, DashboardScreen))
        line = under.query_one("#status-line", Static).render()
        seen.append((under.counts.all, str(line)))
        yield from original(screen)

    monkeypatch.setattr(BatchOutcomeScreen, "compose", compose)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await mark(pilot, o["misc"], o["later"])
        await pilot.press("c", "y")
        await settle(pilot)
        assert isinstance(app.screen, BatchOutcomeScreen)
        assert seen == [(4, seen[0][1])]
        assert seen[0][1].startswith("0 marked / 4 shown / 4 open"), seen


async def test_complete_one_unmarked_row_needs_no_confirmation(db: Database) -> None:
    o = mixed_orders(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await jump(pilot, o["misc"])
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert f"{n(o['misc'])} completed" in notes(app)
        assert statuses(db, [o["misc"]]) == {o["misc"]: "COMPLETED"}
        assert n(o["misc"]) not in shown_numbers(app)
        assert counts_part(app) == "0 marked / 5 shown / 5 open"
        # The cursor went to a neighbour, and `c` there completes that one only.
        current = dashboard(app).view.current_id
        assert current is not None and cursor_number(app) == n(current)


async def test_complete_life_support_disconnection_alone_is_refused(db: Database) -> None:
    o = mixed_orders(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await jump(pilot, o["ls_disconnect"])
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmBulkScreen)
        assert text_of(app, "#dialog-title") == "Complete 0 orders?"
        assert LIFE_SUPPORT_SKIP in text_of(app, "#dialog-body")
        assert app.screen.query_one("#yes").disabled
        await pilot.press("y")  # nothing to do: y answers no
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert statuses(db, [o["ls_disconnect"]]) == {o["ls_disconnect"]: "NEW"}


async def test_c_on_an_empty_queue_warns(db: Database) -> None:
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "No orders match." in lines(app)[1]
        await pilot.press("c")
        await pilot.press("x")
        assert isinstance(app.screen, DashboardScreen)
        assert notes(app).count("Nothing to act on: the queue is empty.") == 2


# -- cancelling ---------------------------------------------------------------------------
async def test_cancel_with_a_reason_code(db: Database) -> None:
    o = mixed_orders(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await mark(pilot, o["misc"], o["held"])
        await pilot.press("x")
        assert isinstance(app.screen, CancelReasonScreen)
        assert text_of(app, "#dialog-title") == "Cancel 2 orders: why?"
        await pilot.press("down", "enter")  # Duplicate
        assert isinstance(app.screen.focused, Input)
        await type_text(pilot, "dup of WO-000006")
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmBulkScreen)
        assert text_of(app, "#dialog-title") == "Cancel 2 orders?"
        assert "Reason: Duplicate." in text_of(app, "#dialog-body")
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, BatchOutcomeScreen)
        assert text_of(app, "#dialog-title") == "2 cancelled, 0 skipped, 0 conflicts"
        rows = db_orders(db, [o["misc"], o["held"]])
        for row in rows.values():
            assert row["status"] == "CANCELLED"
            assert row["cancel_reason"] == "duplicate"
            assert row["cancel_note"] == "dup of WO-000006"
            assert row["cancelled_by"] == "dispatcher-a"
        await pilot.press("escape")
        await settle(pilot)
        assert n(o["misc"]) not in shown_numbers(app)
        assert counts_part(app) == "0 marked / 4 shown / 4 open"


async def test_cancel_reason_other_needs_a_note(db: Database) -> None:
    o = mixed_orders(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await jump(pilot, o["later"])
        await pilot.press("x")
        assert text_of(app, "#dialog-title") == "Cancel 1 order: why?"
        await pilot.press(*["down"] * 6, "enter")  # Other
        options = app.screen.query_one(OptionList)
        assert options.highlighted is not None
        assert options.get_option_at_index(options.highlighted).id == "other"
        await pilot.press("enter")  # empty note
        assert isinstance(app.screen, CancelReasonScreen)
        assert text_of(app, "#dialog-error") == "A note is required for Other."
        assert statuses(db, [o["later"]]) == {o["later"]: "NEW"}
        await type_text(pilot, "meter removed")
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmBulkScreen)  # one order, but irreversible
        assert "Reason: Other." in text_of(app, "#dialog-body")
        await pilot.press("y")
        await settle(pilot)
        row = db_orders(db, [o["later"]])[o["later"]]
        assert (row["status"], row["cancel_reason"], row["cancel_note"]) == (
            "CANCELLED",
            "other",
            "meter removed",
        )


async def test_escape_in_the_reason_picker_cancels_nothing(db: Database) -> None:
    o = mixed_orders(db)
    before = db_orders(db, o.values())
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x")
        assert isinstance(app.screen, CancelReasonScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("x", "enter", "enter")  # reason chosen, then No on the confirmation
        assert isinstance(app.screen, ConfirmBulkScreen)
        await pilot.press("n")
        await settle(pilot)
        assert db_orders(db, o.values()) == before


async def test_cancel_confirmation_tells_which_emails_go_out(db: Database) -> None:
    o = mixed_orders(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await jump(pilot, o["read_sent"])
        await pilot.press("x", "enter", "enter")
        assert isinstance(app.screen, ConfirmBulkScreen)
        body = text_of(app, "#dialog-body")
        await pilot.press("y")
        await settle(pilot)
        with db.read() as conn:
            queued = conn.execute(
                select(outbox.c.kind).where(outbox.c.work_order_id == o["read_sent"])
            ).all()
        assert [tuple(r) for r in queued] == [("cancellation_notice",)]
        # What the dispatcher was told before saying yes must match what happened.
        assert "No emails are sent." not in body
        assert "email" in body.lower()


# -- undo ---------------------------------------------------------------------------------
async def test_u_undoes_the_last_batch(db: Database) -> None:
    o = mixed_orders(db)
    done = [o["misc"], o["read_sent"], o["held"]]
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u")
        assert "Nothing to undo." in notes(app)
        await mark(pilot, *done)
        await pilot.press("c", "y")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert set(statuses(db, done).values()) == {"COMPLETED"}
        assert counts_part(app) == "0 marked / 3 shown / 3 open"

        await pilot.press("u")
        await settle(pilot)
        assert "Undo: 3 reopened, 0 skipped, 0 conflicts" in notes(app)
        rows = db_orders(db, done)
        assert {r["status"] for r in rows.values()} == {"NEW"}
        assert not any(r["reading_to_follow"] or r["completed_at"] for r in rows.values())
        with db.read() as conn:
            trail = conn.execute(
                select(history.c.work_order_id, history.c.old_value, history.c.reason)
                .where(history.c.work_order_id.in_(done), history.c.new_value == "NEW")
                .where(history.c.old_value == "COMPLETED")
            ).all()
        assert sorted(r[0] for r in trail) == sorted(done)
        assert all("undo" in r[2] for r in trail)
        await pilot.press("g")  # see test_undo_brings_back_rows_that_sort_first_on_screen
        assert set(map(n, done)) <= set(shown_numbers(app))
        assert counts_part(app) == "0 marked / 6 shown / 6 open"

        await pilot.press("u")  # only the last batch, once
        assert notes(app).count("Nothing to undo.") == 2
        assert {r["status"] for r in db_orders(db, done).values()} == {"NEW"}


# -- filter, closed, buckets, jump ---------------------------------------------------------
async def test_filter_narrows_the_queue(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 80, seed=12)
    with db.read() as conn:
        open_count = count_buckets(conn, TODAY).all
    news = queue_ids(db, where=[work_orders.c.status == "NEW"])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        box = app.screen.query_one("#filter", Input)
        assert box.has_focus and box.display
        await type_text(pilot, "status:new")
        await settle(pilot)
        assert shown_numbers(app) == [n(i) for i in news][:BODY]
        assert all(line[12:19].strip() == "NEW" for line in lines(app)[1 : len(news) + 1])
        assert counts_part(app) == f"0 marked / {len(news)} shown / {open_count} open"
        await pilot.press("enter")
        assert not box.display and table(app).has_focus
        assert "/status:new" in status_line(app)
        # `/` again shows what is in force; adding a word narrows further.
        await pilot.press("slash")
        assert box.value == "status:new"
        await pilot.press("end")  # the text comes selected: typing at once would replace it
        await type_text(pilot, " smith")
        await settle(pilot)
        smiths = queue_ids(
            db,
            where=[
                work_orders.c.status == "NEW",
                or_(
                    *(
                        func.lower(column).contains("smith")
                        for column in (
                            work_orders.c.customer_name,
                            work_orders.c.site_address,
                            work_orders.c.site_id,
                            work_orders.c.meter_number,
                            work_orders.c.account_number,
                        )
                    )
                ),
            ],
        )
        assert shown_numbers(app) == [n(i) for i in smiths]
        await pilot.press("escape")  # closes the box, keeps the filter
        assert not box.display
        assert counts_part(app) == f"0 marked / {len(smiths)} shown / {open_count} open"


async def burst(pilot: Pilot[Any], *keys: str) -> None:
    """Keys that arrive together (typed fast, or in one packet over SSH): every one is
    queued before the app handles the first, where `pilot.press` waits after each."""
    chars = {"slash": "/", "colon": ":", "enter": "\r", "escape": "\x1b"}
    driver = pilot.app._driver
    assert driver is not None
    for key in keys:
        event = events.Key(key, chars.get(key, key if len(key) == 1 else None))
        event.set_sender(pilot.app)
        driver.send_message(event)
    await settle(pilot)


async def test_keys_typed_in_a_burst_after_slash_go_to_the_filter(
    db: Database, ctx: Context
) -> None:
    """`/` then `e` at once filtered nothing and opened the edit form (focus moved a turn
    late); Enter then a key at once typed the key into the filter."""
    seed_orders(ctx, 60, seed=14)
    matching = [n(i) for i in queue_ids(db, where=[_contains("ke")])]
    assert 0 < len(matching) < 60
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "slash", "k", "e", "enter", "space")
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        assert dashboard.query_one("#filter", Input).value == "ke"
        assert dashboard.query_text == "ke"
        assert shown_numbers(app) == matching[:BODY]
        assert counts_part(app).startswith(f"1 marked / {len(matching)} shown")
        # Esc closes the line and the next key goes to the queue at once.
        # (`/` shows the filter in force selected: typing replaces it, as in any input.)
        await burst(pilot, "slash", "1", "escape", "j")
        assert app.screen is dashboard and table(app).has_focus
        assert dashboard.query_text == "1"
        assert dashboard.view.cursor == 1
        # Keys that are bindings elsewhere are text in the line: `/` and `:` (priority keys
        # that open lines), `Q` (quit), `j`.
        await burst(pilot, "slash", "Q", "1", "slash", "2", "colon", "j", "enter")
        assert app.is_running and app.screen is dashboard
        assert dashboard.query_text == "Q1/2:j"
        # `:` and a number at once open that order.
        await burst(pilot, "colon", *str(int(matching[0][3:])), "enter")
        assert app.screen.__class__.__name__ == "DetailScreen"


async def test_a_bad_filter_shows_an_error_and_keeps_the_rows(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 80, seed=13)
    news = [n(i) for i in queue_ids(db, where=[work_orders.c.status == "NEW"])]
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "status:new")
        await settle(pilot)
        assert shown_numbers(app) == news[:BODY]
        await type_text(pilot, ",bogus")
        await settle(pilot)
        box = app.screen.query_one("#filter", Input)
        assert "unknown status 'bogus'" in str(box.border_subtitle)
        assert shown_numbers(app) == news[:BODY]
        assert f"{len(news)} shown" in counts_part(app)
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await pilot.press("backspace", "backspace", "backspace")  # "status:n"
        await settle(pilot)
        assert "unknown status 'n'" in str(box.border_subtitle)
        await pilot.press(*"ew")
        await settle(pilot)
        assert not box.border_subtitle


async def test_bogus_filter_from_the_start_keeps_the_whole_queue(
    db: Database, ctx: Context
) -> None:
    seed_orders(ctx, 40, seed=14)
    everything = [n(i) for i in queue_ids(db)]
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        box = app.screen.query_one("#filter", Input)
        box.value = "status:bogus"  # pasted in one go
        await settle(pilot)
        assert "unknown status 'bogus'" in str(box.border_subtitle)
        shown = shown_numbers(app)  # the open box takes a few lines from the table
        assert len(shown) >= BODY - 4
        assert shown == everything[: len(shown)]
        assert f"{len(everything)} shown" in counts_part(app)


async def test_erasing_a_closed_status_filter_hides_closed_orders_again(db: Database) -> None:
    o = mixed_orders(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "status:cancelled")
        await settle(pilot)
        assert shown_numbers(app) == [n(o["closed"])]
        await pilot.press(*["backspace"] * len("status:cancelled"))
        await settle(pilot)
        assert "closed too" not in status_line(app)
        assert n(o["closed"]) not in shown_numbers(app)


async def test_t_shows_closed_orders_too(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 60, seed=15)
    with db.read() as conn:
        everything = conn.execute(select(func.count()).select_from(work_orders)).scalar_one()
        open_count = count_buckets(conn, TODAY).all
    assert everything > open_count
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert "closed too" in status_line(app)
        assert counts_part(app) == f"0 marked / {everything} shown / {open_count} open"
        await pilot.press("G")
        states = {line[12:19].strip() for line in lines(app)[1:]}
        await pilot.press("g")
        states |= {line[12:19].strip() for line in lines(app)[1:]}
        await pilot.press("pagedown")
        states |= {line[12:19].strip() for line in lines(app)[1:]}
        assert {"DONE", "CANCLD"} & states
        await pilot.press("t")
        await settle(pilot)
        assert "closed too" not in status_line(app)
        assert counts_part(app) == f"0 marked / {open_count} shown / {open_count} open"


async def test_number_keys_pick_buckets(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 80, seed=16)
    c = work_orders.c
    with db.read() as conn:
        counts = count_buckets(conn, TODAY)
    expected = {
        "1": ([], counts.all),
        "2": ([c.status == "NEW"], counts.new),
        "3": ([c.status == "SETUP"], counts.setup),
        "4": ([c.status == "SENT"], counts.sent),
        "5": ([c.status == "ON_HOLD"], counts.on_hold),
        "6": ([c.due_date < TODAY], counts.overdue),
        "7": ([c.due_date == TODAY], counts.due_today),
    }
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in "6234571":
            where, count = expected[key]
            await pilot.press(key)
            await settle(pilot)
            ids = queue_ids(db, where=where)
            assert len(ids) == count, key
            assert shown_numbers(app) == [n(i) for i in ids][:BODY], key
            assert counts_part(app) == f"0 marked / {count} shown / {counts.all} open", key
            bar = str(app.screen.query_one("#buckets", Static).render())
            assert f"{key} " in bar
            if key == "6":
                assert all("LATE" in line for line in lines(app)[1 : count + 1])


async def test_colon_jumps_to_an_order(db: Database, ctx: Context) -> None:
    """`:123` puts the cursor on WO-000123 and opens its detail; Esc comes back to it."""
    seed_orders(ctx, 300, seed=17, closed_share=0.0)
    expected = queue_ids(db)
    assert 123 in expected
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        assert app.screen.query_one("#command", Input).has_focus
        await pilot.press(*"123", "enter")
        assert getattr(app.screen, "order_id", None) == 123  # the detail is open
        await pilot.press("escape")
        assert cursor_number(app) == "WO-000123"
        assert dashboard(app).view.current_id == 123
        assert f"row {expected.index(123) + 1}" in status_line(app)
        # Moving on from there follows the queue order both ways.
        await pilot.press("k")
        assert cursor_number(app) == n(expected[expected.index(123) - 1])
        await pilot.press("j", "j")
        assert cursor_number(app) == n(expected[expected.index(123) + 1])
        await pilot.press("colon", *"99999", "enter")
        assert "there is no work order WO-099999" in notes(app)
        assert dashboard(app).view.current_id == expected[expected.index(123) + 1]
        await pilot.press("colon", *"abc", "enter")
        assert "Unknown command 'abc'; try :123 or :export PATH" in notes(app)
        # An order far down the queue, given as WO-...: the screen shows it and what follows.
        far = expected[200]
        await pilot.press("colon", *n(far), "enter", "escape")
        assert cursor_number(app) == n(far)
        assert shown_numbers(app)[0] == n(far)
        assert shown_numbers(app) == [n(i) for i in expected[200 : 200 + BODY]]
        assert "row 201 " in status_line(app)
        await pilot.press("pageup")
        assert cursor_number(app) == n(expected[200 - (BODY - 1)])


async def test_r_refresh_shows_new_orders_and_keeps_cursor_and_marks(
    db: Database, ctx: Context, db_url: str
) -> None:
    seed_orders(ctx, 60, seed=18)
    before = queue_ids(db)
    app = _app(db, refresh_interval_seconds=600)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "space", "space", "j")
        current = dashboard(app).view.current_id
        assert current == before[5]
        # Another dispatcher adds an order that sorts between the rows on screen.
        other = connect(db_url)
        try:
            row = db_orders(db, [before[10]])[before[10]]
            new_id = create_order(
                Context(other, "dispatcher-b", clock=fixed_clock(NOW)),
                {
                    "type_code": "MISC",
                    "site_address": "1 New St",
                    "priority": row["priority"],
                    "due_date": row["due_date"],
                },
            )
        finally:
            other.dispose()
        after = queue_ids(db)
        assert new_id in after[:BODY]
        assert n(new_id) not in shown_numbers(app)
        await pilot.press("r")
        await settle(pilot)
        assert n(new_id) in shown_numbers(app)
        assert shown_numbers(app) == [n(i) for i in after][:BODY]
        assert new_id in table(app).fresh
        fresh_bg = table(app).get_component_rich_style("queue-table--fresh").bgcolor
        strip = table(app).render_line(shown_numbers(app).index(n(new_id)) + 1)
        number = next(seg for seg in strip if n(new_id) in seg.text)
        assert number.style is not None and number.style.bgcolor == fresh_bg
        assert dashboard(app).view.current_id == current
        assert cursor_number(app) == n(current)
        assert dashboard(app).view.marks == {before[2], before[3]}
        assert is_marked_on_screen(app, before[2]) and is_marked_on_screen(app, before[3])
        total = len(after)
        assert counts_part(app) == f"2 marked / {total} shown / {total} open"


async def test_the_queue_refreshes_itself(db: Database, ctx: Context, db_url: str) -> None:
    seed_orders(ctx, 30, seed=21)
    middle = db_orders(db, [queue_ids(db)[5]])[queue_ids(db)[5]]
    app = _app(db, refresh_interval_seconds=0.5)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        other = connect(db_url)
        try:
            new_id = create_order(
                Context(other, "dispatcher-b", clock=fixed_clock(NOW)),
                {
                    "type_code": "MISC",
                    "site_address": "2 New St",
                    "priority": middle["priority"],
                    "due_date": middle["due_date"],
                },
            )
        finally:
            other.dispose()
        for _ in range(40):
            await pilot.pause(0.1)
            if n(new_id) in shown_numbers(app):
                break
        await settle(pilot)
        assert shown_numbers(app) == [n(i) for i in queue_ids(db)][:BODY]
        assert new_id in table(app).fresh


async def test_r_refresh_shows_a_new_order_that_sorts_first(
    db: Database, ctx: Context, db_url: str
) -> None:
    seed_orders(ctx, 40, seed=19)
    app = _app(db, refresh_interval_seconds=600)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        other = connect(db_url)
        try:
            new_id = create_order(
                Context(other, "dispatcher-b", clock=fixed_clock(NOW)),
                {
                    "type_code": "MISC",
                    "site_address": "1 Urgent St",
                    "priority": 1,
                    "due_date": TODAY - timedelta(days=60),
                },
            )
        finally:
            other.dispose()
        assert queue_ids(db)[0] == new_id
        await pilot.press("r")
        await settle(pilot)
        assert shown_numbers(app)[0] == n(new_id)


async def test_row_position_stays_true_after_a_refresh(
    db: Database, ctx: Context, db_url: str
) -> None:
    seed_orders(ctx, 80, seed=20, closed_share=0.0)
    expected = queue_ids(db)
    target = expected[40]
    app = _app(db, refresh_interval_seconds=600)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await jump(pilot, target)
        assert "row 41 " in status_line(app)
        other = connect(db_url)
        try:
            from wo_tui.core.status_changes import bulk_cancel

            batch = bulk_cancel(
                Context(other, "dispatcher-b", clock=fixed_clock(NOW)), expected[:5], "duplicate"
            )
            assert batch.all_done
        finally:
            other.dispose()
        await pilot.press("r")
        await settle(pilot)
        assert cursor_number(app) == n(target)
        assert f"row {queue_ids(db).index(target) + 1} " in status_line(app)  # row 36


async def test_undo_brings_back_rows_that_sort_first_on_screen(db: Database) -> None:
    o = mixed_orders(db)
    top = [o["read_sent"], o["ls_disconnect"], o["read_setup"]]  # the first three rows
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_numbers(app)[:3] == [n(i) for i in top]
        await pilot.press("space", "space", "space", "c", "y")
        await settle(pilot)
        await pilot.press("escape", "u")
        await settle(pilot)
        assert statuses(db, [o["read_sent"], o["read_setup"]]) == {
            o["read_sent"]: "NEW",
            o["read_setup"]: "NEW",
        }
        assert len(shown_numbers(app)) == 6
        assert {n(o["read_sent"]), n(o["read_setup"])} <= set(shown_numbers(app))


async def test_cursor_bar_covers_the_due_cell_of_an_overdue_order(db: Database) -> None:
    (late,) = add_orders(db, [{"due_date": TODAY - timedelta(days=2)}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert cursor_number(app) == n(late)
        assert "LATE" in line_of(app, late)
        widget = table(app)
        cursor_bg = widget.get_component_rich_style("queue-table--cursor").bgcolor
        strip = widget.render_line(1)
        uncovered = [seg.text for seg in strip if seg.style and seg.style.bgcolor != cursor_bg]
        assert uncovered == []


async def test_question_mark_opens_help_with_the_dashboard_keys(db: Database) -> None:
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = text_of(app, "#help-keys")
        for description in (
            "Down",
            "Up",
            "Page down",
            "First row",
            "Last row",
            "Mark",
            "Range mark",
            "Mark all",
            "Invert marks",
            "Clear marks",
            "Complete",
            "Cancel",
            "Undo",
            "Filter",
            "Sort",
            "Sort reverse",
            "Command",
            "Closed too",
            "Refresh",
            "Bucket: overdue",
            "Quit",
            "Help",
        ):
            assert description in shown, description
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_bucket_bar_fits_80_columns(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 60, seed=11)
    with db.read() as conn:
        counts = count_buckets(conn, TODAY)
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = app.screen._compositor.render_strips()[0].text
        for key, count in enumerate(
            [
                counts.all,
                counts.new,
                counts.setup,
                counts.sent,
                counts.on_hold,
                counts.overdue,
                counts.due_today,
            ],
            start=1,
        ):
            assert re.search(rf"\b{key}\b[^│]*\b{count}\b", bar), (key, count, bar)


async def test_narrow_terminal_drops_the_least_important_columns_first(db: Database) -> None:
    add_orders(db, [{}])
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        header = lines(app)[0]
        assert "Scheduled" not in header or "Site address" in header, header


@pytest.mark.parametrize("key", ["q", "Q", "ctrl+q"])
async def test_quit_keys(db: Database, key: str) -> None:
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


# -- keymap -------------------------------------------------------------------------------
async def test_keymap_moves_complete_to_f9(db: Database) -> None:
    o = mixed_orders(db)
    app = _app(db, keymap={"queue.complete": "f9"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await jump(pilot, o["misc"])
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert statuses(db, [o["misc"]]) == {o["misc"]: "NEW"}
        await pilot.press("f9")
        await settle(pilot)
        assert statuses(db, [o["misc"]]) == {o["misc"]: "COMPLETED"}
        await pilot.press("question_mark")
        assert "f9" in text_of(app, "#help-keys").lower()


async def test_keymap_reaches_the_dialogs(db: Database) -> None:
    """A dialog's keys are remapped like the screens': `y` no longer confirms, `j` does."""
    o = mixed_orders(db)
    app = _app(db, keymap={"confirm.yes": "j", "outcome.close": "z"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await mark(pilot, o["misc"], o["later"])
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmBulkScreen)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmBulkScreen)
        assert statuses(db, [o["misc"], o["later"]]) == {o["misc"]: "NEW", o["later"]: "NEW"}
        await pilot.press("j")
        await settle(pilot)
        assert statuses(db, [o["misc"], o["later"]]) == {
            o["misc"]: "COMPLETED",
            o["later"]: "COMPLETED",
        }
        assert isinstance(app.screen, BatchOutcomeScreen)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, BatchOutcomeScreen)
        await pilot.press("z")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def test_dialog_hints_name_the_keys_in_force(db: Database) -> None:
    """The hints under the dialogs and the help say the keys the keymap put in force."""
    o = mixed_orders(db)
    keymap = {"outcome.close": "z", "queue.undo": "U", "cancel_reason.back": "b", "help.close": "w"}
    app = _app(db, keymap=keymap)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert "w closes" in str(app.screen.query_one("#help").border_subtitle)
        await pilot.press("w")
        await settle(pilot)
        await mark(pilot, o["misc"], o["later"])
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, CancelReasonScreen)
        assert text_of(app, "#dialog-hint").endswith("b back")
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, BatchOutcomeScreen)
        assert text_of(app, "#dialog-hint") == "z closes · U on the queue undoes this"


async def test_no_animations_and_a_steady_text_cursor(db: Database) -> None:
    """Nothing animates over a slow SSH link; the filter's cursor does not blink."""
    mixed_orders(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.animation_level == "none"
        await pilot.press("slash")
        await settle(pilot)
        line = app.focused
        assert isinstance(line, Input)
        assert line.cursor_blink is False


def test_every_binding_of_every_screen_can_be_remapped() -> None:
    """Each binding the app declares comes from the table in wo_tui/keys.py, so the config
    knows its id (an unknown id is refused) and `[ui.keymap]` can move it."""
    import importlib
    import pkgutil

    from textual.binding import Binding
    from textual.dom import DOMNode

    import wo_tui
    from wo_tui.keys import ALL_BINDINGS

    for info in pkgutil.walk_packages(wo_tui.__path__, "wo_tui."):
        if ".migrations" not in info.name and not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    known = {b.id: b for b in ALL_BINDINGS}
    declared = 0

    def walk(cls: type) -> None:
        nonlocal declared
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("wo_tui."):
                for binding in vars(sub).get("BINDINGS", ()):
                    declared += 1
                    assert isinstance(binding, Binding), (sub, binding)
                    table = known.get(binding.id or "")
                    assert table is not None, f"{sub.__name__}: {binding} has no id in keys.py"
                    assert (binding.key, binding.action) == (table.keys, table.action), sub
            walk(sub)

    walk(DOMNode)
    assert declared > len(known)
    every = {b.id: f"f{n}" for n, b in enumerate(ALL_BINDINGS, start=1)}  # no two alike
    assert load_settings(None, environ={}, overrides={"ui": {"keymap": every}}).ui.keymap == every


# -- untrusted text (reliability §14-15) -----------------------------------------------------
PAYLOADS = [
    "[link=http://x]Bob",
    "[@click=app.quit]Eve",
    "Smith [/bold] Jr",
    "Ann \x1b]52;c;SGVsbG8=\x07 Lee",
    "Zed \x1b[2J Ray",
]
SHOWN = ["[link=http://x]Bob", "[@click=app.quit]Eve", "Smith [/bold] Jr", "]52;c;SGVsbG8="]


def hostile_orders(db: Database) -> list[int]:
    specs: list[dict[str, Any]] = []
    for text in PAYLOADS:
        tech = add_assignee(db, text)
        common = {
            "customer_name": text,
            "site_address": text,
            "meter_number": text,
            "assignee_id": tech,
            "status": "SETUP",
            "scheduled_date": TODAY,
            "account_number": text,
        }
        specs.append({**common, "site_id": text})
        specs.append({**common, "site_id": None})  # the site column shows the meter then
    return add_orders(db, specs)


def assert_safe(strips: Iterable[Strip], *, clickable_ok: bool = False) -> str:
    """No escape or control character, no link, no click action; returns the text."""
    texts = []
    for strip in strips:
        for segment in strip:
            assert isinstance(segment, Segment)
            text = segment.text
            assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, repr(text)
            style = segment.style
            if style is not None:
                assert style.link is None, repr(text)
                if not clickable_ok:
                    assert "@click" not in (style.meta or {}), repr(text)
        texts.append(strip.text)
    return "\n".join(texts)


def table_strips(app: WoTuiApp) -> list[Strip]:
    widget = table(app)
    return [widget.render_line(y) for y in range(widget.size.height)]


async def test_untrusted_text_is_shown_literally_and_harmlessly(db: Database) -> None:
    ids = hostile_orders(db)
    app = _app(db)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        shown = assert_safe(table_strips(app))
        for text in SHOWN:
            assert text in shown, text
        assert "[2J Ray" in shown
        assert sorted(shown_numbers(app)) == sorted(map(n, ids))
        # Moving over every row, marking each, marking all, inverting.
        for _ in ids:
            await pilot.press("space")
            assert_safe(table_strips(app))
        await pilot.press("g", "ctrl+a", "asterisk", "asterisk", "G", "V", "g", "V")
        shown = assert_safe(table_strips(app))
        assert all(line.startswith(MARK_GLYPH) for line in shown.splitlines()[1 : len(ids) + 1])
        # Sorting by each text column draws them again.
        for _ in range(10):
            await pilot.press("l", "o")
            await settle(pilot)
            assert_safe(table_strips(app))
        # The whole screen (footer aside, whose keys are clickable by design).
        assert_safe(app.screen._compositor.render_strips(), clickable_ok=True)
        # Filtering by the markup-looking text finds it literally, and echoes it as typed.
        await pilot.press("slash", *"[@click", "enter")
        await settle(pilot)
        assert "/[@click" in status_line(app)
        assert sorted(shown_numbers(app)) == sorted(map(n, ids[2:4]))
        assert_safe(app.screen._compositor.render_strips(), clickable_ok=True)
        await pilot.press("slash", *["backspace"] * len("[@click"), "enter")
        await settle(pilot)
        assert app.is_running
        assert isinstance(app.screen, DashboardScreen)
        # The confirmation and the outcome of completing them all.
        await pilot.press("escape", "ctrl+a", "c")
        assert isinstance(app.screen, ConfirmBulkScreen)
        assert_safe(app.screen._compositor.render_strips(), clickable_ok=True)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, BatchOutcomeScreen)
        assert_safe(app.screen._compositor.render_strips(), clickable_ok=True)
        assert app.is_running
    assert app.return_code is None or app.return_code == 0
    assert set(statuses(db, ids).values()) == {"COMPLETED"}


async def test_conflict_detail_naming_who_changed_it_is_cleaned(db: Database) -> None:
    o = mixed_orders(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await mark(pilot, o["misc"], o["later"])
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmBulkScreen)
        with db.write() as conn:  # another tool writes a hostile operator name
            conn.execute(
                update(work_orders)
                .where(work_orders.c.id == o["later"])
                .values(
                    version=work_orders.c.version + 1,
                    updated_by="[@click=app.quit]x\x1b]52;c;SGVsbG8=\x07",
                )
            )
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, BatchOutcomeScreen)
        assert "CONFLICT" in outcome_lines(app)
        assert_safe(app.screen._compositor.render_strips(), clickable_ok=True)


# -- a bulk action racing another process ------------------------------------------------------
OTHER_PROCESS = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from wo_tui.core.clock import fixed_clock
    from wo_tui.core.context import Context
    from wo_tui.core.db import connect
    from wo_tui.core import orders, status_changes

    url, how, order_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = connect(url)
    ctx = Context(db, "dispatcher-b", clock=fixed_clock(datetime(2026, 11, 26, 9, 31, 5)))
    if how == "hold":
        batch = status_changes.hold(ctx, [order_id], "customer asked to wait")
        assert batch.all_done, batch
    else:
        with db.read() as conn:
            version = orders.get_order(conn, order_id)["version"]
        orders.edit_order(ctx, order_id, version, {"customer_name": "Changed By B"})
    db.dispose()
    """
)


@pytest.mark.parametrize("how", ["hold", "edit"])
async def test_bulk_complete_racing_another_process(db: Database, db_url: str, how: str) -> None:
    o = mixed_orders(db)
    marked = [o["misc"], o["read_sent"], o["later"]]
    raced = o["read_sent"]
    app = _app(db, refresh_interval_seconds=600)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await mark(pilot, *marked)
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmBulkScreen)
        assert text_of(app, "#dialog-title") == "Complete 3 orders?"
        subprocess.run(
            [sys.executable, "-c", OTHER_PROCESS, db_url, how, str(raced)],
            check=True,
            timeout=60,
        )
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, BatchOutcomeScreen)
        assert text_of(app, "#dialog-title") == "2 completed, 0 skipped, 1 conflict"
        listed = outcome_lines(app)
        assert f"{n(raced)}  CONFLICT  changed by dispatcher-b at 2026-11-26 09:31:05" in listed
        assert listed.index(n(raced)) < listed.index("DONE")  # problems listed first
    rows = db_orders(db, marked)
    assert rows[o["misc"]]["status"] == rows[o["later"]]["status"] == "COMPLETED"
    assert rows[raced]["updated_by"] == "dispatcher-b"
    assert rows[raced]["completed_at"] is None
    if how == "hold":
        assert rows[raced]["status"] == "ON_HOLD"
        assert rows[raced]["hold_note"] == "customer asked to wait"
    else:
        assert rows[raced]["status"] == "SENT"
        assert rows[raced]["customer_name"] == "Changed By B"


# -- snapshots ------------------------------------------------------------------------------
SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


def _snapshot_data(ctx: Context) -> None:
    seed_orders(ctx, 60, seed=11)
    # seed_orders draws technicians from `SELECT id FROM assignees` without ORDER BY: SQLite
    # answers in name order (the unique index), PostgreSQL in id order, so the same seed
    # assigns different people. Reassign by order id so both databases draw the same picture.
    with ctx.db.write() as conn:
        techs = list(conn.execute(select(assignees.c.id).order_by(assignees.c.name)).scalars())
        for k, tech in enumerate(techs):
            conn.execute(
                update(work_orders)
                .where(
                    work_orders.c.assignee_id.is_not(None),
                    work_orders.c.id % len(techs) == k,
                )
                .values(assignee_id=tech)
            )


@SIZES
def test_snapshot_empty_queue(snap_compare: Any, db: Database, size: tuple[int, int]) -> None:
    assert snap_compare(_app(db), terminal_size=size, run_before=settle)


@SIZES
def test_snapshot_queue(
    snap_compare: Any, db: Database, ctx: Context, size: tuple[int, int]
) -> None:
    _snapshot_data(ctx)
    assert snap_compare(_app(db), terminal_size=size, run_before=settle)


@SIZES
def test_snapshot_marked_rows(
    snap_compare: Any, db: Database, ctx: Context, size: tuple[int, int]
) -> None:
    _snapshot_data(ctx)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("space", "j", "space", "space", "k")

    assert snap_compare(_app(db), terminal_size=size, run_before=run_before)


@SIZES
def test_snapshot_confirmation(
    snap_compare: Any, db: Database, ctx: Context, size: tuple[int, int]
) -> None:
    _snapshot_data(ctx)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("space", "space", "space", "space", "c")
        await pilot.pause()

    assert snap_compare(_app(db), terminal_size=size, run_before=run_before)


@SIZES
def test_snapshot_outcome(
    snap_compare: Any, db: Database, ctx: Context, size: tuple[int, int]
) -> None:
    _snapshot_data(ctx)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("space", "space", "space", "space", "c", "y")
        await settle(pilot)

    assert snap_compare(_app(db), terminal_size=size, run_before=run_before)


@SIZES
def test_snapshot_filter_typed(
    snap_compare: Any, db: Database, ctx: Context, size: tuple[int, int]
) -> None:
    _snapshot_data(ctx)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("slash", *"smith")
        await settle(pilot)

    assert snap_compare(_app(db), terminal_size=size, run_before=run_before)


def test_snapshot_data_is_what_the_pictures_show(db: Database, ctx: Context) -> None:
    """The snapshots depend on this data: if it changes they must be regenerated."""
    _snapshot_data(ctx)
    ids = queue_ids(db)
    assert len(ids) == 48
    assert ids[:4] == [46, 18, 28, 11]


async def test_a_read_slower_than_the_key_frame_still_shows_its_rows(
    db: Database, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sort or filter paints its rows with the key when the read is quick; a slower read
    (here: no wait at all) paints the key first and the rows when they come, and a stale
    read never overwrites a newer one."""
    import wo_tui.tui.screens.dashboard as dashboard_screen

    seed_orders(ctx, 120, seed=8)
    c = work_orders.c
    by_type = [n(i) for i in queue_ids(db, c.type_code, c.id)]
    monkeypatch.setattr(dashboard_screen, "READ_NOW_S", 0)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*"llll")  # status, priority, due, type
        await pilot.press("o")
        for _ in range(100):
            if shown_numbers(app) == by_type[:BODY]:
                break
            await pilot.pause(0.02)
        assert shown_numbers(app) == by_type[:BODY]
        assert "Type ▲" in lines(app)[0]
        await pilot.press("slash", *"type:special_read")
        reads = [n(i) for i in queue_ids(db, c.id, where=[c.type_code == "SPECIAL_READ"])]
        assert reads
        for _ in range(100):
            if shown_numbers(app) == reads[:BODY]:
                break
            await pilot.pause(0.02)
        assert shown_numbers(app) == reads[:BODY]
