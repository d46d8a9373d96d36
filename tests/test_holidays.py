"""Business days ignore public holidays: `[sla] holidays` names a region (`AU-NSW`), and every
due date (an order made by hand, by the form, from a billing event, by `seed`) skips its
public holidays as it skips weekends. Unset, every Monday to Friday is a business day, as
before. A code the `holidays` package does not know is a configuration error that names the
key and the nearest valid code; `config check` prints the setting.

The dates: Christmas Day 2026 is a Friday and Boxing Day a Saturday, so NSW's public holidays
are Fri 25 and Mon 28 December (Boxing Day observed); Australia Day 2027 is Tuesday 26 January.
RECONNECT, the type a `move_in` event makes, has an SLA of one business day.
"""

from __future__ import annotations

import functools
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from test_dashboard import settle
from test_forms import choose, field, form

from wo_tui import cli
from wo_tui.config import ConfigError, load_settings
from wo_tui.core.business_days import BusinessDays, check_region
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.dates import add_business_days
from wo_tui.core.db import Database, connect
from wo_tui.core.models import work_order_types, work_orders
from wo_tui.core.orders import create_order, order_types
from wo_tui.core.seed import seed_orders
from wo_tui.tui.app import make_app

from conftest import isolate_cli

CHRISTMAS_EVE = datetime(2026, 12, 24, 9, 30)
"""Thursday 24 December 2026, 09:30 UTC (the tests' machine zone is UTC)."""
BEFORE_AUSTRALIA_DAY = datetime(2027, 1, 25, 9, 30)
"""Monday 25 January 2027, the day before Australia Day."""
NSW = "AU-NSW"
NSW_HOLIDAYS = {date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1), date(2027, 1, 26)}
"""NSW's public holidays on weekdays from Christmas 2026 to Australia Day 2027."""


# -- the rule -------------------------------------------------------------------------------
def test_a_region_s_public_holidays_are_not_business_days() -> None:
    nsw = BusinessDays(NSW)
    assert nsw.add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert nsw.add_business_days(date(2026, 12, 24), 2) == date(2026, 12, 30)
    assert nsw.add_business_days(date(2026, 12, 25), 0) == date(2026, 12, 29)
    assert nsw.add_business_days(date(2026, 12, 26), 1) == date(2026, 12, 29)  # from a Saturday
    assert nsw.add_business_days(date(2027, 1, 25), 1) == date(2027, 1, 27)
    assert nsw.add_business_days(date(2027, 1, 22), 5) == date(2027, 2, 1)
    assert nsw.add_business_days(date(2026, 12, 23), 0) == date(2026, 12, 23)
    with pytest.raises(ValueError, match="must not be negative"):
        nsw.add_business_days(date(2026, 12, 24), -1)


def test_every_answer_skips_exactly_the_weekends_and_the_holidays() -> None:
    """From each day of the season, each count of business days lands on a business day
    with exactly that many business days after the start."""
    nsw = BusinessDays(NSW)
    start = date(2026, 12, 10)
    for offset in range(60):
        day = start + timedelta(days=offset)
        for days in range(0, 12):
            due = nsw.add_business_days(day, days)
            assert due.weekday() < 5 and due not in NSW_HOLIDAYS, (day, days, due)
            after = [day + timedelta(days=n) for n in range(1, (due - day).days + 1)]
            counted = [d for d in after if d.weekday() < 5 and d not in NSW_HOLIDAYS]
            if days:
                assert len(counted) == days, (day, days, due)
            else:  # the day itself, or the first business day after it
                assert counted in ([], [due]), (day, due)


def test_without_a_region_every_weekday_is_a_business_day_as_before() -> None:
    weekdays = BusinessDays()
    start = date(2026, 12, 1)
    for offset in range(70):
        day = start + timedelta(days=offset)
        for days in range(0, 25):
            assert weekdays.add_business_days(day, days) == add_business_days(day, days)
    assert weekdays.add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 25)


