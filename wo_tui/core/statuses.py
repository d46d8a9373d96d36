"""Statuses, priorities and reason codes of a work order, and the status machine.

The allowed moves are the table of docs/domain.md; `allowed_from` gives, for a target status, the
statuses an order may be in for the move to be legal. The storage layer puts that list in the
`WHERE` of every status-changing `UPDATE`, so the machine is enforced where the write happens.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class WorkOrderStatus(StrEnum):
    """Where an order is in its life; the first four are the open queue."""

    NEW = "NEW"
    SETUP = "SETUP"
    SENT = "SENT"
    ON_HOLD = "ON_HOLD"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"

    @property
    def is_open(self) -> bool:
        """True for the statuses shown in the open queue."""
        return self in OPEN_STATUSES

    @property
    def label(self) -> str:
        """The status as a dispatcher reads it."""
        return self.value.replace("_", " ").title().replace("Setup", "Set up")


OPEN_STATUSES: tuple[WorkOrderStatus, ...] = (
    WorkOrderStatus.NEW,
    WorkOrderStatus.SETUP,
    WorkOrderStatus.SENT,
    WorkOrderStatus.ON_HOLD,
)
CLOSED_STATUSES: tuple[WorkOrderStatus, ...] = (
    WorkOrderStatus.COMPLETED,
    WorkOrderStatus.CANCELLED,
)

_S = WorkOrderStatus
TRANSITIONS: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    _S.NEW: frozenset({_S.SETUP, _S.COMPLETED, _S.CANCELLED, _S.ON_HOLD}),
    _S.SETUP: frozenset({_S.NEW, _S.SENT, _S.COMPLETED, _S.CANCELLED, _S.ON_HOLD}),
    _S.SENT: frozenset({_S.SETUP, _S.ON_HOLD, _S.COMPLETED, _S.CANCELLED}),
    _S.ON_HOLD: frozenset({_S.NEW, _S.SETUP, _S.COMPLETED, _S.CANCELLED}),
    _S.COMPLETED: frozenset({_S.NEW}),
    _S.CANCELLED: frozenset({_S.NEW}),
}


def can_move(current: WorkOrderStatus, target: WorkOrderStatus) -> bool:
    """Whether the status machine allows `current` → `target`."""
    return target in TRANSITIONS[current]


def allowed_from(target: WorkOrderStatus) -> tuple[WorkOrderStatus, ...]:
    """The statuses from which an order may move to `target` (for the guarded UPDATE)."""
    return tuple(s for s in WorkOrderStatus if target in TRANSITIONS[s])


class Priority(IntEnum):
    """Stored as a number so that sorting by priority puts High first."""

    HIGH = 1
    MEDIUM = 2
    LOW = 3

    @property
    def label(self) -> str:
        """High / Medium / Low."""
        return self.name.title()

    @classmethod
    def parse(cls, text: str | int) -> Priority:
        """Accept 1/2/3, High/Medium/Low, H/M/L (any case)."""
        if isinstance(text, int) or str(text).strip().isdigit():
            return cls(int(text))
        key = str(text).strip().upper()
        for member in cls:
            if member.name == key or member.name[0] == key:
                return member
        raise ValueError(f"unknown priority {text!r}; use High, Medium or Low")


class ServiceTime(StrEnum):
    """When the job may be done."""

    ANY = "any"
    BUSINESS_HOURS = "business_hours"
    AFTER_HOURS = "after_hours"


class AssigneeKind(StrEnum):
    """Who an order can be assigned to."""

    INTERNAL = "internal"
    EXTERNAL = "external"
    PARTNER = "partner"


class CancelReason(StrEnum):
    """Why an order was cancelled (a reason code is required)."""

    CUSTOMER_REQUESTED = "customer_requested"
    DUPLICATE = "duplicate"
    RAISED_IN_ERROR = "raised_in_error"
    NO_LONGER_REQUIRED = "no_longer_required"
    NO_ACCESS = "no_access"
    UNSAFE = "unsafe"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The reason as a dispatcher reads it."""
        return self.value.replace("_", " ").capitalize()


class Outcome(StrEnum):
    """Whether the field job was done."""

    DONE = "done"
    NOT_DONE = "not_done"


class EventStatus(StrEnum):
    """Where a billing event is in its processing."""

    PENDING = "pending"
    PROCESSED = "processed"
    DEAD = "dead"
    """Failed `[events] max_attempts` times: parked with its error, can be retried."""
    DISCARDED = "discarded"
    """A dead event a person decided not to process (the reason is kept in last_error)."""


class EmailStatus(StrEnum):
    """Where an outbox email is (docs/email.md explains each one)."""

    QUEUED = "queued"
    """Waiting for its first attempt."""
    SENDING = "sending"
    """Claimed by a sender, whose lease runs until `lease_until`."""
    RETRY = "retry"
    """A temporary failure (4xx, disconnect, timeout): tried again at `next_attempt_at`."""
    SENT = "sent"
    """The mail server accepted it."""
    FAILED = "failed"
    """Refused for good (5xx, bad data) or out of attempts; `last_reply` says why."""
    SUPERSEDED = "superseded"
    """Not sent: the order was closed or given to someone else before it went out."""
