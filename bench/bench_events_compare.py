"""Two versions of the event poller side by side: events/s (interleaved runs, medians) or
instructions per event (cachegrind).

Run from the repository root:

    .venv/bin/python bench/bench_events_compare.py --python /work/wt/new/.venv/bin/python
        --python .venv/bin/python (--template /tmp/perf/events.db | --pg URL)
        [--events 20000] [--batch-size 500] [--runs 5] [--instructions]

Each `--python` is the interpreter of one version of the code (a worktree's `.venv`: its
editable install decides which `wo_tui` it imports). Every run drains a fresh copy of the
SAME data with each version in turn, so the machine's other load falls on both alike:
- the SQLite `--template` file (made on first use: the schema, 10,000 orders and
  `--events` pending events, seeded as bench_events.py seeds them) and, with `--pg`, a
  PostgreSQL database made from it once per invocation (`CREATE DATABASE ... TEMPLATE`);
- a child process per drain opens the copy as `wo-tui worker` does (fixed clock), handles one
  batch to warm up, then drains `--events` more in batches of `--batch-size`, timed.

`--instructions` (SQLite only; needs valgrind) counts instead, under cachegrind, the
instructions of each drain minus those of an identical child that stops after the warm-up:
the poller's Python, SQLAlchemy, the driver and SQLite itself (not the kernel, not the disk).
They move by ~0.1% between runs where the clock moves by a third, so one run is enough.

The figures go to stdout: per version, the median events/s and CPU us per event (the child's
user + system time), or instructions per event, and each version against the first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

NOW = datetime(2026, 11, 26, 9, 30, 0)
ORDERS = 10_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_template(url: str, events: int) -> None:
    """The schema, 10,000 orders and `events` pending events (bench_events.py's data)."""
    from wo_tui.core import schema
    from wo_tui.core.clock import fixed_clock
    from wo_tui.core.context import Context
    from wo_tui.core.db import connect
    from wo_tui.core.seed import seed_events, seed_orders

    db = connect(url)
    schema.upgrade(db)
    ctx = Context(db, "bench", clock=fixed_clock(NOW))
    seed_orders(ctx, ORDERS, seed=3)
    seed_events(ctx, events, seed=5)
    db.dispose()


def child(url: str, batch_size: int, events: int) -> None:
    """One drain: open `url`, one warm-up batch, then `events` more, timed (none for the
    instructions' baseline). Prints what it did as JSON."""
    from wo_tui.core.clock import fixed_clock
    from wo_tui.core.context import Context
    from wo_tui.core.db import connect
    from wo_tui.core.poller import POLLER_OPERATOR, process_batch

    try:
        from wo_tui.core.event_settings import EventsSettings
    except ImportError:  # code from before the layers (main before b4accc9)
        from wo_tui.config import EventsSettings  # type: ignore[no-redef,attr-defined]

    ctx = Context(connect(url), POLLER_OPERATOR, clock=fixed_clock(NOW))
    settings = EventsSettings(batch_size=batch_size)
    warm = process_batch(ctx, settings)
    assert warm.events == batch_size, warm.summary()
    started, cpu = time.perf_counter(), time.process_time()
    left = events
    while left:
        done = process_batch(ctx, settings, limit=min(batch_size, left))
        assert done.events and done.processed == done.events, done.summary()
        left -= done.events
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if ctx.db.checkpointer is not None:
        ctx.db.checkpointer.stop()
    ctx.db.dispose()
    print(json.dumps({"seconds": seconds, "cpu": cpu}))


class Copies:
    """Fresh copies of the template: files for SQLite, databases for PostgreSQL."""

    def __init__(self, template: Path, pg_url: str | None, scratch: Path, events: int) -> None:
        self.template, self.pg_url, self.scratch = template, pg_url, scratch
        self.pg_template: str | None = None
        if pg_url is not None:
            self.pg_template = f"wo_bench_cmp_{uuid.uuid4().hex[:8]}"
            self._admin(f'CREATE DATABASE "{self.pg_template}"')
            log(f"seeding the PostgreSQL template {self.pg_template}")
            make_template(self._url(self.pg_template), events)

    def _url(self, name: str) -> str:
        assert self.pg_url is not None
        return make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)

    def _admin(self, sql: str) -> None:
        admin = create_engine(self.pg_url or "", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(sql))
        admin.dispose()

    def fresh(self) -> str:
        if self.pg_template is None:
            from sqlite_copies import copy_database

            copy = self.scratch / f"run-{uuid.uuid4().hex[:6]}.db"
            copy_database(self.template, copy)
            return str(copy)
        name = f"wo_bench_cmp_{uuid.uuid4().hex[:8]}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.pg_template}"')
        return self._url(name)

    def drop(self, url: str) -> None:
        if self.pg_template is None:
            from sqlite_copies import remove_database

            remove_database(Path(url))
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def close(self) -> None:
        if self.pg_template is not None:
            self._admin(f'DROP DATABASE IF EXISTS "{self.pg_template}" WITH (FORCE)')


