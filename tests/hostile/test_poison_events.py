"""Issue 18: a poison event never stops ingestion.

Billing writes `events` rows with its own SQL, and SQLite keeps any value in any column: a
time as `'02/03/2026 09:15'` or as the number 1772442900, a blob or text that is not UTF-8
in a text column, `'yes'` in `life_support`. Each such event must fail alone (retried, then
dead, with an error naming the column, what was wrong and what to write instead); the good
events around it become orders, and the worker exits 0. The same rows must not stop
`wo-tui events list` or the Events screen either (docs/events.md, "When an event cannot be
handled").

Wrong storage types exist on SQLite only: PostgreSQL's typed columns refuse them at insert,
so those cases are skipped there; what PostgreSQL can hold (a payload over its limit, a
payload that is not JSON) runs on both.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from textual.widgets import DataTable, Static

from hostile.billing_rows import (
    event_states,
    insert_event,
    insert_good_events,
    order_sources,
)
from wo_tui import cli
from wo_tui.config import load_settings
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.tui.app import make_app
from wo_tui.tui.screens.events import EventsScreen

from conftest import NOW, PG_URL, isolate_cli, terminal_env

SQLITE_ONLY = (
    "PostgreSQL's typed columns refuse these values at insert (a number or a blob in a text "
    "column, text that is not UTF-8, text in a boolean, a value over a varchar's size)"
)
TIME_ADVICE = (
    "billing must write it as text 'YYYY-MM-DD HH:MM:SS' in UTC, e.g. '2026-03-02 09:15:00'"
)
TEXT_ADVICE = "billing must write it as UTF-8 text of at most"


@dataclass
class Case:
    """One bad row: its columns as SQL, and the error it must die of (None: it is not bad
    enough to fail, and becomes an order)."""

    ref: str
    sql: dict[str, str]
    error: str | None
    params: dict[str, Any] = field(default_factory=dict)
    once: bool = False
    """It fails once only: wo-tui writes the bad value over (a count of attempts)."""


EVERY_DATABASE = [
    Case("NOT-JSON", {"payload": "'{not json'"}, "payload is not valid JSON"),
    Case(
        "LONG-PAYLOAD",
        {"payload": ":payload"},
        "payload is too long: 70,000 characters, over its limit of 65,536 characters; "
        "billing must shorten it and send the event again",
        {"payload": '{"note": "' + "x" * 69_988 + '"}'},
    ),
]
SQLITE_CASES = [
    Case(
        "TIME-DMY",
        {"occurred_at": "'02/03/2026 09:15'"},
        f"occurred_at holds '02/03/2026 09:15', not a time: {TIME_ADVICE}",
    ),
    Case(
        "TIME-EPOCH",
        {"occurred_at": "1772442900"},
        f"occurred_at holds the number 1772442900, not a time: {TIME_ADVICE}",
    ),
    Case(
        "TIME-13TH-MONTH",
        {"occurred_at": "'2026-13-45 10:00'"},
        f"occurred_at holds '2026-13-45 10:00', not a time: {TIME_ADVICE}",
    ),
    Case("TIME-REAL", {"occurred_at": "1772442900.5"}, "occurred_at holds the number 1772442900.5"),
    Case("TIME-BLOB", {"occurred_at": "X'01'"}, "occurred_at holds a blob (binary data) of 1 byte"),
    Case(
        "TIME-NOT-UTF8",
        {"occurred_at": "CAST(X'32303236FF' AS TEXT)"},
        f"occurred_at is not valid UTF-8 text ('2026\ufffd'): {TIME_ADVICE}",
    ),
    Case(
        "TYPE-BLOB",
        {"event_type": "X'6D6F76655F696E'"},
        f"event_type holds a blob (binary data) of 7 bytes, not text: {TEXT_ADVICE} 60",
    ),
    Case(
        "TYPE-NOT-UTF8",
        {"event_type": "CAST(X'6D6FFF' AS TEXT)"},
        "event_type is not valid UTF-8 text ('mo\ufffd')",
    ),
    # A number in a text column is stored as text (SQLite's text affinity): it is read as
    # the text it became, and here names no rule.
    Case("TYPE-NUMBER", {"event_type": "42"}, "no rule for event type '42'"),
    Case("REF-BLOB", {"external_ref": "X'4242'"}, "external_ref holds a blob (binary data)"),
    Case(
        "REF-TOO-LONG",
        {"external_ref": f"'{'R' * 121}'"},
        "external_ref is too long: 121 characters, over its limit of 120 characters",
    ),
    Case(
        "NAME-NOT-UTF8",
        {"customer_name": "CAST(X'4A6FFF' AS TEXT)"},
        f"customer_name is not valid UTF-8 text ('Jo\ufffd'): {TEXT_ADVICE} 200 characters",
    ),
    Case(
        "NAME-BLOB",
        {"customer_name": "X'4A6F'"},
        "customer_name holds a blob (binary data) of 2 bytes, not text",
    ),
    Case(
        "NAME-TOO-LONG",
        {"customer_name": f"'{'N' * 201}'"},
        "customer_name is too long: 201 characters, over its limit of 200 characters",
    ),
    Case("SITE-BLOB", {"site_id": "X'00'"}, "site_id holds a blob (binary data) of 1 byte"),
    Case("PAYLOAD-BLOB", {"payload": "X'7B7D'"}, "payload holds a blob (binary data) of 2 bytes"),
    Case(
        "PAYLOAD-NOT-UTF8",
        {"payload": "CAST(X'7BFF7D' AS TEXT)"},
        "payload is not valid UTF-8 text",
    ),
    Case(
        "LIFE-YES",
        {"life_support": "'yes'"},
        "life_support holds 'yes', not TRUE or FALSE: billing must write TRUE or FALSE",
    ),
    Case("LIFE-TWO", {"life_support": "2"}, "life_support holds the number 2, not TRUE or FALSE"),
    Case("LIFE-HALF", {"life_support": "0.5"}, "life_support holds the number 0.5"),
    # wo-tui's own columns, changed by someone: at worst the event fails once.
    Case(
        "ATTEMPTS-TEXT",
        {"attempts": "'abc'"},
        "attempts holds 'abc', not a number of attempts: wo-tui keeps this column",
        once=True,
    ),
    Case("ATTEMPTS-NEGATIVE", {"attempts": "-1"}, "attempts holds the number -1", once=True),
    Case("NEXT-TRY-TEXT", {"next_attempt_at": "'soon'"}, None),  # not a time: due now
    Case("NEXT-TRY-NUMBER", {"next_attempt_at": "12"}, None),
    Case("RECEIVED-TEXT", {"received_at": "'yesterday'"}, None),  # not read by the poller
    Case("ORDER-TEXT", {"work_order_id": "'abc'"}, None),
]
GROUPS = {"every database": EVERY_DATABASE, "sqlite only": SQLITE_CASES}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_cli(monkeypatch, tmp_path, "hostile-tester")


def insert_among_good_ones(db: Database, cases: list[Case]) -> tuple[list[int], dict[int, Case]]:
    """100 good events with the bad rows spread among them; (good ids, bad id -> case)."""
    good: list[int] = []
    bad: dict[int, Case] = {}
    step = 100 // (len(cases) + 1)
    with db.write() as conn:
        for case in cases:
            good += insert_good_events(conn, len(good) + 1, step)
            bad[insert_event(conn, case.ref, case.params, **case.sql)] = case
        good += insert_good_events(conn, len(good) + 1, 100 - len(good))
    return good, bad


def worker_once(capsys: pytest.CaptureFixture[str], db_url: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = cli.run(["--db", db_url, "worker", "--once"])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("group", GROUPS)
def test_one_bad_row_of_each_kind_among_100_good_ones(
    group: str,
    db: Database,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if group == "sqlite only" and PG_URL:
        pytest.skip(SQLITE_ONLY)
    good, bad = insert_among_good_ones(db, GROUPS[group])
    handled = good + [i for i, c in bad.items() if c.error is None]
    # A value over its limit cannot succeed however often it is tried: dead at once.
    at_once = {i: c for i, c in bad.items() if c.error and "is too long" in c.error}
    retried = {i: c for i, c in bad.items() if c.error and i not in at_once}
    monkeypatch.setenv("WO_TUI_EVENTS__MAX_ATTEMPTS", "2")

    status, out, err = worker_once(capsys, db_url)
    assert (status, err) == (0, "")
    assert out == (
        f"created {len(handled)} orders from {len(good) + len(bad)} events, "
        f"{len(retried)} retried, {len(at_once)} dead\n"
    )
    with db.read() as conn:
        assert sorted(order_sources(conn)) == sorted(handled)
        states = event_states(conn)
    assert {states[i][:2] for i in handled} == {("processed", 1)}
    for event_id, case in bad.items():
        state, attempts, error, waiting = states[event_id]
        if event_id in retried:
            assert (state, attempts, waiting) == ("pending", 1, True), case.ref
        elif event_id in at_once:
            assert (state, attempts, waiting) == ("dead", 1, False), case.ref
        assert (case.error or "never") in (error or "never"), case.ref

    # Two hours later every retry is due: the second failure makes them dead (an event
    # whose count of attempts was bad has a good one now, and becomes an order).
    healed = {i for i, c in retried.items() if c.once}
    later = functools.partial(Context, clock=fixed_clock(NOW + timedelta(hours=2)))
    monkeypatch.setattr("wo_tui.cli.runtime.Context", later)
    status, out, err = worker_once(capsys, db_url)
    assert (status, err) == (0, "")
    assert out == (
        f"created {len(healed)} orders from {len(retried)} events, 0 retried, "
        f"{len(retried) - len(healed)} dead\n"
    )
    with db.read() as conn:
        states = event_states(conn)
        assert sorted(order_sources(conn)) == sorted(handled + list(healed))
    for event_id, case in retried.items():
        state, attempts, error, waiting = states[event_id]
        if event_id in healed:
            assert (state, attempts, error) == ("processed", 2, None), case.ref
            continue
        assert (state, attempts, waiting) == ("dead", 2, False), case.ref
        assert (case.error or "") in (error or ""), case.ref


def listed_ids(capsys: pytest.CaptureFixture[str], db_url: str, fmt: str) -> list[int]:
    """The ids `wo-tui events list --format FMT` prints (it must exit 0)."""
    capsys.readouterr()
    status = cli.run(["--db", db_url, "events", "list", "--format", fmt])
    out, err = capsys.readouterr()
    assert status == 0, err
    if fmt == "json":
        return [row["id"] for row in json.loads(out)]
    if fmt == "csv":
        return [int(row[0]) for row in list(csv.reader(io.StringIO(out)))[1:]]
    return [int(line.split()[0]) for line in out.splitlines()[1:]]


@pytest.mark.parametrize("group", GROUPS)
def test_events_list_shows_a_database_holding_such_rows(
    group: str, db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before and after the worker: every event is listed, in each format, exit 0."""
    if group == "sqlite only" and PG_URL:
        pytest.skip(SQLITE_ONLY)
    cases = GROUPS[group]
    if group == "sqlite only":  # the columns only wo-tui writes, as someone may change them
        cases = [
            *cases,
            Case("STATUS-BLOB", {"status": "X'70656E64696E67'"}, None),
            Case("STATUS-NOT-UTF8", {"status": "CAST(X'64FF' AS TEXT)"}, None),
            Case("LAST-ERROR-NOT-UTF8", {"last_error": "CAST(X'41FF' AS TEXT)"}, None),
            Case("PROCESSED-BLOB", {"processed_at": "X'00'"}, None),
        ]
    good, bad = insert_among_good_ones(db, cases)
    for _ in range(2):  # as billing wrote them, then after the worker
        for fmt in ("table", "csv", "json"):
            assert listed_ids(capsys, db_url, fmt) == sorted([*good, *bad], reverse=True), fmt
        worker_once(capsys, db_url)
    capsys.readouterr()
    assert cli.run(["--db", db_url, "events", "list", "--format", "csv"]) == 0
    lines = {line.split(",", 1)[0]: line for line in capsys.readouterr().out.splitlines()}
    if group == "sqlite only":
        by_ref = {c.ref: i for i, c in bad.items()}
        assert ",02/03/2026 09:15," in lines[str(by_ref["TIME-DMY"])]  # as billing wrote it
        assert ",Jo\ufffd," in lines[str(by_ref["NAME-NOT-UTF8"])]
        assert "(a blob (binary data) of 7 bytes)" in lines[str(by_ref["STATUS-BLOB"])]


