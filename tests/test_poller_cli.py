"""The commands around the poller: `events retry`, `events discard`, `events list` of dead
events, and `worker` (--once in-process; the long-running loop as a real process stopped
with SIGTERM). Exit status: 0 done, 1 some event skipped, 2 bad usage or input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from wo_tui import cli
from wo_tui.core.db import connect
from wo_tui.core.models import events

from conftest import NOW, isolate_cli

SCRIPT = Path(sys.executable).with_name("wo-tui")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user config, no WO_TUI_* variable of the caller, a fixed clock and operator."""
    isolate_cli(monkeypatch, tmp_path, "cli-tester")


def wo(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> tuple[int, str, str]:
    """Run `wo-tui --db URL argv...` in-process: (status, stdout, stderr)."""
    capsys.readouterr()
    try:
        status = cli.run(["--db", db_url, *argv])
    except SystemExit as exc:  # argparse usage errors
        status = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return status, out, err


def add_events(db_url: str, *rows: dict[str, Any]) -> None:
    db = connect(db_url)
    base = {
        "event_type": "move_in",
        "occurred_at": NOW,
        "site_address": "1 A St",
        "status": "pending",
        "attempts": 0,
        "last_error": None,
    }
    with db.write() as conn:
        conn.execute(
            insert(events),
            [{**base, "account_number": f"A{n}", "external_ref": f"E{n}", **r}
             for n, r in enumerate(rows, 1)],
        )  # fmt: skip
    db.dispose()


def statuses(db_url: str) -> dict[int, tuple[str, str | None]]:
    db = connect(db_url)
    with db.read() as conn:
        query = select(events.c.id, events.c.status, events.c.last_error).order_by(events.c.id)
        found = {r.id: (r.status, r.last_error) for r in conn.execute(query)}
    db.dispose()
    return found


def test_worker_once_drains_and_dead_events_are_listed_with_their_error(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    add_events(db_url, {}, {}, {"status": "dead", "attempts": 5, "last_error": "payload is bad"})
    status, out, err = wo(capsys, db_url, "worker", "--once")
    assert (status, out, err) == (0, "created 2 orders from 2 events, 0 retried, 0 dead\n", "")
    assert wo(capsys, db_url, "worker", "--once") == (0, "", "")
    status, out, _ = wo(capsys, db_url, "events", "list", "--status", "dead")
    assert status == 0
    assert out.splitlines()[1].split()[:4] == ["3", "move_in", "E3", "dead"]
    assert out.splitlines()[1].endswith("payload is bad")


def test_retry_and_discard_dead_events(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    dead = {"status": "dead", "attempts": 5, "last_error": "missing site address"}
    add_events(db_url, dead, dead, {})
    assert wo(capsys, db_url, "events", "retry", "1") == (0, "event 1  retried\n", "")
    reason = "billing cancelled the move"
    assert wo(capsys, db_url, "events", "discard", "2", "--reason", reason) == (
        0,
        "event 2  discarded\n",
        "",
    )
    found = statuses(db_url)
    assert found[1] == ("pending", "missing site address")
    assert found[2] == (
        "discarded",
        "discarded by cli-tester at 2026-11-26 09:30 UTC: billing cancelled the move "
        "(last error: missing site address)",
    )
    status, out, _ = wo(capsys, db_url, "events", "list", "--status", "discarded")
    assert (status, [line.split()[0] for line in out.splitlines()[1:]]) == (0, ["2"])


def test_retry_and_discard_refuse_bad_input(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    add_events(db_url, {"status": "dead", "last_error": "x"}, {})
    before = statuses(db_url)
    status, out, err = wo(capsys, db_url, "events", "retry", "2", "99")
    assert (status, out) == (1, "")
    assert err == (
        "event 2  skipped: event 2 is pending; only a dead event can be retried "
        "(see `wo-tui events list --status dead`)\n"
        "event 99  skipped: there is no event 99 (see `wo-tui events list`)\n"
    )
    status, out, err = wo(capsys, db_url, "events", "retry", "1", "99")
    assert (status, out) == (1, "event 1  retried\n")  # the good one is done all the same
    assert "event 99  skipped: there is no event 99" in err
    for argv, message in [
        (["discard", "1"], "the following arguments are required: --reason"),
        (["discard", "1", "--reason", "  "], "reason: say why the event is discarded"),
        (["retry"], "the following arguments are required: ID"),
        (["retry", "one"], "argument ID: invalid int value: 'one'"),
    ]:
        status, out, err = wo(capsys, db_url, "events", *argv)
        assert (status, out) == (2, ""), argv
        assert message in err, argv
        assert "Traceback" not in err
    assert statuses(db_url)[2] == before[2]


def test_the_worker_runs_until_sigterm_and_exits_cleanly(db_url: str, tmp_path: Path) -> None:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "wo_tui"]
    env = {**os.environ, "WO_TUI_EVENTS__POLL_INTERVAL_SECONDS": "0.1", "TZ": "UTC"}
    worker = subprocess.Popen(
        [*command, "worker", "--db", db_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        add_events(db_url, {}, {}, {})
        db = connect(db_url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with db.read() as conn:
                left = conn.execute(text("SELECT count(*) FROM events WHERE status = 'pending'"))
                if left.scalar() == 0:
                    break
            time.sleep(0.1)
        db.dispose()
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert (worker.returncode, err) == (0, "")
    assert out == "created 3 orders from 3 events, 0 retried, 0 dead\n"
