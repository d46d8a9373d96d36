"""Colours: the dashboard and the bulk confirmation drawn under NO_COLOR and in 16 colours.

What is checked is what would be written to the terminal: the escape sequences of a full
repaint of the screen (the compositor's update rendered with the app's own console, as the
driver writes it), read back into a grid of cells. Under NO_COLOR the status must survive
in words, glyphs and attributes; in 16 colours every colour must be one of the 16 ANSI
colours and the cursor, marked, overdue and new rows must still stand out.

The in-process tests stand in for the terminal's guess with COLORTERM=truecolor (what a
local terminal says), so that a colour mode which is not honoured shows up as true colour.
Two tests run the real command in a pseudo-terminal with `[ui] color_mode` in its config
file, the path a dispatcher's settings take (SQLite only, a few seconds each)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pexpect
import pytest
import textual.constants
from sqlalchemy import insert

from wo_tui.config import load_settings
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.models import history, work_orders
from wo_tui.tui.app import WoTuiApp, make_app
from wo_tui.tui.screens.confirm import ConfirmBulkScreen
from wo_tui.tui.screens.dashboard import DashboardScreen
from wo_tui.tui.terminal import apply_color_mode
from wo_tui.tui.widgets.queue_table import MARK_GLYPH, OVERDUE_WORD

from conftest import NOW, PG_URL, PtyRun, terminal_env

SIZE = (100, 16)
TODAY = NOW.date()

# -- reading what would be written to the terminal -----------------------------------------
ESCAPE = re.compile(r"\x1b(?:\[([0-?]*)([ -/]*)([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)|.)")
STANDARD_FG = {*range(30, 38), *range(90, 98)}
STANDARD_BG = {*range(40, 48), *range(100, 108)}
GREY_STANDARD = {30, 37, 90, 97, 40, 47, 100, 107}
"""Black, white and their bright twins: the achromatic ones of the 16."""


def colours(params: Iterable[int]) -> list[tuple[int, ...]]:
    """The colours an SGR parameter list sets, each as its own parameters: (31,), (38, 5, n)
    or (48, 2, r, g, b). The default colours (39, 49) are not colours."""
    found: list[tuple[int, ...]] = []
    codes = list(params)
    i = 0
    while i < len(codes):
        code = codes[i]
        if code in (38, 48) and i + 1 < len(codes):
            size = {5: 3, 2: 5}.get(codes[i + 1], 2)
            found.append(tuple(codes[i : i + size]))
            i += size
            continue
        if code in STANDARD_FG or code in STANDARD_BG:
            found.append((code,))
        i += 1
    return found


def attributes(params: Iterable[int]) -> frozenset[int]:
    """The SGR parameters that are not colours (bold, dim, italic, underline, reverse...)."""
    codes = list(params)
    found: set[int] = set()
    i = 0
    while i < len(codes):
        code = codes[i]
        if code in (38, 48) and i + 1 < len(codes):
            i += {5: 3, 2: 5}.get(codes[i + 1], 2)  # a colour and its parameters
            continue
        if code not in STANDARD_FG | STANDARD_BG | {0, 39, 49}:
            found.add(code)
        i += 1
    return frozenset(found)


def is_standard(colour: tuple[int, ...]) -> bool:
    return len(colour) == 1


def is_grey(colour: tuple[int, ...]) -> bool:
    """No hue: black, white or a grey."""
    if len(colour) == 1:
        return colour[0] in GREY_STANDARD
    if colour[1] == 5:
        return colour[2] in {0, 7, 8, 15, 16, 231} or colour[2] >= 232
    return colour[2] == colour[3] == colour[4]


def sgr_lists(output: str) -> list[tuple[int, ...]]:
    """Every SGR (`CSI ... m`) sequence of a terminal stream, as its parameters."""
    lists = []
    for match in ESCAPE.finditer(output):
        if match.group(3) == "m" and not match.group(2):
            lists.append(tuple(int(p) if p else 0 for p in re.split("[;:]", match.group(1))))
    return lists


@dataclass(frozen=True)
class Cell:
    char: str
    sgr: tuple[int, ...]


def read_grid(output: str, size: tuple[int, int]) -> list[list[Cell]]:
    """Play a terminal stream onto a grid: cursor positioning, SGR and text (the sequences
    a repaint of Textual is made of); anything else is skipped."""
    width, height = size
    grid = [[Cell(" ", ()) for _ in range(width)] for _ in range(height)]
    x = y = 0
    sgr: tuple[int, ...] = ()
    pos = 0
    for match in ESCAPE.finditer(output + "\x1b[0m"):
        for char in output[pos : match.start()]:
            if char == "\n":
                x, y = 0, y + 1
            elif char == "\r":
                x = 0
            elif 0 <= y < height and 0 <= x < width:
                grid[y][x] = Cell(char, sgr)
                x += 1
        pos = match.end()
        params, final = match.group(1), match.group(3)
        if final == "H" and not match.group(2):
            row, _, col = (params or "1;1").partition(";")
            y, x = int(row or 1) - 1, int(col or 1) - 1
        elif final == "m" and not match.group(2):
            codes = tuple(int(p) if p else 0 for p in re.split("[;:]", params or "0"))
            sgr = () if codes in ((), (0,)) else (*sgr, *codes)
    return grid


def screen_output(app: WoTuiApp) -> str:
    """What a full repaint of the current screen writes to the terminal: the compositor's
    update rendered with the app's console (its colour system, after Textual's filters)."""
    return app.screen._compositor.render_full_update().render_segments(app.console)


def text_of(row: list[Cell]) -> str:
    return "".join(cell.char for cell in row)


def row_of(grid: list[list[Cell]], number: str) -> list[Cell]:
    (row,) = [row for row in grid if number in text_of(row)]
    return row


def without_colour(row: list[Cell]) -> list[tuple[str, frozenset[int]]]:
    """A row as a terminal without colour shows it: the characters and their attributes."""
    return [(cell.char, attributes(cell.sgr)) for cell in row]


def looks(cells: list[Cell]) -> list[tuple[int, ...]]:
    """The styles of a run of cells, whatever their characters."""
    return [cell.sgr for cell in cells]


# -- the app and its data ------------------------------------------------------------------
def add_order(db: Database, order_id: int, due: date, **fields: Any) -> None:
    with db.write() as conn:
        conn.execute(
            insert(work_orders),
            {
                "id": order_id,
                "type_code": "MISC",
                "priority": 3,
                "status": "NEW",
                "source": "manual",
                "customer_name": f"Customer {order_id}",
                "site_address": f"{order_id} Test St, Newtown NSW 2042",
                "created_at": NOW - timedelta(days=1),
                "created_by": "seed",
                "service_time": "any",
                "due_date": due,
                "updated_at": NOW - timedelta(days=1),
                "updated_by": "seed",
                "version": 1,
                **fields,
            },
        )
        conn.execute(
            insert(history),
            {
                "work_order_id": order_id,
                "at": NOW - timedelta(days=1),
                "actor": "seed",
                "field": "status",
                "old_value": None,
                "new_value": "NEW",
                "reason": "created",
            },
        )
        if conn.dialect.name == "postgresql":  # explicit ids: move the sequence past them
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('work_orders', 'id'), "
                "(SELECT max(id) FROM work_orders))"
            )


def seed_queue(db: Database, today: date) -> None:
    """Six open orders, all Low priority, so the queue is sorted by due date: WO-000001 and
    WO-000002 overdue, then WO-000003 ... WO-000006 due in 3 ... 6 days."""
    for order_id, days in enumerate([-2, -1, 3, 4, 5, 6], start=1):
        add_order(db, order_id, today + timedelta(days=days))


# The rows once `dashboard` has set the screen up:
OVERDUE_MARKED = "WO-000001"
OVERDUE = "WO-000002"
NEW_ROW = "WO-000007"  # arrived with the refresh: highlighted as new
MARKED = "WO-000003"
CURSOR = "WO-000004"
PLAIN = "WO-000005"


def terminal(monkeypatch: pytest.MonkeyPatch, color_mode: str) -> None:
    """The environment of a local terminal that offers true colour, then the config's colour
    mode applied as `wo-tui` applies it (`apply_color_mode`). Textual reads NO_COLOR when
    the app is built, and TEXTUAL_COLOR_SYSTEM when it is imported (into
    `textual.constants.COLOR_SYSTEM`, which the app's console takes when the app is built):
    both are set here before the app is built."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TEXTUAL_COLOR_SYSTEM", raising=False)
    wanted: dict[str, str] = {}
    apply_color_mode(color_mode, wanted)  # what `wo-tui` does to os.environ
    for name, value in wanted.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(
        textual.constants, "COLOR_SYSTEM", os.environ.get("TEXTUAL_COLOR_SYSTEM", "auto")
    )