@pytest.mark.parametrize(
    ("typed", "code"),
    [("AU-NSW", "AU-NSW"), ("au-nsw", "AU-NSW"), (" AU ", "AU"), ("AU-New South Wales", "AU-NSW"),
     ("GB-SCT", "GB-SCT"), ("US-CA", "US-CA"), ("", None), (None, None)],
)  # fmt: skip
def test_a_region_is_kept_as_its_code(typed: str | None, code: str | None) -> None:
    assert check_region(typed) == code


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("AU-NSX", "AU has no subdivision 'NSX'; did you mean 'AU-NSW'?"),
        ("AUS-NSW", "unknown country code 'AUS'; did you mean 'AU'?"),
        ("Australia", "unknown country code 'Australia'; did you mean 'AU'?"),
        ("Austrlia", "unknown country code 'Austrlia'; did you mean 'AU'?"),
        ("AU-", "no subdivision after '-'; use a country code and maybe a subdivision"),
    ],
)
def test_an_unknown_region_is_refused_with_the_nearest_valid_code(typed: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_region(typed)
    assert str(caught.value).startswith(problem)


# -- the setting ----------------------------------------------------------------------------
def test_the_setting_is_checked_and_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[sla]\nholidays = "AU-NSX"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.problems == [
        f"{path}: [sla] holidays: AU has no subdivision 'NSX'; did you mean 'AU-NSW'?"
    ]
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={"WO_TUI_SLA__HOLIDAYS": "AUS"})
    assert caught.value.problems == [
        "environment variable WO_TUI_SLA__HOLIDAYS: unknown country code 'AUS'; did you mean 'AU'?"
    ]
    assert load_settings(None, environ={"WO_TUI_SLA__HOLIDAYS": "au-nsw"}).sla.holidays == NSW
    assert load_settings(None, environ={}).sla.holidays is None


