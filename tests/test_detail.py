"""The order detail: what it reads (core), what it shows, its actions and their dialogs,
stepping through the queue, untrusted text, and snapshots."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from test_dashboard import (
    PAYLOADS,
    TODAY,
    _app,
    add_assignee,
    add_orders,
    assert_safe,
    db_orders,
    queue_ids,
    settle,
)
from test_dashboard import (
    notes as notifications,
)
from textual.widgets import Input, OptionList, Static

from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.detail import changes_since, last_history_id, load_detail, previous_reading
from wo_tui.core.models import events, history, notes, outbox, work_orders
from wo_tui.core.orders import add_note, edit_order
from wo_tui.tui.app import WoTuiApp
from wo_tui.tui.screens.cancel_reason import CancelReasonScreen
from wo_tui.tui.screens.detail import DetailScreen
from wo_tui.tui.screens.status_dialogs import AssignScreen, CompleteScreen, TextPromptScreen

from conftest import NOW

SIZE = (100, 40)


def rich_order(db: Database) -> dict[str, int]:
    """A disconnection at a life-support site with hazards, access details, an event, a
    follow-up reconnection, another open order at the site, emails, notes and history."""
    tech = add_assignee(db, "Sam Carter")
    with db.write() as conn:
        event_id = conn.execute(
            insert(events).returning(events.c.id),
            {
                "event_type": "non_payment",
                "occurred_at": NOW - timedelta(days=2),
                "external_ref": "BILL-77",
                "status": "processed",
            },
        ).scalar_one()
    first = add_orders(
        db,
        [
            {
                "type_code": "DISCONNECT",
                "priority": 1,
                "status": "SETUP",
                "life_support": True,
                "hazards": "Live wires near meter box",
                "access_details": "Key at the neighbour's, no. 12",
                "customer_name": "Lou Support",
                "site_id": "4102001234",
                "meter_number": "M0000001",
                "assignee_id": tech,
                "assigned_by": "dispatcher-a",
                "assigned_at": NOW - timedelta(hours=3),
                "due_date": TODAY - timedelta(days=2),
                "source": "non_payment",
                "source_event_id": event_id,
            },
        ],
    )[0]
    others = [
        add_orders(db, [spec])[0]
        for spec in (
            {"type_code": "RECONNECT", "related_order_id": first, "site_id": "4102001234"},
            {"type_code": "SPECIAL_READ", "site_id": "4102001234"},
            {"type_code": "MISC", "customer_name": "Plain Pat"},
        )
    ]
    with db.write() as conn:
        conn.execute(
            insert(outbox),
            [
                {
                    "work_order_id": first,
                    "kind": "assignment",
                    "recipient": "sam@utility.example",
                    "message_id": "<a@x>",
                    "status": "failed",
                    "last_reply": "550 mailbox unavailable",
                    "created_at": NOW - timedelta(hours=3),
                    "created_by": "dispatcher-a",
                },
            ],
        )
        conn.execute(
            insert(notes),
            {"work_order_id": first, "at": NOW, "author": "dispatcher-b", "body": "Call first"},
        )
        conn.execute(
            insert(history),
            {
                "work_order_id": first,
                "at": NOW - timedelta(hours=3),
                "actor": "dispatcher-a",
                "field": "assignee",
                "old_value": None,
                "new_value": "Sam Carter",
                "reason": "nearest tech",
            },
        )
    return {"ls": first, "reconnect": others[0], "same_site": others[1], "plain": others[2]}


def detail_screen(app: WoTuiApp) -> DetailScreen:
    assert isinstance(app.screen, DetailScreen), f"expected the detail, got {app.screen!r}"
    return app.screen


def shown(app: WoTuiApp) -> str:
    """Every text of the detail screen, as plain text."""
    screen = detail_screen(app)
    statics = [str(s.render()) for s in screen.query(Static)]
    return "\n".join([*statics, screen.page.text])


async def open_order(pilot: Any, order_id: int) -> None:
    await settle(pilot)
    await pilot.press("colon", *str(order_id), "enter")
    await pilot.pause()
    assert detail_screen(pilot.app).order_id == order_id


# -- core -----------------------------------------------------------------------------------
def test_load_detail_reads_everything_around_an_order(db: Database, ctx: Context) -> None:
    o = rich_order(db)
    with db.read() as conn:
        detail = load_detail(conn, o["ls"])
        follow = load_detail(conn, o["reconnect"])
    assert detail.number == f"WO-{o['ls']:06d}"
    assert detail.order["assignee_name"] == "Sam Carter"
    assert detail.type_name.startswith("Disconnection")
    assert [h["field"] for h in detail.history] == ["status", "assignee"]
    assert [n["body"] for n in detail.notes] == ["Call first"]
    assert [(e["status"], e["last_reply"]) for e in detail.emails] == [
        ("failed", "550 mailbox unavailable")
    ]
    assert detail.source_event is not None and detail.source_event["external_ref"] == "BILL-77"
    assert [(x.id, x.relation) for x in detail.linked] == [
        (o["reconnect"], "followed by"),
        (o["reconnect"], "same site"),
        (o["same_site"], "same site"),
    ]
    assert next((x.id, x.relation) for x in follow.linked) == (o["ls"], "follows")
    warnings = detail.warnings(TODAY)
    assert warnings[0] == "LIFE SUPPORT registered at this site"
    assert "HAZARDS: Live wires near meter box" in warnings
    assert "ACCESS: Key at the neighbour's, no. 12" in warnings
    assert "OVERDUE by 2 days" in warnings
    assert any(w.startswith("ANOTHER OPEN ORDER for this site") for w in warnings)
    with db.read() as conn:
        plain = load_detail(conn, o["plain"])
    assert plain.warnings(TODAY) == []


def test_changes_since_lists_what_others_wrote_after_a_point(db: Database, ctx: Context) -> None:
    (order_id,) = add_orders(db, [{}])
    with db.read() as conn:
        seen = last_history_id(conn, order_id)
    edit_order(ctx, order_id, 1, {"customer_name": "New Name", "priority": "High"})
    with db.read() as conn:
        later = changes_since(conn, order_id, seen)
    assert {(h["field"], h["new_value"]) for h in later} == {
        ("customer_name", "New Name"),
        ("priority", "High"),
    }


def test_previous_reading_is_the_newest_on_the_same_meter(db: Database) -> None:
    add_orders(
        db,
        [
            {"status": "COMPLETED", "reading": "100", "meter_number": "MX", "completed_at": NOW},
            {
                "status": "COMPLETED",
                "reading": "250.5",
                "meter_number": "MX",
                "completed_at": NOW + timedelta(hours=1),
            },
            {"status": "COMPLETED", "reading": "999", "meter_number": "ZZ", "completed_at": NOW},
        ],
    )
    with db.read() as conn:
        found = previous_reading(conn, None, "MX")
        assert previous_reading(conn, None, "NONE") is None
    assert found is not None and found.reading == "250.5"


# -- opening, moving --------------------------------------------------------------------------
async def test_enter_opens_the_detail_of_the_cursor_row_and_esc_goes_back(db: Database) -> None:
    o = rich_order(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = queue_ids(db)[0]
        await pilot.press("enter")
        assert detail_screen(app).order_id == first
        text = shown(app)
        assert "⚠ LIFE SUPPORT registered at this site" in text
        assert "⚠ HAZARDS: Live wires near meter box" in text
        assert "Sam Carter (internal)" in text
        assert "FAILED  assignment to sam@utility.example" in text
        assert "550 mailbox unavailable" in text
        assert "non_payment ref BILL-77" in text
        assert f"followed by  WO-{o['reconnect']:06d}" in text
        assert "dispatcher-a  assignee: — → Sam Carter  why: nearest tech" in text
        assert "dispatcher-b  Call first" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_colon_number_opens_the_detail(db: Database) -> None:
    o = rich_order(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, o["plain"])
        assert "Plain Pat" in shown(app)
        await pilot.press("q")
        await pilot.press("colon", *"99999", "enter")
        assert "there is no work order WO-099999" in notifications(app)
        assert not isinstance(app.screen, DetailScreen)


async def test_brackets_step_through_the_queue_in_its_order(db: Database) -> None:
    add_orders(db, [{"priority": p} for p in (3, 1, 2, 1)])
    order = queue_ids(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        seen = [detail_screen(app).order_id]
        for _ in order[1:]:
            await pilot.press("right_square_bracket")
            seen.append(detail_screen(app).order_id)
        assert seen == order
        await pilot.press("right_square_bracket")
        assert "No more orders that way in the list" in notifications(app)[-1]
        assert detail_screen(app).order_id == order[-1]
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert detail_screen(app).order_id == order[-3]
        assert f"WO-{order[-3]:06d}" in shown(app)
        await pilot.press("escape")
        await settle(pilot)
        # The dashboard's cursor followed.
        assert app.screen.view.current_id == order[-3]  # type: ignore[attr-defined]
        # Opened by number with the cursor elsewhere: ] steps from that order.
        await pilot.press("g", "colon", *str(order[2]), "enter", "right_square_bracket")
        assert detail_screen(app).order_id == order[3]


async def test_a_long_trail_is_read_after_the_fields_are_shown(db: Database) -> None:
    (order_id,) = add_orders(db, [{"customer_name": "Busy Bee"}])
    with db.write() as conn:
        conn.execute(
            insert(history),
            [
                {
                    "work_order_id": order_id,
                    "at": NOW,
                    "actor": f"d{i}",
                    "field": "instructions",
                    "old_value": f"old {i}",
                    "new_value": f"new {i}",
                }
                for i in range(300)
            ],
        )
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        screen = detail_screen(app)
        assert "Busy Bee" in screen.page.text  # the fields at once
        await settle(pilot)
        text = shown(app)
        assert "History (301)" in text
        assert "d299  instructions: old 299 → new 299" in text
        await pilot.press("G")
        assert screen.page.scroll_y == screen.page.max_scroll_y > 300


# -- actions ------------------------------------------------------------------------------------
async def test_m_adds_a_note(db: Database) -> None:
    (order_id,) = add_orders(db, [{}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order_id)
        await pilot.press("m")
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press("enter")
        assert "This is required." in str(app.screen.query_one("#dialog-error", Static).render())
        await pilot.press(*"Gate code 4321", "enter")
        assert "Gate code 4321" in shown(app)
        assert "Notes (1)" in shown(app)
    with db.read() as conn:
        bodies = list(conn.execute(select(notes.c.body)).scalars())
    assert bodies == ["Gate code 4321"]


async def test_complete_a_read_type_with_a_reading(db: Database) -> None:
    (order_id,) = add_orders(db, [{"type_code": "SPECIAL_READ", "meter_number": "MR1"}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order_id)
        await pilot.press("c")
        assert isinstance(app.screen, CompleteScreen)
        await pilot.press("tab", "tab", *"12x", "enter")  # outcome → reason → reading
        error = str(app.screen.query_one("#dialog-error", Static).render())
        assert "'12x' is not a plain number: type the digits 0-9" in error
        await pilot.press("backspace", *"34.5", "enter")
        assert isinstance(app.screen, DetailScreen)
        assert "reading          1234.5" in shown(app)
    row = db_orders(db, [order_id])[order_id]
    assert (row["status"], row["reading"], row["reading_to_follow"]) == ("COMPLETED", "1234.5", 0)


async def test_a_reading_lower_than_the_previous_one_asks_for_confirmation(db: Database) -> None:
    add_orders(
        db,
        [{"status": "COMPLETED", "reading": "5000", "meter_number": "MR1", "completed_at": NOW}],
    )
    (order_id,) = add_orders(db, [{"type_code": "SPECIAL_READ", "meter_number": "MR1"}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order_id)
        await pilot.press("c")
        reading = app.screen.query_one("#reading", Input)
        assert "previous 5000" in reading.placeholder
        reading.focus()
        await pilot.press(*"4000", "enter")
        assert isinstance(app.screen, CompleteScreen)
        error = str(app.screen.query_one("#dialog-error", Static).render())
        assert "4000 is lower than the previous reading 5000" in error
        assert db_orders(db, [order_id])[order_id]["status"] == "NEW"
        await pilot.press("enter")  # confirmed
        assert isinstance(app.screen, DetailScreen)
    assert db_orders(db, [order_id])[order_id]["reading"] == "4000"


async def test_complete_without_a_reading_records_reading_to_follow(db: Database) -> None:
    (order_id,) = add_orders(db, [{"type_code": "FINAL_READ"}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order_id)
        await pilot.press("c", "tab", "tab", "enter")
        assert "reading          to follow" in shown(app)
    assert db_orders(db, [order_id])[order_id]["reading_to_follow"]


async def test_complete_not_done_needs_a_reason(db: Database) -> None:
    (order_id,) = add_orders(db, [{}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order_id)
        await pilot.press("c", "down", "enter")  # Not done, then on to the reason
        assert app.screen.query_one("#reason", Input).has_focus
        await pilot.press("enter")
        assert "Say why" in str(app.screen.query_one("#dialog-error", Static).render())
        await pilot.press(*"Nobody home", "enter")
        assert isinstance(app.screen, DetailScreen)
    row = db_orders(db, [order_id])[order_id]
    assert (row["outcome"], row["outcome_reason"], row["fee_code"]) == (
        "not_done",
        "Nobody home",
        None,
    )


async def test_life_support_disconnection_needs_an_override_reason(db: Database) -> None:
    o = rich_order(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, o["ls"])
        await pilot.press("c")
        assert isinstance(app.screen, CompleteScreen)
        assert app.screen.query_one("#override", Input).has_focus
        app.screen.query_one("#note", Input).focus()
        await pilot.press("enter")
        error = str(app.screen.query_one("#dialog-error", Static).render())
        assert "needs an override reason" in error
        assert db_orders(db, [o["ls"]])[o["ls"]]["status"] == "SETUP"
        await pilot.press(*"Customer deregistered, confirmed by phone", "enter")
        assert isinstance(app.screen, DetailScreen)
        assert "life-support override: Customer deregistered" in shown(app)
    assert db_orders(db, [o["ls"]])[o["ls"]]["status"] == "COMPLETED"
    with db.read() as conn:
        reasons = list(
            conn.execute(
                select(history.c.reason).where(
                    history.c.work_order_id == o["ls"], history.c.field == "status"
                )
            ).scalars()
        )
    assert reasons[-1] == "life-support override: Customer deregistered, confirmed by phone"


async def test_cancel_with_a_reason_and_reopen(db: Database) -> None:
    (order_id,) = add_orders(db, [{}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order_id)
        await pilot.press("x")
        assert isinstance(app.screen, CancelReasonScreen)
        await pilot.press("down", "enter", *"raised twice", "enter")  # Duplicate
        assert isinstance(app.screen, DetailScreen)
        assert "CANCELLED" in shown(app)
        assert "cancel reason    Duplicate" in shown(app)
        row = db_orders(db, [order_id])[order_id]
        assert (row["cancel_reason"], row["cancel_note"]) == ("duplicate", "raised twice")
        await pilot.press("e")
        assert "reopens it before editing" in notifications(app)[-1]
        await pilot.press("r")
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press(*"Customer called back", "enter")
        assert " NEW " in shown(app)
        assert "status: CANCELLED → NEW  why: Customer called back" in shown(app)
    assert db_orders(db, [order_id])[order_id]["status"] == "NEW"


async def test_hold_needs_a_note(db: Database) -> None:
    (order_id,) = add_orders(db, [{}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order_id)
        await pilot.press("h", "enter")
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press(*"No access", "enter")
        assert "hold note        No access" in shown(app)
        assert db_orders(db, [order_id])[order_id]["status"] == "ON_HOLD"
        await pilot.press("h", "enter")  # on a held order: release, the note is optional
        assert " NEW " in shown(app)
    assert db_orders(db, [order_id])[order_id]["status"] == "NEW"


async def test_cancel_life_support_disconnection_asks_for_the_override(db: Database) -> None:
    o = rich_order(db)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, o["ls"])
        await pilot.press("x", "enter", "enter")  # Customer requested, no note
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press("escape")  # no override: nothing happens
        assert db_orders(db, [o["ls"]])[o["ls"]]["status"] == "SETUP"
        await pilot.press("x", "enter", "enter", *"Moved out, deregistered", "enter")
    assert db_orders(db, [o["ls"]])[o["ls"]]["status"] == "CANCELLED"


async def test_assign_with_a_date(db: Database) -> None:
    (order_id,) = add_orders(db, [{}])
    add_assignee(db, "Ann Lee")
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order_id)
        await pilot.press("a")
        assert isinstance(app.screen, AssignScreen)
        await pilot.press("enter", *"3/12")
        assert "Thu 3 Dec 2026" in str(app.screen.query_one("#date-shown", Static).render())
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        assert "Ann Lee (internal)" in shown(app)
    row = db_orders(db, [order_id])[order_id]
    assert (row["status"], str(row["scheduled_date"])) == ("SETUP", "2026-12-03")


async def test_a_conflicting_status_change_is_reported_not_applied(
    db: Database, ctx: Context
) -> None:
    (order_id,) = add_orders(db, [{}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order_id)
        edit_order(
            Context(db, "dispatcher-b", clock=ctx.clock), order_id, 1, {"customer_name": "B"}
        )
        await pilot.press("h", *"wait", "enter")
        assert any("conflict" in n for n in notifications(app))
        assert "customer         B" in shown(app)
    assert db_orders(db, [order_id])[order_id]["status"] == "NEW"


# -- untrusted text ---------------------------------------------------------------------------
async def test_untrusted_text_in_every_field_is_shown_literally(db: Database, ctx: Context) -> None:
    payload = " | ".join(PAYLOADS)
    tech = add_assignee(db, PAYLOADS[1])
    long_text = (
        "site_address",
        "instructions",
        "materials",
        "access_details",
        "hazards",
        "completion_note",
        "outcome_reason",
        "hold_note",
        "cancel_note",
    )
    # Columns of 40-200 characters get one payload each (PostgreSQL enforces the lengths).
    short = {"account_number": 3, "customer_name": 1, "meter_number": 2, "meter_location": 4}
    (order_id,) = add_orders(
        db,
        [
            {
                **dict.fromkeys(long_text, payload),
                **{k: PAYLOADS[i] for k, i in short.items()},
                "site_id": PAYLOADS[0],
                "assignee_id": tech,
                "created_by": PAYLOADS[2],
            }
        ],
    )
    with db.write() as conn:
        conn.execute(
            insert(history),
            {
                "work_order_id": order_id,
                "at": NOW,
                "actor": PAYLOADS[3],
                "field": "customer_name",
                "old_value": payload,
                "new_value": payload,
                "reason": payload,
            },
        )
        conn.execute(
            insert(outbox),
            {
                "work_order_id": order_id,
                "kind": "assignment",
                "recipient": PAYLOADS[1],
                "message_id": "<p@x>",
                "status": "failed",
                "last_reply": payload,
                "created_at": NOW,
                "created_by": "x",
            },
        )
        conn.execute(
            insert(notes),
            {"work_order_id": order_id, "at": NOW, "author": PAYLOADS[2], "body": payload},
        )
    app = _app(db)
    async with app.run_test(size=(160, 60)) as pilot:
        await open_order(pilot, order_id)
        for _ in range(8):
            text = assert_safe(app.screen._compositor.render_strips(), clickable_ok=True)
            await pilot.press("pagedown")
        text = shown(app)
        for literal in ("[link=http://x]Bob", "[@click=app.quit]Eve", "Smith [/bold] Jr"):
            assert literal in text
        assert "]52;c;SGVsbG8=" in text and "\x1b" not in text and "\x07" not in text
        await pilot.press("c")  # the dialogs show the order's number only; still safe
        assert_safe(app.screen._compositor.render_strips(), clickable_ok=True)
        await pilot.press("escape", "a")
        assert isinstance(app.screen, AssignScreen)
        assert "[@click=app.quit]Eve" in str(
            app.screen.query_one(OptionList).get_option_at_index(0).prompt
        )
        assert_safe(app.screen._compositor.render_strips(), clickable_ok=True)
        await pilot.press("escape")
        assert app.is_running
    with db.read() as conn:
        assert conn.execute(select(work_orders.c.status)).scalar_one() == "NEW"


# -- snapshots ----------------------------------------------------------------------------------
SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


def _snapshot_orders(db: Database, ctx: Context) -> dict[str, int]:
    o = rich_order(db)
    with db.write() as conn:
        conn.execute(
            work_orders.update()
            .where(work_orders.c.id == o["plain"])
            .values(
                instructions="Read the meter and check the seal.\nLeave a card if nobody is home.",
                site_address="12 Test St, Newtown NSW 2042",
                scheduled_date=TODAY + timedelta(days=7),
            )
        )
    add_note(ctx, o["plain"], "Customer prefers mornings")
    return o


@SIZES
def test_snapshot_detail_plain_order(
    snap_compare: Any, db: Database, ctx: Context, size: tuple[int, int]
) -> None:
    o = _snapshot_orders(db, ctx)

    async def run_before(pilot: Any) -> None:
        await open_order(pilot, o["plain"])

    assert snap_compare(_app(db), terminal_size=size, run_before=run_before)


@SIZES
def test_snapshot_detail_life_support_order(
    snap_compare: Any, db: Database, ctx: Context, size: tuple[int, int]
) -> None:
    o = _snapshot_orders(db, ctx)

    async def run_before(pilot: Any) -> None:
        await open_order(pilot, o["ls"])

    assert snap_compare(_app(db), terminal_size=size, run_before=run_before)
