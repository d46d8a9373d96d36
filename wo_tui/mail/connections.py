"""A few SMTP connections, each opened once and reused, draining one shared feed of ready
emails. Connections are opened only when an email arrives for them (so a single email uses
a single connection), and one at a time: the first has logged in before the next opens.

A run ends early, and opens no further connection, when the server cannot be reached or
turns us away with 421 (the emails not attempted are retried later), when sending pauses
(they go back untouched), and when the sender is told to stop: emails not started go back at
once, sends in progress get `smtp.shutdown_grace_seconds` and are then cut off and put back.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import aiosmtplib
from pydantic import SecretStr

from wo_tui.config import SmtpSettings
from wo_tui.core.outbox import SendOutcome, Verdict
from wo_tui.mail.breaker import Breaker
from wo_tui.mail.errors import SendingPaused
from wo_tui.mail.logins import Logins
from wo_tui.mail.prepare import ReadyEmail
from wo_tui.mail.smtp import Attempt, ConnectionFailed, close, send_one, unexpected

Report = Callable[[SendOutcome], None]

STOP_POLL_SECONDS = 0.1
"""How often a run looks at its stop event."""
STOPPED = "not sent: the sender was stopping"
INTERRUPTED = (
    "the sender stopped before the server answered; sent again later with the same "
    "Message-ID (the server may have it already)"
)


@dataclass
class Feed:
    """Emails waiting for a connection (with the monotonic time their claim runs out), and
    what the connections found out: a pause, or why no more connections are opened."""

    connections: int
    queue: asyncio.Queue[tuple[ReadyEmail, float] | None] = field(default_factory=asyncio.Queue)
    paused: SendingPaused | None = None
    closed: str | None = None
    """Why this run opens no more connections (unreachable, 421): the emails not attempted
    are retried later with this reason."""
    stopping: bool = False
    """The sender was told to stop: nothing more is started."""
    live: int = 0
    """Connections still taking emails."""

    def __post_init__(self) -> None:
        self.live = self.connections

    @property
    def open(self) -> bool:
        """Whether emails put in now will be sent (not paused, closed or stopping, and a
        connection still live)."""
        return self.paused is None and self.closed is None and not self.stopping and self.live > 0

    def put(self, email: ReadyEmail, lease_deadline: float) -> None:
        """Queue one email for the connections."""
        self.queue.put_nowait((email, lease_deadline))

    def pause(self, pause: SendingPaused) -> None:
        """Stop sending: the emails not attempted go back untouched."""
        self.paused = self.paused or pause

    def close(self, reason: str) -> None:
        """Open no more connections this run: the emails not attempted are retried later."""
        self.closed = self.closed or reason

    def give_back(self, email: ReadyEmail, report: Report) -> None:
        """An email that will not be attempted now: released on a pause or a stop (no
        attempt counted), else retried later with the reason no connection is open."""
        if self.paused is not None:
            report(SendOutcome(email.claim, Verdict.RELEASED, self.paused.reason))
        elif self.stopping:
            report(SendOutcome(email.claim, Verdict.RELEASED, STOPPED))
        else:
            reason = self.closed or "not sent: no connection to the mail server"
            report(SendOutcome(email.claim, Verdict.RETRY, reason))

    def flush(self, report: Report) -> None:
        """Give back every email still queued (the connections' stop signs stay)."""
        items = [self.queue.get_nowait() for _ in range(self.queue.qsize())]
        for item in items:
            if item is None:
                self.queue.put_nowait(None)
            else:
                self.give_back(item[0], report)

    def stop(self, report: Report) -> None:
        """Start nothing more; the emails not started go back at once."""
        if not self.stopping:
            self.stopping = True
            for _ in range(self.connections):
                self.queue.put_nowait(None)
        self.flush(report)


@dataclass
class Run:
    """What every connection of one run of the sender shares."""

    feed: Feed
    settings: SmtpSettings
    password: SecretStr | None
    logins: Logins
    breaker: Breaker
    report: Report
    opening: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Connections open one at a time: the first has logged in before the next opens."""


async def run_connection(run: Run) -> None:
    """One connection: take the next email until the feed says stop (None), reconnecting
    after a dropped connection; stops taking emails when the run ends early. Cut off by
    cancellation (the grace after a stop ran out), it puts its email back."""
    feed, report = run.feed, run.report
    smtp: aiosmtplib.SMTP | None = None
    in_hand: ReadyEmail | None = None
    sending = False
    try:
        while (item := await feed.queue.get()) is not None:
            email, lease_deadline = item
            if not feed.open:
                feed.give_back(email, report)
                continue
            if time.monotonic() + run.settings.send_deadline_seconds > lease_deadline:
                report(SendOutcome(email.claim, Verdict.RELEASED, "the claim ran out"))
                continue
            in_hand = email
            if smtp is None:
                smtp = await _open(run, email)
                if smtp is None:
                    in_hand = None
                    return
            sending = True
            attempt = await _send(run, smtp, email)
            sending, in_hand = False, None
            if attempt is None:
                return
            report(SendOutcome(email.claim, attempt.verdict, attempt.reply))
            _heed(run, attempt)
            if not attempt.usable:
                smtp.close()
                smtp = None
    except asyncio.CancelledError:
        if in_hand is not None and sending:
            report(SendOutcome(in_hand.claim, Verdict.INTERRUPTED, INTERRUPTED))
        elif in_hand is not None:
            report(SendOutcome(in_hand.claim, Verdict.RELEASED, STOPPED))
        raise
    finally:
        feed.live -= 1
        if smtp is not None:
            if feed.stopping:
                smtp.close()  # no polite QUIT to a server that may be hanging
            else:
                await close(smtp)


async def _open(run: Run, email: ReadyEmail) -> aiosmtplib.SMTP | None:
    """A new connection for `email`, or None (the email given back) when the run ends."""
    feed = run.feed
    try:
        async with run.opening:
            if not feed.open:  # the connection opened before this one ended the run
                feed.give_back(email, run.report)
                return None
            smtp = await run.logins.open()
    except SendingPaused as pause:
        feed.pause(pause)
    except ConnectionFailed as exc:
        feed.close(str(exc))
        if exc.timed_out:
            _count_timeout(run, str(exc))
    except Exception as exc:  # the database, while taking the login claim
        feed.close(unexpected(exc, run.settings, run.password))
    else:
        if feed.open:
            return smtp
        await close(smtp)  # the run ended while this one was opening
    feed.give_back(email, run.report)
    return None


async def _send(run: Run, smtp: aiosmtplib.SMTP, email: ReadyEmail) -> Attempt | None:
    """Send one email; None (the email given back) when sending has to pause."""
    env = email.envelope
    try:
        return await send_one(smtp, env.sender, env.recipient, env.data, run.settings, run.password)
    except SendingPaused as pause:
        run.feed.pause(pause)
        run.feed.give_back(email, run.report)
        return None
    except Exception as exc:  # never a crashed sender: retry, on a fresh connection
        return Attempt(Verdict.RETRY, unexpected(exc, run.settings, run.password), usable=False)


def _heed(run: Run, attempt: Attempt) -> None:
    """What an attempt means for the rest of the run: a 421 closes it, timeouts count."""
    if attempt.turned_away:
        run.feed.close(f"not sent: the mail server turned us away ({attempt.reply})")
    if attempt.timed_out:
        _count_timeout(run, attempt.reply)
    else:
        run.breaker.answered()


def _count_timeout(run: Run, reply: str) -> None:
    pause = run.breaker.timed_out(run.settings, reply)
    if pause is not None:
        run.feed.pause(pause)


def start_connections(run: Run) -> list[asyncio.Task[None]]:
    """Start the feed's connections (each connects when its first email comes)."""
    return [asyncio.create_task(run_connection(run)) for _ in range(run.feed.connections)]


async def stop_when(stop: threading.Event, run: Run, tasks: Sequence[asyncio.Task[None]]) -> None:
    """Once `stop` is set: start nothing more, give the sends in progress
    `smtp.shutdown_grace_seconds`, then cut them off."""
    while not stop.is_set():
        await asyncio.sleep(STOP_POLL_SECONDS)
    run.feed.stop(run.report)
    _, cut_off = await asyncio.wait(tasks, timeout=run.settings.shutdown_grace_seconds)
    for task in cut_off:
        task.cancel()


async def finish(run: Run, tasks: Sequence[asyncio.Task[None]]) -> None:
    """Tell every connection to stop after the queued emails, wait, give back leftovers."""
    for _ in tasks:
        run.feed.queue.put_nowait(None)
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    run.feed.flush(run.report)
    for outcome in outcomes:  # a connection cut off after a stop ends cancelled; others not
        if isinstance(outcome, Exception):
            raise outcome
