"""The circuit breaker: a sender that sees `smtp.breaker_timeouts` timeouts in a row from the
mail server stops sending for `smtp.breaker_pause_seconds`, instead of walking the whole
queue into the same hang. Kept per process (each app and each worker has its own), for the
whole life of the process, across runs of the sender."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from wo_tui.config import SmtpSettings
from wo_tui.mail.errors import SendingPaused
from wo_tui.mail.smtp import where


class Breaker:
    """Counts timeouts in a row from one mail server and opens after too many. After a pause
    it is half open: the next timeout opens it again, an answer closes it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_a_row = 0
        self._open_until = 0.0
        self._pause: SendingPaused | None = None

    def timed_out(self, settings: SmtpSettings, reply: str) -> SendingPaused | None:
        """Count a timeout; returns the pause when this one opens the breaker."""
        with self._lock:
            self._in_a_row += 1
            if self._in_a_row < settings.breaker_timeouts:
                return None
            self._in_a_row = settings.breaker_timeouts - 1  # half open after the pause
            seconds = settings.breaker_pause_seconds
            self._open_until = time.monotonic() + seconds
            until = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=seconds)
            self._pause = SendingPaused(
                f"the mail server {where(settings)} timed out "
                f"{settings.breaker_timeouts} times in a row (last: {reply}); this sender "
                f"stops for {seconds:g} s (smtp.breaker_pause_seconds)",
                until,
            )
            return self._pause

    def answered(self) -> None:
        """The server answered (whatever it said): the count starts again."""
        with self._lock:
            self._in_a_row = 0

    def pause(self) -> SendingPaused | None:
        """The pause in force while the breaker is open."""
        with self._lock:
            return self._pause if time.monotonic() < self._open_until else None


_BREAKERS: dict[str, Breaker] = {}
_MAKING = threading.Lock()


def breaker_for(settings: SmtpSettings) -> Breaker:
    """This process's breaker for the configured mail server."""
    key = where(settings)
    with _MAKING:
        return _BREAKERS.setdefault(key, Breaker())
