"""Errors the services raise; each carries a message fit to show a dispatcher."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class WorkOrderError(Exception):
    """Base of every error a service reports to its caller."""


class NotFound(WorkOrderError):
    """An order, type or assignee that does not exist."""


class InvalidInput(WorkOrderError):
    """Input that failed validation: `problems` maps a field name to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in self.problems.items()))


class NotAllowed(WorkOrderError):
    """A move the status machine (or a safety rule) does not allow."""


class Conflict(WorkOrderError):
    """Someone else changed the order since the caller read it."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """'; did you mean 'x'?' naming the choice closest to `word`, or '' when none is close:
    the end of a message about an unknown name."""
    hint = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {hint[0]!r}?" if hint else ""
