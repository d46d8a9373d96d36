"""`wo-tui demo`: the real console script in a pseudo-terminal makes a throw-away demo
database (orders, technicians, pending billing events), opens the app on it, quits with `q`,
and keeps the database only with `--keep PATH`.

The demo always uses its own SQLite file (never the configured database), so these tests
run the same whatever database the rest of the suite uses."""

from __future__ import annotations

import re
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

from wo_tui.core.schema import SCHEMA_HEAD

from conftest import PtyRun, terminal_env

SCRIPT = Path(sys.executable).with_name("wo-tui")
TIMEOUT = 20
ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[P^_][^\x1b]*\x1b\\|.)")
STATUSES = {"NEW", "SETUP", "SENT", "ON_HOLD", "COMPLETED", "CANCELLED"}
QUIET_CONFIG = """\
# The app's background jobs off: the demo's pending events stay pending until checked.
[events]
poll_in_app = false

[smtp]
send_from_app = false
"""


def _env(tmp_path: Path) -> dict[str, str]:
    """A clean terminal environment with a private TMPDIR, to see the demo's scratch
    directory come and go."""
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    return terminal_env(tmp_path, "demo-dispatcher", TMPDIR=str(scratch))


def _config(tmp_path: Path, body: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def _spawn(tmp_path: Path, *argv: str) -> pexpect.spawn[Any]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "wo_tui"]
    return pexpect.spawn(
        command[0],
        [*command[1:], "demo", *argv],
        env=_env(tmp_path),
        cwd=str(tmp_path),
        dimensions=(30, 120),
        timeout=TIMEOUT,
    )


def _plain(output: bytes) -> str:
    return ANSI.sub(b"", output).decode("utf-8", "replace")


def _run_and_quit(child: pexpect.spawn[Any], while_open: Any = None) -> str:
    """Wait for the queue, call `while_open()`, quit with `q`; returns the plain output."""
    with PtyRun(child) as pty:
        pty.expect("WO-0")  # an order number: the queue is on screen
        pty.expect(" open")  # the status line: "N marked / M shown / T open"
        if while_open is not None:
            while_open()
        pty.send("q")
        pty.finish()
    text = _plain(pty.written)
    assert pty.exitstatus == 0, text[-2000:]
    assert "Traceback" not in text, text[-2000:]
    return text


def _refused(child: pexpect.spawn[Any]) -> tuple[int | None, str]:
    """Run a command that must stop before opening the screen; returns (status, output).
    Fails (after quitting it) if the app opened instead."""
    try:
        found = child.expect([pexpect.EOF, re.compile(rb"WO-0|marked /")])
        output = (child.before or b"") + (child.after if found else b"")
        if found:
            child.send("q")
            child.expect(pexpect.EOF)
        child.close()
    finally:
        if child.isalive():
            child.terminate(force=True)
    text = _plain(output)
    shown = " ".join(text.split())[-500:]
    assert found == 0, f"the demo opened the app instead of refusing: {shown!r}"
    return child.exitstatus, text


def _scratch(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "tmp").glob("wo-tui-demo-*"))


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_demo_keep_makes_a_realistic_database_and_opens_the_app(tmp_path: Path) -> None:
    path = tmp_path / "kept" / "demo.db"
    path.parent.mkdir()
    child = _spawn(tmp_path, "--keep", str(path), "--config", str(_config(tmp_path, QUIET_CONFIG)))
    screen = _run_and_quit(child)
    assert path.is_file()

    assert query(path, "SELECT version_num FROM alembic_version") == [(SCHEMA_HEAD,)]
    # The default: 300 orders, each with the history row of its creation.
    assert query(path, "SELECT count(*), min(id), max(id) FROM work_orders") == [(300, 1, 300)]
    assert query(path, "SELECT count(DISTINCT work_order_id) FROM history") == [(300,)]
    statuses = dict(query(path, "SELECT status, count(*) FROM work_orders GROUP BY status"))
    assert set(statuses) == STATUSES, statuses  # open and closed orders, every status
    open_count = sum(n for s, n in statuses.items() if s not in {"COMPLETED", "CANCELLED"})
    assert f"{open_count} open" in screen, screen[-2000:]
    assert len({t for (t,) in query(path, "SELECT type_code FROM work_orders")}) >= 5
    # Realistic rows: customers, addresses, NMIs and meters filled in.
    assert query(
        path,
        "SELECT count(*) FROM work_orders WHERE customer_name IS NULL OR site_address IS NULL "
        "OR length(site_id) != 11 OR meter_number IS NULL",
    ) == [(0,)]

    # Several technicians, and the orders spread over them.
    technicians = query(path, "SELECT name, kind, email FROM assignees WHERE active")
    assert len(technicians) >= 3, technicians
    assert {kind for _, kind, _ in technicians} >= {"internal", "partner"}
    assert all("@" in email for _, _, email in technicians)
    (busy,) = query(
        path,
        "SELECT count(DISTINCT assignee_id) FROM work_orders WHERE status IN ('SETUP', 'SENT')",
    )[0]
    assert busy >= 3
    assert query(
        path,
        "SELECT count(*) FROM work_orders WHERE status IN ('SETUP', 'SENT') "
        "AND assignee_id IS NULL",
    ) == [(0,)]

    # Pending billing events, as billing writes them (docs/cli.md: 12).
    assert query(path, "SELECT status, attempts, count(*) FROM events GROUP BY 1, 2") == [
        ("pending", 0, 12)
    ]
    assert query(path, "SELECT count(DISTINCT external_ref), count(work_order_id) FROM events") == [
        (12, 0)
    ]
    assert query(path, "SELECT count(*) FROM work_orders WHERE source_event_id IS NOT NULL") == [
        (0,)
    ]
    assert _scratch(tmp_path) == []  # the scratch directory is gone even with --keep


def test_demo_without_keep_removes_its_database_on_quit(tmp_path: Path) -> None:
    """With an empty config file (the app's poller and sender on, as a user gets them)."""
    seen: list[Path] = []

    def while_open() -> None:
        seen.extend(path for d in _scratch(tmp_path) for path in d.iterdir())

    child = _spawn(tmp_path, "--config", str(_config(tmp_path)))
    _run_and_quit(child, while_open)
    assert [p.name for p in seen if p.suffix == ".db"] == ["demo.db"], seen
    assert _scratch(tmp_path) == []  # deleted on exit: database, WAL and directory
    assert not (tmp_path / "home" / ".local" / "share" / "wo-tui").exists()  # default db unused


@pytest.mark.parametrize("value", ["0", "-5", "abc", "1.5", ""])
def test_demo_refuses_a_bad_orders_value(tmp_path: Path, value: str) -> None:
    path = tmp_path / "demo.db"
    child = _spawn(
        tmp_path, "--orders", value, "--keep", str(path), "--config", str(_config(tmp_path))
    )
    status, text = _refused(child)
    assert status == 2, text
    assert "--orders" in text, text
    assert "Traceback" not in text, text
    assert not path.exists()  # nothing made
    assert _scratch(tmp_path) == []


def test_demo_refuses_a_keep_path_that_exists(tmp_path: Path) -> None:
    path = tmp_path / "precious.db"
    path.write_bytes(b"not a demo")
    child = _spawn(tmp_path, "--keep", str(path), "--config", str(_config(tmp_path)))
    status, text = _refused(child)
    assert status == 2, text
    assert f"wo-tui: {path} already exists" in text, text
    assert path.read_bytes() == b"not a demo"
    assert _scratch(tmp_path) == []
