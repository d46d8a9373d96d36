"""Benchmark of the dashboard while the app's own background jobs work: cursor latency while
the event poller drains a backlog, and while the sender sends the outbox, against idle.

Run from the repository root:

    .venv/bin/python bench/bench_background.py [--orders 100000] [--events 50000]
        [--emails 1000] [--runs 3] [--workdir DIR]

What it does (figures to stdout, progress to stderr):

1. Prepares SQLite files once in --workdir (reused when there): a queue of --orders orders
   (`seed_orders`), the same plus --events pending billing events (`seed_events`), and the
   same plus --emails assigned orders whose assignment emails are queued.
2. For each run and each case, on a fresh copy, starts the app headless
   (`app.run_test(size=(160, 50))`) with the case's background job on, and presses `down`
   again and again (40 ms apart, like a person holding the key at a slow repeat rate),
   timing each press from the key event to the first frame showing the moved cursor (the
   same probe as `bench_dashboard.py`: frames are encoded to ANSI as a terminal driver
   would). Cases: **idle** (both jobs on, nothing to do: the poller still polls), **events**
   (the poller drains the backlog; presses until the last event is processed) and
   **emails** (the sender sends the outbox to an aiosmtpd sink in a separate process;
   presses until no email is left to send).
3. Prints the median latency per case, its ratio to idle (target: within 1.5x), the p90,
   and how fast the job went inside the app (events/s, emails/s).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_dashboard import SIZE, Dashboard, FrameProbe, screen_settled  # noqa: E402
from bench_mail import Sink  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlite_copies import copy_database  # noqa: E402

from wo_tui.config import load_settings  # noqa: E402
from wo_tui.core import schema  # noqa: E402
from wo_tui.core.clock import fixed_clock  # noqa: E402
from wo_tui.core.context import Context  # noqa: E402
from wo_tui.core.db import connect  # noqa: E402
from wo_tui.core.models import events, outbox  # noqa: E402
from wo_tui.core.orders import assign, create_order  # noqa: E402
from wo_tui.core.seed import seed_events, seed_orders  # noqa: E402
from wo_tui.tui.app import make_app  # noqa: E402

NOW = datetime(2026, 11, 26, 9, 30)
PRESS_GAP_S = 0.04
TARGET_RATIO = 1.5
IDLE_PRESSES = 150


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare(workdir: Path, orders: int, backlog: int, emails: int) -> dict[str, Path]:
    """The three starting databases (made once, reused)."""
    files = {name: workdir / f"{name}.db" for name in ("idle", "events", "emails")}
    if not files["idle"].exists():
        log(f"seeding {orders:,} orders")
        db = connect(str(files["idle"]))
        schema.upgrade(db)
        seed_orders(Context(db, "seed", clock=fixed_clock(NOW)), orders, seed=1)
        db.dispose()
    db = connect(str(files["idle"]))
    schema.upgrade(db)  # a reused file may predate the newest schema
    db.dispose()
    if not files["events"].exists():
        log(f"adding {backlog:,} pending events")
        shutil.copyfile(files["idle"], files["events"])
        db = connect(str(files["events"]))
        seed_events(Context(db, "billing", clock=fixed_clock(NOW)), backlog, seed=5)
        db.dispose()
    if not files["emails"].exists():
        log(f"queueing {emails:,} assignment emails")
        shutil.copyfile(files["idle"], files["emails"])
        queue_emails(files["emails"], emails)
    return files


def queue_emails(path: Path, count: int) -> None:
    """`count` new orders assigned to a seeded technician: one queued email each."""
    db = connect(str(path))
    ctx = Context(db, "bench", clock=fixed_clock(NOW))
    for n in range(count):
        order_id = create_order(
            ctx,
            {
                "type_code": "RECONNECT",
                "account_number": f"9{n:07d}",
                "customer_name": f"Bench Customer {n}",
                "site_address": f"{n + 1} Bench St, Springfield",
                "meter_number": f"B{n:07d}",
                "scheduled_date": NOW.date(),
            },
        )
        assign(ctx, order_id, "Sam Carter")
    db.dispose()


def remaining(db: Any, case: str) -> int:
    """Events still pending, or emails still to send."""
    table, wanted = (events, ["pending"]) if case == "events" else (outbox, ["queued", "sending"])
    with db.read() as conn:
        query = select(func.count()).select_from(table).where(table.c.status.in_(wanted))
        return int(conn.execute(query).scalar_one())


async def presses(path: Path, case: str, port: int | None) -> dict[str, float]:
    """Press `down` until the case's work is done (idle: a fixed number); latencies in ms."""
    smtp: dict[str, Any] = {"send_from_app": case != "idle" or port is not None}
    if port is not None:
        smtp.update(host="127.0.0.1", port=port, tls="none", poll_interval_seconds=0.5)
    settings = load_settings(
        None,
        environ={},
        overrides={
            "ui": {"refresh_interval_seconds": 3600},
            "events": {"poll_in_app": True, "poll_interval_seconds": 0.5},
            "smtp": smtp,
        },
    )
    ctx = Context(connect(str(path)), "bench", clock=fixed_clock(NOW))
    watcher = connect(str(path))
    app = make_app(settings, ctx)
    probe = FrameProbe(app)
    start_work = remaining(watcher, case)
    laps: list[float] = []
    async with app.run_test(size=SIZE):
        while not app.screen_stack or not screen_settled(app.screen):
            await asyncio.sleep(0.05)
        d = Dashboard(app)
        view = d.view
        while not view.rows:
            await asyncio.sleep(0.05)
        t0 = time.perf_counter()
        done_at = None
        while True:
            target = view.position + 1
            lap = await probe.key("down", d.shows(lambda t=target: view.position == t))
            laps.append(lap.wall * 1000)
            await asyncio.sleep(PRESS_GAP_S)
            if case == "idle":
                if len(laps) >= IDLE_PRESSES:
                    break
            elif len(laps) % 10 == 0 and remaining(watcher, case) == 0:
                done_at = time.perf_counter()
                break
        elapsed = (done_at or time.perf_counter()) - t0
    ctx.db.dispose()
    watcher.dispose()
    return {
        "median": statistics.median(laps),
        "p90": statistics.quantiles(laps, n=10)[-1],
        "presses": len(laps),
        "rate": start_work / elapsed if case != "idle" else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--emails", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--cases", default="idle,events,emails", help="comma-separated")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="wo-bench-bg-"))
    workdir.mkdir(parents=True, exist_ok=True)
    files = prepare(workdir, args.orders, args.events, args.emails)
    sink = Sink()
    results: dict[str, list[dict[str, float]]] = {c: [] for c in args.cases.split(",")}
    try:
        for run in range(args.runs):
            for case in results:
                log(f"run {run + 1}/{args.runs}: {case}")
                copy = workdir / "run.db"
                copy_database(files[case], copy)
                port = sink.port if case == "emails" else None
                results[case].append(asyncio.run(presses(copy, case, port)))
                log(f"  {results[case][-1]}")
    finally:
        sink.stop()
    idle = statistics.median(r["median"] for r in results.get("idle") or [{"median": 1.0}])
    print(f"# bench_background  {datetime.now():%Y-%m-%d %H:%M}, runs: {args.runs}")
    print(f"{args.orders:,} orders; backlog {args.events:,} events; {args.emails:,} emails\n")
    print("| case | cursor down, median | p90 | x idle | target | job rate in the app |")
    print("|---|---|---|---|---|---|")
    for case, rows in results.items():
        median = statistics.median(r["median"] for r in rows)
        p90 = statistics.median(r["p90"] for r in rows)
        rate = statistics.median(r["rate"] for r in rows)
        unit = {"idle": "", "events": "events/s", "emails": "emails/s"}[case]
        verdict = "" if case == "idle" else ("met" if median <= idle * TARGET_RATIO else "MISSED")
        print(
            f"| {case} | {median:.1f} ms | {p90:.1f} ms | x{median / idle:.2f} | "
            f"<= x{TARGET_RATIO} {verdict} | {f'{rate:,.0f} {unit}' if unit else ''} |"
        )


if __name__ == "__main__":
    main()
