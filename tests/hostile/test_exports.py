"""Exports a dispatcher opens in a spreadsheet, and the export file itself (issue 18, items 3
and 4).

- A cell that begins with `=`, `+`, `-`, `@`, tab or carriage return is one a spreadsheet runs
  as a formula: every CSV wo-tui writes (`orders list`, `technicians list`, `events list`
  and the app's export) puts a `'` in front of it; JSON keeps the values exact.
- Writing an export never touches the process's umask, which every thread shares: the new
  file is created with its mode (0o644 less the umask); a file written over keeps its own.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_dashboard import _app, settle

from wo_tui import cli
from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.export import export_file, matching_rows, record, write_csv
from wo_tui.core.queue_types import QueueFilter, SortOrder

from conftest import isolate_cli

CALC = "=cmd|' /C calc'!A0"
"""The issue's reproduction: a customer name that starts the calculator in a spreadsheet."""
SUM = "+1+1"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_cli(monkeypatch, tmp_path, "export-tester")


def wo(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> str:
    """Run `wo-tui --db URL argv...` in-process; returns what it printed on stdout."""
    capsys.readouterr()
    status = cli.run(["--db", db_url, *argv])
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_orders_list_csv_makes_formulas_text_and_json_keeps_them(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    wo(capsys, db_url, "orders", "create", "--type", "MISC", "--customer", CALC, "--address", SUM)
    [row] = csv_rows(wo(capsys, db_url, "orders", "list", "--format", "csv"))
    assert (row["customer"], row["address"]) == ("'" + CALC, "'" + SUM)
    assert row["number"] == "WO-000001"  # an ordinary cell is left alone
    [item] = json.loads(wo(capsys, db_url, "orders", "list", "--format", "json"))
    assert (item["customer"], item["address"]) == (CALC, SUM)


def test_technicians_and_events_csv_make_formulas_text_too(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    wo(capsys, db_url, "technicians", "add", "@SUM(A1:A9)", "--email", "t@example.com")
    wo(capsys, db_url, "technicians", "edit", "@SUM(A1:A9)", "--phone", "+61 400 000 000")
    [tech] = csv_rows(wo(capsys, db_url, "technicians", "list", "--format", "csv"))
    assert (tech["name"], tech["phone"]) == ("'@SUM(A1:A9)", "'+61 400 000 000")
    [tech_json] = json.loads(wo(capsys, db_url, "technicians", "list", "--format", "json"))
    assert (tech_json["name"], tech_json["phone"]) == ("@SUM(A1:A9)", "+61 400 000 000")

    wo(capsys, db_url, "events", "add", "move_in", "--ref=-2+3", "--customer", CALC)
    [event] = csv_rows(wo(capsys, db_url, "events", "list", "--format", "csv"))
    assert (event["external_ref"], event["customer_name"]) == ("'-2+3", "'" + CALC)
    [event_json] = json.loads(wo(capsys, db_url, "events", "list", "--format", "json"))
    assert (event_json["external_ref"], event_json["customer_name"]) == ("-2+3", CALC)


def queue_records(ctx: Context) -> Iterator[tuple[Any, ...]]:
    """Every order as the app's export writes it (the view's filter and sort)."""
    with ctx.db.read() as conn:
        flt, sort = QueueFilter(include_closed=True), SortOrder("number")
        rows = list(matching_rows(conn, flt, sort, ctx.today()))
    return (record(r, ctx.today()) for r in rows)


def test_the_apps_export_function_makes_formulas_text(
    capsys: pytest.CaptureFixture[str], db_url: str, ctx: Context, tmp_path: Path
) -> None:
    wo(capsys, db_url, "orders", "create", "--type", "MISC", "--customer", CALC, "--address", SUM)
    written, count = export_file(tmp_path / "x.csv", queue_records(ctx))
    [row] = csv_rows(written.read_text(encoding="utf-8"))
    assert count == 1
    assert (row["customer"], row["address"]) == ("'" + CALC, "'" + SUM)
    written, _ = export_file(tmp_path / "x.json", queue_records(ctx))
    [item] = json.loads(written.read_text(encoding="utf-8"))
    assert (item["customer"], item["address"]) == (CALC, SUM)


async def test_colon_export_in_the_app_makes_formulas_text(
    capsys: pytest.CaptureFixture[str], db_url: str, db: Database, tmp_path: Path
) -> None:
    wo(capsys, db_url, "orders", "create", "--type", "MISC", "--customer", CALC, "--address", SUM)
    target = tmp_path / "x.csv"
    async with _app(db).run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("colon", *f"export {target}", "enter")
    [row] = csv_rows(target.read_text(encoding="utf-8"))
    assert (row["customer"], row["address"]) == ("'" + CALC, "'" + SUM)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1+1", "' =1+1"),  # tab and CR are cleaned to a space; the formula still counts
        ("\r=1+1", "' =1+1"),
        ("  =1+1", "'  =1+1"),
        (-5, "'-5"),
        ("O'Brien", "O'Brien"),
        ("1-2", "1-2"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (12, "12"),
    ],
)
def test_which_cells_are_made_text(value: Any, cell: str) -> None:
    out = io.StringIO()
    write_csv(["h"], [[value]], out)
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["h"], [cell]]


# -- the file and the umask ------------------------------------------------------------------
@pytest.fixture
def umask_027() -> Iterator[None]:
    """The umask is 027 while the test runs (group may read, others nothing)."""
    old = os.umask(0o027)
    yield
    os.umask(old)


def umask_calls_during(action: Any) -> list[str]:
    """Run `action`; returns where os.umask was called from meanwhile (seen by a profiler
    hook on the calls of built-in functions, not by replacing os.umask)."""
    calls: list[str] = []

    def watch(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call" and arg is os.umask:
            calls.append(f"{frame.f_code.co_filename}:{frame.f_lineno}")

    sys.setprofile(watch)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


ROW = ("WO-000001", "MISC", "NEW", "Medium", "Ann", "1 A St", "", "", None, None, None, False)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_027")
@pytest.mark.parametrize("name", ["x.csv", "x.json"])
def test_an_export_never_changes_the_umask(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    calls = umask_calls_during(lambda: export_file(target, [ROW]))
    assert calls == []
    assert mode_of(target) == 0o640  # 0o644 less the umask 027
    assert os.umask(0o027) == 0o027


@pytest.mark.usefixtures("umask_027")
def test_an_export_written_over_a_private_file_keeps_it_private(tmp_path: Path) -> None:
    target = tmp_path / "out" / "late.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    target.chmod(0o600)
    export_file(target, [ROW])
    assert mode_of(target) == 0o600
    assert target.read_text().startswith("number,type")
    assert [f.name for f in target.parent.iterdir()] == ["late.csv"]  # no temporary left
