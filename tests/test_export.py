"""Export of a view (dashboard or all orders) to CSV / JSON: the file reads back as the rows
shown, it is written atomically, the errors are clear; the all-orders search finds closed
orders and opens their detail. The CLI writes the same columns with the same encoder."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_dashboard import PAYLOADS, TODAY, _app, add_orders, notes, settle, shown_numbers

from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.errors import InvalidInput
from wo_tui.core.export import EXPORT_HEADERS, csv_cell, export_file, matching_rows, plain, record
from wo_tui.core.queue import QueueFilter, SortOrder, parse_filter
from wo_tui.core.seed import seed_orders
from wo_tui.tui.screens.all_orders import AllOrdersScreen
from wo_tui.tui.screens.dashboard import DashboardScreen
from wo_tui.tui.screens.detail import DetailScreen
from wo_tui.tui.screens.export_dialog import ExportScreen
from wo_tui.tui.widgets.queue_table import QueueTable

SIZE = (120, 30)


def shown_records(view: Any, ctx: Context) -> list[list[str]]:
    """Every row the view's filter matches, in its order, as the CSV cells they become."""
    with ctx.db.read() as conn:
        rows = list(matching_rows(conn, view.filter, view.sort, ctx.today()))
    return [[csv_cell(v) for v in record(r, ctx.today())] for r in rows]


def numbers_on(screen: Any) -> list[str]:
    """The order numbers a screen's table draws, top to bottom."""
    widget = screen.query_one(QueueTable)
    lines = [widget.render_line(y).text for y in range(1, widget.size.height)]
    return [line[2:11] for line in lines if line[2:5] == "WO-"]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


# -- core -----------------------------------------------------------------------------------
def test_csv_and_json_round_trip_with_untrusted_text(ctx: Context, tmp_path: Path) -> None:
    add_orders(
        ctx.db, [{"customer_name": p, "site_address": f'{p}, a, "quoted"'} for p in PAYLOADS]
    )
    seed_orders(ctx, 40, seed=3)
    flt, sort = QueueFilter(include_closed=True), SortOrder("customer")
    with ctx.db.read() as conn:
        rows = [record(r, TODAY) for r in matching_rows(conn, flt, sort, TODAY, window=7)]
    out = tmp_path / "out"
    out.mkdir()
    written, count = export_file(out / "all.csv", rows)
    assert count == len(rows) == 45
    back = read_csv(written)
    assert back[0] == list(EXPORT_HEADERS)
    assert back[1:] == [[csv_cell(v) for v in row] for row in rows]
    assert not any("\x1b" in cell for line in back for cell in line)
    written, count = export_file(out / "all.json", rows)
    items = json.loads(written.read_text(encoding="utf-8"))
    assert len(items) == count == 45
    assert [item["number"] for item in items] == [row[0] for row in rows]
    assert items[0].keys() == set(EXPORT_HEADERS)
    assert [item["customer"] for item in items] == [
        None if row[4] is None else plain(row[4]) for row in rows
    ]
    assert sorted(f.name for f in out.iterdir()) == ["all.csv", "all.json"]  # no temporaries


def test_export_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        export_file(tmp_path / "missing" / "x.csv", [])
    with pytest.raises(InvalidInput, match=r"end the file name in \.csv or \.json"):
        export_file(tmp_path / "x.txt", [])
    with pytest.raises(InvalidInput, match="is a folder"):
        (tmp_path / "d.csv").mkdir()
        export_file(tmp_path / "d.csv", [])
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(InvalidInput, match="cannot write"):
            export_file(locked / "x.csv", [])


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out" / "keep.csv"
    target.parent.mkdir()
    target.write_text("old\n")

    def rows() -> Any:
        yield ("WO-000001",) + ("",) * 11
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        export_file(target, rows())
    assert target.read_text() == "old\n"
    assert [f.name for f in target.parent.iterdir()] == ["keep.csv"]


