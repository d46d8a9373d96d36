"""The Events and Assignees screens: listing, retry and discard of a dead event, adding,
editing and deactivating an assignee, each checked on the screen and in the database; and
untrusted text shown literally."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from sqlalchemy import select, update
from textual.widgets import DataTable, Input, Static

from wo_tui.config import load_settings
from wo_tui.core import assignees as assignee_service
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.events import add_event
from wo_tui.core.models import assignees, events
from wo_tui.tui.app import WoTuiApp, make_app
from wo_tui.tui.screens.assignees import AssigneeFormScreen, AssigneesScreen
from wo_tui.tui.screens.events import EventsScreen
from wo_tui.tui.screens.prompt import TextPromptScreen

from conftest import NOW

SIZE = (120, 30)
PAYLOADS = ("[link=http://x]Bob", "[@click=app.quit]Eve", "Smith [/bold] Jr")


def _app(db: Database) -> WoTuiApp:
    settings = load_settings(None, environ={}, overrides={"ui": {"refresh_interval_seconds": 600}})
    return make_app(settings, Context(db, "dispatcher-a", clock=fixed_clock(NOW)))


def _cells(app: WoTuiApp) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def _dead_event(ctx: Context, ref: str, customer: str = "Ann") -> int:
    event_id = add_event(ctx, "move_in", external_ref=ref, customer_name=customer)
    with ctx.db.write() as conn:
        conn.execute(
            update(events)
            .where(events.c.id == event_id)
            .values(status="dead", attempts=5, last_error="no site address: cannot dispatch")
        )
    return event_id


def _event(db: Database, event_id: int) -> Any:
    with db.read() as conn:
        return conn.execute(select(events).where(events.c.id == event_id)).mappings().one()


async def test_events_screen_lists_dead_and_pending_with_the_error(ctx: Context) -> None:
    dead = _dead_event(ctx, "B-1", customer=PAYLOADS[0])
    add_event(ctx, "move_out", external_ref="B-2", customer_name=PAYLOADS[1])
    app = _app(ctx.db)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(EventsScreen())
        await pilot.pause()
        rows = _cells(app)
        assert [r[1] for r in rows] == ["dead", "pending"]
        assert rows[0][0] == str(dead)
        assert rows[0][9] == PAYLOADS[0]  # literally, not as a link
        assert rows[1][9] == PAYLOADS[1]
        detail = app.screen.query_one("#records-detail", Static)
        assert "no site address: cannot dispatch" in str(detail.render())
        status = str(app.screen.query_one("#records-status", Static).render())
        assert "1 pending" in status and "1 dead" in status
        assert app.is_running  # the [@click=app.quit] payload did nothing


async def test_retry_puts_a_dead_event_back_to_pending(ctx: Context) -> None:
    dead = _dead_event(ctx, "B-1")
    app = _app(ctx.db)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(EventsScreen())
        await pilot.pause()
        await pilot.press("R")
        await pilot.pause()
        assert _event(ctx.db, dead)["status"] == "pending"
        assert [r[1] for r in _cells(app)] == ["pending"]


async def test_retry_of_a_pending_event_says_why_not(ctx: Context) -> None:
    pending = add_event(ctx, "move_in", external_ref="B-9")
    app = _app(ctx.db)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(EventsScreen())
        await pilot.pause()
        await pilot.press("R", "d")
        await pilot.pause()
        assert _event(ctx.db, pending)["status"] == "pending"
        assert not isinstance(app.screen, TextPromptScreen)
        assert any("not dead" in str(n.message) for n in app._notifications)


async def test_discard_needs_a_reason_and_keeps_it(ctx: Context) -> None:
    dead = _dead_event(ctx, "B-1")
    app = _app(ctx.db)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(EventsScreen())
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press("enter")  # empty: refused
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        assert "required" in str(app.screen.query_one("#dialog-error", Static).render())
        assert _event(ctx.db, dead)["status"] == "dead"
        await pilot.press(*"test data", "enter")
        await pilot.pause()
        assert isinstance(app.screen, EventsScreen)
        row = _event(ctx.db, dead)
        assert row["status"] == "discarded"
        assert "test data" in (row["last_error"] or "")
        await pilot.press("a")  # every event: the discarded one is listed again
        await pilot.pause()
        assert [r[1] for r in _cells(app)] == ["discarded"]


def _assignee(db: Database, name: str) -> Any:
    with db.read() as conn:
        return conn.execute(select(assignees).where(assignees.c.name == name)).mappings().first()


async def _fill(pilot: Any, app: WoTuiApp, **values: str) -> None:
    for name, value in values.items():
        field = app.screen.query_one(f"#{name}", Input)
        field.value = value
    await pilot.pause()


async def test_add_an_assignee_with_errors_beside_the_fields_first(ctx: Context) -> None:
    app = _app(ctx.db)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(AssigneesScreen())
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, AssigneeFormScreen)
        await _fill(pilot, app, name="", email="not-an-address")
        await pilot.press("ctrl+s")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, AssigneeFormScreen)
        assert "required" in str(form.query_one("#name-error", Static).render())
        assert "not an email address" in str(form.query_one("#email-error", Static).render())
        assert _assignee(ctx.db, "Kim Lee") is None
        await _fill(pilot, app, name="Kim Lee", email="kim@utility.example", phone="0400 000 000")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, AssigneesScreen)
        row = _assignee(ctx.db, "Kim Lee")
        assert (row["email"], row["phone"], row["kind"], row["active"]) == (
            "kim@utility.example",
            "0400 000 000",
            "internal",
            True,
        )
        assert _cells(app)[0][:3] == ["Kim Lee", "Internal technician", "kim@utility.example"]


async def test_edit_and_deactivate_an_assignee(ctx: Context) -> None:
    assignee_service.add_assignee(ctx, "Kim Lee", "external", "kim@utility.example")
    app = _app(ctx.db)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(AssigneesScreen())
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        await _fill(pilot, app, email="kim.lee@utility.example")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert _assignee(ctx.db, "Kim Lee")["email"] == "kim.lee@utility.example"
        await pilot.press("D")
        await pilot.pause()
        assert _assignee(ctx.db, "Kim Lee")["active"] is False
        assert _cells(app)[0][4] == "deactivated"
        await pilot.press("D")
        await pilot.pause()
        assert _assignee(ctx.db, "Kim Lee")["active"] is True


def test_cells_are_literal_text() -> None:
    from wo_tui.tui.screens.records import cell

    value = cell("\x1b]52;c;aGk=\x07[bold]x")
    assert isinstance(value, Text)
    assert "\x1b" not in value.plain and "\x07" not in value.plain
    assert value.plain.endswith("[bold]x") and not value.spans


async def test_keys_open_the_screens_from_the_dashboard_and_q_comes_back(ctx: Context) -> None:
    from wo_tui.tui.screens.dashboard import DashboardScreen
    from wo_tui.tui.screens.outbox import OutboxScreen

    app = _app(ctx.db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key, kind in (("B", EventsScreen), ("M", OutboxScreen), ("T", AssigneesScreen)):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, kind), key
            await pilot.press("q")
            await pilot.pause()
            assert isinstance(app.screen, DashboardScreen)
