"""The new / edit order form: creating from empty, editing, each validation problem shown
beside its field with nothing saved, what typed dates were understood as, Esc asking
before discarding, and the conflict view when another process saved first."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from sqlalchemy import func, select
from test_dashboard import _app, add_assignee, add_orders, db_orders, settle
from test_detail import open_order, shown
from textual.widgets import Checkbox, Select, Static, TextArea

from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.models import history, work_orders
from wo_tui.core.statuses import Priority
from wo_tui.tui.app import WoTuiApp
from wo_tui.tui.screens.confirm import ConfirmBulkScreen
from wo_tui.tui.screens.conflict import ConflictScreen
from wo_tui.tui.screens.detail import DetailScreen
from wo_tui.tui.screens.order_form import OrderFormScreen

SIZE = (100, 50)
VALID_NMI = "4102001234"  # no check digit: accepted as typed


def nmi_with_check() -> str:
    from wo_tui.core.nmi import nmi_checksum

    return VALID_NMI + str(nmi_checksum(VALID_NMI))


def count_orders(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(work_orders)).scalar_one())


def form(app: WoTuiApp) -> OrderFormScreen:
    assert isinstance(app.screen, OrderFormScreen), f"expected the form, got {app.screen!r}"
    return app.screen


def hint(app: WoTuiApp, name: str) -> str:
    widget = form(app).query_one(f"#hint-{name}", Static)
    return str(widget.render()) if widget.display else ""


def field(app: WoTuiApp, name: str) -> Any:
    return form(app).query_one(f"#field-{name}")


async def type_into(pilot: Any, name: str, text: str, *, clear: bool = True) -> None:
    widget = field(pilot.app, name)
    widget.focus()
    await pilot.pause()
    if clear:
        if isinstance(widget, TextArea):
            widget.clear()
        else:
            widget.value = ""
    await pilot.press(*text)


async def choose(pilot: Any, name: str, index: int) -> None:
    """Pick the index-th option of a select with the keyboard."""
    widget = field(pilot.app, name)
    widget.focus()
    await pilot.press("enter")
    await pilot.pause()
    blank = 1 if widget._allow_blank else 0  # the "choose" line comes first
    await pilot.press("home", *["down"] * (index + blank), "enter")
    await pilot.pause()


# -- new order ------------------------------------------------------------------------------
async def test_create_an_order_from_empty(db: Database) -> None:
    add_assignee(db, "Sam Carter")
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        assert field(app, "type_code").has_focus
        types = sorted(form(app).types)
        await choose(pilot, "type_code", types.index("SPECIAL_READ"))
        assert field(app, "type_code").value == "SPECIAL_READ"
        # The type sets the defaults and marks its required fields.
        assert field(app, "priority").value == form(app).types["SPECIAL_READ"].default_priority
        assert field(app, "due_date").value != ""
        assert "→ " in hint(app, "due_date")
        labels = {
            f: str(form(app).query_one(f"#label-{f}").render())
            for f in form(app).types["SPECIAL_READ"].required_fields
        }
        assert all(label.endswith("*") for label in labels.values()), labels
        await type_into(pilot, "account_number", "ACC-1")
        await type_into(pilot, "customer_name", "Nina New")
        await type_into(pilot, "site_address", "1 New St, Newtown NSW 2042")
        await type_into(pilot, "site_id", nmi_with_check())
        await type_into(pilot, "meter_number", "MNEW1")
        await type_into(pilot, "scheduled_date", "3/12/2026")
        assert hint(app, "scheduled_date") == "→ Thu 3 Dec 2026 (in 7 days)"
        await type_into(pilot, "window", "8-12")
        assert hint(app, "window") == "→ 08:00 to 12:00"
        await type_into(pilot, "instructions", "Ring the bell")
        await type_into(pilot, "hazards", "Dog")
        field(app, "life_support").focus()
        await pilot.press("space")
        await choose(pilot, "assignee", 0)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert "Nina New" in shown(app)
    with db.read() as conn:
        row = conn.execute(select(work_orders)).mappings().one()
    assert row["type_code"] == "SPECIAL_READ"
    assert (row["customer_name"], row["site_id"], row["meter_number"]) == (
        "Nina New",
        nmi_with_check(),
        "MNEW1",
    )
    assert str(row["scheduled_date"]) == "2026-12-03"
    assert (str(row["window_start"]), str(row["window_end"])) == ("08:00:00", "12:00:00")
    assert row["life_support"] and row["hazards"] == "Dog"
    assert row["status"] == "SETUP" and row["assignee_id"] is not None


@pytest.mark.parametrize(
    ("name", "typed", "problem"),
    [
        ("site_id", "41020012342", "NMI check digit should be"),
        ("scheduled_date", "31/2/2026", "is not a real date"),
        ("preferred_date", "someday", "could not understand 'someday' as a date"),
        ("window", "12-8", "the window must end after it starts"),
        ("window", "lunch", "could not understand 'lunch' as a time window"),
        ("customer_name", "x" * 201, "at most 200 characters"),
        ("site_address", "", "required for a"),
    ],
)
async def test_each_validation_problem_is_shown_beside_its_field_and_nothing_is_saved(
    db: Database, name: str, typed: str, problem: str
) -> None:
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await choose(pilot, "type_code", sorted(form(app).types).index("MISC"))
        await type_into(pilot, "site_address", "1 Good St")
        await type_into(pilot, name, typed)
        field(app, "type_code").focus()
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, OrderFormScreen)
        assert problem in hint(app, name)
        assert hint(app, name).startswith("✗")
        assert field(app, name).has_class("-invalid")
        assert field(app, name).has_focus  # the first bad field
        assert "Not saved: 1 field to fix" in str(form(app).query_one("#form-error").render())
        others = [f for f in ("account_number", "customer_name", "meter_number") if f != name]
        assert all(not hint(app, f) for f in others)
    assert count_orders(db) == 0


async def test_several_problems_at_once_and_no_type(db: Database) -> None:
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_into(pilot, "site_id", "41020012342")
        await type_into(pilot, "due_date", "nope")
        await pilot.press("ctrl+s")
        assert "choose the type of job" in hint(app, "type_code")
        assert "NMI check digit" in hint(app, "site_id")
        assert "could not understand 'nope'" in hint(app, "due_date")
        assert field(app, "type_code").has_focus
        # Fixing them saves.
        await choose(pilot, "type_code", sorted(form(app).types).index("MISC"))
        await type_into(pilot, "site_id", nmi_with_check())
        await type_into(pilot, "due_date", "+2d")
        await type_into(pilot, "site_address", "2 Fixed St")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
    assert count_orders(db) == 1


async def test_esc_asks_before_discarding_changes(db: Database) -> None:
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n", "escape")  # nothing typed: leaves at once
        assert not isinstance(app.screen, OrderFormScreen)
        await pilot.press("n")
        await type_into(pilot, "customer_name", "Half typed")
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmBulkScreen)
        await pilot.press("n")
        assert field(app, "customer_name").value == "Half typed"
        await pilot.press("escape", "y")
        assert not isinstance(app.screen, (OrderFormScreen, ConfirmBulkScreen))
    assert count_orders(db) == 0


# -- editing --------------------------------------------------------------------------------
async def test_edit_an_order(db: Database) -> None:
    (order_id,) = add_orders(db, [{"customer_name": "Old Name", "instructions": "Old"}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order_id)
        await pilot.press("e")
        assert field(app, "customer_name").value == "Old Name"
        assert field(app, "type_code").disabled
        await type_into(pilot, "customer_name", "New Name")
        await type_into(pilot, "instructions", "Use the side gate")
        await choose(pilot, "priority", 0)
        await type_into(pilot, "site_id", "41020012342")
        await pilot.press("ctrl+s")
        assert "NMI check digit" in hint(app, "site_id")
        assert db_orders(db, [order_id])[order_id]["customer_name"] == "Old Name"
        await type_into(pilot, "site_id", "")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, DetailScreen)
        assert "New Name" in shown(app)
    row = db_orders(db, [order_id])[order_id]
    assert (row["customer_name"], row["instructions"], row["priority"], row["version"]) == (
        "New Name",
        "Use the side gate",
        Priority.HIGH,
        2,
    )
    with db.read() as conn:
        fields = set(
            conn.execute(
                select(history.c.field).where(history.c.work_order_id == order_id)
            ).scalars()
        )
    assert {"customer_name", "instructions", "priority"} <= fields
    assert "site_id" not in fields  # unchanged fields are not sent


# -- conflict -------------------------------------------------------------------------------
OTHER_EDIT = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from wo_tui.core.clock import fixed_clock
    from wo_tui.core.context import Context
    from wo_tui.core.db import connect
    from wo_tui.core import orders

    url, order_id = sys.argv[1], int(sys.argv[2])
    db = connect(url)
    ctx = Context(db, "dispatcher-b", clock=fixed_clock(datetime(2026, 11, 26, 9, 31, 5)))
    with db.read() as conn:
        version = orders.get_order(conn, order_id)["version"]
    orders.edit_order(ctx, order_id, version, {"meter_number": "M-THEIRS", "materials": "Seal"})
    db.dispose()
    """
)