def test_the_cli_writes_the_same_csv(ctx: Context, db_url: str, tmp_path: Path) -> None:
    seed_orders(ctx, 30, seed=5)
    flt = parse_filter("", include_closed=True)
    with ctx.db.read() as conn:
        rows = [record(r, ctx.today()) for r in matching_rows(conn, flt, SortOrder(), TODAY)]
    expected, _ = export_file(tmp_path / "screen.csv", rows)
    env = {**os.environ, "TZ": "UTC"}
    out = subprocess.run(
        [sys.executable, "-m", "wo_tui", "--db", db_url, "orders", "list", "--all", "--format=csv"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    # Same columns and encoder; the CLI's clock is the real one, so compare all but 'overdue'.
    cli = list(csv.reader(out.splitlines()))
    screen = read_csv(expected)
    assert cli[0] == screen[0]
    assert [r[:-1] for r in cli] == [r[:-1] for r in screen]


# -- on the screen ------------------------------------------------------------------------------
async def test_colon_export_writes_the_dashboard_view(
    db: Database, ctx: Context, tmp_path: Path
) -> None:
    seed_orders(ctx, 80, seed=9)
    app = _app(db)
    target = tmp_path / "late.csv"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"overdue", "enter")
        await settle(pilot)
        await pilot.press("o")  # sort by the cursor column (number), ascending
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await pilot.press("colon", *f"export {target}", "enter")
        assert any(f"to {target}" in n for n in notes(app))
        back = read_csv(target)
        expected = shown_records(screen.view, ctx)
        assert back[1:] == expected
        assert [r[0] for r in back[1 : len(shown_numbers(app)) + 1]] == shown_numbers(app)
        assert all(r[-1] == "yes" for r in back[1:])  # every one overdue
        await pilot.press("colon", *f"export {tmp_path}/nope/x.json", "enter")
        assert any("does not exist" in n for n in notes(app))


async def test_E_exports_through_the_dialog_as_json(
    db: Database, ctx: Context, tmp_path: Path
) -> None:
    seed_orders(ctx, 25, seed=4)
    app = _app(db)
    target = tmp_path / "queue.json"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("E")
        assert isinstance(app.screen, ExportScreen)
        app.screen.query_one("#path").value = ""  # type: ignore[attr-defined]
        await pilot.press(*str(tmp_path / "queue.txt"), "enter")
        assert isinstance(app.screen, ExportScreen)  # wrong extension: says so, stays
        app.screen.query_one("#path").value = ""  # type: ignore[attr-defined]
        await pilot.press(*str(target), "enter")
        assert isinstance(app.screen, DashboardScreen)
        items = json.loads(target.read_text())
        assert [i["number"] for i in items] == [r[0] for r in shown_records(app.screen.view, ctx)]


async def test_all_orders_search_finds_a_closed_order_and_opens_it(
    db: Database, ctx: Context, tmp_path: Path
) -> None:
    add_orders(db, [{"customer_name": f"Open {i}"} for i in range(5)])
    (closed,) = add_orders(
        db,
        [
            {
                "customer_name": "Zara Closed",
                "status": "COMPLETED",
                "reading": "42",
                "completed_at": None,
            }
        ],
    )
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert f"WO-{closed:06d}" not in shown_numbers(app)
        await pilot.press("f")
        assert isinstance(app.screen, AllOrdersScreen)
        assert numbers_on(app.screen)[0] == f"WO-{closed:06d}"  # newest first, closed too
        await pilot.press("slash", *"zara", "enter")
        screen = app.screen
        assert isinstance(screen, AllOrdersScreen)
        assert screen.view.total == 1
        assert screen.view.current_id == closed
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.order_id == closed
        await pilot.press("r", *"Reading was wrong", "enter")  # reopen from the detail
        assert " NEW " in str(app.screen.query_one("#detail-title").render())
        await pilot.press("escape")
        assert isinstance(app.screen, AllOrdersScreen)
        await pilot.press("slash", *" status:completed", "enter")
        assert app.screen.view.total == 0
        await pilot.press("slash", "ctrl+u", *"zara", "enter", "X")  # open already
        assert "is open already" in notes(app)[-1]
        await pilot.press("slash", "ctrl+u", *"status:nonsense", "enter")
        assert "unknown status" in str(app.screen.query_one("#search").border_subtitle).lower()
        assert app.screen.view.total == 0  # the last good search stays
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("f", "slash", "ctrl+u", *"open", "enter")
        await pilot.press("E")
        assert isinstance(app.screen, ExportScreen)
        app.screen.query_one("#path").value = str(tmp_path / "open.csv")  # type: ignore[attr-defined]
        await pilot.press("enter")
        back = read_csv(tmp_path / "open.csv")
        assert sorted(r[4] for r in back[1:]) == [f"Open {i}" for i in range(5)]


async def test_X_reopens_a_closed_order_from_all_orders(db: Database) -> None:
    (closed,) = add_orders(db, [{"status": "CANCELLED", "cancel_reason": "duplicate"}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f", "X")
        await pilot.press("enter")  # a reason is required
        assert app.screen.query_one("#dialog-error").render()
        await pilot.press(*"Not a duplicate after all", "enter")
        assert isinstance(app.screen, AllOrdersScreen)
        assert any(f"WO-{closed:06d} reopened" in n for n in notes(app))
        assert numbers_on(app.screen) == [f"WO-{closed:06d}"]
        assert "NEW" in app.screen.query_one(QueueTable).render_line(1).text
    from test_dashboard import statuses

    assert statuses(db, [closed]) == {closed: "NEW"}