def build_app(db: Database) -> WoTuiApp:
    overrides = {
        "ui": {"theme": "textual-dark", "refresh_interval_seconds": 600},
        "events": {"poll_in_app": False},
        "smtp": {"send_from_app": False},
    }
    settings = load_settings(None, environ={}, overrides=overrides)
    return make_app(settings, Context(db, "dispatcher-a", clock=fixed_clock(NOW)))


async def dashboard(db: Database, pilot: Any) -> DashboardScreen:
    """Mark WO-000001 and WO-000003, leave the cursor on WO-000004, and let WO-000007 arrive
    with a refresh (it stays highlighted as new: the highlight's timer is made long)."""
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("space", "down", "space")
    add_order(db, 7, TODAY + timedelta(days=2))
    await pilot.press("r")
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    assert screen.table.fresh, "the refresh brought no new row"
    return screen


@pytest.fixture
def long_highlight(monkeypatch: pytest.MonkeyPatch) -> None:
    """The new-row highlight lasts 4 s: long enough here that no test races its end."""
    monkeypatch.setattr("wo_tui.tui.screens.dashboard.FRESH_SECONDS", 3600.0)


def all_colours(output: str) -> list[tuple[int, ...]]:
    return [c for params in sgr_lists(output) for c in colours(params)]


