"""An iCalendar (RFC 5545) invitation or cancellation for an order's scheduled window, made
by the `icalendar` library (which escapes the text, folds the lines and writes CRLF).

The UID is stable per order and SEQUENCE grows with every email of the order, so a calendar
updates one entry. Times are floating (the site's local time, as the dispatcher scheduled
them); DTSTAMP is in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from wo_tui.core.sanitize import clean_text

if TYPE_CHECKING:
    from icalendar import vCalAddress

PRODUCT = "-//wo-tui//work orders//EN"


@dataclass(frozen=True)
class CalendarEntry:
    """What goes into one VEVENT."""

    uid: str
    sequence: int
    stamp: datetime
    """DTSTAMP: when the email was made (UTC, stored without a zone)."""
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

    @property
    def method(self) -> str:
        """The iTIP method: REQUEST (add or update the entry) or CANCEL (remove it)."""
        return "CANCEL" if self.cancel else "REQUEST"


def window(entry: CalendarEntry) -> tuple[date, date] | tuple[datetime, datetime]:
    """DTSTART and DTEND: the whole day without a window; a window without an end (or one
    that ends before it starts) lasts an hour."""
    if entry.start is None:
        return entry.day, entry.day + timedelta(days=1)
    start = datetime.combine(entry.day, entry.start)
    end = datetime.combine(entry.day, entry.end) if entry.end else start
    return start, end if end > start else start + timedelta(hours=1)


def _text(value: str) -> str:
    """Stored text without control characters (line breaks kept, tabs as spaces)."""
    return clean_text(value, multiline=True).replace("\t", " ")


def _person(address: str, **params: str) -> vCalAddress:
    from icalendar import vCalAddress

    person = vCalAddress(f"mailto:{address}")
    person.params.update(params)
    return person


def calendar(entry: CalendarEntry) -> bytes:
    """The whole VCALENDAR (METHOD:REQUEST, or CANCEL for a cancellation), UTF-8."""
    # Imported on first use: 10 MB and a tenth of a second that a worker with no
    # invitation to send (only billing events) never pays.
    from icalendar import Calendar, Event

    event = Event()
    event.add("uid", entry.uid)
    event.add("sequence", entry.sequence)
    event.add("dtstamp", entry.stamp.replace(tzinfo=UTC))
    start, end = window(entry)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", _text(entry.summary))
    event.add("location", _text(entry.location))
    event.add("description", _text(entry.description))
    event.add("organizer", _person(entry.organizer))
    attendee = _person(
        entry.attendee,
        # Without double quotes, as before: RFC 6868's ^' for one is not read by every client.
        CN=clean_text(entry.attendee_name).replace('"', ""),
        ROLE="REQ-PARTICIPANT",
        PARTSTAT="NEEDS-ACTION",
        RSVP="FALSE",
    )
    event.add("attendee", attendee)
    event.add("status", "CANCELLED" if entry.cancel else "CONFIRMED")
    event.add("transp", "OPAQUE")
    whole = Calendar()
    whole.add("prodid", PRODUCT)
    whole.add("version", "2.0")
    whole.add("calscale", "GREGORIAN")
    whole.add("method", entry.method)
    whole.add_component(event)
    return whole.to_ical()
