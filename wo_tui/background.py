"""The app's background jobs: the event poller (and the email sender) as Textual workers.

Each job re-arms itself with `set_timer` after its run, so two runs of one job never
overlap. Workers never touch widgets: they post messages (`EventsIngested`,
`BackgroundFailed`) that the app turns into notifications and a refresh of the queue. The
poller pauses briefly between the batches of a burst, so that a dispatcher's keys are
answered at their usual speed while a backlog drains.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from textual.worker import get_current_worker

from wo_tui.messages import BackgroundFailed, EventsIngested

if TYPE_CHECKING:
    from wo_tui.app import WoTuiApp

BATCH_PAUSE_SECONDS = 0.05
"""Pause between two batches of a burst: the interpreter is the app's for that long."""
FIRST_POLL_SECONDS = 1.0
"""The first poll waits until the queue has been painted."""


class BackgroundJobs:
    """Starts and re-arms the app's background jobs as configured."""

    def __init__(self, app: WoTuiApp) -> None:
        self.app = app
        self.failing: set[str] = set()
        """Jobs whose last run failed (the user was told once)."""

    def start(self) -> None:
        """Arm the jobs the settings ask for."""
        if self.app.settings.events.poll_in_app:
            self.app.set_timer(FIRST_POLL_SECONDS, self._start_poll)

    # -- the event poller ----------------------------------------------------------------
    def _start_poll(self) -> None:
        self.app.run_worker(
            self._poll_events,
            name="event poller",
            group="event-poller",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _poll_events(self) -> None:
        """Drain the due events batch by batch, then tell the app what came in."""
        from sqlalchemy.exc import DBAPIError

        from wo_tui.core.poller import POLLER_OPERATOR, PollResult, process_batch

        settings = self.app.settings.events
        ctx = replace(self.app.ctx, operator=POLLER_OPERATOR)
        worker = get_current_worker()
        total = PollResult()
        try:
            while not worker.is_cancelled:
                result = process_batch(ctx, settings)
                total += result
                if result.events < settings.batch_size:
                    break
                time.sleep(BATCH_PAUSE_SECONDS)
            self._recovered("event poller")
        except DBAPIError as exc:
            self._failed("event poller", exc)
        finally:
            if total.events:
                self.app.post_message(
                    EventsIngested(total.orders_created, total.duplicates, total.dead)
                )
            if not worker.is_cancelled:
                self.app.call_from_thread(
                    self.app.set_timer, settings.poll_interval_seconds, self._start_poll
                )

    # -- shared --------------------------------------------------------------------------
    def _failed(self, job: str, exc: Exception) -> None:
        if job not in self.failing:
            self.failing.add(job)
            first_line = (str(exc).splitlines() or [""])[0][:200]
            self.app.post_message(BackgroundFailed(job, f"{type(exc).__name__}: {first_line}"))

    def _recovered(self, job: str) -> None:
        self.failing.discard(job)
