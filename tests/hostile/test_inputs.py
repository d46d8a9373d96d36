"""Hostile input on the command line and in the complete dialog (issue 18, items 10-12).

- A meter reading is a plain non-negative decimal (docs/events.md, `billing_outbound.reading`):
  the digits 0-9 with at most one point, at most 12 digits before it and 4 after; leading
  zeros dropped, the digits after the point kept exactly as typed.
- An argument that is not valid UTF-8 is refused by every command with exit status 2 and one
  line naming it (never a traceback).
- Every count option has a documented maximum (1,000,000): above it, or below its minimum,
  exit status 2 and one line.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from wo_tui import cli
from wo_tui.core.context import Context
from wo_tui.core.db import connect
from wo_tui.core.errors import InvalidInput
from wo_tui.core.models import assignees, billing_outbound, events, work_orders
from wo_tui.core.orders import create_order
from wo_tui.core.status_changes import bulk_complete

from conftest import isolate_cli, terminal_env

SPECIAL_READ = {
    "type_code": "SPECIAL_READ",
    "account_number": "40012345",
    "site_address": "1 Pitt St",
    "meter_number": "M100",
}

STORED = [
    ("00000012.5000", "12.5000"),
    ("00012.50", "12.50"),
    ("0.5", "0.5"),
    ("000", "0"),
    (" 42 ", "42"),
    ("123456789012.1234", "123456789012.1234"),  # the most digits on each side
    ("0000123456789012", "123456789012"),  # leading zeros do not count
]
"""What is typed, and what is stored and sent to billing."""

REFUSED = [
    ("1e5", "'1e5' is not a plain number: type the digits 0-9 and at most one point"),
    ("1e400", "'1e400' is not a plain number"),
    ("١٢٣", "'١٢٣' is not a plain number: type the digits 0-9"),  # Arabic-Indic digits
    ("1_000", "'1_000' is not a plain number"),
    ("12,345", "'12,345' is not a plain number"),
    ("+5", "'+5' is not a plain number"),
    ("-5", "a reading is zero or more: type it without a sign"),
    ("NaN", "'NaN' is not a plain number"),
    (".5", "type a digit before the point, e.g. 0.5"),
    ("12.", "type the digits after the point, or leave the point out"),
    ("1.2.3", "'1.2.3' is not a plain number"),
    ("", "type the reading in digits, e.g. 12345.6"),
    ("1234567890123", "a reading has at most 12 digits before the point"),
    ("1.12345", "a reading has at most 4 digits after the point"),
]
"""What is typed, and what the refusal says."""


def billed_reading(ctx: Context, order_id: int) -> list[tuple[str | None, str | None]]:
    """The order's reading, and the readings billing_outbound holds for it."""
    with ctx.db.read() as conn:
        order = conn.execute(
            select(work_orders.c.reading).where(work_orders.c.id == order_id)
        ).scalar()
        sent = conn.execute(
            select(billing_outbound.c.reading).where(billing_outbound.c.work_order_id == order_id)
        ).scalars()
        return [(order, reading) for reading in sent]


@pytest.mark.parametrize(("typed", "stored"), STORED)
def test_a_reading_is_stored_and_billed_as_typed_without_leading_zeros(
    ctx: Context, typed: str, stored: str
) -> None:
    order_id = create_order(ctx, SPECIAL_READ)
    assert bulk_complete(ctx, [order_id], reading=typed).all_done
    assert billed_reading(ctx, order_id) == [(stored, stored)]


@pytest.mark.parametrize(("typed", "message"), REFUSED)
def test_a_reading_that_is_not_a_plain_decimal_is_refused(
    ctx: Context, typed: str, message: str
) -> None:
    order_id = create_order(ctx, SPECIAL_READ)
    with pytest.raises(InvalidInput) as caught:
        bulk_complete(ctx, [order_id], reading=typed)
    assert message in caught.value.problems["reading"]
    assert billed_reading(ctx, order_id) == []


