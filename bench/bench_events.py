"""Benchmark of the event poller: events/s draining a backlog, against a naive baseline.

Run from the repository root:

    .venv/bin/python bench/bench_events.py [--events 50000] [--runs 3] [--pg URL]

(--pg, or $WO_TUI_BENCH_PG_URL / $WO_TUI_TEST_DATABASE_URL, adds PostgreSQL; `.ci/start-postgres`
prints a URL.) What it does (the table goes to stdout, progress to stderr):

1. Builds a template database per engine: the schema, 10,000 existing orders
   (`seed_orders`, so the duplicate and link look-ups search a real table) and a backlog of
   --events pending events (`seed_events`: move-in, move-out with its final read, special and
   final read requests, about 2% life support). Every run starts from a fresh copy of it
   (file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL).
2. Drains the backlog with `drain_events` in 1 process for each batch size in
   --batch-sizes, and in --workers processes at the default batch size. Worker processes are
   started and connected first, then released together; the clock runs from their release
   until the last one is done.
3. Two baselines with one write transaction per event, each timed over the first
   --baseline-events of the same backlog (their rate does not depend on how much is left),
   with 1 and with --workers processes:
   - "naive": the loop a first version would be: claim one pending event, `insert_order`
     (the service path: reads the types, inserts, writes history) for its order(s), mark
     the event;
   - "lean": the floor of that design: the same transaction with prebuilt rows and nothing
     else (no validation, no look-ups), close to the bare single-row-transaction rate.
4. Checks after every run that each handled event is processed and is the source of exactly
   one order.

Each figure is the median of --runs runs; for one process also the CPU time per event
(user + system, this process: the machine's other load disturbs it less than the clock).
Ratios compare with each baseline on the same
database and the same number of processes. The clock is fixed at 2026-11-26 09:30 UTC.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import make_url

from wo_tui.core import schema
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.dates import add_business_days
from wo_tui.core.db import connect, sqlite_url_for
from wo_tui.core.drafts import NewOrder
from wo_tui.core.event_settings import EventsSettings
from wo_tui.core.models import events, history, work_orders
from wo_tui.core.orders import insert_order, order_types
from wo_tui.core.poller import POLLER_OPERATOR, drain_events
from wo_tui.core.seed import seed_events, seed_orders
from wo_tui.core.statuses import WorkOrderStatus

NOW = datetime(2026, 11, 26, 9, 30, 0)
SPAWN = mp.get_context("spawn")
FIELDS = ("account_number", "customer_name", "site_address", "site_id", "meter_number")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def context(url: str) -> Context:
    return Context(connect(url), POLLER_OPERATOR, clock=fixed_clock(NOW))


# ---------------------------------------------------------------------------------------------
# The two ways of draining


def drain_with_poller(url: str, batch_size: int, limit: int) -> int:
    """The poller, as the worker command runs it."""
    ctx = context(url)
    try:
        return drain_events(ctx, EventsSettings(batch_size=batch_size)).events
    finally:
        ctx.db.dispose()


def drain_naively(url: str, batch_size: int, limit: int) -> int:
    """One write transaction per event: the baseline. Stops after `limit` events."""
    ctx = context(url)
    rules = EventsSettings().rules
    done = 0
    try:
        while done < limit:
            with ctx.db.write() as conn:
                query = (
                    select(events).where(text("status = 'pending'")).order_by(events.c.id).limit(1)
                )
                if not ctx.db.is_sqlite:
                    query = query.with_for_update(skip_locked=True)
                event = conn.execute(query).mappings().first()
                if event is None:
                    break
                rule = rules[event["event_type"]]
                fields = {k: event[k] for k in FIELDS if event[k]}
                status = WorkOrderStatus.NEW
                if event["life_support"] and rule.order_type == "DISCONNECT":
                    status = WorkOrderStatus.ON_HOLD
                draft = NewOrder(type_code=rule.order_type, **fields)
                order_id = insert_order(
                    conn,
                    ctx,
                    draft,
                    source=event["event_type"],
                    source_event_id=event["id"],
                    status=status,
                )
                if rule.also_final_read:
                    companion = NewOrder(type_code="FINAL_READ", **fields)
                    insert_order(
                        conn, ctx, companion, source=event["event_type"], related_order_id=order_id
                    )
                conn.execute(
                    update(events)
                    .where(events.c.id == event["id"])
                    .values(status="processed", processed_at=NOW, work_order_id=order_id)
                )
            done += 1
        return done
    finally:
        ctx.db.dispose()


def drain_lean(url: str, batch_size: int, limit: int) -> int:
    """One write transaction per event with nothing but the writes: claim one event, insert
    its order(s) and one history row each from prebuilt values, mark the event. No
    validation, no look-ups: the floor of the one-transaction-per-event design."""
    ctx = context(url)
    rules = EventsSettings().rules
    with ctx.db.read() as conn:
        types = order_types(conn)
    due = {code: add_business_days(NOW.date(), t.sla_business_days) for code, t in types.items()}
    claim = select(events).where(text("status = 'pending'")).order_by(events.c.id).limit(1)
    if not ctx.db.is_sqlite:
        claim = claim.with_for_update(skip_locked=True)
    done = 0
    try:
        while done < limit:
            with ctx.db.write() as conn:
                event = conn.execute(claim).mappings().first()
                if event is None:
                    break
                rule = rules[event["event_type"]]
                codes = [rule.order_type] + (["FINAL_READ"] if rule.also_final_read else [])
                ids: list[int] = []
                for code in codes:
                    row = {k: event[k] for k in FIELDS} | {
                        "type_code": code,
                        "priority": int(types[code].default_priority),
                        "status": "NEW",
                        "source": event["event_type"],
                        "source_event_id": None if ids else event["id"],
                        "related_order_id": ids[0] if ids else None,
                        "life_support": event["life_support"],
                        "created_at": NOW,
                        "created_by": POLLER_OPERATOR,
                        "due_date": due[code],
                        "service_time": "any",
                        "updated_at": NOW,
                        "updated_by": POLLER_OPERATOR,
                        "version": 1,
                    }
                    new_id = conn.execute(
                        insert(work_orders).returning(work_orders.c.id), row
                    ).scalar_one()
                    ids.append(int(new_id))
                    conn.execute(
                        insert(history),
                        {"work_order_id": new_id, "at": NOW, "actor": POLLER_OPERATOR,
                         "field": "status", "old_value": None, "new_value": "NEW",
                         "reason": "created"},
                    )  # fmt: skip
                conn.execute(
                    update(events)
                    .where(events.c.id == event["id"])
                    .values(status="processed", processed_at=NOW, work_order_id=ids[0])
                )
            done += 1
        return done
    finally:
        ctx.db.dispose()


DRAINS = {"poller": drain_with_poller, "naive": drain_naively, "lean": drain_lean}


def _worker(
    drain: str, url: str, batch_size: int, limit: int, ready: Any, go: Any, out: Any
) -> None:
    connect(url).dispose()  # imports and first connection before the clock starts
    ready.release()
    go.wait()
    out.put(DRAINS[drain](url, batch_size, limit))


def timed_drain(
    drain: str, url: str, workers: int, batch_size: int, limit: int
) -> tuple[float, int, float | None]:
    """Seconds until `workers` processes have drained (up to `limit` events each), how
    many events they handled, and (one process only: it runs in this one) the CPU seconds
    it took, which the machine's other load disturbs less than the clock."""
    if workers == 1:
        started, cpu = time.perf_counter(), time.process_time()
        handled = DRAINS[drain](url, batch_size, limit)
        return time.perf_counter() - started, handled, time.process_time() - cpu
    ready, go, out = SPAWN.Semaphore(0), SPAWN.Event(), SPAWN.Queue()
    share = -(-limit // workers)
    procs = [
        SPAWN.Process(target=_worker, args=(drain, url, batch_size, share, ready, go, out))
        for _ in range(workers)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.acquire()
    started = time.perf_counter()
    go.set()
    handled = sum(out.get() for _ in procs)
    elapsed = time.perf_counter() - started
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"a {drain} worker failed with exit code {proc.exitcode}")
    return elapsed, handled, None


# ---------------------------------------------------------------------------------------------
# Databases


class Engine:
    """Fresh copies of a seeded template database on one engine."""

    def __init__(self, name: str, pg_url: str | None, scratch: Path) -> None:
        self.name = name
        self.pg_url = pg_url
        self.scratch = scratch
        self.copies: list[str] = []
        self.template = self._new_url("template")

    def _new_url(self, label: str) -> str:
        if self.pg_url is None:
            return sqlite_url_for(self.scratch / f"{label}-{uuid.uuid4().hex[:6]}.db")
        name = f"wo_bench_{label}_{uuid.uuid4().hex[:8]}"
        self._admin(f'CREATE DATABASE "{name}"' + self._from_template(label))
        self.copies.append(name)
        return make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)

    def _from_template(self, label: str) -> str:
        if label == "template":
            return ""
        return f' TEMPLATE "{make_url(self.template).database}"'

    def _admin(self, sql: str) -> None:
        assert self.pg_url is not None
        admin = create_engine(self.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(sql))
        admin.dispose()

    def seed(self, count: int) -> None:
        db = connect(self.template)
        schema.upgrade(db)
        ctx = Context(db, "bench", clock=fixed_clock(NOW))
        seed_orders(ctx, 10_000, seed=3)
        seed_events(ctx, count, seed=5)
        db.dispose()

    def fresh_copy(self) -> str:
        if self.pg_url is None:
            url = self._new_url("run")
            shutil.copyfile(make_url(self.template).database or "", make_url(url).database or "")
            return url
        return self._new_url("run")

    def drop(self, url: str) -> None:
        if self.pg_url is None:
            for suffix in ("", "-wal", "-shm"):
                Path((make_url(url).database or "") + suffix).unlink(missing_ok=True)
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def close(self) -> None:
        if self.pg_url is not None:
            for name in self.copies:
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def check(url: str, handled: int) -> None:
    """Each handled event processed, the source of exactly one order."""
    db = connect(url)
    with db.read() as conn:
        processed = conn.execute(
            text("SELECT count(*) FROM events WHERE status = 'processed'")
        ).scalar()
        sources = conn.execute(
            text(
                "SELECT count(*), count(DISTINCT source_event_id) FROM work_orders "
                "WHERE source_event_id IS NOT NULL"
            )
        ).one()
    db.dispose()
    if not (processed == handled == sources[0] == sources[1]):
        raise SystemExit(f"check failed: {handled} handled, {processed} processed, {sources}")


