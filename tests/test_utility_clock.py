"""One clock for the utility: `[sla] timezone` names the utility's time zone, and every
process computes its dates and shows its times in it, whatever its own `TZ`.

The in-process tests fix the clock at MOMENT, when the utility's date (Sydney, Friday) is
not the UTC date (Thursday), and run the same thing with the machine's zone set to UTC and
to Sydney (`time.tzset`): the answers must be the same, and the utility's. The subprocess
tests cannot fix the clock; they use two zones 26 hours apart (Pacific/Kiritimati, UTC+14,
and Etc/GMT+12, UTC-12), whose dates differ at every moment, so that a date taken from the
process's own zone is always caught.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from textual.widgets import DataTable, Static

from wo_tui import cli
from wo_tui.cli.runtime import Runtime
from wo_tui.core.assignees import add_assignee
from wo_tui.core.assignment import assign_orders
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.dates import add_business_days, parse_date
from wo_tui.core.db import Database, connect
from wo_tui.core.errors import Conflict
from wo_tui.core.events import add_event
from wo_tui.core.models import events, outbox, work_orders
from wo_tui.core.orders import create_order, edit_order, order_types
from wo_tui.core.seed import seed_orders
from wo_tui.core.status_changes import bulk_complete
from wo_tui.tui.app import WoTuiApp, make_app
from wo_tui.tui.screens.dashboard import DashboardScreen
from wo_tui.tui.screens.detail import DetailScreen

from conftest import isolate_cli

UTILITY = "Australia/Sydney"
MOMENT = datetime(2026, 11, 26, 14, 30)
"""Thursday 26 November 2026, 14:30 UTC: Friday 27 November, 01:30 in Sydney (AEDT)."""
UTILITY_TODAY = MOMENT.replace(tzinfo=UTC).astimezone(ZoneInfo(UTILITY)).date()
MACHINE_ZONES = ("UTC", UTILITY)
"""The machine zones every answer is asked under: a worker on a UTC server, a dispatcher
in Sydney."""
SCRIPT = Path(sys.executable).with_name("wo-tui")
CREATE = ("orders", "create", "--type", "MISC", "--address", "1 A St")
"""`orders create` of an order without a due date (the SLA gives it)."""


def set_machine_zone(monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
    """Make `zone` the process's local time zone (what `TZ` does for a new process)."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()


@pytest.fixture(autouse=True)
def _utility_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The command line isolated (no user config), its clock at MOMENT, the utility in
    Sydney; the machine's zone back to UTC afterwards."""
    assert MOMENT.date() != UTILITY_TODAY, "MOMENT must be when the two dates differ"
    isolate_cli(monkeypatch, tmp_path, "clock-tester")
    monkeypatch.setattr(
        "wo_tui.cli.runtime.Context", functools.partial(Context, clock=fixed_clock(MOMENT))
    )
    monkeypatch.setenv("WO_TUI_SLA__TIMEZONE", UTILITY)
    yield
    set_machine_zone(monkeypatch, "UTC")


