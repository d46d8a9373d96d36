"""The bulk complete counted in instructions instead of seconds.

Run from the repository root (needs valgrind: `apt-get install valgrind`):

    .venv/bin/python bench/bench_instructions.py --db /tmp/perf/base.db [--bulk 10000] [--no-orm]

Why: the machines are shared, and their speed moved by 2x within minutes (bench/README,
sessions 7 and 8). The instructions a piece of code executes do not move: valgrind's
cachegrind counts them, the same to ~0.1% from one run to the next. That makes it the way
to compare two versions of the code on a noisy machine. It does not replace the wall-clock
benchmarks: it leaves out waiting (for the disk, for a core) and what the kernel does, such
as writing the WAL on commit.

What it does: the database is bench_foundation's (`--db`: seeded there first if it has no
orders). For each measure, one child process under cachegrind copies the database (synced,
as bench_foundation does), opens it with the app's settings, warms up on one order, and then
does the measure's work. An identical child that stops after the warm-up is the baseline.
The figure is the difference: the instructions of that work alone. The orders are
bench_foundation's fixed sample of open orders; every child, the baseline too, reads their
versions during the warm-up. Variants of `bulk_complete`:
- with the versions the caller saw, as the dashboard passes them from its confirmation:
  then the versions after the change are known without reading them back;
- without its billing rows (this child's own copy of the service is patched).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from bench_foundation import (
    Figures,
    new_context,
    orm_complete,
    pick_orders,
    raw_complete,
    set_up,
)
from sqlalchemy.orm import configure_mappers
from sqlite_copies import copy_database

from wo_tui.core import status_changes

MEASURES: dict[str, tuple[str, str]] = {
    # key: (label, the baseline child it is measured against)
    "bulk": ("bulk_complete({n}) incl. history + billing", "service"),
    "expected": ("  the same with the versions the caller saw (the dashboard's way)", "service"),
    "no_billing": ("  the same without its billing rows", "service"),
    "versions": ("  its read-back of the {n} versions after the change alone", "service"),
    "floor": ("raw floor: one UPDATE ... IN (...) + executemany of history rows", "raw"),
    "orm": ("ORM unit of work + History (baseline)", "service"),
}
IREFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def child(kind: str, db: Path, workdir: Path, sample: Path) -> None:
    """One measured process: copy, open, warm up, then the work of `kind` (none for a
    baseline, `service` or `raw`)."""
    ids, warm_id = json.loads(sample.read_text())
    copy = workdir / "child.db"
    copy_database(db, copy)
    ctx = new_context(copy)
    family = "raw" if kind in ("raw", "floor") else "service"
    if family == "raw":
        raw_complete(ctx, [warm_id])
    else:
        status_changes.bulk_complete(ctx, [warm_id])
    configure_mappers()  # the ORM's one-time set-up, in every child's baseline
    with ctx.db.read() as conn:
        seen = status_changes._versions(conn, ids)
    if kind == "no_billing":
        change_status = status_changes.change_status

        def without_billing(*args: Any, **kwargs: Any) -> Any:
            return change_status(*args, **{**kwargs, "billing_action": None})

        status_changes.change_status = without_billing
    if kind in ("bulk", "expected", "no_billing"):
        expected = seen if kind == "expected" else None
        result = status_changes.bulk_complete(ctx, ids, expected_versions=expected)
        assert len(result.ids(status_changes.Result.DONE)) == len(ids), result.summary()
    elif kind == "versions":
        with ctx.db.write() as conn:
            assert len(status_changes._versions(conn, ids)) == len(ids)
    elif kind == "floor":
        assert raw_complete(ctx, ids) == len(ids)
    elif kind == "orm":
        assert orm_complete(ctx, ids) == len(ids)
    if ctx.db.checkpointer is not None:
        ctx.db.checkpointer.stop()
    ctx.db.dispose()


def count(kind: str, db: Path, workdir: Path, sample: Path) -> int:
    """Instructions of one child process under cachegrind."""
    script = [str(Path(__file__).resolve()), "--child", kind, "--db", str(db)]
    return instructions([*script, "--workdir", str(workdir), "--sample", str(sample)])


def instructions(script: list[str], python: str = sys.executable) -> int:
    """Instructions of `python SCRIPT...` under cachegrind (by default this interpreter)."""
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        python,
        *script,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = IREFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{' '.join(script[:3])} failed:\n{done.stderr[-3000:]}")
    return int(found.group(1).replace(",", ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="bench_foundation's SQLite file")
    parser.add_argument("--orders", type=int, default=100_000, help="orders to seed if empty")
    parser.add_argument("--bulk", type=int, default=10_000, help="orders per bulk complete")
    parser.add_argument("--no-orm", action="store_true", help="skip the ORM (~4 min)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--sample", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    db = Path(args.db).expanduser().resolve()
    if args.child:
        child(args.child, db, Path(args.workdir), Path(args.sample))
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: apt-get install valgrind")
    workdir = Path(tempfile.mkdtemp(prefix="wo-bench-ir-"))
    try:
        set_up(argparse.Namespace(db=str(db), orders=args.orders), workdir, Figures())
        ids, warm_id = pick_orders(db, args.bulk)
        sample = workdir / "sample.json"
        sample.write_text(json.dumps([ids, warm_id]))
        measures = [k for k in MEASURES if not (args.no_orm and k == "orm")]
        baselines: dict[str, int] = {}
        for family in ("service", "raw"):
            log(f"counting: baseline ({family})")
            baselines[family] = count(family, db, workdir, sample)
        figures: dict[str, int] = {}
        for key in measures:
            log(f"counting: {MEASURES[key][0].strip().format(n=f'{args.bulk:,}')}")
            figures[key] = count(key, db, workdir, sample) - baselines[MEASURES[key][1]]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"# bench_instructions  {datetime.now():%Y-%m-%d %H:%M}")
    print(f"database: {db}; N = {args.bulk:,} orders; instructions counted by cachegrind\n")
    print("| measure | instructions | of bulk_complete |")
    print("|---|---|---|")
    for key, value in figures.items():
        label = MEASURES[key][0].format(n=f"{args.bulk:,}")
        print(f"| {label} | {value / 1e6:,.0f} M | x{value / figures['bulk']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
