"""Building one email of the outbox: subject, plain text + HTML, the calendar invitation, and
for a partner provider the order as JSON, as the bytes that go on the wire.

Every header value is checked first: a line break or control character refuses the email
(MessageRefused), never a header split. Headers are parsed and folded by the stdlib's default
policy; the MIME structure is written as the `email` package would write it, without building
message objects (`mime`), so the sender only moves bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import Any

from wo_tui.core.numbers import format_number
from wo_tui.core.statuses import AssigneeKind, Priority
from wo_tui.mail.fields import html_values, plain_values, short_type
from wo_tui.mail.headers import header_value, mail_domain, recipient_address, sender_address
from wo_tui.mail.ical import CalendarEntry, calendar
from wo_tui.mail.mime import (
    attachment,
    common_header,
    header,
    message_id_header,
    multipart,
    text_part,
    wire_bytes,
)
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
    text_values = plain_values(order, from_address)
    life_support = bool(order.get("life_support"))

    text = text_part("plain", templates.render(kind, "txt", text_values))
    html = text_part(
        "html",
        templates.render(kind, "html", html_values(text_values, life_support=life_support)),
    )
    attachments: list[str] = []
    number = format_number(order["id"]).lower()
    if order.get("scheduled_date") is not None:
        entry = CalendarEntry(
            uid=calendar_uid(order["id"], from_address),
            sequence=ical_sequence,
            stamp=now,
            day=order["scheduled_date"],
            start=order.get("window_start"),
            end=order.get("window_end"),
            summary=f"{format_number(order['id'])} {short_type(order['type_name'])}",
            location=text_values["site"],
            description=text_values["instructions"],
            organizer=sender,
            attendee=to,
            attendee_name=text_values["assignee"],
            cancel=kind != "assignment",
        )
        method = "CANCEL" if entry.cancel else "REQUEST"
        attachments.append(
            attachment(
                f'text/calendar; charset="utf-8"; method={method}',
                calendar(entry).encode("utf-8"),
                f"{number}.ics",
            )
        )
    if order.get("recipient_kind") == AssigneeKind.PARTNER.value:
        attachments.append(
            attachment(
                "application/json", order_json(order, kind).encode("utf-8"), f"{number}.json"
            )
        )
    headers = "".join(
        (
            common_header("From", from_address),
            common_header("To", to),
            header("Subject", subject),
            common_header("Date", format_datetime(now.replace(tzinfo=UTC))),
            message_id_header(message_id),
            common_header("MIME-Version", "1.0"),
            # RFC 3834: tells auto-responders (out of office) not to answer.
            common_header("Auto-Submitted", "auto-generated"),
        )
    )
    if attachments:
        alternative = multipart("alternative", [text, html])
        body = multipart("mixed", [alternative, *attachments], headers)
    else:
        body = multipart("alternative", [text, html], headers)
    return Envelope(sender=sender, recipient=to, message_id=message_id, data=wire_bytes(body))
