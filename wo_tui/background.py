"""The app's background jobs: the event poller and the email sender as Textual workers.

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

from wo_tui.messages import BackgroundFailed, EmailsPaused, EmailsSent, EventsIngested

if TYPE_CHECKING:
    from textual.timer import Timer

    from wo_tui.app import WoTuiApp

SENDER_OPERATOR = "mail-sender"
"""The name the sender's changes (an order becoming SENT) are recorded under."""
PAUSED_BACKOFF = 12
"""After a pause (login refused, no TLS) the sender waits this many intervals before trying
again, so that a wrong password does not hammer the mail server."""
SEND_BATCH = 20
SEND_REST_SECONDS = 0.2
"""The app's sender takes the outbox 20 emails at a time and rests after each batch, so a
large send (a headless worker's job) never makes the dispatcher's keys slow."""
POLL_BATCH = 100
POLL_REST_FACTOR = 2.0
"""Between two batches of a burst the app's poller rests twice as long as the batch took:
the interpreter is the screen's two thirds of the time while a backlog drains."""
FIRST_POLL_SECONDS = 1.0
"""The first poll waits until the queue has been painted."""


class BackgroundJobs:
    """Starts and re-arms the app's background jobs as configured."""

    def __init__(self, app: WoTuiApp) -> None:
        self.app = app
        self.failing: set[str] = set()
        """Jobs whose last run failed (the user was told once)."""
        self._send_timer: Timer | None = None

    def start(self) -> None:
        """Arm the jobs the settings ask for."""
        if self.app.settings.events.poll_in_app:
            self.app.set_timer(FIRST_POLL_SECONDS, self._start_poll)
        if self.app.settings.smtp.send_from_app:
            self.app.set_timer(FIRST_POLL_SECONDS, self.send_now)

    # -- the email sender ----------------------------------------------------------------
    def send_now(self) -> None:
        """Run the sender over the outbox now (unless a run is going on already)."""
        if any(w.group == "sender" and not w.is_finished for w in self.app.workers):
            return
        if self._send_timer is not None:
            self._send_timer.stop()  # this run re-arms it: one chain of runs, never two
        self.app.run_worker(
            self._send_emails, name="email sender", group="sender", thread=True, exit_on_error=False
        )

    def _send_emails(self) -> None:
        """Send what is due (the sender runs its own event loop in this thread), then tell
        the app about failures and pauses."""
        from wo_tui.mail.headers import mail_domain
        from wo_tui.mail.sender import drain_outbox

        smtp = self.app.settings.smtp
        ctx = replace(
            self.app.ctx, operator=SENDER_OPERATOR, mail_domain=mail_domain(smtp.from_address)
        )
        worker = get_current_worker()
        wait = smtp.poll_interval_seconds
        try:
            result = drain_outbox(
                ctx, smtp, once=True, batch_size=SEND_BATCH, rest_seconds=SEND_REST_SECONDS
            )
        except Exception as exc:  # the database; mail problems come back as results
            self._failed("email sender", exc)
        else:
            if result.paused is not None:
                wait *= PAUSED_BACKOFF
                if "email sender" not in self.failing:
                    self.failing.add("email sender")
                    self.app.post_message(EmailsPaused(result.paused.reason))
            else:
                self._recovered("email sender")
            if result.sent or result.failed or result.retried:
                self.app.post_message(EmailsSent(result.sent, result.failed, result.retried))
        if not worker.is_cancelled:
            self.app.call_from_thread(self._arm_sender, wait)

    def _arm_sender(self, wait: float) -> None:
        if self.app.is_running:  # not while the app is closing: its timers are gone
            self._send_timer = self.app.set_timer(wait, self.send_now)

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
            batch = min(POLL_BATCH, settings.batch_size)
            while not worker.is_cancelled:
                started = time.perf_counter()
                result = process_batch(ctx, settings, limit=batch)
                total += result
                if result.events < batch:
                    break
                time.sleep((time.perf_counter() - started) * POLL_REST_FACTOR)
            self._recovered("event poller")
        except DBAPIError as exc:
            self._failed("event poller", exc)
        finally:
            if total.events:
                self.app.post_message(
                    EventsIngested(total.orders_created, total.duplicates, total.dead)
                )
            if not worker.is_cancelled:
                self.app.call_from_thread(self._arm_poll, settings.poll_interval_seconds)

    def _arm_poll(self, wait: float) -> None:
        if self.app.is_running:  # not while the app is closing: its timers are gone
            self.app.set_timer(wait, self._start_poll)

    # -- shared --------------------------------------------------------------------------
    def _failed(self, job: str, exc: Exception) -> None:
        if job not in self.failing:
            self.failing.add(job)
            first_line = (str(exc).splitlines() or [""])[0][:200]
            self.app.post_message(BackgroundFailed(job, f"{type(exc).__name__}: {first_line}"))

    def _recovered(self, job: str) -> None:
        self.failing.discard(job)
