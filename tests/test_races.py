"""Two dispatchers in two real processes acting on the same orders at the same moment
(docs/guarantees.md): no lost update, no double close, no "database is locked".

Each worker is a fresh interpreter (multiprocessing "spawn") with its own engine."""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_module
import traceback
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database, connect
from wo_tui.core.models import billing_outbound, history, work_orders
from wo_tui.core.status_changes import bulk_cancel, bulk_complete

from conftest import NOW

pytestmark = pytest.mark.slow

SPAWN = mp.get_context("spawn")
TIMEOUT = 120


def insert_new_orders(db: Database, count: int) -> list[int]:
    """`count` NEW orders with their creation history row, inserted in one go."""
    with db.write() as conn:
        first = (conn.execute(select(func.max(work_orders.c.id))).scalar() or 0) + 1
        ids = list(range(first, first + count))
        conn.execute(
            insert(work_orders),
            [
                {
                    "id": i,
                    "type_code": "MISC",
                    "priority": 3,
                    "status": "NEW",
                    "source": "manual",
                    "site_address": f"{i} Race St",
                    "account_number": f"A{i}",
                    "created_at": NOW,
                    "created_by": "seed",
                    "service_time": "any",
                    "due_date": NOW.date() + timedelta(days=3),
                    "updated_at": NOW,
                    "updated_by": "seed",
                    "version": 1,
                }
                for i in ids
            ],
        )
        conn.execute(
            insert(history),
            [
                {
                    "work_order_id": i,
                    "at": NOW,
                    "actor": "seed",
                    "field": "status",
                    "old_value": None,
                    "new_value": "NEW",
                    "reason": "created",
                }
                for i in ids
            ],
        )
    return ids


# --- the workers (run in spawned processes) ----------------------------------------------


def _act(ctx: Context, role: str, ids: list[int], versions: dict[int, int] | None) -> Any:
    if role == "A":
        return bulk_complete(ctx, ids, note="done in the field", expected_versions=versions)
    return bulk_cancel(ctx, ids, "duplicate", expected_versions=versions)


def race_worker(url: str, role: str, order_ids: list[int], barrier: Any, results: Any) -> None:
    """For each order: read its version, meet the other worker, then complete (A) or
    cancel (B) it guarded by that version; report (role, id, result, detail)."""
    db = connect(url)
    ctx = Context(db, f"dispatcher-{role.lower()}")
    try:
        for order_id in order_ids:
            with db.read() as conn:
                version = conn.execute(
                    select(work_orders.c.version).where(work_orders.c.id == order_id)
                ).scalar_one()
            barrier.wait(TIMEOUT)
            outcome = _act(ctx, role, [order_id], {order_id: version}).outcomes[0]
            results.put((role, outcome.order_id, outcome.result.value, outcome.detail))
    except BaseException:
        results.put((role, None, "error", traceback.format_exc()))
        barrier.abort()
    finally:
        db.dispose()


def bulk_worker(url: str, role: str, batches: list[list[int]], barrier: Any, results: Any) -> None:
    """Meet the other worker, then close every batch without expected versions; report
    every per-order outcome."""
    db = connect(url)
    ctx = Context(db, f"dispatcher-{role.lower()}", clock=fixed_clock(NOW))
    try:
        barrier.wait(TIMEOUT)
        for batch in batches:
            for o in _act(ctx, role, batch, None).outcomes:
                results.put((role, o.order_id, o.result.value, o.detail))
    except BaseException:
        results.put((role, None, "error", traceback.format_exc()))
        barrier.abort()
    finally:
        db.dispose()


def run_pair(target: Any, args_a: tuple[Any, ...], args_b: tuple[Any, ...], expect: int) -> list:
    """Run A and B in two spawned processes; collect `expect` reports (or an error)."""
    barrier = SPAWN.Barrier(2)
    results = SPAWN.Queue()
    workers = [
        SPAWN.Process(target=target, args=(*args_a, barrier, results)),
        SPAWN.Process(target=target, args=(*args_b, barrier, results)),
    ]
    for w in workers:
        w.start()
    reports: list[tuple[str, int | None, str, str]] = []
    try:
        while len(reports) < expect:
            try:
                report = results.get(timeout=TIMEOUT)
            except queue_module.Empty:
                pytest.fail(f"workers went quiet after {len(reports)} of {expect} reports")
            assert report[2] != "error", report[3]
            reports.append(report)
    finally:
        for w in workers:
            w.join(TIMEOUT)
            if w.is_alive():
                w.kill()
    assert [w.exitcode for w in workers] == [0, 0]
    return reports


