"""A few SMTP connections, each opened once and reused, draining one shared feed of ready
emails. Connections are opened only when an email arrives for them, so a single email uses a
single connection."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import aiosmtplib
from pydantic import SecretStr

from wo_tui.config import SmtpSettings
from wo_tui.core.outbox import SendOutcome, Verdict
from wo_tui.mail.errors import SendingPaused
from wo_tui.mail.prepare import ReadyEmail
from wo_tui.mail.smtp import ConnectionFailed, close, connect, send_one, unexpected

Report = Callable[[SendOutcome], None]


@dataclass
class Feed:
    """Emails waiting for a connection (with the monotonic time their claim runs out), and
    what the connections found out: a pause, or that none could connect."""

    connections: int
    queue: asyncio.Queue[tuple[ReadyEmail, float] | None] = field(default_factory=asyncio.Queue)
    paused: SendingPaused | None = None
    connect_error: str | None = None
    live: int = 0
    """Connections still taking emails."""

    def __post_init__(self) -> None:
        self.live = self.connections

    @property
    def open(self) -> bool:
        """Whether emails put in now will be sent (not paused, a connection still live)."""
        return self.paused is None and self.live > 0

    def put(self, email: ReadyEmail, lease_deadline: float) -> None:
        """Queue one email for the connections."""
        self.queue.put_nowait((email, lease_deadline))

    def give_back(self, email: ReadyEmail, report: Report) -> None:
        """An email that will not be attempted now: released on a pause (no attempt
        counted), else retried later with the connection error."""
        if self.paused is not None:
            report(SendOutcome(email.claim, Verdict.RELEASED, self.paused.reason))
        else:
            reason = self.connect_error or "not sent: no connection to the mail server"
            report(SendOutcome(email.claim, Verdict.RETRY, reason))

    def close_and_flush(self, report: Report) -> None:
        """After the connections are done: give back whatever is still queued."""
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if item is not None:
                self.give_back(item[0], report)


async def run_connection(
    feed: Feed, settings: SmtpSettings, password: SecretStr | None, report: Report
) -> None:
    """One connection: take the next email until the feed says stop (None), reconnecting
    after a dropped connection; stops taking emails on a pause or a failed connect."""
    smtp: aiosmtplib.SMTP | None = None
    try:
        while (item := await feed.queue.get()) is not None:
            email, lease_deadline = item
            if not feed.open:
                feed.give_back(email, report)
                continue
            if time.monotonic() + settings.send_deadline_seconds > lease_deadline:
                report(SendOutcome(email.claim, Verdict.RELEASED, "the claim ran out"))
                continue
            if smtp is None:
                try:
                    smtp = await connect(settings, password)
                except SendingPaused as pause:
                    feed.paused = feed.paused or pause
                    feed.give_back(email, report)
                    return
                except ConnectionFailed as exc:
                    feed.connect_error = str(exc)
                    feed.give_back(email, report)
                    return
            env = email.envelope
            try:
                verdict, reply, usable = await send_one(
                    smtp, env.sender, env.recipient, env.data, settings, password
                )
            except SendingPaused as pause:
                feed.paused = feed.paused or pause
                feed.give_back(email, report)
                return
            except Exception as exc:  # never a crashed sender: retry, on a fresh connection
                verdict, reply, usable = Verdict.RETRY, unexpected(exc, settings, password), False
            report(SendOutcome(email.claim, verdict, reply))
            if not usable:
                smtp.close()
                smtp = None
    finally:
        feed.live -= 1
        if smtp is not None:
            await close(smtp)


async def run_connections(
    feed: Feed, settings: SmtpSettings, password: SecretStr | None, report: Report
) -> list[asyncio.Task[None]]:
    """Start the feed's connections (each connects when its first email comes)."""
    return [
        asyncio.create_task(run_connection(feed, settings, password, report))
        for _ in range(feed.connections)
    ]


async def finish(feed: Feed, tasks: Sequence[asyncio.Task[None]], report: Report) -> None:
    """Tell every connection to stop after the queued emails, wait, give back leftovers."""
    for _ in tasks:
        feed.queue.put_nowait(None)
    await asyncio.gather(*tasks)
    feed.close_and_flush(report)


EMAILS_PER_CONNECTION = 10
"""For a known list of emails: one more connection only for this many more emails."""


async def send_batch(
    emails: Sequence[ReadyEmail],
    settings: SmtpSettings,
    *,
    on_outcome: Report,
    password: SecretStr | None = None,
    lease_deadline: float = math.inf,
) -> SendingPaused | None:
    """Send `emails` over up to `settings.connections` connections, each opened once and
    reused; every outcome goes to `on_outcome` as it happens. Returns the pause, if sending
    had to stop (the emails not attempted come back RELEASED)."""
    wanted = min(settings.connections, max(1, math.ceil(len(emails) / EMAILS_PER_CONNECTION)))
    feed = Feed(wanted)
    for email in emails:
        feed.put(email, lease_deadline)
    tasks = await run_connections(feed, settings, password, on_outcome)
    await finish(feed, tasks, on_outcome)
    return feed.paused
