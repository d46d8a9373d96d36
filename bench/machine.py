"""How fast this machine runs right now, to read a benchmark's figures against.

The machines are shared: the same code ran 1.5-2x slower for hours at a time, in wall time
and in CPU time alike (the host gives fewer cycles; nothing else runs in this machine).
The speed gauge is a fixed piece of pure Python, `sum(range(3 * 10**7))`, best of three:
0.47-0.50 s on this machine class at its usual speed. A benchmark prints it before and after
its runs, so a missed target can be told apart from a slow machine.
"""

from __future__ import annotations

import time

USUAL_S = (0.47, 0.50)


def gauge() -> float:
    """Seconds for `sum(range(3 * 10**7))`, the best of three."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        sum(range(3 * 10**7))
        best = min(best, time.perf_counter() - start)
    return best


def describe(before: float, after: float) -> str:
    """One line: the gauge before and after the runs, and how that compares."""
    usual = f"{USUAL_S[0]:.2f}-{USUAL_S[1]:.2f} s"
    slow = max(before, after) / USUAL_S[1]
    verdict = "usual speed" if slow <= 1.05 else f"up to {slow:.1f}x slower than usual"
    return (
        f"speed gauge (sum(range(3*10**7)), best of 3): {before:.2f} s before, "
        f"{after:.2f} s after the runs; usual {usual}: {verdict}"
    )