@pytest.mark.skipif(bool(PG_URL), reason=SQLITE_ONLY)
async def test_the_events_screen_lists_them(db: Database) -> None:
    _, bad = insert_among_good_ones(db, SQLITE_CASES)
    by_ref = {c.ref: i for i, c in bad.items()}
    with db.write() as conn:
        conn.execute(
            text("UPDATE events SET status = 'dead' WHERE id = :i"), {"i": by_ref["NAME-BLOB"]}
        )
    settings = load_settings(None, environ={}, overrides={"ui": {"refresh_interval_seconds": 600}})
    app = make_app(settings, Context(db, "dispatcher-a", clock=fixed_clock(NOW)))
    async with app.run_test(size=(160, 40)) as pilot:
        await app.push_screen(EventsScreen())
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[0]): table.get_row_at(i) for i in range(table.row_count)}
        assert len(rows) == table.row_count == 100 + len(SQLITE_CASES)
        assert str(rows[str(by_ref["NAME-BLOB"])][1]) == "dead"
        assert str(rows[str(by_ref["NAME-NOT-UTF8"])][9]) == "Jo\ufffd"
        status = str(app.screen.query_one("#records-status", Static).render())
        assert "1 dead" in status


def test_null_where_a_value_is_required_is_refused_at_insert(db: Database) -> None:
    """The schema's NOT NULL holds on both databases: billing cannot leave out the event
    type, the time or the reference, nor write NULL in life_support (the poller still
    reads a NULL there as a trouble of its event, for a table made by hand)."""
    for column in ("event_type", "occurred_at", "external_ref", "life_support"):
        with pytest.raises(IntegrityError), db.write() as conn:
            insert_event(conn, f"NULL-{column}", **{column: "NULL"})


