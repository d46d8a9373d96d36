"""The dashboard keeps what the dispatcher set up while the view changes around it: marks
through a filter and a sort, the filter through a refresh, and a new row's highlight only
for a while. Each test checks the screen and, where data changes, the database."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from test_dashboard import (
    BODY,
    SIZE,
    TODAY,
    _app,
    add_orders,
    counts_part,
    cursor_number,
    dashboard,
    lines,
    mark,
    n,
    queue_ids,
    settle,
    shown_numbers,
    status_line,
    statuses,
    table,
    text_of,
)
from textual.pilot import Pilot
from textual.widgets import Input

import wo_tui.tui.screens.dashboard as dashboard_screen
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database, connect
from wo_tui.core.models import work_orders
from wo_tui.core.orders import create_order
from wo_tui.tui.app import WoTuiApp
from wo_tui.tui.screens.confirm import ConfirmBulkScreen
from wo_tui.tui.screens.outcome import BatchOutcomeScreen
from wo_tui.tui.widgets.queue_table import MARK_GLYPH

from conftest import NOW


def marked_on_screen(app: WoTuiApp) -> list[str]:
    """The numbers of the rows drawn with the mark glyph, top to bottom."""
    return [
        line[2:11] for line in lines(app)[1:] if line[2:5] == "WO-" and line.startswith(MARK_GLYPH)
    ]


def add_by_another_writer(db_url: str, **fields: Any) -> int:
    """Create an order through the services on a connection of its own, as another
    dispatcher's session would."""
    other = connect(db_url)
    try:
        return create_order(
            Context(other, "dispatcher-b", clock=fixed_clock(NOW)),
            {"type_code": "MISC", "site_address": "1 Other St", **fields},
        )
    finally:
        other.dispose()


