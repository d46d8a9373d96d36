"""The emails as a reader's mail program gets them: every header and part reads back to the
text the templates made, the calendar invitation says what the order says, a partner's JSON
is the order, every line is 7-bit CRLF and short, non-ASCII names and display names arrive
readable, long subjects are folded, and a line break in any field never makes a header of
its own."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wo_tui.core.db import Database
from wo_tui.core.orders import assign
from wo_tui.mail.errors import MessageRefused
from wo_tui.mail.fields import html_values, plain_values
from wo_tui.mail.messages import BOUNDARY, POLICY, Envelope, build_email, order_json
from wo_tui.mail.sender import drain_outbox
from wo_tui.mail.templating import load_templates

from conftest import NOW
from mailserver import Recording, contexts, new_order, settings_for, smtp_server, technician

FROM = "Dispatch <dispatch@wo.example>"
TEMPLATES = load_templates(None)
TOP_HEADERS = sorted(
    [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "MIME-Version",
        "Auto-Submitted",
        "Content-Type",
    ]
)
"""The headers of the message (the parts' own headers are below it): no other."""


def order(**changes: Any) -> dict[str, Any]:
    """An order row as the sender reads it (with the recipient's name and kind)."""
    row: dict[str, Any] = {
        "id": 123,
        "type_code": "RECONNECT",
        "type_name": "Reconnection (re-energisation)",
        "priority": 2,
        "status": "SETUP",
        "customer_name": "Jo Smith",
        "account_number": "40012345",
        "site_address": "12 Smith St, Springfield",
        "site_id": "NMI4001234567",
        "meter_number": "M1234567",
        "meter_location": "Garage, left wall",
        "scheduled_date": date(2026, 11, 27),
        "window_start": time(8),
        "window_end": time(12),
        "service_time": "any",
        "due_date": date(2026, 11, 30),
        "preferred_date": None,
        "instructions": "Reconnect supply; read the meter.\nCall ahead.",
        "materials": "Seals, tags",
        "access_details": "Gate code 1234",
        "hazards": "Dog in the yard",
        "life_support": False,
        "assignee_id": 1,
        "assignee_name": "Sam Carter",
        "recipient_name": "Sam Carter",
        "recipient_kind": "internal",
        "assigned_by": "dispatcher-a",
        "assigned_at": datetime(2026, 11, 26, 9, 0),
        "cancel_reason": None,
        "cancel_note": None,
    }
    row.update(changes)
    return row


def build(row: dict[str, Any], *, kind: str = "assignment", from_address: str = FROM) -> Envelope:
    return build_email(
        row,
        kind=kind,
        recipient="sam@field.example",
        message_id="<wo-000123.0f3a@wo.example>",
        ical_sequence=2,
        templates=TEMPLATES,
        from_address=from_address,
        now=NOW,
    )


def parsed(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


NON_ASCII = {
    "type_name": "Zähler-Tausch (Ümlaut)",
    "customer_name": "Zoë Ångström-Müller",
    "site_address": "Flat 3, 7 Königsallee, Düsseldorf",
    "instructions": "Zählerschrank im Keller; Hund, bissig.\n李小龙 sagt: vorsichtig",
    "recipient_name": "Zoë Ångström",
    "assigned_by": "Dispatcher Düring",
}
LONG = {
    "site_address": "Unit 4 / 1200 Very Long Industrial Estate Road Name That Goes On And On, "
    "Springfield North Industrial Park, Springfield 9999",
    "type_name": "Meter exchange " + "and inspection " * 6,
}
CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "plain": ({}, "assignment", FROM),
    "non-ascii": (NON_ASCII, "assignment", "Dispätch Zentrale Süd <dispatch@wo.example>"),
    "long subject": (LONG, "assignment", FROM),
    "long non-ascii subject": (
        {"site_address": "日本語の住所 東京都千代田区 1-1-1 " * 4},
        "assignment",
        FROM,
    ),
    "partner": ({"recipient_kind": "partner", **NON_ASCII}, "assignment", FROM),
    "not scheduled": ({"scheduled_date": None}, "assignment", "dispatch@wo.example"),
    "cancellation": (
        {"status": "CANCELLED", "cancel_reason": "customer_requested", "cancel_note": "Gone"},
        "cancellation_notice",
        '"Dispatch, Field Ops" <dispatch@wo.example>',
    ),
    "reassignment": ({"assignee_name": "Zoë"}, "reassignment_notice", FROM),
    "life support": ({"life_support": True, **LONG}, "assignment", FROM),
    "boundaries in the text": (
        {
            "instructions": f"--{BOUNDARY}mixed\n--{BOUNDARY}alternative--\n",
            "site_address": f"--{BOUNDARY}mixed",
            "recipient_kind": "partner",
        },
        "assignment",
        FROM,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_line_is_7_bit_crlf_and_short(case: str) -> None:
    changes, kind, from_address = CASES[case]
    data = build(order(**changes), kind=kind, from_address=from_address).data
    assert all(byte < 128 for byte in data)
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 78 for line in data.split(b"\r\n"))


@pytest.mark.parametrize("case", list(CASES))
def test_every_part_reads_back_to_the_same_text(case: str) -> None:
    changes, kind, from_address = CASES[case]
    row = order(**changes)
    email = build(row, kind=kind, from_address=from_address)
    message = parsed(email.data)
    assert sorted(name for name, _ in message.items()) == TOP_HEADERS
    subject = TEMPLATES.render(kind, "subject", plain_values(row, from_address, for_header=True))
    assert message["Subject"] == subject.strip()
    assert message["From"] == str(policy.default.header_factory("From", from_address))
    assert message["From"].addresses[0].addr_spec == email.sender == "dispatch@wo.example"
    assert message["To"] == email.recipient == "sam@field.example"
    assert message["Message-ID"] == email.message_id
    assert message["Auto-Submitted"] == "auto-generated"

    values = plain_values(row, from_address)
    html = html_values(values, life_support=bool(row["life_support"]))
    for subtype, text in (
        ("plain", TEMPLATES.render(kind, "txt", values)),
        ("html", TEMPLATES.render(kind, "html", html)),
    ):
        body = message.get_body((subtype,))
        assert body is not None and body.get_content_charset() == "utf-8"
        assert body.get_content().replace("\r\n", "\n") == text

    attached = {part.get_filename(): part for part in message.iter_attachments()}
    expected = set()
    if row["scheduled_date"] is not None:
        expected.add("wo-000123.ics")
        ics = attached["wo-000123.ics"]
        method = "REQUEST" if kind == "assignment" else "CANCEL"
        assert ics.get_content_type() == "text/calendar" and ics.get_param("method") == method
        (event,) = icalendar.Calendar.from_ical(ics.get_content()).walk("VEVENT")
        assert str(event["LOCATION"]) == values["site"]
        assert str(event["DESCRIPTION"]) == values["instructions"]
        assert event["ATTENDEE"].params["CN"] == values["assignee"]
    if row["recipient_kind"] == "partner":
        expected.add("wo-000123.json")
        document = attached["wo-000123.json"].get_payload(decode=True)
        assert isinstance(document, bytes)
        assert json.loads(document) == json.loads(order_json(row, kind))
    assert set(attached) == expected


@settings(max_examples=60, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=["Cs"]), max_size=300))
def test_any_text_reads_back_as_the_template_wrote_it(text: str) -> None:
    row = order(instructions=text, customer_name=text[:40], recipient_kind="partner")
    message = parsed(build(row, kind="cancellation_notice").data)
    values = plain_values(row, FROM)
    body = message.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == TEMPLATES.render(
        "cancellation_notice", "txt", values
    )
    (document,) = [p for p in message.iter_attachments() if p.get_filename().endswith(".json")]
    assert json.loads(document.get_content()) == json.loads(order_json(row, "cancellation_notice"))


