"""How fast this machine runs right now, to read a benchmark's figures against.

The machines are shared: the same code ran 1.5-2x slower for hours at a time, in wall time
and in CPU time alike (the host gives fewer cycles; nothing else runs in this machine).
Two gauges, each the best of three, printed before and after a benchmark's runs:

- arithmetic: `sum(range(3 * 10**7))`; 0.47-0.50 s on this machine class at its usual
  speed;
- SQLite seeks: 100,000 random rowid lookups (`id IN (SELECT value FROM json_each(?))`) in
  an in-memory table of 300,000 rows (~30 MB); 94-96 ms while the window SQL of
  bench_foundation ran at its usual 0.205-0.211 ms (2026-11-27 01:18).

They do not always agree: at 00:29 and 01:17 on 2026-11-27 the arithmetic gauge read
0.48-0.57 s while SQLite work ran up to 2x slower than usual. For the database benchmarks,
the seek gauge is the one to read.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Callable

USUAL_ARITHMETIC_S = (0.47, 0.50)
USUAL_SEEKS_S = (0.094, 0.096)


def _best_of_three(work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def arithmetic() -> float:
    """Seconds for `sum(range(3 * 10**7))`, the best of three."""
    return _best_of_three(lambda: sum(range(3 * 10**7)))


def seeks() -> float:
    """Seconds for 100,000 random rowid lookups in SQLite (in memory), the best of three."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER)")
    db.executemany("INSERT INTO t VALUES (?, ?, ?)", ((i, "x" * 80, i % 7) for i in range(300_000)))
    ids = json.dumps(random.Random(1).sample(range(300_000), 100_000))
    sql = "SELECT sum(b) FROM t WHERE id IN (SELECT value FROM json_each(?))"
    try:
        return _best_of_three(lambda: db.execute(sql, (ids,)).fetchone())
    finally:
        db.close()


def gauge() -> tuple[float, float]:
    """Both gauges now: (arithmetic, seeks), in seconds."""
    return arithmetic(), seeks()


def describe(before: tuple[float, float], after: tuple[float, float]) -> str:
    """Two lines: each gauge before and after the runs, against its usual figure."""
    lines = []
    for name, usual, b, a, scale, unit in (
        ("arithmetic (sum(range(3*10**7)))", USUAL_ARITHMETIC_S, before[0], after[0], 1, "s"),
        ("SQLite seeks (100,000 rowids)", USUAL_SEEKS_S, before[1], after[1], 1000, "ms"),
    ):
        slow = max(b, a) / usual[1]
        verdict = "usual speed" if slow <= 1.05 else f"up to {slow:.1f}x slower than usual"
        digits = 2 if unit == "s" else 0
        low, high, b, a = (x * scale for x in (usual[0], usual[1], b, a))
        lines.append(
            f"speed gauge, {name}, best of 3: {b:.{digits}f} {unit} before, "
            f"{a:.{digits}f} {unit} after the runs; usual {low:.{digits}f}-{high:.{digits}f} "
            f"{unit}: {verdict}"
        )
    return "\n".join(lines)
