"""Writes send outcomes to the outbox as they arrive, several per transaction, from a
thread, so the sending event loop never waits on the database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from wo_tui.core.context import Context
from wo_tui.core.outbox import SendOutcome, Verdict
from wo_tui.core.outbox_marks import record_outcomes

log = logging.getLogger("wo_tui.mail")

LINGER_SECONDS = 0.1
"""After the first outcome arrives, wait this long for more to share its transaction: at a
few hundred emails a second that is 20-40 outcomes a transaction (with 0.02 s it was 4-8, and
recording cost 0.6 ms CPU per email instead of 0.25). An outcome is written at most this much
later; were the process to die meanwhile, the email is sent again once its lease runs out,
with the same Message-ID (docs/guarantees.md), as with any crash after sending."""


class Recorder:
    """Collects outcomes (`add`, from the event loop) and records them in the background;
    `finish` waits until every one is written."""

    def __init__(
        self, ctx: Context, max_attempts: int, counted: Callable[[SendOutcome, bool], None]
    ) -> None:
        self._ctx = ctx
        self._max_attempts = max_attempts
        self._counted = counted
        self._pending: list[SendOutcome] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._run())

    def add(self, outcome: SendOutcome) -> None:
        """Queue one outcome for writing."""
        level = logging.INFO if outcome.verdict is Verdict.SENT else logging.WARNING
        log.log(
            level,
            "email %s to %s: %s (%s)",
            outcome.claim.outbox_id,
            outcome.claim.recipient,
            outcome.verdict.value,
            outcome.reply,
        )
        self._pending.append(outcome)
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if not self._closing:
                await asyncio.sleep(LINGER_SECONDS)
            self._wake.clear()
            if self._pending:
                batch, self._pending = self._pending, []
                recorded = await asyncio.to_thread(
                    record_outcomes, self._ctx, batch, max_attempts=self._max_attempts
                )
                for outcome, changed in zip(batch, recorded, strict=True):
                    self._counted(outcome, changed)
            if self._closing and not self._pending:
                return

    async def finish(self) -> None:
        """Write whatever is left and stop."""
        self._closing = True
        self._wake.set()
        await self._task