def test_a_long_subject_is_folded_and_unfolds_to_the_same_text() -> None:
    email = build(order(**LONG))
    head = email.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    start = head.index("Subject:")
    lines = head[start:].split("\r\n")
    folded = [lines[0], *[line for line in lines[1:] if line.startswith(" ")]]
    assert len(folded) > 1 and all(len(line) <= 78 for line in folded)
    assert lines[len(folded)].startswith("Date:")
    subject = f"WO-000123 {LONG['type_name'].strip()} — {LONG['site_address']}"
    assert parsed(email.data)["Subject"] == subject


BREAKERS = ["\r\n", "\n", "\r", "\x85", "\u2028", "\u2029", "\x0b", "\x00", "\t"]
TEXT_FIELDS = [
    "type_name",
    "customer_name",
    "account_number",
    "site_address",
    "site_id",
    "meter_number",
    "meter_location",
    "instructions",
    "materials",
    "access_details",
    "hazards",
    "assignee_name",
    "recipient_name",
    "assigned_by",
    "cancel_note",
]


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize("breaker", BREAKERS)
def test_a_line_break_in_any_field_never_makes_a_header(field: str, breaker: str) -> None:
    evil = f"Jo{breaker}Bcc: evil@attacker.example{breaker}X-Evil: 1{breaker}{breaker}body"
    row = order(**{field: evil})
    try:
        email = build(row, kind="cancellation_notice")
    except MessageRefused as exc:
        # Only a value that goes into the subject refuses the email; the others are body text.
        assert str(exc).startswith("the subject (built from the order's fields) contains")
        assert field in ("type_name", "site_address")
        return
    message = parsed(email.data)
    assert sorted(name for name, _ in message.items()) == TOP_HEADERS
    for part in message.walk():
        assert part["Bcc"] is None and part["X-Evil"] is None


