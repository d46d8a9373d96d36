"""The real `wo-tui` command in a pseudo-terminal: keys in, bytes out, the database after.

SQLite only (the command opens a file); each run takes a few seconds."""

from __future__ import annotations

import re
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pexpect
import pytest
from sqlalchemy import insert, select

from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.models import history, work_orders
from wo_tui.core.orders import create_order

from conftest import NOW, PG_URL, PtyRun, terminal_env

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="the command is run on an SQLite file")

TIMEOUT = 15
ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[P^_][^\x1b]*\x1b\\|.)")


def _spawn(db_url: str, tmp_path: Path, *, width: int = 120) -> pexpect.spawn[Any]:
    return pexpect.spawn(
        sys.executable,
        ["-m", "wo_tui", "--db", db_url],
        env=terminal_env(tmp_path, "e2e-dispatcher"),
        cwd=str(tmp_path),
        dimensions=(30, width),
        timeout=TIMEOUT,
    )


def _plain(output: bytes) -> str:
    return ANSI.sub(b"", output).decode("utf-8", "replace")


def test_mark_two_complete_confirm_and_quit(
    db: Database, ctx: Context, db_url: str, tmp_path: Path
) -> None:
    ids = [
        create_order(ctx, {"type_code": "MISC", "site_address": f"{i} Pty St", "priority": p})
        for i, p in enumerate([1, 2, 3, 3], start=1)
    ]
    first, second = ids[0], ids[1]  # High, then Medium: the top two rows
    child = _spawn(db_url, tmp_path)
    with PtyRun(child) as pty:
        pty.expect("WO-000001")
        pty.expect("0 marked / 4 shown / 4 open")
        pty.send(" ")
        pty.expect("1 marked / 4 shown / 4 open")
        pty.send(" ")
        pty.expect("2 marked / 4 shown / 4 open")
        pty.send("c")
        pty.expect("Complete 2 orders?")
        pty.send("y")
        pty.expect("2 completed, 0 skipped, 0 conflicts")
        pty.send("\x1b")
        # A lone ESC followed at once by "q" reads as alt+q: pause as a person would. The
        # status line is repainted cell by cell (only what changed reaches the terminal),
        # so its new text is not matched; the database is checked below.
        time.sleep(0.5)
        pty.send("q")
        captured = pty.finish()
    assert pty.exitstatus == 0, _plain(pty.written)[-2000:]
    text = _plain(captured)
    assert "Traceback" not in text and "Error" not in text, text[-2000:]

    with db.read() as conn:
        rows = dict(conn.execute(select(work_orders.c.id, work_orders.c.status)).all())
        trail = conn.execute(
            select(history.c.work_order_id, history.c.actor).where(
                history.c.new_value == "COMPLETED"
            )
        ).all()
    assert rows == {first: "COMPLETED", second: "COMPLETED", ids[2]: "NEW", ids[3]: "NEW"}
    assert sorted(trail) == [(first, "e2e-dispatcher"), (second, "e2e-dispatcher")]


HOSTILE = [
    {
        "customer_name": "A\x1b]52;c;SGVsbG8=\x07",  # OSC 52: would set the clipboard
        "site_address": "Z\x1b[2J\x1b[31mred",  # CSI: clear the screen, colour
        "meter_number": "M\x1bP+q\x1b\\",  # DCS
    },
    {"customer_name": "[link=http://x]Bob", "site_address": "[@click=app.quit]Eve"},
]


def test_data_never_sends_escape_sequences_to_the_terminal(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    with db.write() as conn:
        conn.execute(
            insert(work_orders),
            [
                {
                    "id": n,
                    "type_code": "MISC",
                    "priority": 1,
                    "status": "NEW",
                    "source": "manual",
                    "created_at": NOW,
                    "created_by": "seed",
                    "service_time": "any",
                    "due_date": NOW.date() + timedelta(days=3),
                    "updated_at": NOW,
                    "updated_by": "seed",
                    "version": 1,
                    "meter_number": None,
                    **fields,
                }
                for n, fields in enumerate(HOSTILE, start=1)
            ],
        )
    child = _spawn(db_url, tmp_path, width=160)  # wide enough for the site / meter column
    with PtyRun(child) as pty:
        pty.expect("2 shown")
        pty.send(" ")  # mark the first row: it is drawn again
        pty.expect("1 marked")
        pty.send("q")
        pty.expect("Quit and drop 1 mark?")
        pty.send("y")
        captured = pty.finish()
    assert pty.exitstatus == 0
    # Shown literally, without its control characters ...
    assert b"A]52;c;SGVsbG8=" in captured
    assert b"Z[2J[31mred" in captured
    # ... and never as the sequences themselves.
    assert b"\x1b]52" not in captured
    assert b"\x1b[2J\x1b[31mred" not in captured and b"Z\x1b[2J" not in captured
    assert b"MP+q\\" in captured
    assert b"\x1bP+q" not in captured
    assert b"[link=http://x]Bob" in captured and b"[@click=app.quit]Eve" in captured
    assert b"\x1b]8;" not in captured  # no hyperlink
