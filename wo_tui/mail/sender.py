"""The sender: claims due emails, sends them over a few reused SMTP connections, records
each outcome. Runs from a Textual worker (`await send_due(...)`) or headless
(`drain_outbox(...)`).

All database work and message building happen in threads (`asyncio.to_thread`) so an event
loop running the sender never stalls on them. Outcomes are written as they arrive, a
handful per transaction, by one recorder task.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field

from wo_tui.config import SmtpSettings
from wo_tui.core.context import Context
from wo_tui.core.outbox import DEFAULT_LEASE_SECONDS, SendOutcome, Verdict, claim_due
from wo_tui.mail.breaker import breaker_for
from wo_tui.mail.connections import Feed, Run, finish, start_connections, stop_when
from wo_tui.mail.errors import SendingPaused
from wo_tui.mail.logins import Logins
from wo_tui.mail.prepare import prepare
from wo_tui.mail.recorder import Recorder
from wo_tui.mail.templating import load_templates

log = logging.getLogger("wo_tui.mail")

BATCH_SIZE = 100
"""Emails claimed (and built) at a time."""

__all__ = ["DrainResult", "SendingPaused", "drain_outbox", "send_due"]


@dataclass
class DrainResult:
    """What a run of the sender did, and whether sending is paused (tell the user once)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    superseded: int = 0
    released: int = 0
    interrupted: int = 0
    """Cut off by a stop while the server had not answered, and put back."""
    stale: int = 0
    """Outcomes not recorded because another sender had taken the email over meanwhile."""
    paused: SendingPaused | None = None
    replies: list[str] = field(default_factory=list, repr=False)
    """The failures' replies (for a log or a notification), at most 20."""

    def count(self, outcome: SendOutcome, recorded: bool) -> None:
        """Add one recorded (or stale) outcome."""
        if not recorded:
            self.stale += 1
            return
        attr = _COUNTED_AS[outcome.verdict]
        setattr(self, attr, getattr(self, attr) + 1)
        if outcome.verdict in (Verdict.RETRY, Verdict.FAILED) and len(self.replies) < 20:
            self.replies.append(outcome.reply)

    def merge(self, other: DrainResult) -> None:
        """Add another run's counts (the worker's loop)."""
        for name in (*_COUNTED_AS.values(), "stale"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.replies = (self.replies + other.replies)[:20]
        self.paused = other.paused or self.paused

    def summary(self) -> str:
        """One line for a notification or the worker's log."""
        text = (
            f"{self.sent} sent, {self.retried} to retry, {self.failed} failed, "
            f"{self.superseded} superseded"
        )
        if self.interrupted:
            text += f", {self.interrupted} cut off by the stop and put back"
        return text + (f"; sending paused: {self.paused.reason}" if self.paused else "")


_COUNTED_AS = {
    Verdict.SENT: "sent",
    Verdict.RETRY: "retried",
    Verdict.FAILED: "failed",
    Verdict.SUPERSEDED: "superseded",
    Verdict.RELEASED: "released",
    Verdict.INTERRUPTED: "interrupted",
}


async def send_due(
    ctx: Context,
    settings: SmtpSettings,
    *,
    stop: threading.Event | None = None,
    batch_size: int = BATCH_SIZE,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    rest_seconds: float = 0.0,
) -> DrainResult:
    """Send every email due now and return what happened. For a Textual worker: the
    database and CPU work runs in threads, and the next batch is claimed and built while the
    current one is being sent. `rest_seconds` is a pause after each batch (an app's sender
    leaves the interpreter to the screen that long). Once `stop` is set nothing more is
    claimed or started, and sends in progress get `settings.shutdown_grace_seconds` before
    they are cut off and put back. Never raises for a mail problem: a pause (tell the user
    once) comes back in `DrainResult.paused`."""
    result = DrainResult()
    try:
        templates = load_templates(settings.templates_dir)
        password = settings.resolved_password()
    except SendingPaused as pause:
        result.paused = pause
        return result
    except OSError as exc:
        result.paused = SendingPaused(f"cannot read smtp.password_file: {exc.strerror}")
        return result
    logins = Logins(ctx, settings, password)
    breaker = breaker_for(settings)
    result.paused = breaker.pause() or await logins.pause()
    if result.paused is not None:
        return result
    stop = stop or threading.Event()
    recorder = Recorder(ctx, settings.max_attempts, result.count)
    feed = Feed(settings.connections)
    run = Run(feed, settings, password, logins, breaker, recorder.add)
    tasks = start_connections(run)
    watcher = asyncio.create_task(stop_when(stop, run, tasks))
    try:
        while feed.open and not stop.is_set():
            claims = await asyncio.to_thread(claim_due, ctx, lease_seconds, batch_size)
            # The lease is counted from now on this host's clock, a little short to be safe.
            lease_deadline = time.monotonic() + lease_seconds * 0.9
            if not claims:
                break
            ready, done = await asyncio.to_thread(
                prepare, ctx, claims, templates=templates, from_address=settings.from_address
            )
            for outcome in done:
                recorder.add(outcome)
            if stop.is_set():
                feed.stop(recorder.add)
            for email in ready:
                if feed.open:
                    feed.put(email, lease_deadline)
                else:
                    feed.give_back(email, recorder.add)
            if len(claims) < batch_size:
                break
            if rest_seconds:
                await asyncio.sleep(rest_seconds)
            # Stay about half a batch ahead of the connections, no more.
            while feed.open and feed.queue.qsize() > batch_size // 2:
                await asyncio.sleep(0.005)
    finally:
        try:
            await finish(run, tasks)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            await recorder.finish()
    result.paused = feed.paused
    if result.paused is not None:
        log.error("sending paused: %s", result.paused.reason)
    return result


def drain_outbox(
    ctx: Context,
    settings: SmtpSettings,
    *,
    once: bool = True,
    stop: threading.Event | None = None,
    poll_seconds: float = 5.0,
    batch_size: int = BATCH_SIZE,
    rest_seconds: float = 0.0,
) -> DrainResult:
    """The headless worker: send what is due (`once`), or keep sending every
    `poll_seconds` until `stop` is set or sending is paused. Blocking; runs its own event
    loop, so it may also run in a thread beside an app. Setting `stop` ends it within
    `settings.shutdown_grace_seconds` and a moment, every claimed email handed back."""
    total = DrainResult()
    stop = stop or threading.Event()
    while True:
        run = send_due(ctx, settings, stop=stop, batch_size=batch_size, rest_seconds=rest_seconds)
        total.merge(asyncio.run(run))
        if once or total.paused is not None or stop.wait(poll_seconds):
            return total