def run_child(python: str, url: str, args: argparse.Namespace, events: int) -> Any:
    script = [str(Path(__file__).resolve()), "--child", url]
    script += ["--events", str(events), "--batch-size", str(args.batch_size)]
    if args.instructions:
        from bench_instructions import instructions

        return instructions(script, python=python)
    done = subprocess.run([python, *script], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{python}: the drain failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", action="append", help="a version's interpreter (repeat)")
    parser.add_argument("--template", help="SQLite file, seeded if missing")
    parser.add_argument("--pg", help="PostgreSQL server URL: drain there instead (seeded)")
    parser.add_argument("--events", type=int, default=20_000, help="events drained, measured")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--instructions", action="store_true", help="count with cachegrind")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        child(args.child, args.batch_size, args.events)
        return 0
    if not args.template and not args.pg:
        parser.error("--template or --pg is required")
    if args.instructions and args.pg:
        parser.error("--instructions counts SQLite only: leave out --pg")
    pythons = args.python or [sys.executable]
    template = Path(args.template or "unused").expanduser().resolve()
    if not args.pg and not template.exists():
        log(f"seeding {template}: {ORDERS:,} orders, {args.batch_size + args.events:,} events")
        make_template(str(template), args.batch_size + args.events)
    figures: dict[str, list[float]] = {p: [] for p in pythons}
    cpus: dict[str, list[float]] = {p: [] for p in pythons}
    with tempfile.TemporaryDirectory(prefix="wo-bench-cmp-") as scratch:
        copies = Copies(template, args.pg, Path(scratch), args.batch_size + args.events)
        try:
            for run in range(args.runs):
                for python in pythons if run % 2 == 0 else pythons[::-1]:
                    url = copies.fresh()
                    try:
                        if args.instructions:
                            base = run_child(python, url, args, 0)
                            copies.drop(url)
                            url = copies.fresh()
                            value = (run_child(python, url, args, args.events) - base) / args.events
                            figures[python].append(value)
                            log(f"run {run + 1} {python}: {value:,.0f} instructions/event")
                        else:
                            done = run_child(python, url, args, args.events)
                            figures[python].append(args.events / done["seconds"])
                            cpus[python].append(done["cpu"] / args.events * 1e6)
                            log(f"run {run + 1} {python}: {figures[python][-1]:,.0f} events/s")
                    finally:
                        copies.drop(url)
        finally:
            copies.close()
    report(pythons, figures, cpus, args)
    return 0


def report(
    pythons: list[str],
    figures: dict[str, list[float]],
    cpus: dict[str, list[float]],
    args: argparse.Namespace,
) -> None:
    database = "PostgreSQL" if args.pg else "SQLite"
    unit = "instructions/event" if args.instructions else "events/s"
    print(f"# bench_events_compare  {datetime.now():%Y-%m-%d %H:%M}  load {os.getloadavg()}")
    print(
        f"{database}, {args.events:,} events in batches of {args.batch_size}, "
        f"median of {args.runs} interleaved runs\n"
    )
    print(f"| version | {unit} | CPU us/event | against the first | runs |")
    print("|---|---|---|---|---|")
    first = statistics.median(figures[pythons[0]])
    for python in pythons:
        median = statistics.median(figures[python])
        cpu = f"{statistics.median(cpus[python]):.0f}" if cpus[python] else "-"
        runs = ", ".join(f"{v:,.0f}" for v in figures[python])
        print(f"| {python} | {median:,.0f} | {cpu} | {median / first - 1:+.1%} | {runs} |")


if __name__ == "__main__":
    sys.exit(main())
