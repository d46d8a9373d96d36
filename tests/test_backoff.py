"""One backoff rule (`core/backoff.py`) with each caller's figures: the poller's and the
outbox's own figures are tested with them (test_poller, test_mail_outbox), the supervisor's in
test_supervisor."""

from __future__ import annotations

from wo_tui.core.backoff import backoff_seconds
from wo_tui.core.supervisor import BACKOFF_MAX_SECONDS, backoff


def test_a_backoff_doubles_from_its_first_wait_up_to_its_cap_within_its_spread() -> None:
    waits = [backoff_seconds(n, first=30, cap=3600, rand=lambda: 0.5) for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    spread = (0.75, 1.25)
    low = backoff_seconds(3, first=30, cap=3600, spread=spread, rand=lambda: 0.0)
    high = backoff_seconds(3, first=30, cap=3600, spread=spread, rand=lambda: 1.0)
    assert (low, high) == (90, 150)
    assert backoff_seconds(0, first=2, cap=120) == 2  # before any failure: the first wait


def test_a_job_failing_for_days_still_waits_its_cap() -> None:
    """Thousands of failures in a row (a database down over a long weekend) never overflow
    the doubling."""
    assert backoff(100_000) == BACKOFF_MAX_SECONDS
    assert backoff_seconds(10**9, first=60, cap=3600, spread=(0.5, 1.0), rand=lambda: 0.0) == 1800
