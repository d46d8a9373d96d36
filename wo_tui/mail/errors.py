"""What can stop an email: a problem with one email, or one that pauses all sending."""

from __future__ import annotations

from datetime import UTC, datetime


class MessageRefused(Exception):
    """This email cannot be built or sent as it stands (a line break in a header value, a
    bad address): a permanent failure of this one row, shown on the order."""


class SendingPaused(Exception):
    """Nothing can be sent until someone acts (the login was refused, TLS is not available,
    a template is broken) or until `until` (UTC, as stored). The claimed emails go back
    untouched; tell the user once. `reason` says why and, for a pause with an end, when it
    ends."""

    def __init__(self, reason: str, until: datetime | None = None) -> None:
        if until is not None:
            reason = f"{reason}; sending is paused until {local_time(until)}"
        super().__init__(reason)
        self.reason = reason
        self.until = until


class LoginRefused(SendingPaused):
    """The mail server refused our login: it counts against the account (a lock-out), so
    every sender pauses (`wo_tui.core.mail_accounts`)."""


class TemplateProblem(SendingPaused):
    """An operator's template cannot be used (unknown placeholder, bad `$`)."""


def local_time(moment: datetime) -> str:
    """A stored UTC time as the reader's local HH:MM:SS."""
    return f"{moment.replace(tzinfo=UTC).astimezone():%H:%M:%S}"
