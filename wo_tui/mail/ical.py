"""An iCalendar (RFC 5545) invitation or cancellation for an order's scheduled window.

Written by hand, it is small: CRLF line ends, lines folded at 75 octets (never inside a UTF-8
sequence), TEXT values escaped (backslash, semicolon, comma, newline). The UID is stable per
order and SEQUENCE grows with every email of the order, so a calendar updates one entry.
Times are floating (the site's local time, as the dispatcher scheduled them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from wo_tui.core.sanitize import clean_text


@dataclass(frozen=True)
class CalendarEntry:
    """What goes into one VEVENT."""

    uid: str
    sequence: int
    stamp: datetime
    """DTSTAMP: when the email was made (UTC)."""
    day: date
    start: time | None
    end: time | None
    summary: str
    location: str
    description: str
    organizer: str
    attendee: str
    attendee_name: str
    cancel: bool = False


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma escaped; any line break becomes \\n."""
    value = clean_text(value, multiline=True).replace("\t", " ")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _param(value: str) -> str:
    """A parameter value, quoted (DQUOTE cannot appear inside, so it is dropped)."""
    return '"' + clean_text(value).replace('"', "") + '"'


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets joined by CRLF + space."""
    if len(line) <= 75 and len(line.encode("utf-8")) <= 75:
        return line
    out: list[str] = []
    current: list[str] = []
    size, limit = 0, 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            out.append("".join(current))
            current, size, limit = [], 0, 74  # the leading space counts
        current.append(ch)
        size += width
    out.append("".join(current))
    return "\r\n ".join(out)


def _window(entry: CalendarEntry) -> list[str]:
    if entry.start is None:
        end_day = entry.day + timedelta(days=1)
        return [f"DTSTART;VALUE=DATE:{entry.day:%Y%m%d}", f"DTEND;VALUE=DATE:{end_day:%Y%m%d}"]
    start = datetime.combine(entry.day, entry.start)
    end = datetime.combine(entry.day, entry.end) if entry.end else start + timedelta(hours=1)
    if end <= start:
        end = start + timedelta(hours=1)
    return [f"DTSTART:{start:%Y%m%dT%H%M%S}", f"DTEND:{end:%Y%m%dT%H%M%S}"]


def calendar(entry: CalendarEntry) -> str:
    """The whole VCALENDAR text (METHOD:REQUEST, or CANCEL for a cancellation)."""
    method = "CANCEL" if entry.cancel else "REQUEST"
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//wo-tui//work orders//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{escape_text(entry.uid)}",
        f"SEQUENCE:{int(entry.sequence)}",
        f"DTSTAMP:{entry.stamp:%Y%m%dT%H%M%SZ}",
        *_window(entry),
        f"SUMMARY:{escape_text(entry.summary)}",
        f"LOCATION:{escape_text(entry.location)}",
        f"DESCRIPTION:{escape_text(entry.description)}",
        f"ORGANIZER:mailto:{entry.organizer}",
        f"ATTENDEE;CN={_param(entry.attendee_name)};ROLE=REQ-PARTICIPANT;"
        f"PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{entry.attendee}",
        f"STATUS:{'CANCELLED' if entry.cancel else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)