def status_rows(db: Database, order_id: int) -> list[tuple[str | None, str, str]]:
    with db.read() as conn:
        query = (
            select(history.c.old_value, history.c.new_value, history.c.actor)
            .where(history.c.work_order_id == order_id, history.c.field == "status")
            .order_by(history.c.id)
        )
        return [tuple(r) for r in conn.execute(query)]


# --- the tests ---------------------------------------------------------------------------


def test_complete_against_cancel_exactly_one_wins(db_url: str, db: Database) -> None:
    rounds = 5
    ids = insert_new_orders(db, rounds)
    reports = run_pair(race_worker, (db_url, "A", ids), (db_url, "B", ids), expect=2 * rounds)

    winners = []
    for order_id in ids:
        mine = {role: (result, detail) for role, oid, result, detail in reports if oid == order_id}
        assert sorted(r for r, _ in mine.values()) == ["conflict", "done"], mine
        winner = next(role for role, (r, _) in mine.items() if r == "done")
        loser = "B" if winner == "A" else "A"
        winners.append(winner)
        # the loser is told who changed the order
        assert f"changed by dispatcher-{winner.lower()}" in mine[loser][1]
        with db.read() as conn:
            row = conn.execute(select(work_orders).where(work_orders.c.id == order_id)).one()
            outbound = conn.execute(
                select(billing_outbound.c.action, billing_outbound.c.actor).where(
                    billing_outbound.c.work_order_id == order_id
                )
            ).all()
        final = "COMPLETED" if winner == "A" else "CANCELLED"
        assert row.status == final and row.version == 2
        assert row.updated_by == f"dispatcher-{winner.lower()}"
        if winner == "A":
            assert row.cancelled_at is None and row.completion_note == "done in the field"
        else:
            assert row.completed_at is None and row.cancel_reason == "duplicate"
        assert status_rows(db, order_id) == [
            (None, "NEW", "seed"),
            ("NEW", final, f"dispatcher-{winner.lower()}"),
        ]
        assert [tuple(o) for o in outbound] == [(final, f"dispatcher-{winner.lower()}")]
    assert len(winners) == rounds  # who wins varies from run to run; both outcomes are fine


@pytest.mark.parametrize(
    "batch",
    [
        20,  # many small transactions from both ends: interleaved
        200,  # one call each, given in opposite orders: locked in id order, no deadlock
    ],
    ids=["batches-of-20", "one-call-each"],
)
def test_concurrent_bulk_close_closes_each_order_once(
    db_url: str, db: Database, batch: int
) -> None:
    ids = insert_new_orders(db, 200)
    ascending = [ids[i : i + batch] for i in range(0, len(ids), batch)]
    descending = [list(reversed(b)) for b in reversed(ascending)]
    reports = run_pair(
        bulk_worker,
        (db_url, "A", ascending),
        (db_url, "B", descending),
        expect=2 * len(ids),
    )

    by_order: dict[int, dict[str, tuple[str, str]]] = {i: {} for i in ids}
    for role, order_id, result, detail in reports:
        assert order_id is not None
        by_order[order_id][role] = (result, detail)
    for order_id, mine in by_order.items():
        assert sorted(r for r, _ in mine.values()) == ["done", "skipped"], (order_id, mine)
    done_by = {
        i: next(role for role, (r, _) in m.items() if r == "done") for i, m in by_order.items()
    }

    with db.read() as conn:
        rows = {
            r.id: r
            for r in conn.execute(
                select(work_orders.c.id, work_orders.c.status, work_orders.c.version).where(
                    work_orders.c.id.in_(ids)
                )
            )
        }
        closes = Counter(
            conn.execute(
                select(history.c.work_order_id).where(
                    history.c.field == "status",
                    history.c.new_value.in_(["COMPLETED", "CANCELLED"]),
                )
            ).scalars()
        )
        outbound = Counter(conn.execute(select(billing_outbound.c.work_order_id)).scalars())
    for order_id in ids:
        expected = "COMPLETED" if done_by[order_id] == "A" else "CANCELLED"
        assert rows[order_id].status == expected and rows[order_id].version == 2
        assert closes[order_id] == 1 and outbound[order_id] == 1
    assert sum(closes.values()) == sum(outbound.values()) == len(ids)