# -- NO_COLOR ------------------------------------------------------------------------------
@pytest.mark.usefixtures("long_highlight")
async def test_no_color_dashboard_writes_no_colour_codes(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_COLOR (no-color.org): no ANSI colour is added to the output, not even greys,
    although the terminal says it can show true colour."""
    seed_queue(db, TODAY)
    terminal(monkeypatch, "none")
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await dashboard(db, pilot)
        assert app.no_color
        output = screen_output(app)
    assert sgr_lists(output), "no SGR sequence at all: is the repaint read?"
    assert all_colours(output) == []


@pytest.mark.usefixtures("long_highlight")
async def test_no_color_dashboard_shows_overdue_and_marks_without_colour(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Overdue orders say LATE (in bold) and marked rows carry the mark glyph (in bold):
    both are there with every colour taken away."""
    seed_queue(db, TODAY)
    terminal(monkeypatch, "none")
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await dashboard(db, pilot)
        assert {screen.view.rows[i].number for i in range(2)} == {OVERDUE_MARKED, OVERDUE}
        grid = read_grid(screen_output(app), SIZE)
    for number in (OVERDUE_MARKED, OVERDUE, NEW_ROW, MARKED, CURSOR, PLAIN):
        row = row_of(grid, number)
        text = text_of(row)
        late = number in (OVERDUE_MARKED, OVERDUE)
        assert (OVERDUE_WORD in text) == late, text
        if late:
            at = text.index(OVERDUE_WORD)
            assert all(1 in attributes(c.sgr) for c in row[at : at + len(OVERDUE_WORD)]), text
        marked = number in (OVERDUE_MARKED, MARKED)
        assert (text[0] == MARK_GLYPH) == marked, text
        assert MARK_GLYPH not in text[1:], text
    # A marked row stands out from the plain row by more than its glyph: it is bold.
    assert without_colour(row_of(grid, MARKED))[2][1] != without_colour(row_of(grid, PLAIN))[2][1]


@pytest.mark.usefixtures("long_highlight")
async def test_no_color_cursor_row_is_visible_without_colour(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cursor row, seen without colour (characters and attributes), is not the same as
    that row once the cursor has moved off it."""
    seed_queue(db, TODAY)
    terminal(monkeypatch, "none")
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await dashboard(db, pilot)
        assert screen.view.rows[screen.view.position].number == CURSOR
        under_cursor = without_colour(row_of(read_grid(screen_output(app), SIZE), CURSOR))
        await pilot.press("down")
        await pilot.pause()
        assert screen.view.rows[screen.view.position].number == PLAIN
        after = without_colour(row_of(read_grid(screen_output(app), SIZE), CURSOR))
    assert under_cursor != after


# -- 16 colours ----------------------------------------------------------------------------
@pytest.mark.usefixtures("long_highlight")
async def test_16_colours_dashboard_writes_only_the_16_colours(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`color_mode = "16"` in a terminal that offers true colour: every colour written is
    one of the 16 ANSI colours."""
    seed_queue(db, TODAY)
    terminal(monkeypatch, "16")
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await dashboard(db, pilot)
        assert app.console.color_system == "standard"
        output = screen_output(app)
    written = all_colours(output)
    assert written
    assert [c for c in written if not is_standard(c)] == []
    assert [c for c in written if not is_grey(c)], "16 colours, yet only greys were drawn"


@pytest.mark.usefixtures("long_highlight")
async def test_16_colours_dashboard_rows_stand_out(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In 16 colours the cursor, marked, new and overdue rows are each drawn unlike a plain
    row, and the cursor row unlike every other row."""
    seed_queue(db, TODAY)
    terminal(monkeypatch, "16")
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await dashboard(db, pilot)
        grid = read_grid(screen_output(app), SIZE)
    plain = row_of(grid, PLAIN)
    for number in (CURSOR, MARKED, NEW_ROW):
        assert looks(row_of(grid, number)) != looks(plain), number
    due = text_of(plain).index(f"{TODAY + timedelta(days=5):%d %b}")
    late = row_of(grid, OVERDUE)
    assert text_of(late)[due:].startswith(f"{TODAY - timedelta(days=1):%d %b} {OVERDUE_WORD}")
    width = len(f"00 Mon {OVERDUE_WORD}")
    assert looks(late[due : due + width]) != looks(plain[due : due + width])
    assert set(looks(late[due : due + width])).isdisjoint(looks(plain))
    cursor = looks(row_of(grid, CURSOR))
    others = [row for row in grid if "WO-0000" in text_of(row) and CURSOR not in text_of(row)]
    assert len(others) == 6
    for row in others:
        assert looks(row) != cursor, text_of(row)


@pytest.mark.parametrize("mode", ["256", "truecolor"])
async def test_the_colour_check_sees_more_than_16_colours(
    db: Database, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """The 16-colour check can fail: the same screen in 256 or true colour breaks it."""
    seed_queue(db, TODAY)
    terminal(monkeypatch, mode)
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        output = screen_output(app)
    assert [c for c in all_colours(output) if not is_standard(c)]


# -- the bulk confirmation -----------------------------------------------------------------
async def confirmation(db: Database, pilot: Any) -> ConfirmBulkScreen:
    await dashboard(db, pilot)
    await pilot.press("c")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ConfirmBulkScreen)
    return screen


def button_cells(grid: list[list[Cell]], label: str) -> list[Cell]:
    """The cells of a button's label (`No`, `Yes`) on the dialog's button row."""
    (row,) = [row for row in grid if " No " in text_of(row) and " Yes " in text_of(row)]
    at = text_of(row).index(f" {label} ") + 1
    return row[at : at + len(label)]


@pytest.mark.usefixtures("long_highlight")
async def test_no_color_confirmation_keeps_its_words(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk confirmation under NO_COLOR: its question and both answers are there, and
    the focused answer (No, the default) is marked by attributes, not colour."""
    seed_queue(db, TODAY)
    terminal(monkeypatch, "none")
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await confirmation(db, pilot)
        output = screen_output(app)
    grid = read_grid(output, SIZE)
    assert any("Complete 2 orders?" in text_of(row) for row in grid)
    no, yes = button_cells(grid, "No"), button_cells(grid, "Yes")
    assert {7} <= attributes(no[0].sgr)  # reverse: the focus shows without colour
    assert attributes(no[0].sgr) != attributes(yes[0].sgr)


@pytest.mark.usefixtures("long_highlight")
async def test_no_color_confirmation_writes_no_colour_codes(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_queue(db, TODAY)
    terminal(monkeypatch, "none")
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await confirmation(db, pilot)
        output = screen_output(app)
    assert sgr_lists(output)
    assert all_colours(output) == []


@pytest.mark.usefixtures("long_highlight")
async def test_16_colours_confirmation(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bulk confirmation in 16 colours: only the 16 colours, and the focused answer
    drawn unlike the other one."""
    seed_queue(db, TODAY)
    terminal(monkeypatch, "16")
    app = build_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await confirmation(db, pilot)
        output = screen_output(app)
    written = all_colours(output)
    assert written and [c for c in written if not is_standard(c)] == []
    grid = read_grid(output, SIZE)
    assert any("Complete 2 orders?" in text_of(row) for row in grid)
    assert looks(button_cells(grid, "No")[:1]) != looks(button_cells(grid, "Yes")[:1])


# -- the real command in a pseudo-terminal -------------------------------------------------
TIMEOUT = 15


def run_command(db_url: str, tmp_path: Path, config: str, extra_env: dict[str, str]) -> str:
    """`wo-tui` with `config` as its config file, in a 120x30 pseudo-terminal of a terminal
    that offers true colour: mark two rows, open the bulk confirmation, answer No, quit
    (dropping the marks).
    Returns everything written to the terminal."""
    env = terminal_env(tmp_path, "colour-dispatcher", COLORTERM="truecolor", **extra_env)
    config_path = tmp_path / "wo-tui.toml"
    config_path.write_text(config)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "wo_tui", "--config", str(config_path), "--db", db_url],
        env=env,
        cwd=str(tmp_path),
        dimensions=(30, 120),
        timeout=TIMEOUT,
    )
    with PtyRun(child) as pty:
        pty.expect("WO-000006")
        pty.send(" ")
        pty.expect("1 marked")
        pty.send(" ")
        pty.expect("2 marked")
        pty.send("c")
        pty.expect("Complete 2 orders?")
        pty.send("n")
        pty.expect("2 marked")  # the dashboard again
        pty.send("q")
        pty.expect("Quit and drop 2 marks?")
        pty.send("y")
        pty.finish()
    assert pty.exitstatus == 0, pty.written[-2000:]
    return pty.written.decode("utf-8", "replace")


@pytest.mark.skipif(bool(PG_URL), reason="the command is run on an SQLite file")
def test_command_in_16_colour_mode_writes_only_the_16_colours(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    """`[ui] color_mode = "16"` reaches the terminal: the dashboard, marks, overdue rows and
    the confirmation are written with the 16 ANSI colours only, although COLORTERM says the
    terminal has true colour."""
    seed_queue(db, datetime.now(UTC).date())
    output = run_command(db_url, tmp_path, '[ui]\ncolor_mode = "16"\n', {})
    written = all_colours(output)
    assert [c for c in written if not is_grey(c)], "no colour at all: is the output read?"
    assert sorted({c for c in written if not is_standard(c)}) == []


@pytest.mark.skipif(bool(PG_URL), reason="the command is run on an SQLite file")
def test_command_with_no_color_writes_no_colour(db: Database, db_url: str, tmp_path: Path) -> None:
    """NO_COLOR in the environment of the real command: no colour code is written at all."""
    seed_queue(db, datetime.now(UTC).date())
    output = run_command(db_url, tmp_path, "", {"NO_COLOR": "1"})
    assert sgr_lists(output), "no SGR at all: is the output read?"
    assert sorted(set(all_colours(output))) == []
