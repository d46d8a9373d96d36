"""The open queue's plain data: what a dispatcher asks to see (filter, sort order), a row, a
window of rows and the bucket counts. No SQLAlchemy here: the first frame of the app is
painted from these before the database layer is loaded (`first_window`); the statements
that read them are in `queue`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from wo_tui.core.errors import InvalidInput
from wo_tui.core.numbers import format_number
from wo_tui.core.statuses import Priority, WorkOrderStatus

Bucket = Literal["all", "new", "setup", "sent", "on_hold", "overdue", "due_today"]
BUCKETS: tuple[Bucket, ...] = ("all", "new", "setup", "sent", "on_hold", "overdue", "due_today")


@dataclass(frozen=True)
class QueueFilter:
    """What the dispatcher asked to see; the empty filter is the whole open queue."""

    text: str = ""
    statuses: tuple[WorkOrderStatus, ...] = ()
    types: tuple[str, ...] = ()
    priorities: tuple[Priority, ...] = ()
    assignee: str | None = None
    overdue: bool = False
    due_today: bool = False
    include_closed: bool = False

    def with_bucket(self, bucket: Bucket) -> QueueFilter:
        """This filter narrowed to one bucket of the dashboard."""
        if bucket == "overdue":
            return replace(self, overdue=True)
        if bucket == "due_today":
            return replace(self, due_today=True)
        if bucket == "all":
            return self
        return replace(self, statuses=(WorkOrderStatus(bucket.upper()),))


_TOKEN = re.compile(r'(\w+):("[^"]*"|\S+)|"([^"]*)"|(\S+)')


def parse_filter(query: str, *, include_closed: bool = False) -> QueueFilter:
    """Parse the filter language: free words plus `status:`, `type:`, `pri:`, `tech:`,
    `overdue`, `due:today` (comma-separated values; quotes keep spaces)."""
    words: list[str] = []
    statuses: list[WorkOrderStatus] = []
    types: list[str] = []
    priorities: list[Priority] = []
    assignee: str | None = None
    overdue = due_today = False
    for key, value, quoted, word in _TOKEN.findall(query):
        if not key:
            token = quoted or word
            if token.lower() == "overdue":
                overdue = True
            else:
                words.append(token)
            continue
        values = [v for v in value.strip('"').split(",") if v]
        key = key.lower()
        try:
            if key == "status":
                statuses += [_parse_status(v) for v in values]
            elif key == "type":
                types += [v.upper() for v in values]
            elif key in ("pri", "priority"):
                priorities += [Priority.parse(v) for v in values]
            elif key in ("tech", "assignee"):
                assignee = value.strip('"')
            elif key == "due" and value.lower() == "today":
                due_today = True
            else:
                raise ValueError(
                    f"unknown filter {key}:{value}; use status:, type:, pri:, tech:, "
                    "overdue or due:today"
                )
        except ValueError as exc:
            raise InvalidInput({"filter": str(exc)}) from None
    return QueueFilter(
        text=" ".join(words),
        statuses=tuple(statuses),
        types=tuple(types),
        priorities=tuple(priorities),
        assignee=assignee,
        overdue=overdue,
        due_today=due_today,
        include_closed=include_closed or any(not s.is_open for s in statuses),
    )


def _parse_status(value: str) -> WorkOrderStatus:
    key = value.strip().upper().replace("-", "_").replace(" ", "_")
    aliases = {"HOLD": "ON_HOLD", "SET_UP": "SETUP", "DONE": "COMPLETED", "CANCELED": "CANCELLED"}
    try:
        return WorkOrderStatus(aliases.get(key, key))
    except ValueError:
        names = ", ".join(s.value.lower() for s in WorkOrderStatus)
        raise ValueError(f"unknown status {value!r}; use one of {names}") from None


@dataclass(frozen=True)
class QueueRow:
    """One row of the queue, as the dashboard and `orders list` show it."""

    id: int
    type_code: str
    status: str
    priority: int
    customer_name: str | None
    site_address: str | None
    site_id: str | None
    meter_number: str | None
    scheduled_date: date | None
    assignee_name: str | None
    due_date: date
    life_support: bool
    version: int

    @property
    def number(self) -> str:
        """The order's number."""
        return format_number(self.id)

    def is_overdue(self, today: date) -> bool:
        """Open and past its due date."""
        return WorkOrderStatus(self.status).is_open and self.due_date < today


SORT_COLUMNS = (
    "priority",
    "due",
    "number",
    "status",
    "type",
    "customer",
    "address",
    "site",
    "scheduled",
    "assignee",
)
"""What the queue can be sorted by (`queue.SORT_KEYS` has each one's SQL key)."""


@dataclass(frozen=True)
class SortOrder:
    """A sort column (a key of SORT_KEYS) and its direction."""

    column: str = "priority"
    descending: bool = False

    def __post_init__(self) -> None:
        if self.column not in SORT_COLUMNS:
            raise InvalidInput(
                {"sort": f"cannot sort by {self.column!r}; use one of {', '.join(SORT_COLUMNS)}"}
            )

    def key_of(self, row: QueueRow) -> tuple[Any, ...]:
        """The keyset cursor of `row` under this order."""
        values: dict[str, Any] = {
            "priority": (row.priority, row.due_date, row.id),
            "due": (row.due_date, row.priority, row.id),
            "number": (row.id,),
            "status": (row.status, row.id),
            "type": (row.type_code, row.id),
            "customer": (row.customer_name or "", row.id),
            "address": (row.site_address or "", row.id),
            "site": (row.site_id or "", row.id),
            "scheduled": (row.scheduled_date or date(9999, 12, 31), row.id),
            "assignee": (row.assignee_name or "", row.id),
        }
        return tuple(values[self.column])


@dataclass(frozen=True)
class Window:
    """A slice of the queue and whether there is more before / after it."""

    rows: list[QueueRow] = field(default_factory=list)
    has_before: bool = False
    has_after: bool = False


@dataclass(frozen=True)
class BucketCounts:
    """The open queue's counts per bucket."""

    all: int = 0
    new: int = 0
    setup: int = 0
    sent: int = 0
    on_hold: int = 0
    overdue: int = 0
    due_today: int = 0
