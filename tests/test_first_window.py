"""The app's first rows, read with the sqlite3 module before SQLAlchemy is loaded
(`first_window`): the same statement and the same rows as the queue's own read, None for
anything unusual, and a start-up path that really leaves SQLAlchemy unloaded.

SQLite only, except the statement's text (the first window is read from an SQLite file)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pexpect
import pytest
from sqlalchemy import update
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url

from wo_tui.cli.runtime import Runtime
from wo_tui.core import queue
from wo_tui.core.context import Context
from wo_tui.core.db import Database, sqlite_file, sqlite_url_for
from wo_tui.core.first_window import FIRST_WINDOW_SQL, read_first_window
from wo_tui.core.models import work_orders
from wo_tui.core.queue_types import SORT_COLUMNS, QueueFilter, SortOrder
from wo_tui.core.seed import seed_orders

from conftest import NOW, PG_URL, PtyRun, terminal_env

on_sqlite = pytest.mark.skipif(bool(PG_URL), reason="the first window is read from an SQLite file")


def test_the_statement_is_the_queue_s_window_compiled_for_sqlite() -> None:
    statement = queue._window_statement(
        QueueFilter(), SortOrder(), NOW.date(), False, False, False, 40
    )
    compiled = statement.compile(
        dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}
    )
    assert compiled.string == FIRST_WINDOW_SQL, (
        "queue's default window changed: copy this into first_window.FIRST_WINDOW_SQL\n"
        + compiled.string
    )
    assert [compiled.params[name] for name in compiled.positiontup or ()] == [41, 0]


def test_the_sort_columns_are_the_queue_s_sort_keys() -> None:
    assert tuple(queue.SORT_KEYS) == SORT_COLUMNS


@on_sqlite
@pytest.mark.parametrize("limit", [1, 7, 40, 500])
def test_it_reads_what_the_queue_reads(db: Database, ctx: Context, db_url: str, limit: int) -> None:
    seed_orders(ctx, 120, seed=11)  # closed orders, assignees or none, life support, dates
    with db.write() as conn:  # and a few with no schedule and no customer name
        conn.execute(
            update(work_orders)
            .where(work_orders.c.id % 5 == 0)
            .values(scheduled_date=None, customer_name=None)
        )
    with db.read() as conn:
        expected = queue.fetch_window(conn, QueueFilter(), SortOrder(), ctx.today(), limit=limit)

    found = read_first_window(db_url, limit)

    assert found == expected
    assert found is not None and found.has_after == (limit < 96)  # 96 of the 120 are open
    assert any(row.scheduled_date is None for row in found.rows) or limit < 5


@on_sqlite
def test_an_empty_queue_is_an_empty_window(db_url: str) -> None:
    found = read_first_window(db_url, 20)
    assert found is not None
    assert (found.rows, found.has_before, found.has_after) == ([], False, False)


@on_sqlite
def test_a_plain_sqlite_url_names_its_file() -> None:
    assert sqlite_file("sqlite:////var/lib/wo.db") == Path("/var/lib/wo.db")
    assert sqlite_file("sqlite+pysqlite:///relative.db") == Path("relative.db")
    assert sqlite_file("sqlite:///x%41.db") == Path("xA.db")  # as SQLAlchemy decodes it
    assert sqlite_file("sqlite:///wo.db?mode=ro") is None
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("postgresql+psycopg://u@h/db") is None


@on_sqlite
@pytest.mark.parametrize("name", ["plain.db", "a b.db", "x%41.db", "100%.db", "why?.db", "h#1.db"])
def test_any_file_name_survives_the_url(tmp_path: Path, name: str) -> None:
    """The file SQLAlchemy opens, the file the first window reads and the file named on the
    command line are the same one, whatever its name."""
    path = tmp_path / name
    url = sqlite_url_for(path)
    assert make_url(url).database == str(path)
    assert sqlite_file(url) == path

    runtime = Runtime(None, str(path))
    assert runtime.settings.database.resolved_url() == url
    runtime.database(create=True)  # makes and migrates the file
    runtime.close()
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".db"] == [name]
    assert read_first_window(url, 5) is not None


@on_sqlite
def test_a_path_the_system_refuses_is_left_to_the_usual_path(tmp_path: Path) -> None:
    """No exception (the usual path then reports the problem in its own words)."""
    assert read_first_window(sqlite_url_for(tmp_path / ("x" * 300 + ".db")), 5) is None


@on_sqlite
@pytest.mark.parametrize(
    "make",
    ["behind the newest schema", "not a database", "no tables", "missing", "options in the URL"],
)
def test_anything_unusual_is_left_to_the_usual_path(db_url: str, tmp_path: Path, make: str) -> None:
    """None, and nothing changed or created: the app then opens the database through
    SQLAlchemy, which upgrades it or reports what is wrong."""
    url = db_url
    path = sqlite_file(db_url)
    assert path is not None
    if make == "behind the newest schema":
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE alembic_version SET version_num = '0004'")
        conn.close()
    elif make == "not a database":
        path.write_bytes(b"these are not the pages of an SQLite database" * 100)
    elif make == "no tables":
        path.unlink()
        sqlite3.connect(path).close()
    elif make == "missing":
        path = tmp_path / "nothing-here.db"
        url = sqlite_url_for(path)
    else:
        url = db_url + "?timeout=5"
    before = path.read_bytes() if path.exists() else None

    assert read_first_window(url, 20) is None
    assert (path.read_bytes() if path.exists() else None) == before


@on_sqlite
def test_start_up_paints_without_loading_sqlalchemy(
    db: Database, ctx: Context, db_url: str, tmp_path: Path
) -> None:
    """What runs before the first frame (the command line, the settings, the first window,
    the service context, the app and the dashboard's modules) loads no SQLAlchemy; the
    first read through the context does."""
    seed_orders(ctx, 30, seed=2)
    code = """
import json, sys
from wo_tui.cli import build_parser
from wo_tui.cli.runtime import Runtime
from wo_tui.core.first_window import read_first_window
import wo_tui.tui.app, wo_tui.tui.screens.dashboard

build_parser().parse_args(["--db", sys.argv[1]])
runtime = Runtime(None, sys.argv[1])
window = read_first_window(runtime.settings.database.resolved_url(), 10)
ctx = runtime.context(seen_current=window is not None)
before = sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy")
with ctx.db.read() as conn:
    pass
after = "sqlalchemy" in sys.modules
print(json.dumps([len(window.rows), before, after]))
"""
    for given in (str(sqlite_file(db_url)), db_url):  # a path, and an sqlite:/// URL
        done = subprocess.run(
            [sys.executable, "-c", code, given],
            env=terminal_env(tmp_path, "start-up"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == [10, [], True]


@on_sqlite
async def test_the_first_frame_shows_the_rows_read_before_the_app_started(
    db: Database, ctx: Context, db_url: str
) -> None:
    """The dashboard shows the window read before the app started (here it no longer
    matches the database: an order was completed since), and reads itself from then on."""
    from test_dashboard import _app, n, queue_ids, settle, shown_numbers

    from wo_tui.tui.queue_view import Snapshot, first_read_size

    seed_orders(ctx, 60, seed=5)
    size = (120, 30)
    limit = first_read_size(size[1])
    window = read_first_window(db_url, limit)
    assert window is not None
    read_before = [n(row.id) for row in window.rows]
    top = window.rows[0].id
    with db.write() as conn:
        conn.execute(
            update(work_orders)
            .where(work_orders.c.id == top)
            .values(status="COMPLETED", version=work_orders.c.version + 1)
        )

    app = _app(db)
    app.first_read = Snapshot(QueueFilter(), SortOrder(), False, None, limit, window, total=-1)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert shown_numbers(app) == read_before[: size[1] - 4]
        assert app.first_read is None  # used once
        await pilot.press("r")
        await settle(pilot)
        assert shown_numbers(app) == [n(i) for i in queue_ids(db)][: size[1] - 4]
        assert n(top) not in shown_numbers(app)


@on_sqlite
async def test_a_first_window_for_another_screen_size_is_not_used(
    db: Database, ctx: Context, db_url: str
) -> None:
    from test_dashboard import _app, n, queue_ids, settle, shown_numbers

    from wo_tui.tui.queue_view import Snapshot, first_read_size

    seed_orders(ctx, 60, seed=6)
    limit = first_read_size(50)  # read for a taller terminal than the app gets
    window = read_first_window(db_url, limit)
    assert window is not None
    stale = window.rows[0].id
    with db.write() as conn:
        conn.execute(
            update(work_orders)
            .where(work_orders.c.id == stale)
            .values(due_date=NOW.date() + timedelta(days=400), priority=3)
        )

    app = _app(db)
    app.first_read = Snapshot(QueueFilter(), SortOrder(), False, None, limit, window, total=-1)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert shown_numbers(app) == [n(i) for i in queue_ids(db)][:26]
        assert n(stale) not in shown_numbers(app)


@on_sqlite
def test_wo_tui_paints_its_first_rows_before_loading_sqlalchemy(
    db: Database, ctx: Context, db_url: str, tmp_path: Path
) -> None:
    """The real command in a pseudo-terminal: when the first order number goes to the
    terminal SQLAlchemy is not loaded, and the status line says the counts are coming; by
    the time the dispatcher quits, it is loaded (the counts read after the first frame
    loaded it) and the counts are on the screen."""
    seed_orders(ctx, 40, seed=9)
    record = tmp_path / "first-frame.json"
    code = f"""
import atexit, json, sys
import textual.drivers.linux_driver as linux_driver

seen = {{}}
write = linux_driver.LinuxDriver.write

def watching(self, data):
    if "first_rows" not in seen and "WO-0" in data:
        seen["first_rows"] = "sqlalchemy" in sys.modules
    return write(self, data)

linux_driver.LinuxDriver.write = watching
atexit.register(lambda: open({str(record)!r}, "w").write(
    json.dumps({{**seen, "at_exit": "sqlalchemy" in sys.modules}})))
from wo_tui.cli import main
sys.argv = ["wo-tui", "--db", {str(sqlite_file(db_url))!r}]
main()
"""
    child = pexpect.spawn(
        sys.executable,
        ["-c", code],
        env=terminal_env(tmp_path, "first-frame"),
        cwd=str(tmp_path),
        dimensions=(30, 120),
        timeout=20,
    )
    with PtyRun(child) as pty:
        pty.expect("WO-0")
        pty.expect("0 marked / counting…")  # in the first frame: no count yet, and no "0 open"
        pty.expect(" open")  # the counts: read through SQLAlchemy after the first frame
        pty.send("q")
        pty.finish()
    assert pty.exitstatus == 0
    assert json.loads(record.read_text()) == {"first_rows": False, "at_exit": True}