# ---------------------------------------------------------------------------------------------


@dataclass
class Case:
    engine: str
    drain: str
    workers: int
    batch_size: int
    events: int = 0
    seconds: list[float] | None = None
    cpu: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / statistics.median(self.seconds or [float("nan")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--baseline-events", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch-sizes", default="50,200,500,1000")
    parser.add_argument(
        "--pg",
        default=os.environ.get("WO_TUI_BENCH_PG_URL") or os.environ.get("WO_TUI_TEST_DATABASE_URL"),
        help="PostgreSQL server URL (a scratch database is made on it)",
    )
    args = parser.parse_args()
    # Stopped with SIGTERM: still drop the scratch databases (the finally below).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    default_size = EventsSettings().batch_size

    cases: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="wo-bench-events-") as scratch:
        engines = [Engine("SQLite", None, Path(scratch))]
        if args.pg:
            engines.append(Engine("PostgreSQL", args.pg, Path(scratch)))
        try:
            for engine in engines:
                log(f"{engine.name}: seeding {args.events} events and 10000 orders")
                engine.seed(args.events)
                plan = [Case(engine.name, "poller", 1, size) for size in sizes]
                plan += [
                    Case(engine.name, "poller", args.workers, default_size),
                    Case(engine.name, "lean", 1, 1),
                    Case(engine.name, "lean", args.workers, 1),
                    Case(engine.name, "naive", 1, 1),
                    Case(engine.name, "naive", args.workers, 1),
                ]
                for case in plan:
                    case.seconds = []
                for run in range(args.runs):
                    for case in plan:  # interleaved: noise spreads over every case
                        url = engine.fresh_copy()
                        limit = args.events if case.drain == "poller" else args.baseline_events
                        seconds, handled, cpu = timed_drain(
                            case.drain, url, case.workers, case.batch_size, limit
                        )
                        check(url, handled)
                        engine.drop(url)
                        case.seconds.append(seconds)
                        if cpu is not None:
                            case.cpu.append(cpu / handled * 1e6)
                        case.events = handled
                        log(
                            f"  run {run + 1} {case.drain:8} x{case.workers} batch "
                            f"{case.batch_size:5}: {handled / seconds:8.0f} events/s"
                        )
                cases += plan
        finally:
            for engine in engines:
                engine.close()
    report(cases, args)


def report(cases: list[Case], args: argparse.Namespace) -> None:
    print(
        f"# events poller, {args.events} pending events, median of {args.runs} runs; "
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"{os.cpu_count()} cores\n"
    )
    print(
        "| database | drain | processes | batch | events | median s | events/s "
        "| CPU us/event | vs lean | vs naive |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for case in cases:
        ratios = []
        for drain in ("lean", "naive"):
            base = next(
                c
                for c in cases
                if c.engine == case.engine and c.drain == drain and c.workers == case.workers
            )
            ratios.append(f"{case.rate / base.rate:.1f}x")
        batch = "1 (tx per event)" if case.drain != "poller" else str(case.batch_size)
        print(
            f"| {case.engine} | {case.drain} | {case.workers} | {batch} | {case.events} | "
            f"{statistics.median(case.seconds or []):.2f} | {case.rate:,.0f} | "
            f"{f'{statistics.median(case.cpu):.0f}' if case.cpu else '-'} | "
            f"{' | '.join(ratios)} |"
        )


if __name__ == "__main__":
    main()
