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
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pydantic import SecretStr

from wo_tui.config import SmtpSettings
from wo_tui.core.context import Context
from wo_tui.core.outbox import DEFAULT_LEASE_SECONDS, SendOutcome, Verdict, claim_due
from wo_tui.mail.errors import SendingPaused
from wo_tui.mail.prepare import ReadyEmail, prepare
from wo_tui.mail.recorder import Recorder
from wo_tui.mail.smtp import ConnectionFailed, close, connect, send_one
from wo_tui.mail.templating import load_templates

log = logging.getLogger("wo_tui.mail")

BATCH_SIZE = 200
"""Emails claimed at a time."""
EMAILS_PER_CONNECTION = 10
"""A further connection is opened only for this many more emails (at most `connections`)."""


@dataclass
class DrainResult:
    """What a run of the sender did, and whether sending is paused (tell the user once)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    superseded: int = 0
    released: int = 0
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
        attr = {
            Verdict.SENT: "sent",
            Verdict.RETRY: "retried",
            Verdict.FAILED: "failed",
            Verdict.SUPERSEDED: "superseded",
            Verdict.RELEASED: "released",
        }[outcome.verdict]
        setattr(self, attr, getattr(self, attr) + 1)
        if outcome.verdict in (Verdict.RETRY, Verdict.FAILED) and len(self.replies) < 20:
            self.replies.append(outcome.reply)

    def merge(self, other: DrainResult) -> None:
        """Add another run's counts (the worker's loop)."""
        for name in ("sent", "retried", "failed", "superseded", "released", "stale"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.replies = (self.replies + other.replies)[:20]
        self.paused = other.paused or self.paused

    def summary(self) -> str:
        """One line for a notification or the worker's log."""
        text = (
            f"{self.sent} sent, {self.retried} to retry, {self.failed} failed, "
            f"{self.superseded} superseded"
        )
        return text + (f"; sending paused: {self.paused.reason}" if self.paused else "")


@dataclass
class _Batch:
    emails: deque[ReadyEmail]
    lease_deadline: float
    paused: SendingPaused | None = None
    connect_error: str | None = None


async def send_batch(
    emails: Sequence[ReadyEmail],
    settings: SmtpSettings,
    *,
    on_outcome: Callable[[SendOutcome], None],
    password: SecretStr | None = None,
    lease_deadline: float = math.inf,
) -> SendingPaused | None:
    """Send `emails` over up to `settings.connections` connections opened once and reused
    for every email; each outcome goes to `on_outcome` as it happens. An email that could
    not finish before `lease_deadline` (monotonic) is given back, not sent. Returns the
    pause, if sending had to stop."""
    batch = _Batch(deque(emails), lease_deadline)
    count = min(settings.connections, max(1, math.ceil(len(emails) / EMAILS_PER_CONNECTION)))
    workers = [_drain(batch, settings, password, on_outcome) for _ in range(count)]
    await asyncio.gather(*workers)
    while batch.emails:
        left = batch.emails.popleft()
        if batch.paused is not None:
            on_outcome(SendOutcome(left.claim, Verdict.RELEASED, batch.paused.reason))
        else:
            on_outcome(SendOutcome(left.claim, Verdict.RETRY, batch.connect_error or "not sent"))
    return batch.paused


async def _drain(
    batch: _Batch,
    settings: SmtpSettings,
    password: SecretStr | None,
    on_outcome: Callable[[SendOutcome], None],
) -> None:
    """One connection: take the next email until none is left or sending is paused."""
    smtp = None
    try:
        while batch.emails and batch.paused is None:
            if smtp is None:
                try:
                    smtp = await connect(settings, password)
                except SendingPaused as pause:
                    batch.paused = batch.paused or pause
                    return
                except ConnectionFailed as exc:
                    batch.connect_error = str(exc)
                    return
            if not batch.emails:
                return
            email = batch.emails.popleft()
            if time.monotonic() + settings.send_deadline_seconds > batch.lease_deadline:
                on_outcome(SendOutcome(email.claim, Verdict.RELEASED, "the claim ran out"))
                continue
            envelope = email.envelope
            try:
                verdict, reply, usable = await send_one(
                    smtp, envelope.sender, envelope.recipient, envelope.data, settings, password
                )
            except SendingPaused as pause:
                batch.paused = batch.paused or pause
                batch.emails.appendleft(email)
                return
            on_outcome(SendOutcome(email.claim, verdict, reply))
            if not usable:
                smtp.close()
                smtp = None
    finally:
        if smtp is not None:
            await close(smtp)


async def send_due(
    ctx: Context,
    settings: SmtpSettings,
    *,
    batch_size: int = BATCH_SIZE,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> DrainResult:
    """Send every email due now (batch after batch) and return what happened. For a
    Textual worker: the database and CPU work runs in threads. Never raises for a mail
    problem: a pause comes back in `DrainResult.paused`."""
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
    while result.paused is None:
        claims = await asyncio.to_thread(claim_due, ctx, lease_seconds, batch_size)
        # The lease is counted from now on this host's clock, a little short to be safe.
        lease_deadline = time.monotonic() + lease_seconds * 0.9
        if not claims:
            break
        ready, done = await asyncio.to_thread(
            prepare, ctx, claims, templates=templates, from_address=settings.from_address
        )
        recorder = Recorder(ctx, settings.max_attempts, result.count)
        for outcome in done:
            recorder.add(outcome)
        result.paused = await send_batch(
            ready,
            settings,
            on_outcome=recorder.add,
            password=password,
            lease_deadline=lease_deadline,
        )
        await recorder.finish()
        if len(claims) < batch_size or result.released:
            break
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
) -> DrainResult:
    """The headless worker: send what is due (`once`), or keep sending every
    `poll_seconds` until `stop` is set or sending is paused. Blocking; runs its own event
    loop, so it may also run in a thread beside an app."""
    total = DrainResult()
    stop = stop or threading.Event()
    while True:
        total.merge(asyncio.run(send_due(ctx, settings)))
        if once or total.paused is not None or stop.wait(poll_seconds):
            return total
