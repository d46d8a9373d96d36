"""Nothing typed is lost without asking: every way out of a form or dialog that holds
unsaved typing (Esc, `Q`, `ctrl+q`, the command palette's Quit) asks first, and so does
quitting with marked rows; the question defaults to No. With nothing to lose, leaving and
quitting stay one key. The last test runs the real command in a pseudo-terminal."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from test_dashboard import _app, add_assignee, add_orders, settle
from test_dashboard_e2e import _spawn
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.events import add_event
from wo_tui.core.models import events, work_orders
from wo_tui.tui.app import WoTuiApp
from wo_tui.tui.screens.assignees import AssigneeFormScreen
from wo_tui.tui.screens.cancel_reason import CancelReasonScreen
from wo_tui.tui.screens.confirm import ConfirmBulkScreen
from wo_tui.tui.screens.dashboard import DashboardScreen
from wo_tui.tui.screens.order_form import OrderFormScreen
from wo_tui.tui.screens.prompt import TextPromptScreen as ReasonPromptScreen
from wo_tui.tui.screens.status_dialogs import AssignScreen, CompleteScreen, TextPromptScreen

from conftest import PG_URL, PtyRun

SIZE = (100, 40)
Opener = Callable[[Pilot[Any]], Awaitable[None]]


async def keys(pilot: Pilot[Any], *pressed: str) -> None:
    await pilot.press(*pressed)
    await settle(pilot)


async def from_detail(pilot: Pilot[Any], key: str) -> None:
    await keys(pilot, "enter", key)  # the cursor row's detail, then the dialog


async def discard_event(pilot: Pilot[Any]) -> None:
    await keys(pilot, "B", "d")  # the dead event is the only row


@dataclass(frozen=True)
class Protected:
    """A screen that holds typing worth keeping, and how a test reaches and fills it."""

    name: str
    open: Opener
    kind: type[Screen[Any]]
    field: str
    """A text field to type into."""
    other: str | None
    """A widget that takes no text (`Q` quits from there); None when every field does."""
    lost: str
    """What leaving it after typing would lose, as the questions say it."""


PROTECTED = [
    Protected(
        "new order",
        lambda p: keys(p, "n"),
        OrderFormScreen,
        "#field-customer_name",
        "#field-life_support",
        "discard the new order",
    ),
    Protected(
        "edit order",
        lambda p: keys(p, "e"),
        OrderFormScreen,
        "#field-customer_name",
        "#field-life_support",
        "discard your changes to WO-000001",
    ),
    Protected(
        "new technician",
        lambda p: keys(p, "T", "n"),
        AssigneeFormScreen,
        "#name",
        "#kind",
        "discard the new assignee",
    ),
    Protected(
        "edit technician",
        lambda p: keys(p, "T", "e"),
        AssigneeFormScreen,
        "#email",
        "#kind",
        "discard your changes to Sam Carter",
    ),
    Protected(
        "hold note",
        lambda p: from_detail(p, "h"),
        TextPromptScreen,
        "#text",
        None,
        "discard what you typed",
    ),
    Protected(
        "complete",
        lambda p: from_detail(p, "c"),
        CompleteScreen,
        "#reading",
        "#outcome",
        "discard what you typed",
    ),
    Protected(
        "assign",
        lambda p: keys(p, "a"),
        AssignScreen,
        "#note",
        "#reasons",
        "discard what you typed",
    ),
    Protected(
        "cancel reason",
        lambda p: keys(p, "x"),
        CancelReasonScreen,
        "#note",
        "#reasons",
        "discard what you typed",
    ),
    Protected(
        "discard event reason",
        discard_event,
        ReasonPromptScreen,
        "#answer",
        None,
        "discard what you typed",
    ),
]


def start(db: Database, ctx: Context) -> WoTuiApp:
    """One open read order (the cursor row), a technician and a dead billing event."""
    add_assignee(db, "Sam Carter")
    add_orders(db, [{"type_code": "SPECIAL_READ", "customer_name": "Ann Able"}])
    dead = add_event(ctx, "move_in", external_ref="B-1", customer_name="Eve")
    with db.write() as conn:
        conn.execute(update(events).where(events.c.id == dead).values(status="dead"))
    return _app(db)


@asynccontextmanager
async def opened(
    db: Database, ctx: Context, where: Protected
) -> AsyncIterator[tuple[WoTuiApp, Pilot[Any], Screen[Any]]]:
    """The app with the screen `where` open (nothing typed yet)."""
    app = start(db, ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await where.open(pilot)
        assert isinstance(app.screen, where.kind), app.screen
        yield app, pilot, app.screen


async def type_in(pilot: Pilot[Any], where: Protected, text: str) -> None:
    field = pilot.app.screen.query_one(where.field, Input)
    field.focus()
    await pilot.press("end", *text)
    assert field.value.endswith(text)


async def palette_quit(pilot: Pilot[Any]) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*"quit")
    await pilot.pause(0.3)  # the palette searches in a worker
    await pilot.press("enter")
    await settle(pilot)


async def press_q(pilot: Pilot[Any], where: Protected) -> None:
    """`Q` from a widget that takes no text (in a text field it is a letter)."""
    assert where.other is not None
    pilot.app.screen.query_one(where.other).focus()
    await keys(pilot, "Q")


QUITS: dict[str, Callable[[Pilot[Any], Protected], Awaitable[None]]] = {
    "ctrl+q": lambda p, _: keys(p, "ctrl+q"),
    "Q": press_q,
    "palette": lambda p, _: palette_quit(p),
}
WAYS = ["escape", *QUITS]


async def go_out(pilot: Pilot[Any], where: Protected, way: str) -> None:
    if way == "escape":
        await keys(pilot, "escape")
    else:
        await QUITS[way](pilot, where)


def question(app: WoTuiApp) -> str:
    assert isinstance(app.screen, ConfirmBulkScreen), f"no question: {app.screen!r}"
    return app.screen.title_text


EACH_WAY_OUT = pytest.mark.parametrize(
    ("where", "way"),
    [
        pytest.param(where, way, id=f"{where.name}-{way}")
        for where in PROTECTED
        for way in WAYS
        if way != "Q" or where.other is not None  # else Q is a letter (test below)
    ],
)


@EACH_WAY_OUT
async def test_every_way_out_of_a_screen_with_typing_asks_first(
    db: Database, ctx: Context, where: Protected, way: str
) -> None:
    async with opened(db, ctx, where) as (app, pilot, screen):
        await type_in(pilot, where, "12345 kept")
        await go_out(pilot, where, way)
        expected = (
            f"{where.lost[0].upper()}{where.lost[1:]}?"
            if way == "escape"
            else f"Quit and {where.lost}?"
        )
        assert question(app) == expected
        await keys(pilot, "enter")  # the default answer: No
        assert app.is_running and app.screen is screen
        assert screen.query_one(where.field, Input).value.endswith("12345 kept")
        await go_out(pilot, where, way)
        assert question(app) == expected
        await keys(pilot, "n")
        assert app.is_running and app.screen is screen
        await go_out(pilot, where, way)
        await keys(pilot, "y")
        if way == "escape":
            assert app.is_running and screen not in app.screen_stack
        else:
            assert not app.is_running
    assert count_orders(db) == 1  # nothing was saved on the way out


@EACH_WAY_OUT
async def test_with_nothing_typed_every_way_out_is_one_key(
    db: Database, ctx: Context, where: Protected, way: str
) -> None:
    async with opened(db, ctx, where) as (app, pilot, screen):
        await go_out(pilot, where, way)
        if way == "escape":
            assert screen not in app.screen_stack
            assert not isinstance(app.screen, ConfirmBulkScreen)
        else:
            assert not app.is_running


@pytest.mark.parametrize("where", [p for p in PROTECTED if p.other is None], ids=lambda p: p.name)
async def test_q_in_a_text_field_is_a_letter(db: Database, ctx: Context, where: Protected) -> None:
    async with opened(db, ctx, where) as (app, pilot, screen):
        await type_in(pilot, where, "Quiet Q")
        assert app.is_running and app.screen is screen


async def test_typing_then_undoing_it_leaves_at_once(db: Database, ctx: Context) -> None:
    async with opened(db, ctx, PROTECTED[0]) as (app, pilot, _):
        await type_in(pilot, PROTECTED[0], "x")
        await keys(pilot, "backspace", "ctrl+q")
        assert not app.is_running


# -- marks ----------------------------------------------------------------------------------
QUIT_KEYS = ["q", "Q", "ctrl+q", "palette"]


async def quit_by(pilot: Pilot[Any], key: str) -> None:
    if key == "palette":
        await palette_quit(pilot)
    else:
        await keys(pilot, key)


@asynccontextmanager
async def queue_of(db: Database, orders: int) -> AsyncIterator[tuple[WoTuiApp, Pilot[Any]]]:
    """The app on a queue of `orders` orders, the cursor on the first."""
    add_orders(db, [{}] * orders)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        yield app, pilot


@pytest.mark.parametrize("key", QUIT_KEYS)
async def test_quitting_with_marks_asks_once_and_defaults_to_no(db: Database, key: str) -> None:
    async with queue_of(db, 4) as (app, pilot):
        await keys(pilot, "space", "space", "space")
        await quit_by(pilot, key)
        assert question(app) == "Quit and drop 3 marks?"
        await keys(pilot, "ctrl+q")  # a quit key again: still the one question
        assert [type(s) for s in app.screen_stack].count(ConfirmBulkScreen) == 1
        await keys(pilot, "enter")  # No
        assert isinstance(app.screen, DashboardScreen)
        assert len(app.screen.view.marks) == 3
        await quit_by(pilot, key)
        await keys(pilot, "y")
        assert not app.is_running


@pytest.mark.parametrize("key", QUIT_KEYS)
async def test_quitting_without_marks_is_one_key(db: Database, key: str) -> None:
    async with queue_of(db, 2) as (app, pilot):
        await keys(pilot, "space", "escape")  # marked, then the marks cleared
        await quit_by(pilot, key)
        assert not app.is_running


async def test_one_mark_is_said_in_the_singular(db: Database) -> None:
    async with queue_of(db, 2) as (app, pilot):
        await keys(pilot, "space", "q")
        assert question(app) == "Quit and drop 1 mark?"


async def test_marks_and_a_changed_form_make_one_question(db: Database) -> None:
    async with queue_of(db, 2) as (app, pilot):
        await keys(pilot, "space", "space", "n")
        await type_in(pilot, PROTECTED[0], "Nina")
        await keys(pilot, "ctrl+q")
        assert question(app) == "Quit and discard the new order and drop 2 marks?"
        await keys(pilot, "y")
        assert not app.is_running


async def test_quit_from_a_screen_above_the_marked_queue_asks(db: Database) -> None:
    async with queue_of(db, 2) as (app, pilot):
        await keys(pilot, "space", "k", "enter")  # a detail over the marked queue
        await keys(pilot, "Q")
        assert question(app) == "Quit and drop 1 mark?"


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_quit_question(snap_compare: Any, db: Database, size: tuple[int, int]) -> None:
    add_orders(db, [{}] * 5)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await keys(pilot, "space", "space", "n")
        await type_in(pilot, PROTECTED[0], "Nina")
        await keys(pilot, "ctrl+q")

    assert snap_compare(_app(db), terminal_size=size, run_before=run_before)


def count_orders(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(work_orders)).scalar_one())


# -- the real command -----------------------------------------------------------------------
@pytest.mark.skipif(bool(PG_URL), reason="the command is run on an SQLite file")
def test_ctrl_q_on_a_changed_form_asks_in_a_terminal(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    add_orders(db, [{}])
    child = _spawn(db_url, tmp_path)
    with PtyRun(child) as pty:
        pty.expect("1 shown")
        pty.send("n")
        pty.expect("New work order")
        pty.send("\t")  # from the type to the account number (the focus moves a turn later)
        time.sleep(0.5)
        pty.send("ACC-77")
        pty.send("\x11")  # ctrl+q
        pty.expect("Quit and discard the new order?")
        pty.send("n")  # No: back to the form, with the typing (so it asks again)
        pty.send("\x11")
        pty.expect("Quit and discard the new order?")
        pty.send("y")
        pty.finish()
    assert pty.exitstatus == 0, pty.written[-2000:]
    assert count_orders(db) == 1
