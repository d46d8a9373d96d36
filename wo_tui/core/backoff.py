"""How long a background job waits before it tries again: one rule, each caller's figures.

After the n-th failure in a row the wait is `first`, doubled n - 1 times, at most `cap`,
times a factor drawn evenly between the two ends of `spread`, so that the retries of many
items spread out instead of coming back together. The callers and their figures:

- a billing event that could not become an order (`poller.py`): 30 s doubling up to 1 h,
  ±25 % (README.md, "Events contract");
- an email the mail server refused for now (`outbox.py`): about 1, 2, 4 ... minutes up to
  an hour, drawn between half and all of it (docs/email.md);
- a background job that failed (`supervisor.py`): 2 s doubling up to 2 minutes, as it is.
"""

from __future__ import annotations

import random
from collections.abc import Callable

PAUSED_BACKOFF = 12
"""While sending is paused (a refused login, a server without TLS), the email sender waits
this many of its poll intervals before it tries again, in the app and in `wo-tui worker`
alike, so that a wrong password does not hammer the mail server."""

_MOST_DOUBLINGS = 1000
"""Far past any cap; keeps `2 ** n` a float that does not overflow after very many failures."""


def backoff_seconds(
    attempt: int,
    *,
    first: float,
    cap: float,
    spread: tuple[float, float] = (1.0, 1.0),
    rand: Callable[[], float] = random.random,
) -> float:
    """The wait, in seconds, after the `attempt`-th failure in a row (1 for the first):
    `first` doubling each time up to `cap`, times a factor drawn evenly from `spread`
    (low, high) by `rand` (a number in [0, 1))."""
    doublings = min(max(attempt - 1, 0), _MOST_DOUBLINGS)
    nominal = min(first * 2.0**doublings, cap)
    low, high = spread
    return nominal * (low + (high - low) * rand())
