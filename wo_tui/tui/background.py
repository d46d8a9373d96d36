"""The app's background jobs: the event poller and the email sender, run by the core's
supervisor (`wo_tui/core/supervisor.py`), each in a thread of its own, exactly as
`wo-tui worker` runs them.

A job that fails (the database gone, anything unforeseen) is said once, backs off and starts
again, and the other job goes on. Jobs never touch widgets: they post messages
(`EventsIngested`, `EmailsSent`, `EmailsPaused`, `BackgroundFailed`) that the app turns into
notifications and a refresh of the queue. The poller rests between the batches of a burst and
the sender after each batch of emails, so that a dispatcher's keys are answered at their usual
speed while a backlog drains.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from wo_tui.core.backoff import PAUSED_BACKOFF
from wo_tui.core.redact import explain
from wo_tui.core.supervisor import Job, Supervisor
from wo_tui.tui.messages import BackgroundFailed, EmailsPaused, EmailsSent, EventsIngested

if TYPE_CHECKING:
    from wo_tui.tui.app import WoTuiApp

POLLER = "event poller"
SENDER = "email sender"
SENDER_OPERATOR = "mail-sender"
"""The name the sender's changes (an order becoming SENT) are recorded under."""
SEND_BATCH = 20
SEND_REST_SECONDS = 0.2
"""The app's sender takes the outbox 20 emails at a time and rests after each batch, so a
large send (a headless worker's job) never makes the dispatcher's keys slow."""
POLL_BATCH = 100
POLL_REST_FACTOR = 2.0
"""Between two batches of a burst the app's poller rests twice as long as the batch took:
the interpreter is the screen's two thirds of the time while a backlog drains."""
FIRST_POLL_SECONDS = 1.0
"""The first rounds wait until the queue has been painted."""
STOP_MARGIN_SECONDS = 2.0
"""On quitting, how long beyond the sender's shutdown grace the app waits for its jobs."""


class BackgroundJobs:
    """The app's jobs as the settings ask for them, under one supervisor."""

    def __init__(self, app: WoTuiApp) -> None:
        self.app = app
        self.failing: set[str] = set()
        """Jobs whose last round failed, or a sender that is paused (said once)."""
        settings = app.settings
        jobs = []
        if settings.events.poll_in_app:
            jobs.append(Job(POLLER, self._poll_events, first_wait=FIRST_POLL_SECONDS))
        if settings.smtp.send_from_app:
            jobs.append(Job(SENDER, self._send_emails, first_wait=FIRST_POLL_SECONDS))
        self.supervisor = Supervisor(jobs, on_failure=self._failed, on_recovery=self._recovered)

    def start(self) -> None:
        """Start the jobs."""
        self.supervisor.start()

    async def stop(self) -> None:
        """Stop the jobs (the sender hands back what it has not sent) and wait for them."""
        self.supervisor.stop()
        wait = self.app.settings.smtp.shutdown_grace_seconds + STOP_MARGIN_SECONDS
        await asyncio.to_thread(self.supervisor.join, wait)

    def send_now(self) -> None:
        """Run the sender over the outbox now (after the run in progress, if any)."""
        if SENDER in self.supervisor.jobs:
            self.supervisor.wake(SENDER)

    # -- the rounds (in the jobs' threads) -----------------------------------------------
    def _send_emails(self, stop: threading.Event) -> float:
        """Send what is due, then tell the app what was sent, failed or paused."""
        from wo_tui.mail.headers import mail_domain
        from wo_tui.mail.sender import drain_outbox

        smtp = self.app.settings.smtp
        ctx = replace(
            self.app.ctx, operator=SENDER_OPERATOR, mail_domain=mail_domain(smtp.from_address)
        )
        result = drain_outbox(
            ctx, smtp, once=True, stop=stop, batch_size=SEND_BATCH, rest_seconds=SEND_REST_SECONDS
        )
        if result.sent or result.failed or result.retried:
            self.app.post_message(EmailsSent(result.sent, result.failed, result.retried))
        if result.paused is None:
            self.failing.discard(SENDER)
            return smtp.poll_interval_seconds
        if SENDER not in self.failing:
            self.failing.add(SENDER)
            self.app.post_message(EmailsPaused(result.paused.reason))
        return smtp.poll_interval_seconds * PAUSED_BACKOFF

    def _poll_events(self, stop: threading.Event) -> float:
        """Drain the due events batch by batch, then tell the app what came in."""
        from wo_tui.core.poller import POLLER_OPERATOR, PollResult, drain_events

        settings = self.app.settings.events
        ctx = replace(self.app.ctx, operator=POLLER_OPERATOR)
        limit = min(POLL_BATCH, settings.batch_size)
        total = PollResult()

        def add(batch: PollResult) -> None:
            nonlocal total
            total += batch

        try:
            drain_events(
                ctx, settings, stop=stop, limit=limit, rest_factor=POLL_REST_FACTOR, on_batch=add
            )
        finally:  # the batches committed before a failure are news all the same
            if total.events:
                self.app.post_message(
                    EventsIngested(total.orders_created, total.duplicates, total.dead)
                )
        return settings.poll_interval_seconds

    # -- the supervisor's reports --------------------------------------------------------
    def _failed(self, job: str, exc: BaseException, wait: float) -> None:
        if job not in self.failing:
            self.failing.add(job)
            self.app.post_message(BackgroundFailed(job, explain(exc)))

    def _recovered(self, job: str) -> None:
        self.failing.discard(job)
