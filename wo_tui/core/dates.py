"""Parse the date and time-window forms dispatchers type, relative to a given day.

Dates are Australian day-first (3/12/2026 is 3 December). Nothing here reads the clock:
the caller passes `today`, so tests are deterministic. Month and day names are English
tables, never the locale.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

__all__ = ["add_business_days", "describe_date", "parse_date", "parse_time_window"]

_DATE_HELP = "use 2026-12-03, 3/12/2026, today, tomorrow, +2d, +1w or a weekday like mon"
_WINDOW_HELP = "use 08:00-12:00, 8-12 or 8am-12pm"

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_DAY_FIRST = re.compile(r"(\d{1,2})([/.-])(\d{1,2})(?:\2(\d{2}|\d{4}))?", re.ASCII)
_OFFSET = re.compile(r"([+-])\s*(\d{1,5})\s*(d|w|bd)", re.ASCII)
_RELATIVE = {"today": 0, "tomorrow": 1, "yesterday": -1}

_CLOCK = r"(\d{1,2})(?:[:.]?(\d{2}))?\s*([ap]\.?m\.?)?"
# Between the two times: hyphen, en dash (U+2013), em dash (U+2014) or "to".
_WINDOW = re.compile(rf"{_CLOCK}\s*(?:-|\u2013|\u2014|to)\s*{_CLOCK}", re.ASCII)


def _shown(text: str) -> str:
    """Quote user input for an error message, shortened if long."""
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _make_date(year: int, month: int, day: int, text: str) -> date:
    """Build a date or raise a ValueError that names what the user typed."""
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"{_shown(text)} is not a real date ({exc})") from None


def add_business_days(start: date, days: int) -> date:
    """Return the `days`-th business day (Mon-Fri) after `start`; 0 rolls a weekend to Monday."""
    if days < 0:
        raise ValueError(f"business days must not be negative, got {days}")
    if days == 0:
        return start + timedelta(days=7 - start.weekday()) if start.weekday() >= 5 else start
    if start.weekday() >= 5:  # counting from Saturday/Sunday is counting from Friday
        start -= timedelta(days=start.weekday() - 4)
    weeks, rest = divmod(days, 5)
    extra = rest + (2 if start.weekday() + rest >= 5 else 0)
    return start + timedelta(weeks=weeks, days=extra)


def _subtract_business_days(start: date, days: int) -> date:
    """Return the `days`-th business day before `start` (days >= 1)."""
    current = start
    if current.weekday() >= 5:  # the first step back from a weekend lands on Friday
        current -= timedelta(days=current.weekday() - 4)
        days -= 1
    weeks, rest = divmod(days, 5)
    current -= timedelta(weeks=weeks)
    while rest:
        current -= timedelta(days=1)
        if current.weekday() < 5:
            rest -= 1
    return current


def _parse_offset(sign: str, amount: int, unit: str, today: date) -> date:
    """Apply a `+2d` / `-1w` / `+3bd` offset to today."""
    if unit == "bd":
        if sign == "+" or amount == 0:
            return add_business_days(today, amount)
        return _subtract_business_days(today, amount)
    delta = timedelta(days=amount * (7 if unit == "w" else 1))
    return today + delta if sign == "+" else today - delta


def _parse_day_first(m: re.Match[str], text: str, today: date) -> date:
    """Turn a matched d/m[/y] into a date; without a year, the next such day from today on."""
    day, month, year_text = int(m[1]), int(m[3]), m[4]
    if year_text is not None:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        return _make_date(year, month, day, text)
    error: ValueError | None = None
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError as exc:
            error = exc
            continue
        if candidate >= today:
            return candidate
    # Only reached when next year's date does not exist (so `error` is set).
    years = f"{today.year} or {today.year + 1}"
    raise ValueError(f"{_shown(text)} is not a real date in {years} ({error})")


def parse_date(text: str, today: date) -> date:
    """Parse a typed date (ISO, day-first, relative word, offset or weekday) against today."""
    s = " ".join(text.split()).lower()
    if not s:
        raise ValueError(f"no date given; {_DATE_HELP}")
    try:
        if s in _RELATIVE:
            return today + timedelta(days=_RELATIVE[s])
        if m := _ISO.fullmatch(s):
            return _make_date(int(m[1]), int(m[2]), int(m[3]), s)
        if m := _DAY_FIRST.fullmatch(s):
            return _parse_day_first(m, s, today)
        if m := _OFFSET.fullmatch(s):
            return _parse_offset(m[1], int(m[2]), m[3], today)
        if len(s) >= 3:
            for index, name in enumerate(_DAYS):
                if name.startswith(s):
                    return today + timedelta(days=(index - today.weekday() - 1) % 7 + 1)
    except OverflowError:
        raise ValueError(f"{_shown(s)} is too far from today") from None
    raise ValueError(f"could not understand {_shown(text.strip())} as a date; {_DATE_HELP}")


def _clock(hour_text: str, minute_text: str | None, meridiem: str | None, text: str) -> time:
    """Build a time from matched hour, minute and optional am/pm."""
    hour, minute = int(hour_text), int(minute_text or 0)
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise ValueError(f"{hour}{meridiem} in {_shown(text)} is not a time of day")
        hour = hour % 12 + (12 if meridiem.startswith("p") else 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"{hour_text}:{minute or 0:02d} in {_shown(text)} is not a time of day")
    return time(hour, minute)


def parse_time_window(text: str) -> tuple[time, time]:
    """Parse a window like 08:00-12:00, 8-12, 8am-12pm or 13:30-15:00 into (start, end)."""
    s = text.strip().lower()
    m = _WINDOW.fullmatch(s)
    if m is None:
        raise ValueError(
            f"could not understand {_shown(text.strip())} as a time window; {_WINDOW_HELP}"
        )
    start_meridiem, end_meridiem = m[3], m[6]
    end = _clock(m[4], m[5], end_meridiem, s)
    if start_meridiem is None and end_meridiem is not None and 1 <= int(m[1]) <= 12:
        # "1-3pm" means 13:00-15:00, "8-12pm" means 08:00-12:00.
        same = _clock(m[1], m[2], end_meridiem, s)
        start_meridiem = end_meridiem if same < end else "am"
    start = _clock(m[1], m[2], start_meridiem, s)
    if end <= start:
        raise ValueError(f"the window must end after it starts ({start:%H:%M} to {end:%H:%M})")
    return start, end


def describe_date(d: date, today: date) -> str:
    """Show a date with its distance from today, e.g. 'Thu 3 Dec 2026 (in 7 days)'."""
    days = (d - today).days
    if days == 0:
        when = "today"
    elif days == 1:
        when = "tomorrow"
    elif days == -1:
        when = "yesterday"
    elif days > 0:
        when = f"in {days} days"
    else:
        when = f"{-days} days ago"
    name = _DAYS[d.weekday()][:3].capitalize()
    return f"{name} {d.day} {_MONTHS[d.month - 1]} {d.year} ({when})"
