"""What can stop an email: a problem with one email, or one that pauses all sending."""

from __future__ import annotations


class MessageRefused(Exception):
    """This email cannot be built or sent as it stands (a line break in a header value, a
    bad address): a permanent failure of this one row, shown on the order."""


class SendingPaused(Exception):
    """Nothing can be sent until someone acts (the login was refused, TLS is not available,
    a template is broken). The claimed emails go back untouched; tell the user once."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TemplateProblem(SendingPaused):
    """An operator's template cannot be used (unknown placeholder, bad `$`)."""