@pytest.fixture
def cli_at(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The command line isolated (no user config), its clock set by the returned function."""
    isolate_cli(monkeypatch, tmp_path, "holiday-tester")

    def at(moment: datetime) -> None:
        monkeypatch.setattr(
            "wo_tui.cli.runtime.Context", functools.partial(Context, clock=fixed_clock(moment))
        )

    return at


def wo(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> tuple[int, str, str]:
    """Run `wo-tui --db URL argv...` in-process: (status, stdout, stderr)."""
    capsys.readouterr()
    status = cli.run(["--db", db_url, *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_config_check_prints_the_region_and_its_next_holiday(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    cli_at: Any,
    db_url: str,
) -> None:
    status, out, err = wo(capsys, db_url, "config", "check")
    assert status == 0, err
    assert "holidays = (not set: every Monday to Friday is a business day)\n" in out
    monkeypatch.setenv("WO_TUI_SLA__HOLIDAYS", "au-nsw")
    status, out, err = wo(capsys, db_url, "config", "check")
    assert status == 0, err
    (line,) = [x for x in out.splitlines() if x.startswith("holidays = ")]
    assert line.startswith('holidays = "AU-NSW" (New South Wales, Australia; next: ')
    monkeypatch.setenv("WO_TUI_SLA__HOLIDAYS", "AU-NSX")
    status, out, err = wo(capsys, db_url, "config", "check")
    assert status == 2
    assert err == (
        "wo-tui: config: environment variable WO_TUI_SLA__HOLIDAYS: AU has no subdivision "
        "'NSX'; did you mean 'AU-NSW'?\n"
    )


def one_business_day(db_url: str) -> None:
    """RECONNECT's SLA is one business day (the dates of these tests count on it)."""
    db = connect(db_url)
    try:
        with db.read() as conn:
            assert order_types(conn)["RECONNECT"].sla_business_days == 1
    finally:
        db.dispose()


def listed(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> dict[str, Any]:
    status, out, err = wo(capsys, db_url, "orders", "list", "--format", "json", *argv)
    assert status == 0, err
    return {row["number"]: row for row in json.loads(out)}


@pytest.fixture(params=[None, NSW], ids=["weekdays", NSW])
def region(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, cli_at: Any, db_url: str
) -> str | None:
    """Each command-line test runs without the setting, then with `holidays = "AU-NSW"`."""
    one_business_day(db_url)
    if request.param:
        monkeypatch.setenv("WO_TUI_SLA__HOLIDAYS", request.param)
    region: str | None = request.param
    return region


def test_orders_create_skips_christmas_and_boxing_day_with_the_setting(
    capsys: pytest.CaptureFixture[str], cli_at: Any, db_url: str, region: str | None
) -> None:
    cli_at(CHRISTMAS_EVE)
    create = ("orders", "create", "--type", "RECONNECT", "--account", "A1", "--address", "1 A St")
    status, out, err = wo(capsys, db_url, *create)
    assert status == 0, err
    number = out.strip()
    due = {None: "2026-12-25", NSW: "2026-12-29"}[region]
    assert listed(capsys, db_url)[number]["due"] == due
    # Monday 28 December (Boxing Day observed): late without the holidays, not with them.
    cli_at(datetime(2026, 12, 28, 9, 30))
    assert (number in listed(capsys, db_url, "--filter", "overdue")) == (region is None)
    cli_at(datetime(2026, 12, 29, 9, 30))
    assert (number in listed(capsys, db_url, "--filter", "due:today")) == (region is not None)


def test_the_poller_skips_australia_day_with_the_setting(
    capsys: pytest.CaptureFixture[str], cli_at: Any, db_url: str, region: str | None
) -> None:
    cli_at(BEFORE_AUSTRALIA_DAY)
    event = ("events", "add", "move_in", "--ref", "BILL-1", "--account", "A1")
    status, _, err = wo(capsys, db_url, *event, "--address", "1 A St")
    assert status == 0, err
    status, out, err = wo(capsys, db_url, "worker", "--once")
    assert (status, out) == (0, "created 1 orders from 1 events, 0 retried, 0 dead\n"), err
    (order,) = listed(capsys, db_url).values()
    due = {None: "2027-01-26", NSW: "2027-01-27"}[region]
    assert (order["type"], order["due"]) == ("RECONNECT", due)


# -- every other maker of due dates: the service, the form, seed ------------------------------
def test_an_order_made_by_the_service_counts_the_context_s_holidays(db: Database) -> None:
    with db.write() as conn:
        conn.execute(
            update(work_order_types)
            .where(work_order_types.c.code == "MISC")
            .values(sla_business_days=3)
        )
    made = {}
    for region in (None, NSW):
        ctx = Context(
            db, "dispatcher", clock=fixed_clock(CHRISTMAS_EVE), calendar=BusinessDays(region)
        )
        order_id = create_order(ctx, {"type_code": "MISC", "site_address": "1 A St"})
        with db.read() as conn:
            query = select(work_orders.c.due_date).where(work_orders.c.id == order_id)
            made[region] = conn.execute(query).scalar_one()
    assert made == {None: date(2026, 12, 29), NSW: date(2026, 12, 31)}


def test_seeded_orders_are_never_due_on_a_holiday_with_the_setting(db: Database) -> None:
    due_on = {}
    for region in (None, NSW):
        moment = fixed_clock(datetime(2027, 1, 20, 9, 30))
        ctx = Context(db, "seed", clock=moment, calendar=BusinessDays(region))
        with db.read() as conn:
            before = conn.execute(select(func.max(work_orders.c.id))).scalar() or 0
        seed_orders(ctx, 400, seed=3)
        with db.read() as conn:
            query = select(work_orders.c.due_date).where(work_orders.c.id > before)
            due_on[region] = set(conn.execute(query).scalars())
    assert due_on[None] & NSW_HOLIDAYS, "some orders fall due on a holiday without the setting"
    assert not due_on[NSW] & NSW_HOLIDAYS
    assert all(day.weekday() < 5 for day in due_on[NSW])


async def test_the_form_proposes_a_due_date_after_the_holidays(db: Database) -> None:
    settings = load_settings(
        None,
        environ={},
        overrides={"events": {"poll_in_app": False}, "smtp": {"send_from_app": False}},
    )
    ctx = Context(db, "dispatcher", clock=fixed_clock(CHRISTMAS_EVE), calendar=BusinessDays(NSW))
    app = make_app(settings, ctx)
    async with app.run_test(size=(100, 50)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await choose(pilot, "type_code", sorted(form(app).types).index("RECONNECT"))
        assert form(app).types["RECONNECT"].sla_business_days == 1
        assert field(app, "due_date").value == "2026-12-29"
