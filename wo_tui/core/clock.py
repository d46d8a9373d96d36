"""The one source of "now" for the services, so tests and snapshots can fix the time, and
the utility's time zone, in which every date is computed and every time is shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

Clock = Callable[[], datetime]

Zone = tzinfo | None
"""The utility's time zone (`[sla] timezone`); None is the machine's own, as `TZ` says."""


def utc_now() -> datetime:
    """The current UTC time without a zone (how times are stored), to the microsecond."""
    return datetime.now(UTC).replace(tzinfo=None)


def fixed_clock(moment: datetime) -> Clock:
    """A clock that always says `moment` (tests, snapshots, demos)."""
    return lambda: moment


def local_time(moment: datetime, zone: Zone) -> datetime:
    """A stored time (UTC without a zone) as the wall-clock time of `zone`."""
    return moment.replace(tzinfo=UTC).astimezone(zone)


def describe_zone(zone: Zone, moment: datetime) -> str:
    """The zone's abbreviation and offset at `moment` (UTC), e.g. 'AEDT, UTC+11:00'."""
    local = local_time(moment, zone)
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{local.tzname()}, UTC{sign}{hours:02d}:{minutes:02d}"
