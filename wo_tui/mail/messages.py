"""Building one email of the outbox: subject, plain text + HTML, the calendar invitation, and
for a partner provider the order as JSON, as the bytes that go on the wire.

Every header value is checked first: a line break or control character refuses the email
(MessageRefused), never a header split (the `email` package refuses a line break in a header
too). The message is an `email.message.EmailMessage` written with `email.policy.SMTP`: CRLF
line ends, headers folded and non-ASCII text encoded by the stdlib, bodies quoted-printable
and attachments base64, so every line is 7-bit.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from wo_tui.core.numbers import format_number
from wo_tui.core.statuses import AssigneeKind, Priority
from wo_tui.mail.fields import html_values, plain_values, short_type
from wo_tui.mail.headers import header_value, mail_domain, recipient_address, sender_address
from wo_tui.mail.ical import CalendarEntry, calendar
from wo_tui.mail.templating import Templates

JSON_FIELDS = (
    "account_number",
    "customer_name",
    "site_address",
    "site_id",
    "meter_number",
    "meter_location",
    "preferred_date",
    "scheduled_date",
    "window_start",
    "window_end",
    "service_time",
    "due_date",
    "instructions",
    "materials",
    "access_details",
    "hazards",
    "life_support",
    "assigned_by",
    "assigned_at",
    "cancel_reason",
    "cancel_note",
)
ACTIONS = {
    "assignment": "assign",
    "reassignment_notice": "withdraw",
    "cancellation_notice": "cancel",
}


class _HeaderClasses(HeaderRegistry):
    """The stdlib's header registry, remembering the class it makes for each header name:
    CPython's makes a new class on every lookup (about 25 µs; an email looks its headers up
    some 45 times while it is built and written, which was a third of the time to build it)."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        if key not in self._made:
            self._made[key] = super().__getitem__(name)
        return self._made[key]


POLICY = SMTP.clone(header_factory=_HeaderClasses())
"""`email.policy.SMTP` in every respect (CRLF, the same header classes and folding); only
the header classes are remembered."""

BOUNDARY = f"=_wo_{secrets.token_hex(12)}_"
"""The start of the boundaries (one per process; the multipart's subtype follows). Set here,
not drawn by the generator for each email, which then compiles a regular expression for each
one to check that no part contains it (a tenth of the time to build an email). No part can
contain it: it starts with '=_', which quoted-printable (it writes '=' as '=3D') and base64
(no '_', '=' only as padding at the end) never write, and every part is one of them."""


@dataclass(frozen=True)
class Envelope:
    """One email ready for the wire: who from, to whom, and the bytes."""

    sender: str
    recipient: str
    message_id: str
    data: bytes


def calendar_uid(order_id: int, from_address: str) -> str:
    """The order's calendar UID, the same in every email about it: wo-000123@<domain>."""
    return f"{format_number(order_id).lower()}@{mail_domain(from_address)}"


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def order_json(order: Mapping[str, Any], kind: str) -> str:
    """The order as a machine-readable document for a partner's dispatch system."""
    document = {
        "action": ACTIONS.get(kind, kind),
        "number": format_number(order["id"]),
        "type": order["type_code"],
        "type_name": order["type_name"],
        "priority": Priority(order["priority"]).label,
        "status": order["status"],
        **{field: _json_value(order.get(field)) for field in JSON_FIELDS},
        "life_support": bool(order.get("life_support")),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def invitation(
    order: Mapping[str, Any],
    *,
    kind: str,
    sequence: int,
    values: Mapping[str, str],
    organizer: str,
    attendee: str,
    from_address: str,
    now: datetime,
) -> CalendarEntry | None:
    """The calendar entry an email about `order` carries; None when it is not scheduled.
    `values` are the text part's (`plain_values`)."""
    if order.get("scheduled_date") is None:
        return None
    return CalendarEntry(
        uid=calendar_uid(order["id"], from_address),
        sequence=sequence,
        stamp=now,
        day=order["scheduled_date"],
        start=order.get("window_start"),
        end=order.get("window_end"),
        summary=f"{format_number(order['id'])} {short_type(order['type_name'])}",
        location=values["site"],
        description=values["instructions"],
        organizer=organizer,
        attendee=attendee,
        attendee_name=values["assignee"],
        cancel=kind != "assignment",
    )


def build_email(
    order: Mapping[str, Any],
    *,
    kind: str,
    recipient: str,
    message_id: str,
    ical_sequence: int,
    templates: Templates,
    from_address: str,
    now: datetime,
) -> Envelope:
    """The email of one outbox row, ready for the wire. `order` is the order row with
    `type_name`, `assignee_name` (who has it now), `recipient_name` and `recipient_kind`."""
    to = recipient_address(recipient)
    sender = sender_address(from_address)
    subject_values = plain_values(order, from_address, for_header=True)
    subject = templates.render(kind, "subject", subject_values).strip()
    header_value(subject, "the subject (built from the order's fields)")
    header_value(message_id, "the Message-ID")
    values = plain_values(order, from_address)
    life_support = bool(order.get("life_support"))

    message = EmailMessage(policy=POLICY)
    message["From"] = from_address
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now.replace(tzinfo=UTC))
    message["Message-ID"] = message_id
    # RFC 3834: tells auto-responders (out of office) not to answer.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(templates.render(kind, "txt", values), cte="quoted-printable")
    message.make_alternative(boundary=BOUNDARY + "alternative")
    html = templates.render(kind, "html", html_values(values, life_support=life_support))
    message.add_alternative(html, subtype="html", cte="quoted-printable")

    entry = invitation(
        order,
        kind=kind,
        sequence=ical_sequence,
        values=values,
        organizer=sender,
        attendee=to,
        from_address=from_address,
        now=now,
    )
    partner = order.get("recipient_kind") == AssigneeKind.PARTNER.value
    if entry is not None or partner:
        message.make_mixed(boundary=BOUNDARY + "mixed")
    number = format_number(order["id"]).lower()
    if entry is not None:
        message.add_attachment(
            calendar(entry),
            "text",
            "calendar",
            filename=f"{number}.ics",
            params={"charset": "utf-8", "method": entry.method},
        )
    if partner:
        document = order_json(order, kind).encode("utf-8")
        message.add_attachment(document, "application", "json", filename=f"{number}.json")
    return Envelope(sender=sender, recipient=to, message_id=message_id, data=message.as_bytes())
