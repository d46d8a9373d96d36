"""What a change of one or many orders did to each: done, skipped with the reason, or a
conflict with who changed the order. Plain data (no SQLAlchemy), for the screens, the
command line and the services alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from wo_tui.core.numbers import format_number


class Result(StrEnum):
    """What happened to one order of a batch."""

    DONE = "done"
    SKIPPED = "skipped"
    CONFLICT = "conflict"


class OrderOutcome(NamedTuple):
    """The outcome for one order: done, skipped (why) or conflict (who changed it). A named
    tuple: a batch makes one per order, and a frozen dataclass cost a tenth of a 10,000-order
    bulk action to build."""

    order_id: int
    result: Result
    detail: str = ""

    @property
    def number(self) -> str:
        """The order's number."""
        return format_number(self.order_id)


@dataclass
class BatchResult:
    """Every order's outcome, in the order asked, and the batch id recorded in history."""

    batch_id: str
    action: str
    outcomes: list[OrderOutcome] = field(default_factory=list)
    emails: int = 0
    """For a preview: how many emails the change would queue (cancellation notices)."""
    versions: dict[int, int] = field(default_factory=dict)
    """id → version after this batch, for the orders it changed (what undo guards with);
    for a preview, id → current version of every order found."""

    def ids(self, result: Result) -> list[int]:
        """The order ids with the given result."""
        return [o.order_id for o in self.outcomes if o.result is result]

    @property
    def all_done(self) -> bool:
        """True when every order asked for was changed."""
        return all(o.result is Result.DONE for o in self.outcomes)

    def summary(self) -> str:
        """One line: '48 completed, 2 skipped, 0 conflicts'."""
        counts = {r: len(self.ids(r)) for r in Result}
        return (
            f"{counts[Result.DONE]} {self.action}, {counts[Result.SKIPPED]} skipped, "
            f"{counts[Result.CONFLICT]} conflict{'s' if counts[Result.CONFLICT] != 1 else ''}"
        )