@pytest.mark.skipif(bool(PG_URL), reason=SQLITE_ONLY)
def test_the_long_running_worker_keeps_going(db: Database, db_url: str, tmp_path: Path) -> None:
    """The issue's reproduction: the three times billing wrote, between good events. The
    worker (the real command, running until SIGTERM) turns the good ones into orders, parks
    the bad ones and exits 0 when stopped, with nothing on stderr."""
    times = [c for c in SQLITE_CASES if c.ref in ("TIME-DMY", "TIME-EPOCH", "TIME-13TH-MONTH")]
    good, bad = insert_among_good_ones(db, times)
    env = terminal_env(tmp_path, "hostile-tester", WO_TUI_EVENTS__MAX_ATTEMPTS="1")
    script = Path(sys.executable).with_name("wo-tui")
    worker = subprocess.Popen(
        [str(script), "--db", db_url, "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker.poll() is None:
            with db.read() as conn:
                if {s for s, *_ in event_states(conn).values()} <= {"processed", "dead"}:
                    break
            time.sleep(0.2)
        assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
    assert (worker.returncode, err) == (0, "")
    assert out == "created 100 orders from 103 events, 0 retried, 3 dead\n"
    with db.read() as conn:
        states = event_states(conn)
        assert sorted(order_sources(conn)) == good
    for event_id, case in bad.items():
        assert states[event_id][0] == "dead" and case.error in (states[event_id][2] or "")


@pytest.mark.skipif(bool(PG_URL), reason=SQLITE_ONLY)
def test_a_dead_event_whose_error_is_not_utf8_can_be_discarded(
    db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """wo-tui's own columns may be changed by someone too: retry and discard still read
    them."""
    with db.write() as conn:
        dead = insert_event(
            conn, "DEAD", status="'dead'", last_error="CAST(X'41FF' AS TEXT)", attempts="5"
        )
    capsys.readouterr()
    assert cli.run(["--db", db_url, "events", "discard", str(dead), "--reason", "junk"]) == 0
    with db.read() as conn:
        state, _, error, _ = event_states(conn)[dead]
    assert state == "discarded"
    assert error is not None and error.endswith(": junk (last error: A\ufffd)")
