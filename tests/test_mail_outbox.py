"""The outbox's claims and leases (docs/guarantees.md): only the holder of the current token
changes a row; claims never overlap; an order closed meanwhile never becomes SENT."""

from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import select

from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.errors import NotAllowed
from wo_tui.core.models import history, outbox
from wo_tui.core.orders import assign, get_order
from wo_tui.core.outbox import RETRY_CAP_SECONDS, claim_due, order_emails, resend, retry_delay
from wo_tui.core.outbox_marks import mark_failed, mark_retry, mark_sent, release
from wo_tui.core.status_changes import bulk_cancel
from wo_tui.mail.sender import drain_outbox

from conftest import NOW
from mailserver import Recording, contexts, new_order, settings_for, smtp_server, technician


def row(db: Database) -> dict[str, object]:
    with db.read() as conn:
        return dict(conn.execute(select(outbox)).mappings().one())


def sent_entries(db: Database, order_id: int) -> int:
    with db.read() as conn:
        query = select(history.c.id).where(
            history.c.work_order_id == order_id, history.c.new_value == "SENT"
        )
        return len(conn.execute(query).all())


def test_a_late_sender_whose_lease_expired_changes_nothing(db: Database) -> None:
    ctx, sender_b, clock = contexts(db, NOW)
    sender_a = Context(db, "mail-sender-a", clock=clock)
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))

    (claim_a,) = claim_due(sender_a, lease_seconds=60, limit=10)
    assert claim_due(sender_b, lease_seconds=60, limit=10) == [], "held by A"
    clock.advance(61)
    server = Recording()
    with smtp_server(server) as port:
        result = drain_outbox(sender_b, settings_for(port))
    assert result.sent == 1 and len(server.received) == 1
    after_b = row(db)
    assert after_b["status"] == "sent" and after_b["attempts"] == 2

    clock.advance(5)
    assert mark_sent(sender_a, claim_a.outbox_id, claim_a.token, "250 late") is False
    assert (
        mark_retry(sender_a, claim_a.outbox_id, claim_a.token, "451", 60, max_attempts=3) is False
    )
    assert mark_failed(sender_a, claim_a.outbox_id, claim_a.token, "550") is False
    assert release(sender_a, [claim_a]) == 0
    assert row(db) == after_b
    assert sent_entries(db, order_id) == 1


def test_claims_by_concurrent_senders_never_overlap(db: Database) -> None:
    ctx, _, clock = contexts(db, NOW)
    name = technician(ctx)
    for _ in range(60):
        assign(ctx, new_order(ctx), name)
    taken: list[list[int]] = [[] for _ in range(4)]
    errors: list[BaseException] = []

    def sender(index: int) -> None:
        worker = Context(db, f"sender-{index}", clock=clock)
        try:
            while claims := claim_due(worker, lease_seconds=300, limit=7):
                taken[index].extend(c.outbox_id for c in claims)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    every = [i for ids in taken for i in ids]
    assert len(every) == len(set(every)) == 60


def test_an_order_cancelled_while_its_email_is_in_flight_stays_cancelled(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    (claim,) = claim_due(sender, limit=10)
    bulk_cancel(ctx, [order_id], "duplicate")
    assert mark_sent(sender, claim.outbox_id, claim.token, "250 ok") is True
    with db.read() as conn:
        assert get_order(conn, order_id)["status"] == "CANCELLED"
    assert sent_entries(db, order_id) == 0


def test_release_gives_the_email_back_without_using_an_attempt(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    claims = claim_due(sender, limit=10)
    assert row(db)["status"] == "sending" and row(db)["attempts"] == 1
    assert release(sender, claims) == 1
    again = row(db)
    assert (again["status"], again["attempts"], again["lease_token"]) == ("queued", 0, None)


def test_only_a_failed_email_can_be_resent(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    outbox_id = int(row(db)["id"])  # type: ignore[call-overload]
    with pytest.raises(NotAllowed, match="only a failed email"):
        resend(ctx, outbox_id)
    (claim,) = claim_due(sender, limit=10)
    assert mark_failed(sender, claim.outbox_id, claim.token, "550 5.1.1 unknown user")
    resend(ctx, outbox_id)
    with db.read() as conn:
        (email,) = order_emails(conn, order_id)
    assert (email["status"], email["attempts"], email["failed_at"]) == ("queued", 0, None)
    assert email["message_id"] == claim.message_id
    assert email["last_reply"] == "550 5.1.1 unknown user", "the last reply stays visible"


def test_retry_delays_grow_with_jitter_up_to_a_cap() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(RETRY_CAP_SECONDS, 60.0 * 2 ** (attempt - 1))
        delays = [retry_delay(attempt, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1, "jittered"
