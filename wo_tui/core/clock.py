"""The one source of "now" for the services, so tests and snapshots can fix the time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current UTC time without a zone (how times are stored), to the microsecond."""
    return datetime.now(UTC).replace(tzinfo=None)


def fixed_clock(moment: datetime) -> Clock:
    """A clock that always says `moment` (tests, snapshots, demos)."""
    return lambda: moment