async def wait_until(pilot: Pilot[Any], condition: Any, *, seconds: float = 2.0) -> bool:
    """Let the app run until `condition()` holds (True) or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await pilot.pause(0.05)
    return True


NAMES = ["Ann Smith", "Bob Jones", "Cat Smith", "Dan Brown", "Eve Smith", "Fay Green"]


# -- marks through a filter -------------------------------------------------------------------
async def test_marks_hidden_by_a_filter_stay_marked_and_the_bulk_action_takes_them(
    db: Database,
) -> None:
    ids = add_orders(db, [{"customer_name": name} for name in NAMES])
    ann, bob, cat, dan, eve, fay = ids
    marked = [ann, bob, dan, eve]
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_numbers(app) == [n(i) for i in ids]
        await mark(pilot, *marked)
        assert marked_on_screen(app) == [n(i) for i in marked]
        assert counts_part(app) == "4 marked / 6 shown / 6 open"

        # A filter that hides two of the marked rows (Bob and Dan).
        await pilot.press("slash", *"smith")
        await settle(pilot)
        assert shown_numbers(app) == [n(ann), n(cat), n(eve)]
        assert marked_on_screen(app) == [n(ann), n(eve)]
        # The footer still counts the hidden marks: that is how the dispatcher knows.
        assert counts_part(app) == "4 marked / 3 shown / 6 open"
        await pilot.press("escape")  # closes the line; must not clear the marks
        await settle(pilot)
        assert "/smith" in status_line(app)
        assert dashboard(app).view.marks == set(marked)
        assert counts_part(app) == "4 marked / 3 shown / 6 open"

        # A bulk action now says that two of the orders it takes are not on the list.
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmBulkScreen)
        assert text_of(app, "#dialog-title") == "Complete 4 orders?"
        assert "2 of them are marked but not on the list: the filter hides them." in text_of(
            app, "#dialog-body"
        )
        await pilot.press("n")
        await settle(pilot)
        assert statuses(db, marked) == dict.fromkeys(marked, "NEW")

        # Clear the filter: `/` shows it selected, backspace erases it, Enter closes.
        await pilot.press("slash")
        assert app.screen.query_one("#filter", Input).value == "smith"
        await pilot.press("backspace")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "/smith" not in status_line(app)
        assert shown_numbers(app) == [n(i) for i in ids]
        assert marked_on_screen(app) == [n(i) for i in marked]
        assert dashboard(app).view.marks == set(marked)
        assert counts_part(app) == "4 marked / 6 shown / 6 open"

        # The bulk action takes every mark, the ones the filter had hidden included.
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmBulkScreen)
        assert text_of(app, "#dialog-title") == "Complete 4 orders?"
        assert "not on the list" not in text_of(app, "#dialog-body")
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, BatchOutcomeScreen)
        assert text_of(app, "#dialog-title") == "4 completed, 0 skipped, 0 conflicts"
        await pilot.press("escape")
        await settle(pilot)
        assert shown_numbers(app) == [n(cat), n(fay)]
        assert counts_part(app) == "0 marked / 2 shown / 2 open"
    assert statuses(db, ids) == {
        ann: "COMPLETED",
        bob: "COMPLETED",
        cat: "NEW",
        dan: "COMPLETED",
        eve: "COMPLETED",
        fay: "NEW",
    }


# -- marks through a sort ---------------------------------------------------------------------
async def test_marks_follow_their_orders_through_a_sort_and_its_reverse(db: Database) -> None:
    # 40 orders in number order by default; by customer name the order is reversed, so the
    # rows marked at the top end up below the screen.
    count = 40
    ids = add_orders(db, [{"customer_name": f"Cust {count - k:02d}"} for k in range(count)])
    marked = [ids[0], ids[1], ids[4]]
    c = work_orders.c
    by_customer = [n(i) for i in queue_ids(db, c.customer_name, c.id)]
    assert by_customer == [n(i) for i in reversed(ids)]
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await mark(pilot, *marked)
        await pilot.press("j")  # the cursor on an unmarked order
        assert marked_on_screen(app) == [n(i) for i in marked]
        assert counts_part(app) == f"3 marked / {count} shown / {count} open"

        await pilot.press(*"lllll")  # status, priority, due, type, customer
        assert table(app).cursor_column.key == "customer"
        await pilot.press("o")
        await settle(pilot)
        assert "Customer ▲" in lines(app)[0]
        assert shown_numbers(app) == by_customer[:BODY]
        assert marked_on_screen(app) == []  # below the screen now, still marked
        assert dashboard(app).view.marks == set(marked)
        assert counts_part(app) == f"3 marked / {count} shown / {count} open"
        await pilot.press("G")
        assert shown_numbers(app) == by_customer[-BODY:]
        assert marked_on_screen(app) == [n(ids[4]), n(ids[1]), n(ids[0])]
        # The cursor is on one drawn row, and it is the order the view says it is on.
        assert cursor_number(app) == n(dashboard(app).view.current_id or 0)

        await pilot.press("O")
        await settle(pilot)
        assert "Customer ▼" in lines(app)[0]
        assert shown_numbers(app) == [n(i) for i in ids][:BODY]
        assert marked_on_screen(app) == [n(i) for i in marked]
        assert dashboard(app).view.marks == set(marked)
        assert counts_part(app) == f"3 marked / {count} shown / {count} open"
        assert cursor_number(app) == n(dashboard(app).view.current_id or 0)

        # The marks, not the rows now where they were, are what the action takes.
        await pilot.press("c")
        assert text_of(app, "#dialog-title") == "Complete 3 orders?"
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert counts_part(app) == f"0 marked / {count - 3} shown / {count - 3} open"
    done = {i for i, s in statuses(db, ids).items() if s == "COMPLETED"}
    assert done == set(marked)


# -- the filter through a refresh -------------------------------------------------------------
@pytest.mark.parametrize("how", ["r", "timer"])
async def test_a_refresh_keeps_the_filter_and_the_marks(
    db: Database, db_url: str, how: str
) -> None:
    ids = add_orders(db, [{"customer_name": name} for name in NAMES])
    ann, _bob, cat, _dan, eve, _fay = ids
    app = _app(db, refresh_interval_seconds=600 if how == "r" else 0.5)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"smith", "enter")
        await settle(pilot)
        assert shown_numbers(app) == [n(ann), n(cat), n(eve)]
        await pilot.press("j", "space")  # marks Cat
        assert counts_part(app) == "1 marked / 3 shown / 6 open"

        # Another dispatcher adds one order the filter matches and one it does not; both
        # sort among the rows on screen (same priority, an earlier due date).
        due = TODAY + timedelta(days=1)
        matching = add_by_another_writer(
            db_url, customer_name="Zed Smith", priority=3, due_date=due
        )
        other = add_by_another_writer(db_url, customer_name="Zed Jones", priority=3, due_date=due)
        assert n(matching) not in shown_numbers(app)

        if how == "r":
            await pilot.press("r")
        assert await wait_until(pilot, lambda: n(matching) in shown_numbers(app))
        await settle(pilot)
        assert shown_numbers(app) == [n(matching), n(ann), n(cat), n(eve)]
        assert n(other) not in shown_numbers(app)
        assert "/smith" in status_line(app)
        assert dashboard(app).query_text == "smith"
        assert marked_on_screen(app) == [n(cat)]
        assert dashboard(app).view.marks == {cat}
        assert cursor_number(app) == n(eve)  # the cursor stayed on its order
        assert counts_part(app) == "1 marked / 4 shown / 8 open"
        # `/` shows the filter still in force.
        await pilot.press("slash")
        assert app.screen.query_one("#filter", Input).value == "smith"
        await pilot.press("escape")
        await settle(pilot)
        assert shown_numbers(app) == [n(matching), n(ann), n(cat), n(eve)]
    with db.read() as conn:  # both writes happened: the filter, not a lost write, hid one
        stored = conn.execute(
            work_orders.select().where(work_orders.c.id.in_([matching, other]))
        ).all()
    assert len(stored) == 2


# -- the new-row highlight ----------------------------------------------------------------
async def test_the_new_row_highlight_goes_away_after_its_time(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The highlight lasts FRESH_SECONDS (4 s); a shorter time keeps the test quick.
    monkeypatch.setattr(dashboard_screen, "FRESH_SECONDS", 0.5)
    ids = add_orders(db, [{} for _ in range(5)])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        widget = table(app)
        fresh_bg = widget.get_component_rich_style("queue-table--fresh").bgcolor

        def highlighted() -> list[str]:
            """The numbers drawn with the 'new' background."""
            found = []
            for y in range(1, widget.size.height):
                strip = widget.render_line(y)
                cell = next((s for s in strip if "WO-" in s.text), None)
                if cell is not None and cell.style is not None and cell.style.bgcolor == fresh_bg:
                    found.append(cell.text.strip()[:9])
            return found

        assert highlighted() == []
        new_id = add_by_another_writer(db_url, due_date=TODAY + timedelta(days=30))
        await pilot.press("r")
        await settle(pilot)
        assert shown_numbers(app) == [n(i) for i in [*ids, new_id]]
        assert highlighted() == [n(new_id)]
        assert await wait_until(pilot, lambda: not highlighted()), "still highlighted"
        assert widget.fresh == set()
        assert n(new_id) in shown_numbers(app)  # the row stays; only its highlight went
        # A later refresh does not highlight it again: it is no longer new.
        await pilot.press("r")
        await settle(pilot)
        assert highlighted() == []


async def test_each_refresh_s_new_rows_keep_their_own_highlight_time(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows that come with a second refresh stay highlighted when the first refresh's time
    is up (it ends the highlight of its own rows only). The margins are wide (1.5 s between
    the refreshes, 3 s of highlight): with 1 s and 0.5 s, a loaded CI machine took longer
    than the gap to settle the second refresh, and the first rows' time was up already."""
    monkeypatch.setattr(dashboard_screen, "FRESH_SECONDS", 3.0)
    add_orders(db, [{} for _ in range(3)])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        widget = table(app)
        first = add_by_another_writer(db_url, due_date=TODAY + timedelta(days=30))
        await pilot.press("r")
        await settle(pilot)
        await pilot.pause(1.5)
        second = add_by_another_writer(db_url, due_date=TODAY + timedelta(days=31))
        await pilot.press("r")
        await settle(pilot)
        assert widget.fresh == {first, second}
        assert await wait_until(pilot, lambda: first not in widget.fresh, seconds=5), "first new"
        assert widget.fresh == {second}
        assert await wait_until(pilot, lambda: not widget.fresh, seconds=5), "second still new"


async def test_assign_says_how_many_marked_orders_the_filter_hides(db: Database) -> None:
    from wo_tui.tui.screens.status_dialogs import AssignScreen

    ids = add_orders(db, [{"customer_name": name} for name in NAMES])
    ann, bob = ids[:2]
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await mark(pilot, ann, bob)
        await pilot.press("slash", *"smith", "enter")
        await settle(pilot)
        assert shown_numbers(app)[0] == n(ann)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AssignScreen)
        title = text_of(app, "#dialog-title")
        assert title == "Assign 2 orders (1 of them hidden by the filter) to"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("slash", "ctrl+u", "enter")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert text_of(app, "#dialog-title") == "Assign 2 orders to"
    assert statuses(db, ids) == dict.fromkeys(ids, "NEW")
