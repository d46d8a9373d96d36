"""Failures are classified by the server's reply code (docs/guarantees.md): 4xx, drops and
timeouts are retried with the same Message-ID; 5xx fails visibly and can be resent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from wo_tui.core.db import Database
from wo_tui.core.models import outbox
from wo_tui.core.orders import assign, get_order
from wo_tui.core.outbox import resend
from wo_tui.core.status_changes import bulk_cancel
from wo_tui.mail.sender import drain_outbox

from conftest import NOW
from mailserver import (
    Drip,
    Recording,
    Scripted,
    StoreThenDrop,
    contexts,
    free_port,
    new_order,
    settings_for,
    smtp_server,
    technician,
)

LATER = 2 * 3600.0
"""Past any backoff of the first attempts."""


def emails(db: Database) -> list[dict[str, object]]:
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(outbox).order_by(outbox.c.id)).mappings()]


@pytest.mark.parametrize(
    "reply", ["421 4.3.2 Service shutting down", "450 4.2.1 Mailbox busy", "451 4.3.0 Try later"]
)
def test_a_temporary_refusal_is_retried_and_delivered_once(db: Database, reply: str) -> None:
    ctx, sender, clock = contexts(db, NOW)
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    server = Scripted(replies=[reply])
    with smtp_server(server) as port:
        first = drain_outbox(sender, settings_for(port))
        (row,) = emails(db)
        assert (first.sent, first.retried) == (0, 1)
        assert row["status"] == "retry" and row["last_reply"] == reply
        assert row["next_attempt_at"] > NOW  # type: ignore[operator]
        assert drain_outbox(sender, settings_for(port)).sent == 0, "not due yet"
        clock.advance(LATER)
        assert drain_outbox(sender, settings_for(port)).sent == 1
        assert drain_outbox(sender, settings_for(port)).sent == 0
    assert len(server.received) == 1
    (row,) = emails(db)
    assert (row["status"], row["attempts"]) == ("sent", 2)
    with db.read() as conn:
        assert get_order(conn, order_id)["status"] == "SENT"


def test_a_permanent_refusal_fails_visibly_and_can_be_resent(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    server = Scripted(replies=["550 5.1.1 No such user here"])
    with smtp_server(server) as port:
        result = drain_outbox(sender, settings_for(port))
        assert (result.sent, result.failed) == (0, 1)
        (row,) = emails(db)
        assert row["status"] == "failed" and row["failed_at"] == NOW
        assert row["last_reply"] == "550 5.1.1 No such user here"
        assert result.replies == ["550 5.1.1 No such user here"]
        with db.read() as conn:
            assert get_order(conn, order_id)["status"] == "SETUP"
        assert drain_outbox(sender, settings_for(port)).sent == 0, "failed stays failed"

        resend(ctx, int(row["id"]))  # type: ignore[call-overload]
        assert emails(db)[0]["status"] == "queued"
        assert drain_outbox(sender, settings_for(port)).sent == 1
    (received,) = server.received
    assert received.parsed()["Message-ID"] == row["message_id"], "the same Message-ID"
    with db.read() as conn:
        assert get_order(conn, order_id)["status"] == "SENT"


def test_only_the_refused_recipient_is_retried(db: Database) -> None:
    ctx, sender, clock = contexts(db, NOW)
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    server = Recording()
    with smtp_server(server) as port:
        drain_outbox(sender, settings_for(port))
        # Reassigning the SENT order queues two emails: to the new technician, and a notice
        # to the previous one, whose mailbox is busy.
        assign(ctx, order_id, technician(ctx, "Alex Wu", "alex@field.example"), note="swap")
        server.refuse["sam@field.example"] = "450 4.2.1 Mailbox busy"
        result = drain_outbox(sender, settings_for(port))
        assert (result.sent, result.retried) == (1, 1)
        rows = emails(db)
        assert [(r["kind"], r["recipient"], r["status"]) for r in rows] == [
            ("assignment", "sam@field.example", "sent"),
            ("assignment", "alex@field.example", "sent"),
            ("reassignment_notice", "sam@field.example", "retry"),
        ]
        assert rows[2]["last_reply"] == "450 4.2.1 Mailbox busy"
        del server.refuse["sam@field.example"]
        clock.advance(LATER)
        assert drain_outbox(sender, settings_for(port)).sent == 1
    assert [r.rcpt_tos for r in server.received] == [
        ["sam@field.example"],
        ["alex@field.example"],
        ["sam@field.example"],
    ]
    notice = server.received[2].parsed()
    assert notice["Subject"].startswith("Reassigned away: WO-000001")
    (invite,) = [p for p in notice.walk() if p.get_content_type() == "text/calendar"]
    assert invite.get_param("method") == "CANCEL"
    with db.read() as conn:
        order = get_order(conn, order_id)
    assert (order["status"], order["assignee_name"]) == ("SENT", "Alex Wu")


def test_a_dropped_connection_after_storing_is_retried_with_the_same_message_id(
    db: Database,
) -> None:
    ctx, sender, clock = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    server = StoreThenDrop()
    with smtp_server(server) as port:
        first = drain_outbox(sender, settings_for(port))
        assert (first.sent, first.retried) == (0, 1)
        assert "closed the connection" in str(emails(db)[0]["last_reply"])
        clock.advance(LATER)
        assert drain_outbox(sender, settings_for(port)).sent == 1
    ids = [r.parsed()["Message-ID"] for r in server.received]
    assert len(ids) == 2 and ids[0] == ids[1] == emails(db)[0]["message_id"]


def test_a_dripping_server_is_cut_off_at_the_deadline_and_retried(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    with smtp_server(Drip()) as port:
        result = drain_outbox(sender, settings_for(port, send_deadline_seconds=1.0))
    assert (result.sent, result.retried) == (0, 1)
    (row,) = emails(db)
    assert row["status"] == "retry" and "1 s deadline" in str(row["last_reply"])
    with db.read() as conn:
        assert get_order(conn, order_id)["status"] == "SETUP"


def test_attempts_run_out_and_the_email_fails(db: Database) -> None:
    ctx, sender, clock = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    server = Scripted(replies=["451 4.3.0 Try later"] * 5)
    with smtp_server(server) as port:
        for _ in range(3):
            drain_outbox(sender, settings_for(port, max_attempts=3))
            clock.advance(LATER)
        assert drain_outbox(sender, settings_for(port, max_attempts=3)).sent == 0
    (row,) = emails(db)
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert row["last_reply"] == "gave up after 3 attempts; last reply: 451 4.3.0 Try later"
    assert server.received == []


def test_an_unreachable_server_is_retried(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    result = drain_outbox(sender, settings_for(free_port()))
    assert (result.retried, result.paused) == (1, None)
    (row,) = emails(db)
    assert row["status"] == "retry" and "cannot connect to 127.0.0.1" in str(row["last_reply"])


def test_an_order_cancelled_before_sending_is_not_sent(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    bulk_cancel(ctx, [order_id], "duplicate")
    server = Recording()
    with smtp_server(server) as port:
        result = drain_outbox(sender, settings_for(port))
    assert (result.sent, result.superseded) == (0, 1)
    assert server.received == []
    (row,) = emails(db)
    assert row["status"] == "superseded" and "CANCELLED" in str(row["last_reply"])
    with db.read() as conn:
        assert get_order(conn, order_id)["status"] == "CANCELLED"