def wo(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> str:
    """Run `wo-tui --db URL argv...` in-process; returns stdout (the command must succeed)."""
    capsys.readouterr()
    status = cli.run(["--db", db_url, *argv])
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


def listing(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> list[dict[str, Any]]:
    return list(json.loads(wo(capsys, db_url, "orders", "list", "--format", "json", *argv)))


def sla_days(db_url: str, type_code: str) -> int:
    db = connect(db_url)
    try:
        with db.read() as conn:
            return order_types(conn)[type_code].sla_business_days
    finally:
        db.dispose()


# -- the command line, in-process with the fixed clock ------------------------------------
def test_orders_create_takes_its_due_date_from_the_utility_s_today(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    due: dict[str, str] = {}
    for machine in MACHINE_ZONES:
        set_machine_zone(monkeypatch, machine)
        number = wo(capsys, db_url, *CREATE)
        rows = {row["number"]: row for row in listing(capsys, db_url)}
        due[machine] = rows[number.strip()]["due"]
    expected = add_business_days(UTILITY_TODAY, sla_days(db_url, "MISC")).isoformat()
    assert due == {machine: expected for machine in MACHINE_ZONES}


def test_overdue_and_due_today_are_the_utility_s(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    yesterday = (UTILITY_TODAY - timedelta(days=1)).isoformat()  # the UTC date at MOMENT
    late = wo(capsys, db_url, *CREATE, "--due-date", yesterday).strip()
    today = wo(capsys, db_url, *CREATE, "--due-date", UTILITY_TODAY.isoformat()).strip()
    for machine in MACHINE_ZONES:
        set_machine_zone(monkeypatch, machine)
        overdue = listing(capsys, db_url, "--filter", "overdue")
        assert [row["number"] for row in overdue] == [late], machine
        due_today = listing(capsys, db_url, "--filter", "due:today")
        assert [row["number"] for row in due_today] == [today], machine
        flags = {row["number"]: row["overdue"] for row in listing(capsys, db_url)}
        assert flags == {late: True, today: False}, machine


@pytest.mark.parametrize("word", ["today", "tomorrow", "fri", "+2d", "26/11"])
def test_dates_typed_are_counted_from_the_utility_s_today(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_url: str, word: str
) -> None:
    wo(capsys, db_url, "technicians", "add", "Sam Field", "--email", "sam@field.example")
    scheduled: dict[str, str] = {}
    for machine in MACHINE_ZONES:
        set_machine_zone(monkeypatch, machine)
        number = wo(capsys, db_url, *CREATE).strip()
        wo(capsys, db_url, "orders", "assign", number, "--to", "Sam Field", "--date", word)
        rows = {row["number"]: row for row in listing(capsys, db_url)}
        scheduled[machine] = rows[number]["scheduled"]
    expected = parse_date(word, UTILITY_TODAY).isoformat()
    assert scheduled == {machine: expected for machine in MACHINE_ZONES}


def test_orders_from_billing_events_are_due_from_the_utility_s_today(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    due: dict[str, list[str]] = {}
    for machine in MACHINE_ZONES:
        set_machine_zone(monkeypatch, machine)
        ref = f"BILL-{machine}"
        wo(
            capsys,
            db_url,
            "events",
            "add",
            "special_read_request",
            "--ref",
            ref,
            "--address",
            "1 A St",
            "--meter",
            "M1234567",
        )
        before = {row["number"] for row in listing(capsys, db_url)}
        wo(capsys, db_url, "worker", "--once")
        due[machine] = [
            row["due"] for row in listing(capsys, db_url) if row["number"] not in before
        ]
    expected = add_business_days(UTILITY_TODAY, sla_days(db_url, "SPECIAL_READ")).isoformat()
    assert due == {machine: [expected] for machine in MACHINE_ZONES}


def test_orders_show_gives_times_in_the_utility_s_zone(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    number = wo(capsys, db_url, *CREATE)
    local = f"{MOMENT.replace(tzinfo=UTC).astimezone(ZoneInfo(UTILITY)):%Y-%m-%d %H:%M}"
    for machine in MACHINE_ZONES:
        set_machine_zone(monkeypatch, machine)
        shown = wo(capsys, db_url, "orders", "show", number.strip())
        assert f"created at           {local}" in shown, machine
        history = shown.split("History:")[1]
        assert history.strip().startswith(f"{local}  clock-tester  status"), machine
        assert f"{MOMENT:%Y-%m-%d %H:%M}" not in shown, machine


# -- the settings --------------------------------------------------------------------------
def test_config_check_prints_the_zone(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    out = wo(capsys, db_url, "config", "check")
    section = out.split("[sla]\n", 1)[1]
    assert section.startswith(f'timezone = "{UTILITY}" (AE')  # AEDT or AEST, by the season
    assert "UTC+1" in section.splitlines()[0]


def test_config_check_says_an_unset_zone_is_the_machine_s(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    monkeypatch.delenv("WO_TUI_SLA__TIMEZONE")
    out = wo(capsys, db_url, "config", "check")
    assert "[sla]\ntimezone = (not set: this machine's, UTC, UTC+00:00 now)\n" in out


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("Australia/Sydny", "did you mean 'Australia/Sydney'?"),
        ("australia/sydney", "did you mean 'Australia/Sydney'?"),
        ("Sydney", "did you mean 'Australia/Sydney'?"),
        ("", "use a tz database name such as 'Australia/Sydney'"),
        ("../../etc/passwd", ""),
        ("Australia", ""),
    ],
)
def test_an_unknown_zone_is_a_config_error_naming_the_key(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    typed: str,
    hint: str,
) -> None:
    monkeypatch.setenv("WO_TUI_SLA__TIMEZONE", typed)
    capsys.readouterr()
    assert cli.run(["--db", db_url, "orders", "list"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    prefix = "wo-tui: config: environment variable WO_TUI_SLA__TIMEZONE: unknown time zone; "
    assert err.startswith(prefix) and err.count("\n") == 1, err
    assert hint in err


def test_an_unknown_zone_in_the_file_names_the_file_and_the_key(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    db_url: str,
) -> None:
    monkeypatch.delenv("WO_TUI_SLA__TIMEZONE")
    config = tmp_path / "wo.toml"
    config.write_text('[sla]\ntimezone = "Europe/Lodnon"\n', encoding="utf-8")
    capsys.readouterr()
    assert cli.run(["--config", str(config), "--db", db_url, "config", "check"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"wo-tui: config: {config}: [sla] timezone: unknown time zone; "
        "did you mean 'Europe/London'?\n"
    )


# -- the app, under both machine zones -----------------------------------------------------
@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No background jobs and no timed refresh in the app (`utility_app`)."""
    monkeypatch.setenv("WO_TUI_EVENTS__POLL_IN_APP", "false")
    monkeypatch.setenv("WO_TUI_SMTP__SEND_FROM_APP", "false")
    monkeypatch.setenv("WO_TUI_UI__REFRESH_INTERVAL_SECONDS", "600")


def utility_app(db_url: str) -> WoTuiApp:
    """The app as `wo-tui` builds it (settings and context from the Runtime): its clock at
    MOMENT, the utility in Sydney."""
    runtime = Runtime(None, db_url)
    return make_app(runtime.settings, runtime.context())


async def settle(app: WoTuiApp, pilot: Any) -> None:
    for _ in range(2):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()


def utility_ctx(db: Database) -> Context:
    return Context(db, "dispatcher-a", clock=fixed_clock(MOMENT), zone=ZoneInfo(UTILITY))


async def test_the_dashboard_counts_the_utility_s_overdue_and_due_today(
    monkeypatch: pytest.MonkeyPatch, db_url: str, app_env: None
) -> None:
    db = connect(db_url)
    ctx = utility_ctx(db)
    for days in (-1, -1, 0):  # two orders due on the UTC date, one on the utility's
        due = UTILITY_TODAY + timedelta(days=days)
        create_order(ctx, {"type_code": "MISC", "site_address": "1 A St", "due_date": due})
    db.dispose()
    for machine in MACHINE_ZONES:
        set_machine_zone(monkeypatch, machine)
        app = utility_app(db_url)
        async with app.run_test(size=(150, 30)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, DashboardScreen)
            assert (screen.counts.overdue, screen.counts.due_today) == (2, 1), machine
            bar = str(screen.query_one("#buckets", Static).render())
            assert " 6 Overdue 2 " in bar and " 7 Due today 1 " in bar, machine
            status = str(screen.query_one("#status-line", Static).render())
            assert status.endswith(" 01:30:00"), (machine, status)  # read at, Sydney time


async def test_the_detail_outbox_and_events_show_the_utility_s_times(
    monkeypatch: pytest.MonkeyPatch, db_url: str, app_env: None
) -> None:
    db = connect(db_url)
    ctx = utility_ctx(db)
    order_id = create_order(ctx, {"type_code": "MISC", "site_address": "1 A St"})
    add_assignee(ctx, "Sam Field", "internal", "sam@field.example")
    assign_orders(ctx, [order_id], "Sam Field")
    add_event(ctx, "move_in", external_ref="BILL-1", site_address="2 B St")
    with db.write() as conn:
        conn.execute(update(outbox).values(status="retry", next_attempt_at=MOMENT))
        conn.execute(update(events).values(received_at=MOMENT, next_attempt_at=MOMENT))
    db.dispose()
    local = MOMENT.replace(tzinfo=UTC).astimezone(ZoneInfo(UTILITY))
    for machine in MACHINE_ZONES:
        set_machine_zone(monkeypatch, machine)
        app = utility_app(db_url)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await pilot.press("colon", *str(order_id), "enter")
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)
            page = app.screen.page.text
            assert f"{local:%Y-%m-%d %H:%M}  dispatcher-a  status" in page, machine
            assert f"created          {local:%Y-%m-%d %H:%M} by dispatcher-a" in page, machine
            assert f"{MOMENT:%Y-%m-%d %H:%M}" not in page, machine
            await pilot.press("escape", "M")
            await settle(app, pilot)
            table = app.screen.query_one(DataTable)
            states = [str(table.get_row_at(i)[4]) for i in range(table.row_count)]
            assert states == [f"retry at {local:%H:%M}"], machine
            await pilot.press("escape", "B")
            await settle(app, pilot)
            table = app.screen.query_one(DataTable)
            (row,) = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
            assert row[4] == row[6] == f"{local:%Y-%m-%d %H:%M}", machine  # received, next try


def test_an_edit_conflict_says_when_in_the_utility_s_zone(
    monkeypatch: pytest.MonkeyPatch, db: Database
) -> None:
    ctx = utility_ctx(db)
    order_id = create_order(ctx, {"type_code": "MISC", "site_address": "1 A St"})
    edit_order(ctx, order_id, 1, {"customer_name": "Ann"})
    local = MOMENT.replace(tzinfo=UTC).astimezone(ZoneInfo(UTILITY))
    for machine in MACHINE_ZONES:
        set_machine_zone(monkeypatch, machine)
        with pytest.raises(Conflict) as conflict:
            edit_order(ctx, order_id, 1, {"customer_name": "Bo"})
        assert f"changed by dispatcher-a at {local:%Y-%m-%d %H:%M} after" in str(conflict.value)


def test_a_bulk_conflict_says_when_in_the_utility_s_zone(
    monkeypatch: pytest.MonkeyPatch, db: Database
) -> None:
    ctx = utility_ctx(db)
    order_id = create_order(ctx, {"type_code": "MISC", "site_address": "1 A St"})
    edit_order(ctx, order_id, 1, {"customer_name": "Ann"})  # version 2, at MOMENT
    local = MOMENT.replace(tzinfo=UTC).astimezone(ZoneInfo(UTILITY))
    for machine in MACHINE_ZONES:
        set_machine_zone(monkeypatch, machine)
        batch = bulk_complete(ctx, [order_id], expected_versions={order_id: 1})
        [outcome] = batch.outcomes
        assert outcome.detail == f"changed by dispatcher-a at {local:%Y-%m-%d %H:%M:%S}"


# -- seed and demo data --------------------------------------------------------------------
def test_seeded_orders_are_due_by_the_utility_s_calendar(
    monkeypatch: pytest.MonkeyPatch, db: Database
) -> None:
    """The same seed gives the same orders under both machine zones, each due by its type's
    SLA from the utility's date of its creation."""
    made: dict[str, list[tuple[Any, ...]]] = {}
    for machine in MACHINE_ZONES:
        set_machine_zone(monkeypatch, machine)
        with db.read() as conn:
            first = (
                conn.execute(select(work_orders.c.id).order_by(work_orders.c.id.desc()))
                .scalars()
                .first()
                or 0
            )
        seed_orders(utility_ctx(db), 60, seed=3)
        with db.read() as conn:
            query = select(
                work_orders.c.type_code,
                work_orders.c.created_at,
                work_orders.c.due_date,
                work_orders.c.scheduled_date,
            ).where(work_orders.c.id > first)
            made[machine] = [tuple(row) for row in conn.execute(query.order_by(work_orders.c.id))]
    assert made["UTC"] == made[UTILITY]
    with db.read() as conn:
        sla = {code: t.sla_business_days for code, t in order_types(conn).items()}
    zone = ZoneInfo(UTILITY)
    crossing = 0
    for type_code, created, due, _scheduled in made["UTC"]:
        local_day = created.replace(tzinfo=UTC).astimezone(zone).date()
        crossing += local_day != created.date()
        assert due == add_business_days(local_day, sla[type_code])
    assert crossing, "no order made where the two dates differ: the check proves nothing"


# -- a real process: the zone comes from the setting --------------------------------------
EAST, WEST = "Pacific/Kiritimati", "Etc/GMT+12"
"""UTC+14 and UTC-12: 26 hours apart, so their dates differ at every moment."""


def _today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


def _run(db_url: str, tmp_path: Path, machine: str, utility: str | None, *argv: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "LANG": "C.UTF-8",
        "TZ": machine,
        "WO_TUI_OPERATOR__NAME": "clock-tester",
    }
    if utility is not None:
        env["WO_TUI_SLA__TIMEZONE"] = utility
    done = subprocess.run(
        [str(SCRIPT), "--db", db_url, *argv], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("machine", "utility", "zone_of_today"),
    [(WEST, EAST, EAST), (EAST, EAST, EAST), (WEST, None, WEST)],
    ids=["utility-east-on-a-west-machine", "utility-east-on-an-east-machine", "unset"],
)
def test_a_process_takes_today_from_the_setting_else_from_its_machine(
    db_url: str, tmp_path: Path, machine: str, utility: str | None, zone_of_today: str
) -> None:
    """`orders create` with `--due-date today` and without a due date (the SLA's), in a real
    `wo-tui` process: its today is the setting's zone, or the machine's when unset."""
    assert _today_in(EAST) != _today_in(WEST)
    run = functools.partial(_run, db_url, tmp_path, machine, utility)
    before = _today_in(zone_of_today)
    today = run(*CREATE, "--due-date", "today").strip()
    by_sla = run(*CREATE).strip()
    rows = json.loads(run("orders", "list", "--format", "json"))
    after = _today_in(zone_of_today)
    due = {row["number"]: row["due"] for row in rows}
    days = {before, after}  # the zone's midnight may pass while the commands run
    assert due[today] in {d.isoformat() for d in days}
    sla = sla_days(db_url, "MISC")
    assert due[by_sla] in {add_business_days(d, sla).isoformat() for d in days}
    if utility is not None:
        shown = run("config", "check")
        assert f'timezone = "{utility}" (+14, UTC+14:00 now)' in shown