def wo(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> tuple[int, str, str]:
    """Run `wo-tui --db URL argv...` in-process: (status, stdout, stderr)."""
    capsys.readouterr()
    status = cli.run(["--db", db_url, *argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_cli(monkeypatch, tmp_path, "input-tester")


@pytest.mark.usefixtures("in_process")
def test_the_cli_records_and_refuses_readings_by_the_same_rule(
    capsys: pytest.CaptureFixture[str], db_url: str, ctx: Context
) -> None:
    for typed, stored in STORED:
        order_id = create_order(ctx, SPECIAL_READ)
        status, out, err = wo(
            capsys, db_url, "orders", "complete", str(order_id), f"--reading={typed}"
        )
        assert (status, err) == (0, "1 completed, 0 skipped, 0 conflicts\n"), typed
        assert billed_reading(ctx, order_id) == [(stored, stored)], typed
    order_id = create_order(ctx, SPECIAL_READ)
    for typed, message in REFUSED:
        status, out, err = wo(
            capsys, db_url, "orders", "complete", str(order_id), f"--reading={typed}"
        )
        assert (status, out) == (2, ""), typed
        assert err.startswith("wo-tui: invalid input\n  reading: "), typed
        assert message in err and err.count("\n") == 2, typed  # one line says what is wrong
    assert billed_reading(ctx, order_id) == []


# -- arguments that are not UTF-8 --------------------------------------------------------------
def run_bytes(tmp_path: Path, *argv: bytes) -> subprocess.CompletedProcess[bytes]:
    """`python -m wo_tui argv...` in a fresh process, the arguments given as bytes (as a
    shell passes $'\\xff'). A count that nothing limits must fail, not fill the machine:
    the process may use 4 GiB of memory and write files of 512 MiB, and is stopped after
    a minute (the commands here take a second)."""
    env = terminal_env(tmp_path, "input-tester")
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]

    def cap_resources() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        resource.setrlimit(resource.RLIMIT_FSIZE, (512 << 20, 512 << 20))

    return subprocess.run(
        [sys.executable, "-m", "wo_tui", *argv],
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        preexec_fn=cap_resources,
        check=False,
    )


def table_rows(db_url: str) -> dict[str, int]:
    """How many rows the tables a refused command could have written hold."""
    db = connect(db_url)
    try:
        with db.read() as conn:
            return {
                t.name: len(conn.execute(select(t)).all()) for t in (assignees, events, work_orders)
            }
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        ([b"orders", b"list", b"--filter", b"\xff"], b"argument 6 (after --filter)"),
        (
            [b"technicians", b"add", b"N\xff", b"--email", b"n@example.com"],
            b"argument 5 (after add)",
        ),
        (
            [b"events", b"add", b"move_in", b"--customer", b"\xff\xfe"],
            b"argument 7 (after --customer)",
        ),
        ([b"orders", b"list", b"--filter=\xff"], b"the value of --filter"),
        (
            [b"orders", b"create", b"--type", b"MISC", b"--address", b"\xff"],
            b"argument 8 (after --address)",
        ),
        ([b"seed", b"--orders", b"1", b"--seed", b"\xc3"], b"argument 7 (after --seed)"),
        ([b"\xff"], b"argument 3 (after "),
    ],
)
def test_an_argument_that_is_not_utf8_is_refused_in_one_line(
    tmp_path: Path, db_url: str, argv: list[bytes], named: bytes
) -> None:
    before = table_rows(db_url)
    done = run_bytes(tmp_path, b"--db", db_url.encode(), *argv)
    assert done.returncode == 2, done.stderr
    assert done.stdout == b""
    [line] = done.stderr.splitlines()
    assert line.startswith(b"wo-tui: " + named), line
    assert b"is not valid UTF-8 text: b'" in line
    assert table_rows(db_url) == before


# -- counts --------------------------------------------------------------------------------------
HUGE = b"99999999999999999999"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([b"seed", b"--orders", HUGE], b"--orders must be a whole number from 0 to 1,000,000"),
        (
            [b"seed", b"--orders", b"0", b"--events", HUGE],
            b"--events must be a whole number from 0",
        ),
        ([b"seed", b"--orders", b"1000001"], b"(got 1000001)"),
        (
            [b"seed", b"--events", b"-3"],
            b"--events must be a whole number from 0 to 1,000,000 (got -3)",
        ),
        (
            [b"orders", b"list", b"--limit", HUGE],
            b"--limit must be a whole number from 1 to 1,000,000",
        ),
        (
            [b"events", b"list", b"--limit", HUGE],
            b"--limit must be a whole number from 1 to 1,000,000",
        ),
        ([b"events", b"list", b"--limit", b"-1"], b"(got -1)"),
    ],
)
def test_a_count_beyond_its_range_is_refused_in_one_line(
    tmp_path: Path, db_url: str, argv: list[bytes], message: bytes
) -> None:
    before = table_rows(db_url)
    done = run_bytes(tmp_path, b"--db", db_url.encode(), *argv)
    assert (done.returncode, done.stdout) == (2, b""), done.stderr[-2000:]
    [line] = done.stderr.splitlines()
    assert line.startswith(b"wo-tui: ") and message in line, line
    assert table_rows(db_url) == before


@pytest.mark.parametrize("count", [HUGE, b"0", b"-1"])
def test_demo_refuses_a_count_beyond_its_range_before_it_starts(
    tmp_path: Path, count: bytes
) -> None:
    done = run_bytes(tmp_path, b"demo", b"--orders", count, b"--keep", b"demo.db")
    assert (done.returncode, done.stdout) == (2, b""), done.stderr[-2000:]
    [line] = done.stderr.splitlines()
    assert line.startswith(b"wo-tui: --orders must be a whole number from 1 to 1,000,000")
    assert not (tmp_path / "demo.db").exists()


@pytest.mark.usefixtures("in_process")
def test_the_largest_count_is_taken_and_documented(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    status, _, err = wo(capsys, db_url, "orders", "list", "--limit", "1000000")
    assert (status, err) == (0, "0 orders\n")
    for command in (["seed"], ["demo"], ["orders", "list"], ["events", "list"]):
        with pytest.raises(SystemExit):
            cli.run([*command, "--help"])
        assert "1,000,000" in capsys.readouterr().out, command
    docs = (Path(__file__).parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "1,000,000" in docs


def test_counts_inside_the_range_still_seed(tmp_path: Path, db_url: str) -> None:
    done = run_bytes(
        tmp_path, b"--db", db_url.encode(), b"seed", b"--orders", b"3", b"--events", b"2"
    )
    assert done.returncode == 0, done.stderr
    assert table_rows(db_url)["work_orders"] == 3 and table_rows(db_url)["events"] == 2


@pytest.mark.parametrize("action", [["retry"], ["discard", "--reason", "sent twice"]])
def test_an_event_id_beyond_any_database_is_no_such_event(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    db_url: str,
    action: list[str],
) -> None:
    """`events retry 99999999999999999999` ended in an OverflowError traceback."""
    isolate_cli(monkeypatch, tmp_path, "input-tester")
    verb, *rest = action
    capsys.readouterr()
    status = cli.run(["--db", db_url, "events", verb, "99999999999999999999", *rest])
    out, err = capsys.readouterr()
    assert (status, out) == (1, "")
    assert err == (
        "event 99999999999999999999  skipped: there is no event 99999999999999999999 "
        "(see `wo-tui events list`)\n"
    )