def other_process_edits(db_url: str, order_id: int) -> None:
    subprocess.run(
        [sys.executable, "-c", OTHER_EDIT, db_url, str(order_id)], check=True, timeout=60
    )


async def _conflict(pilot: Any, db_url: str, order_id: int) -> ConflictScreen:
    app = pilot.app
    await open_order(pilot, order_id)
    await pilot.press("e")
    await type_into(pilot, "customer_name", "Mine Name")
    other_process_edits(db_url, order_id)
    await pilot.press("ctrl+s")
    assert isinstance(app.screen, ConflictScreen)
    return app.screen


async def test_conflict_shows_theirs_and_mine_and_reapplies_mine(db: Database, db_url: str) -> None:
    (order_id,) = add_orders(db, [{"customer_name": "Original", "meter_number": "M1"}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _conflict(pilot, db_url, order_id)
        body = str(screen.query_one("#conflict-body", Static).render())
        assert "dispatcher-b  meter: M1 → M-THEIRS" in body
        assert "dispatcher-b  materials: — → Seal" in body
        assert "customer: Original → Mine Name" in body
        title = str(screen.query_one("#dialog-title", Static).render())
        assert "was changed by dispatcher-b after you opened it" in title
        assert db_orders(db, [order_id])[order_id]["customer_name"] == "Original"
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
    row = db_orders(db, [order_id])[order_id]
    assert (row["customer_name"], row["meter_number"], row["materials"], row["version"]) == (
        "Mine Name",
        "M-THEIRS",
        "Seal",
        3,
    )


async def test_conflict_reload_discards_mine(db: Database, db_url: str) -> None:
    (order_id,) = add_orders(db, [{"customer_name": "Original", "meter_number": "M1"}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _conflict(pilot, db_url, order_id)
        await pilot.press("l")
        assert isinstance(app.screen, OrderFormScreen)
        assert field(app, "customer_name").value == "Original"
        assert field(app, "meter_number").value == "M-THEIRS"
        assert form(app).would_lose() is None  # their version is the unchanged one now
        await type_into(pilot, "customer_name", "Second Try")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, DetailScreen)
    row = db_orders(db, [order_id])[order_id]
    assert (row["customer_name"], row["meter_number"], row["version"]) == (
        "Second Try",
        "M-THEIRS",
        3,
    )


async def test_conflict_escape_goes_back_to_the_form_unsaved(db: Database, db_url: str) -> None:
    (order_id,) = add_orders(db, [{"customer_name": "Original"}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _conflict(pilot, db_url, order_id)
        await pilot.press("escape")
        assert isinstance(app.screen, OrderFormScreen)
        assert field(app, "customer_name").value == "Mine Name"
    assert db_orders(db, [order_id])[order_id]["customer_name"] == "Original"


# -- untrusted text in the form -------------------------------------------------------------
async def test_untrusted_text_in_the_form_is_literal(db: Database) -> None:
    from test_dashboard import PAYLOADS, assert_safe

    add_assignee(db, PAYLOADS[1])
    (order_id,) = add_orders(
        db, [{"customer_name": PAYLOADS[0], "instructions": PAYLOADS[2], "hazards": PAYLOADS[3]}]
    )
    app = _app(db)
    async with app.run_test(size=(160, 60)) as pilot:
        await open_order(pilot, order_id)
        await pilot.press("e")
        assert field(app, "customer_name").value == PAYLOADS[0]
        assert "\x1b" not in field(app, "hazards").text
        assert_safe(app.screen._compositor.render_strips(), clickable_ok=True)
        assert isinstance(field(app, "life_support"), Checkbox)
        assert isinstance(field(app, "assignee"), Select)
        assert app.is_running


# -- snapshots ------------------------------------------------------------------------------
SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


@SIZES
def test_snapshot_form_with_errors(snap_compare: Any, db: Database, size: tuple[int, int]) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("n")
        await choose(pilot, "type_code", sorted(form(pilot.app).types).index("RECONNECT"))
        await type_into(pilot, "customer_name", "Nina [bold]New")
        await type_into(pilot, "site_id", "41020012342")
        await type_into(pilot, "scheduled_date", "3/12")
        await type_into(pilot, "window", "12-8")
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(_app(db), terminal_size=size, run_before=run_before)


@SIZES
def test_snapshot_conflict_view(
    snap_compare: Any, db: Database, db_url: str, size: tuple[int, int]
) -> None:
    (order_id,) = add_orders(db, [{"customer_name": "Original", "meter_number": "M1"}])

    async def run_before(pilot: Any) -> None:
        await _conflict(pilot, db_url, order_id)
        await pilot.pause()

    assert snap_compare(_app(db), terminal_size=size, run_before=run_before)


def test_the_form_checks_with_the_shared_models(ctx: Context) -> None:
    """The form's parser hands the core exactly what it validates (no rules of its own)."""
    from wo_tui.tui.screens.order_form_fields import to_model

    data, problems = to_model(
        {"type_code": None, "site_id": " 4102 0012 34 ", "window": "8am-12pm"},
        ctx.today(),
        new=True,
        order_type=None,
    )
    assert problems == {"type_code": "choose the type of job"}
    assert str(data["window_start"]) == "08:00:00"
    _, problems = to_model(
        {"type_code": "MISC", "window": "", "priority": None},
        ctx.today(),
        new=True,
        order_type=None,
    )
    assert problems == {}
