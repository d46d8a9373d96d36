"""The sender against a real SMTP server: an assignment arrives once, complete, and the order
becomes SENT with a history row."""

from __future__ import annotations

import json

import icalendar
from sqlalchemy import select

from wo_tui.core.db import Database
from wo_tui.core.models import history, outbox
from wo_tui.core.orders import assign, get_order
from wo_tui.mail.sender import drain_outbox

from conftest import NOW
from mailserver import FROM, Recording, contexts, new_order, settings_for, smtp_server, technician


def test_an_assignment_arrives_once_and_the_order_becomes_sent(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    server = Recording()
    with smtp_server(server) as port:
        result = drain_outbox(sender, settings_for(port))

    assert (result.sent, result.retried, result.failed, result.paused) == (1, 0, 0, None)
    assert len(server.received) == 1
    got = server.received[0]
    assert got.rcpt_tos == ["sam@field.example"]
    assert got.mail_from == "dispatch@wo.example"
    message = got.parsed()
    assert message["Subject"] == "WO-000001 Reconnection — 12 Smith St, Springfield"
    assert message["To"] == "sam@field.example"
    assert message["From"] == FROM
    with db.read() as conn:
        row = conn.execute(select(outbox)).mappings().one()
        order = get_order(conn, order_id)
        trail = conn.execute(
            select(history.c.field, history.c.old_value, history.c.new_value, history.c.actor)
            .where(history.c.work_order_id == order_id)
            .order_by(history.c.id)
        ).all()
    assert message["Message-ID"] == row["message_id"]
    assert (row["status"], row["attempts"], row["lease_token"]) == ("sent", 1, None)
    assert row["sent_at"] == NOW and row["last_reply"].startswith("250 ")
    assert order["status"] == "SENT" and order["sent_at"] == NOW
    assert trail[-1] == ("status", "SETUP", "SENT", "mail-sender")

    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    body = text.get_content()
    for expected in (
        "WO-000001",
        "Reconnection (re-energisation)",
        "Jo Smith",
        "12 Smith St, Springfield",
        "40012345",
        "M1234567",
        "Garage, left wall",
        "Fri 27 Nov 2026, 08:00-12:00",
        "Gate code 1234",
        "Dog in the yard",
        "Seals, tags",
        "Call ahead.",
        "dispatcher-a",
    ):
        assert expected in body, expected
        assert expected in html.get_content(), expected
    assert "LIFE SUPPORT SITE" not in body

    (invite,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert invite.get_param("method") == "REQUEST"
    calendar = icalendar.Calendar.from_ical(invite.get_content())
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == "wo-000001@wo.example"
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART").isoformat() == "2026-11-27T08:00:00"
    assert event.decoded("DTEND").isoformat() == "2026-11-27T12:00:00"
    assert str(event["LOCATION"]) == "12 Smith St, Springfield"
    assert not [p for p in message.walk() if p.get_content_type() == "application/json"]


def test_a_partner_gets_the_order_as_json_and_a_life_support_warning(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    order_id = new_order(ctx, life_support=True, window_start=None, window_end=None)
    assign(ctx, order_id, technician(ctx, "Acme Field Co", "dispatch@acme.example", "partner"))
    server = Recording()
    with smtp_server(server) as port:
        assert drain_outbox(sender, settings_for(port)).sent == 1

    message = server.received[0].parsed()
    (attachment,) = [p for p in message.walk() if p.get_content_type() == "application/json"]
    assert attachment.get_filename() == "wo-000001.json"
    document = json.loads(attachment.get_content())
    assert document["number"] == "WO-000001" and document["action"] == "assign"
    assert document["type"] == "RECONNECT" and document["life_support"] is True
    assert document["scheduled_date"] == "2026-11-27" and document["window_start"] is None
    body = message.get_body(("plain",))
    assert body is not None and body.get_content().startswith("*** LIFE SUPPORT SITE ***")
    html = message.get_body(("html",))
    assert html is not None and "LIFE SUPPORT SITE" in html.get_content()
    (invite,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    (event,) = icalendar.Calendar.from_ical(invite.get_content()).walk("VEVENT")
    assert event.decoded("DTSTART").isoformat() == "2026-11-27", "an all-day entry"


def test_a_reschedule_updates_the_same_calendar_entry(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    order_id = new_order(ctx)
    name = technician(ctx)
    assign(ctx, order_id, name)
    server = Recording()
    with smtp_server(server) as port:
        drain_outbox(sender, settings_for(port))
        from datetime import date

        assign(ctx, order_id, name, scheduled_date=date(2026, 11, 30), note="customer away")
        drain_outbox(sender, settings_for(port))

    events = []
    for got in server.received:
        (invite,) = [p for p in got.parsed().walk() if p.get_content_type() == "text/calendar"]
        (event,) = icalendar.Calendar.from_ical(invite.get_content()).walk("VEVENT")
        events.append(event)
    assert [str(e["UID"]) for e in events] == ["wo-000001@wo.example"] * 2
    assert events[1]["SEQUENCE"] > events[0]["SEQUENCE"]
    assert events[1].decoded("DTSTART").date().isoformat() == "2026-11-30"
