"""What the emails say: no header or recipient injection (a line break in a value never adds
a header or a recipient), escaped HTML, the RFC 5545 calendar invitation, notices, and the
operator's template overrides."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import icalendar
import pytest
from sqlalchemy import select, update

from wo_tui.core.db import Database
from wo_tui.core.models import assignees, outbox, work_orders
from wo_tui.core.orders import assign
from wo_tui.core.status_changes import bulk_cancel
from wo_tui.mail.ical import CalendarEntry, calendar
from wo_tui.mail.sender import drain_outbox
from wo_tui.mail.templating import PLACEHOLDERS, load_templates

from conftest import NOW
from mailserver import Recording, contexts, new_order, settings_for, smtp_server, technician


def set_order(db: Database, order_id: int, **values: object) -> None:
    """Store values as they might arrive from elsewhere (not through the validated forms)."""
    with db.write() as conn:
        conn.execute(update(work_orders).where(work_orders.c.id == order_id).values(**values))


def email_row(db: Database) -> dict[str, object]:
    with db.read() as conn:
        return dict(conn.execute(select(outbox)).mappings().one())


@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\x85", "\u2028", "\u2029", "\x0b"])
def test_a_line_break_in_a_subject_value_fails_the_email_clearly(
    db: Database, breaker: str
) -> None:
    ctx, sender, _ = contexts(db, NOW)
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    set_order(db, order_id, site_address=f"12 Smith St{breaker}Bcc: evil@attacker.example")
    server = Recording()
    with smtp_server(server) as port:
        result = drain_outbox(sender, settings_for(port))
    assert (result.failed, result.sent) == (1, 0)
    assert server.rcpt_seen == [] and server.received == []
    reply = str(email_row(db)["last_reply"])
    assert reply.startswith("the subject (built from the order's fields) contains a line break")
    assert f"U+{ord(breaker[-1]):04X}" in reply


def test_a_line_break_in_a_body_value_cannot_add_a_header_or_recipient(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    evil = "Jo\r\nBcc: evil@attacker.example\r\nX-Evil: 1\u2028<script>alert(1)</script> & Co"
    set_order(db, order_id, customer_name=evil)
    server = Recording()
    with smtp_server(server) as port:
        assert drain_outbox(sender, settings_for(port)).sent == 1
    assert server.rcpt_seen == ["sam@field.example"]
    (got,) = server.received
    assert got.rcpt_tos == ["sam@field.example"]
    message = got.parsed()
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["Subject"] == "WO-000001 Reconnection — 12 Smith St, Springfield"
    html = message.get_body(("html",))
    assert html is not None
    assert "&lt;script&gt;" in html.get_content() and "<script>" not in html.get_content()


@pytest.mark.parametrize(
    "address",
    [
        "sam@field.example\r\nRCPT TO:<evil@attacker.example>",
        "sam@field.example, evil@attacker.example",
        "Sam <evil@attacker.example>",
        "sam@field.example\u2028",
    ],
)
def test_a_bad_recipient_address_fails_and_reaches_no_one(db: Database, address: str) -> None:
    ctx, sender, _ = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    with db.write() as conn:
        conn.execute(update(outbox).values(recipient=address))
        conn.execute(update(assignees).values(email=address))
    server = Recording()
    with smtp_server(server) as port:
        assert drain_outbox(sender, settings_for(port)).failed == 1
    assert server.rcpt_seen == []
    assert email_row(db)["status"] == "failed"


def test_a_cancelled_sent_order_sends_a_calendar_cancellation(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    server = Recording()
    with smtp_server(server) as port:
        drain_outbox(sender, settings_for(port))
        bulk_cancel(ctx, [order_id], "customer_requested", note="Moved out early")
        assert drain_outbox(sender, settings_for(port)).sent == 1
    notice = server.received[1].parsed()
    assert notice["Subject"] == "Cancelled: WO-000001 Reconnection — 12 Smith St, Springfield"
    body = notice.get_body(("plain",))
    assert body is not None
    assert "Customer requested" in body.get_content() and "Moved out early" in body.get_content()
    (invite,) = [p for p in notice.walk() if p.get_content_type() == "text/calendar"]
    calendar = icalendar.Calendar.from_ical(invite.get_content())
    (first,) = [
        p for p in server.received[0].parsed().walk() if p.get_filename() == invite.get_filename()
    ]
    (event,) = calendar.walk("VEVENT")
    (original,) = icalendar.Calendar.from_ical(first.get_content()).walk("VEVENT")
    assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert event["UID"] == original["UID"] and event["SEQUENCE"] > original["SEQUENCE"]


INVITATION = CalendarEntry(
    uid="wo-000123@wo.example",
    sequence=3,
    stamp=datetime(2026, 11, 26, 9, 30, 5),
    day=date(2026, 11, 27),
    start=time(8),
    end=time(12),
    summary="WO-000123 Reconnection",
    location="Flat 3, 7 Königsallee; Düsseldorf",
    description="Zählerschrank im Keller; Hund, bissig\\\n" * 8 + "Tab\there\x1b[31m",
    organizer="dispatch@wo.example",
    attendee="sam@field.example",
    attendee_name='Zoë "Sparky" Müller, Jr.',
)


def entry(**changes: Any) -> CalendarEntry:
    return replace(INVITATION, **changes)


def test_the_invitation_says_what_the_order_says() -> None:
    data = calendar(entry())
    whole = icalendar.Calendar.from_ical(data)
    assert (str(whole["METHOD"]), str(whole["VERSION"])) == ("REQUEST", "2.0")
    assert str(whole["PRODID"]) == "-//wo-tui//work orders//EN"
    (event,) = whole.walk("VEVENT")
    assert (str(event["UID"]), event["SEQUENCE"]) == ("wo-000123@wo.example", 3)
    assert event.decoded("DTSTAMP").isoformat() == "2026-11-26T09:30:05+00:00"
    assert event.decoded("DTSTART").isoformat() == "2026-11-27T08:00:00", "floating local"
    assert event.decoded("DTEND").isoformat() == "2026-11-27T12:00:00"
    assert str(event["SUMMARY"]) == "WO-000123 Reconnection"
    assert str(event["LOCATION"]) == "Flat 3, 7 Königsallee; Düsseldorf"
    assert (
        str(event["DESCRIPTION"])
        == "Zählerschrank im Keller; Hund, bissig\\\n" * 8 + "Tab here[31m"
    )
    assert str(event["ORGANIZER"]) == "mailto:dispatch@wo.example"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:sam@field.example"
    assert dict(attendee.params) == {
        "CN": "Zoë Sparky Müller, Jr.",  # a double quote is dropped
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "FALSE",
    }
    assert (str(event["STATUS"]), str(event["TRANSP"])) == ("CONFIRMED", "OPAQUE")


def test_a_cancellation_removes_the_entry() -> None:
    whole = icalendar.Calendar.from_ical(calendar(entry(cancel=True)))
    (event,) = whole.walk("VEVENT")
    assert (str(whole["METHOD"]), str(event["STATUS"])) == ("CANCEL", "CANCELLED")
    assert (str(event["UID"]), event["SEQUENCE"]) == ("wo-000123@wo.example", 3)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, ("2026-11-27", "2026-11-28")),  # all day
        (time(8), None, ("2026-11-27T08:00:00", "2026-11-27T09:00:00")),
        (time(8), time(7), ("2026-11-27T08:00:00", "2026-11-27T09:00:00")),
        (time(13, 30), time(17), ("2026-11-27T13:30:00", "2026-11-27T17:00:00")),
    ],
)
def test_the_window_becomes_dtstart_and_dtend(
    start: time | None, end: time | None, expected: tuple[str, str]
) -> None:
    (event,) = icalendar.Calendar.from_ical(calendar(entry(start=start, end=end))).walk("VEVENT")
    assert (event.decoded("DTSTART").isoformat(), event.decoded("DTEND").isoformat()) == expected


def test_calendar_lines_are_crlf_and_at_most_75_octets() -> None:
    data = calendar(entry(description="日本語の住所 東京都千代田区 1-1-1 " * 6))
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines), "the long line is folded"
    for line in lines:
        line.decode("utf-8")  # never folded inside a UTF-8 sequence


def test_an_override_replaces_one_template_and_the_rest_fall_back(
    db: Database, tmp_path: Path
) -> None:
    (tmp_path / "assignment.subject").write_text("Job $number for $assignee at $site\n")
    ctx, sender, _ = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    server = Recording()
    with smtp_server(server) as port:
        assert drain_outbox(sender, settings_for(port, templates_dir=tmp_path)).sent == 1
    message = server.received[0].parsed()
    assert message["Subject"] == "Job WO-000001 for Sam Carter at 12 Smith St, Springfield"
    body = message.get_body(("plain",))
    assert body is not None and "You have been assigned work order WO-000001" in body.get_content()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello $technician_name", "unknown placeholder $technician_name"),
        ("Costs $5", "a '$' must start a placeholder"),
    ],
)
def test_a_broken_override_pauses_sending_with_a_clear_error(
    db: Database, tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "assignment.txt").write_text(text)
    ctx, sender, _ = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    server = Recording()
    with smtp_server(server) as port:
        result = drain_outbox(sender, settings_for(port, templates_dir=tmp_path))
    assert result.paused is not None
    assert str(tmp_path / "assignment.txt") in result.paused.reason
    assert expected in result.paused.reason
    assert server.received == [] and email_row(db)["status"] == "queued"


def test_the_shipped_templates_use_only_known_placeholders() -> None:
    templates = load_templates(None)
    used = set()
    for template in templates.by_name.values():
        used |= set(template.get_identifiers())
    assert used <= set(PLACEHOLDERS)
    assert {"life_support_warning", "hazards", "access_details", "site_id"} <= used


def test_the_wheel_carries_the_templates(tmp_path: Path) -> None:
    import subprocess
    import sys
    import zipfile

    root = Path(__file__).parent.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
        check=True,
    )
    (wheel,) = tmp_path.glob("wo_tui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (root / "wo_tui" / "mail" / "templates").iterdir():
        assert f"wo_tui/mail/templates/{path.name}" in names
    assert "wo_tui/core/migrations/versions/0002_outbox_sending.py" in names


def test_an_email_that_cannot_be_built_fails_alone(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    name = technician(ctx)
    broken, fine = new_order(ctx), new_order(ctx)
    assign(ctx, broken, name)
    assign(ctx, fine, name)
    set_order(db, broken, priority=9)  # no such priority: stored data the code never made
    server = Recording()
    with smtp_server(server) as port:
        result = drain_outbox(sender, settings_for(port))
    assert (result.sent, result.failed) == (1, 1)
    (got,) = server.received
    assert "WO-000002" in got.parsed()["Subject"]
    with db.read() as conn:
        rows = conn.execute(select(outbox.c.status, outbox.c.last_reply).order_by(outbox.c.id))
        (first, second) = rows.all()
    assert first.status == "failed"
    assert first.last_reply.startswith("the email cannot be built: ValueError")
    assert second.status == "sent"
