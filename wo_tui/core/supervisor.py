"""The background jobs (the event poller, the email sender) under one supervisor, used alike by
the app and by `wo-tui worker`.

A job is a name and a *round*: a function that does what is due now (drain the pending events,
send the due emails) and returns how many seconds to wait before its next round. Each job runs
in a thread of its own, so one job that hangs or fails never holds up the other. Whatever a
round raises, of any kind, is that job's failure, not the process's: it is reported with its
cause, the job waits (2 s, doubling up to 2 minutes while it keeps failing) and starts again;
the first round that succeeds after failures is reported as a recovery.

Stopping (SIGTERM, the app quitting) sets one `threading.Event` that every round receives: a
round checks it between its units of work (a batch of events, an email) and returns early; the
supervisor starts no new round once it is set. README.md ("Background work") says what the
user sees; docs/email.md says how the sender hands its emails back on shutdown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from wo_tui.core.backoff import backoff_seconds

__all__ = ["BACKOFF_FIRST_SECONDS", "BACKOFF_MAX_SECONDS", "Job", "Round", "Supervisor"]

BACKOFF_FIRST_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 120.0

Round = Callable[[threading.Event], float]
"""One round of a job: given the stop event, does what is due; returns the wait before the
next round, in seconds."""
OnFailure = Callable[[str, BaseException, float], None]
"""Told (job name, what it raised, seconds until it starts again) when a round fails."""
OnRecovery = Callable[[str], None]
"""Told the job's name when a round succeeds after one or more failures."""


@dataclass(frozen=True)
class Job:
    """A named background job: its round, and how long to wait before the first one."""

    name: str
    round: Round
    first_wait: float = 0.0


def backoff(failures: int, first: float = BACKOFF_FIRST_SECONDS) -> float:
    """The wait after the `failures`-th failure in a row: `first`, doubling, at most 2 min."""
    return backoff_seconds(failures, first=first, cap=BACKOFF_MAX_SECONDS)


class Supervisor:
    """Runs jobs, each in its own thread (`start`) or once each in this thread (`run_once`);
    a failing job is reported, backs off and restarts while the others go on."""

    def __init__(
        self,
        jobs: list[Job],
        *,
        on_failure: OnFailure | None = None,
        on_recovery: OnRecovery | None = None,
        backoff_first: float = BACKOFF_FIRST_SECONDS,
    ) -> None:
        self.jobs = {job.name: job for job in jobs}
        self.stopping = threading.Event()
        """Set by `stop`: rounds return early and no new round starts."""
        self._on_failure = on_failure or _ignore_failure
        self._on_recovery = on_recovery or _ignore_recovery
        self._backoff_first = backoff_first
        self._wake = {name: threading.Event() for name in self.jobs}
        self._failures = dict.fromkeys(self.jobs, 0)
        self._rounds = dict.fromkeys(self.jobs, 0)
        self._threads: list[threading.Thread] = []

    # -- running -------------------------------------------------------------------------
    def start(self) -> None:
        """Start every job in a daemon thread of its own (a thread cannot hold up an exit)."""
        for job in self.jobs.values():
            thread = threading.Thread(
                target=self._loop, args=(job,), name=f"wo-tui {job.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def run_once(self) -> dict[str, BaseException | None]:
        """One round of each job, one after the other, in this thread (`worker --once`);
        a failing round is reported and the next job runs all the same. Returns what each
        job raised (None: it succeeded)."""
        raised: dict[str, BaseException | None] = {}
        for job in self.jobs.values():
            if self.stopping.is_set():
                break
            raised[job.name] = self._round(job)[1]
        return raised

    def wake(self, name: str) -> None:
        """Start the job's next round now instead of after its wait (e.g. 'send now')."""
        self._wake[name].set()

    def stop(self) -> None:
        """Ask every job to finish its round early; start no new round."""
        self.stopping.set()
        for event in self._wake.values():
            event.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the threads to end, at most `timeout` seconds in all; False when some
        thread was still running at the end."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            thread.join(left)
        return not any(thread.is_alive() for thread in self._threads)

    def failing(self, name: str) -> bool:
        """Whether the job's last round failed."""
        return self._failures[name] > 0

    def rounds(self, name: str) -> int:
        """How many rounds of the job have ended so far, failed or not."""
        return self._rounds[name]

    # -- one job -------------------------------------------------------------------------
    def _loop(self, job: Job) -> None:
        wait = job.first_wait
        while not self._sleep(job.name, wait):
            wait, _ = self._round(job)

    def _round(self, job: Job) -> tuple[float, BaseException | None]:
        """Run one round and report a failure or a recovery. Returns the wait before the
        next round (the round's own, or the backoff after a failure) and what it raised."""
        try:
            wait = job.round(self.stopping)
        except Exception as exc:  # any failure is this job's, never the process's
            self._rounds[job.name] += 1
            self._failures[job.name] += 1
            wait = backoff(self._failures[job.name], self._backoff_first)
            self._on_failure(job.name, exc, wait)
            return wait, exc
        self._rounds[job.name] += 1
        if self._failures[job.name]:
            self._failures[job.name] = 0
            self._on_recovery(job.name)
        return wait, None

    def _sleep(self, name: str, seconds: float) -> bool:
        """Wait `seconds` or until woken; True when the supervisor is stopping."""
        wake = self._wake[name]
        if seconds > 0 and not self.stopping.is_set():
            wake.wait(seconds)
        wake.clear()
        return self.stopping.is_set()


def _ignore_failure(name: str, exc: BaseException, wait: float) -> None:
    return None


def _ignore_recovery(name: str) -> None:
    return None
