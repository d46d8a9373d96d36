"""SQLite's WAL checkpoints run in a background thread after writes (wo_tui.core.db), not in
the commit of the write that crosses SQLite's threshold."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import insert

from wo_tui.core.db import AUTOCHECKPOINT_PAGES, connect
from wo_tui.core.models import assignees
from wo_tui.core.schema import upgrade

from conftest import PG_URL

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="SQLite's write-ahead log")


def wal_frames(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames already copied into the database file), read by a
    connection of its own without copying anything (a PASSIVE checkpoint of nothing new)."""
    conn = sqlite3.connect(path)
    try:
        _busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return log, done
    finally:
        conn.close()


def checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "wo-tui-checkpoint"]


def test_writes_are_checkpointed_in_the_background_and_dispose_stops_the_thread(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wal.db"
    db = connect(str(path))
    upgrade(db)
    assert db.checkpointer is not None
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == AUTOCHECKPOINT_PAGES
    rounds = db.checkpointer.rounds
    with db.write() as conn:
        conn.execute(insert(assignees), {"name": "Sam", "kind": "internal", "email": "s@x.example"})
    deadline = time.monotonic() + 10
    while db.checkpointer.rounds == rounds and time.monotonic() < deadline:
        time.sleep(0.05)
    assert db.checkpointer.rounds > rounds, "no checkpoint after a write"
    log, done = wal_frames(path)
    assert log == done  # everything committed is in the database file
    assert checkpoint_threads()
    db.dispose()
    assert not [t for t in checkpoint_threads() if t.is_alive()]


def test_a_process_that_exits_without_closing_leaves_no_wal_behind(tmp_path: Path) -> None:
    """The checkpointer thread must not keep the connections open past the end of the
    process: SQLite removes the WAL when the last connection closes."""
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "exit.db"
    script = textwrap.dedent(
        f"""
        from sqlalchemy import insert
        from wo_tui.core.db import connect
        from wo_tui.core.models import assignees
        from wo_tui.core.schema import upgrade
        db = connect({str(path)!r})
        upgrade(db)
        with db.write() as conn:
            conn.execute(insert(assignees), {{"name": "Sam", "kind": "internal",
                                              "email": "s@x.example"}})
        # no db.dispose(): the process just ends
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert not Path(f"{path}-wal").exists()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT name FROM assignees").fetchall() == [("Sam",)]
    finally:
        conn.close()


def test_a_stop_that_arrives_as_a_checkpoint_begins_still_ends_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stop() landing just after the thread's delay ran out, before the thread took up the
    request: its wake-up was cleared with the request and the thread waited for ever, so
    dispose() (a test's teardown, the exit hook) hung."""
    import wo_tui.core.db as db_module

    monkeypatch.setattr(db_module, "CHECKPOINT_DELAY_S", 0.01)
    db = connect(str(tmp_path / "race.db"))
    checkpointer = db.checkpointer
    assert checkpointer is not None
    take_up = checkpointer._wanted.clear
    stopped: list[bool] = []
    stopper = threading.Thread(target=lambda: stopped.append(checkpointer.stop(timeout=3)))
    stop_asked = threading.Event()

    def stop_arrives_then_take_up() -> None:
        stopper.start()  # the whole of stop() runs now, up to waiting for this thread
        stop_asked.set()
        while not checkpointer._stopping.is_set():
            time.sleep(0.001)
        time.sleep(0.1)
        take_up()

    monkeypatch.setattr(checkpointer._wanted, "clear", stop_arrives_then_take_up)
    checkpointer.poke()
    try:
        assert stop_asked.wait(5)
        stopper.join(5)
        assert stopped == [True], "the checkpoint thread did not end"
    finally:
        db.engine.dispose()
