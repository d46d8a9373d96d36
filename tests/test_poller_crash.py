"""Exactly one order per event across crashes and concurrent pollers (docs/guarantees.md),
with real processes: a worker killed with SIGKILL at each point of a batch, and four
`wo-tui worker --once` processes draining the same backlog at the same time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from wo_tui.core.context import Context
from wo_tui.core.event_settings import EventsSettings
from wo_tui.core.events import add_event
from wo_tui.core.poller import drain_events, process_batch
from wo_tui.core.seed import seed_events

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("poller_worker.py")
SCRIPT = Path(sys.executable).with_name("wo-tui")
TIMEOUT = 120


def query(ctx: Context, sql: str) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        return [dict(r) for r in conn.execute(text(sql)).mappings()]


def assert_exactly_one_order_per_event(ctx: Context, count: int) -> None:
    """Every event processed, each the source of exactly one order, and pointing at it."""
    assert query(ctx, "SELECT status, count(*) AS n FROM events GROUP BY status") == [
        {"status": "processed", "n": count}
    ]
    per_event = query(
        ctx,
        "SELECT source_event_id, count(*) AS n FROM work_orders "
        "WHERE source_event_id IS NOT NULL GROUP BY source_event_id HAVING count(*) > 1",
    )
    assert per_event == []
    mismatched = query(
        ctx,
        "SELECT e.id FROM events e LEFT JOIN work_orders w ON w.source_event_id = e.id "
        "WHERE w.id IS NULL OR e.work_order_id IS NULL OR e.work_order_id <> w.id",
    )
    assert mismatched == []
    assert (
        query(ctx, "SELECT count(*) AS n FROM work_orders WHERE source_event_id IS NOT NULL")[0][
            "n"
        ]
        == count
    )


def environment(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without WO_TUI_* settings or a user config."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("WO_TUI_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"), TZ="UTC")
    return env


@pytest.mark.parametrize("point", ["claimed", "inserted", "before_commit", "after_commit"])
def test_a_worker_killed_at_any_point_leaves_exactly_one_order_per_event(
    ctx: Context, db_url: str, tmp_path: Path, point: str
) -> None:
    seed_events(ctx, 60)
    killed = subprocess.run(
        [sys.executable, str(WORKER), db_url, "25", point],
        capture_output=True,
        text=True,
        env=environment(tmp_path),
        timeout=TIMEOUT,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    committed = point == "after_commit"
    processed = query(ctx, "SELECT count(*) AS n FROM events WHERE status = 'processed'")
    assert processed == [{"n": 25 if committed else 0}]
    if not committed:
        assert query(ctx, "SELECT count(*) AS n FROM work_orders") == [{"n": 0}]

    restarted = subprocess.run(
        [sys.executable, str(WORKER), db_url, "1000"],
        capture_output=True,
        text=True,
        env=environment(tmp_path),
        timeout=TIMEOUT,
        check=False,
    )
    assert (restarted.returncode, restarted.stderr) == (0, "")
    assert restarted.stdout.endswith(f"from {35 if committed else 60} events, 0 retried, 0 dead\n")
    assert_exactly_one_order_per_event(ctx, 60)
    assert drain_events(ctx, EventsSettings()).events == 0


def test_four_workers_drain_500_events_without_duplicates(
    ctx: Context, db_url: str, tmp_path: Path
) -> None:
    seed_events(ctx, 500)
    env = {**environment(tmp_path), "WO_TUI_EVENTS__BATCH_SIZE": "5"}
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "wo_tui"]
    workers = [
        subprocess.Popen(
            [*command, "worker", "--once", "--db", db_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    outputs = [w.communicate(timeout=TIMEOUT) for w in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert (worker.returncode, err) == (0, "")
        assert all(line.startswith("created ") for line in out.splitlines())
    claimed = sum(
        int(line.split(" from ")[1].split()[0]) for out, _ in outputs for line in out.splitlines()
    )
    assert claimed == 500  # every event was taken by exactly one worker
    assert_exactly_one_order_per_event(ctx, 500)
    creators = query(ctx, "SELECT DISTINCT created_by FROM work_orders")
    assert creators == [{"created_by": "event-poller"}]


def test_two_pollers_on_the_same_site_at_once_make_one_order(
    ctx: Context, db_url: str, tmp_path: Path
) -> None:
    """A second poller handling a duplicate while the first has not committed yet waits for
    it (PostgreSQL: an advisory lock per site; SQLite: one writer at a time) and links."""
    for ref in ("DUP-1", "DUP-2"):
        add_event(ctx, "special_read_request", external_ref=ref, site_address="1 A St",
                  meter_number="M1", account_number="A1", site_id="41000000016")  # fmt: skip
    marker = tmp_path / "paused"
    first = subprocess.Popen(
        [sys.executable, str(WORKER), db_url, "1", f"pause@before_commit@{marker}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(tmp_path),
    )
    deadline = time.monotonic() + TIMEOUT
    while not marker.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), first.communicate()
    second = process_batch(ctx, EventsSettings())  # runs while the first is inside its batch
    out, err = first.communicate(timeout=TIMEOUT)
    assert (first.returncode, err) == (0, ""), out
    assert (second.events, second.orders_created, second.duplicates) == (1, 0, 1)
    orders = query(ctx, "SELECT id FROM work_orders")
    assert len(orders) == 1
    linked = query(ctx, "SELECT work_order_id FROM events ORDER BY id")
    assert linked == [{"work_order_id": orders[0]["id"]}] * 2