@pytest.mark.parametrize("breaker", BREAKERS)
@pytest.mark.parametrize("where", ["from_address", "message_id", "recipient"])
def test_a_line_break_in_an_address_or_message_id_refuses_the_email(
    breaker: str, where: str
) -> None:
    values = {
        "from_address": FROM,
        "message_id": "<wo-000123.0f3a@wo.example>",
        "recipient": "sam@field.example",
    }
    values[where] = values[where][:-1] + f"{breaker}Bcc: evil@attacker.example>"
    with pytest.raises(MessageRefused):
        build_email(
            order(),
            kind="assignment",
            ical_sequence=1,
            templates=TEMPLATES,
            now=NOW,
            **values,
        )


def test_non_ascii_names_arrive_readable(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    order_id = new_order(ctx, site_address="7 Königsallee, Düsseldorf", customer_name="Zoë")
    # Only lower-case non-ASCII letters: SQLite's lower() leaves "Å" as it is, so assign()
    # would not find "Zoë Ångström" by name.
    assign(ctx, order_id, technician(ctx, name="Zoë Müller"))
    server = Recording()
    with smtp_server(server) as port:
        settings = settings_for(port, from_address="Dispätch Süd <dispatch@wo.example>")
        assert drain_outbox(sender, settings).sent == 1
    (got,) = server.received
    assert got.mail_from == "dispatch@wo.example" and got.rcpt_tos == ["sam@field.example"]
    message = got.parsed()
    assert message["Subject"] == "WO-000001 Reconnection — 7 Königsallee, Düsseldorf"
    assert message["From"].addresses[0].display_name == "Dispätch Süd"
    body = message.get_body(("plain",))
    assert body is not None and "Hello Zoë Müller," in body.get_content()
    (invite,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    (event,) = icalendar.Calendar.from_ical(invite.get_content()).walk("VEVENT")
    assert event["ATTENDEE"].params["CN"] == "Zoë Müller"
    assert str(event["LOCATION"]) == "7 Königsallee, Düsseldorf"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Subject", f"WO-000123 {LONG['type_name']} — {NON_ASCII['site_address']}"),
        ("From", '"Dispätch, Field Ops" <dispatch@wo.example>'),
        ("To", "sam@field.example"),
        ("Message-ID", "<wo-000123.0f3a9bc9d0e1f2a3b4c5d6e7f8091a2b@wo.example>"),
        ("Content-Type", 'multipart/mixed; boundary="===============0123=="'),
        ("Content-Disposition", 'attachment; filename="wo-000123.ics"'),
        ("Date", "Thu, 26 Nov 2026 09:30:00 +0000"),
    ],
)
def test_the_policy_writes_every_header_as_the_smtp_policy_does(name: str, value: str) -> None:
    # POLICY only remembers its header classes; what it writes is policy.SMTP's.
    for _ in range(2):
        made = POLICY.header_factory(name, value)
        assert made.fold(policy=POLICY) == policy.SMTP.header_factory(name, value).fold(
            policy=policy.SMTP
        )
    assert type(made) is type(POLICY.header_factory(name, value)), "made once per name"


def test_the_quick_control_check_finds_exactly_the_refused_characters() -> None:
    from wo_tui.mail.headers import _CONTROL, _is_control

    found = [cp for cp in range(0x110000) if _CONTROL.search(chr(cp))]
    assert found == [cp for cp in range(0x110000) if _is_control(chr(cp))]
