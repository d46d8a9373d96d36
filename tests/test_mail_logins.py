"""The login claim and the pause every sender shares (`wo_tui.core.mail_accounts`): one
sender at a time may try a login, none while sending is paused, and a sender that died
holding the claim blocks the others only until the claim runs out."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database, connect
from wo_tui.core.mail_accounts import (
    Pause,
    active_pause,
    claim_login,
    login_refused,
    login_succeeded,
    release_login,
)
from wo_tui.core.models import mail_accounts
from wo_tui.mail.sender import drain_outbox

from conftest import NOW
from mailserver import (
    Counts,
    Recording,
    accept_login,
    queue_emails,
    settings_for,
    smtp_server,
)

ACCOUNT = "dispatch@mail.example:587"


def test_one_claim_at_a_time_and_a_dead_holders_claim_runs_out(db: Database) -> None:
    ctx = Context(db, "mail-sender", clock=fixed_clock(NOW))
    first = claim_login(ctx, ACCOUNT, hold_seconds=30)
    assert isinstance(first, str)
    assert claim_login(ctx, ACCOUNT, hold_seconds=30) is None, "held by the first"
    release_login(ctx, ACCOUNT, first)
    second = claim_login(ctx, ACCOUNT, hold_seconds=30)
    assert isinstance(second, str) and second != first
    release_login(ctx, ACCOUNT, first)  # a stale token lets nothing go
    assert claim_login(ctx, ACCOUNT, hold_seconds=30) is None
    later = Context(db, "mail-sender", clock=fixed_clock(NOW + timedelta(seconds=31)))
    assert isinstance(claim_login(later, ACCOUNT, hold_seconds=30), str), "the holder died"


def test_a_refused_login_pauses_every_claim_until_its_end(db: Database) -> None:
    ctx = Context(db, "mail-sender", clock=fixed_clock(NOW))
    token = claim_login(ctx, ACCOUNT, hold_seconds=30)
    assert isinstance(token, str)
    pause = login_refused(ctx, ACCOUNT, token, "535 no", pause_seconds=60)
    assert pause == Pause(NOW + timedelta(seconds=60), "535 no")
    assert claim_login(ctx, ACCOUNT, hold_seconds=30) == pause
    assert active_pause(ctx, ACCOUNT) == pause
    assert active_pause(ctx, "other@mail.example:587") is None, "per account"
    after = Context(db, "mail-sender", clock=fixed_clock(NOW + timedelta(seconds=60)))
    assert active_pause(after, ACCOUNT) is None
    again = claim_login(after, ACCOUNT, hold_seconds=30)
    assert isinstance(again, str)
    login_succeeded(after, ACCOUNT, again)
    with db.read() as conn:
        row = conn.execute(select(mail_accounts)).mappings().one()
    assert (row["login_token"], row["login_ok_at"]) == (None, after.now())


def test_senders_claiming_at_the_same_moment_get_one_claim(db_url: str) -> None:
    """Eight senders (each its own connection pool) ask at once: exactly one may log in."""
    start = threading.Barrier(8)
    turns: list[object] = []

    def sender() -> None:
        db = connect(db_url)
        try:
            ctx = Context(db, "mail-sender", clock=fixed_clock(NOW))
            start.wait()
            turns.append(claim_login(ctx, ACCOUNT, hold_seconds=30))
        finally:
            db.dispose()

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(isinstance(t, str) for t in turns) == [False] * 7 + [True]
    assert [t for t in turns if not isinstance(t, str)] == [None] * 7


def test_a_good_login_leaves_the_claim_free_for_the_next(db: Database) -> None:
    sender, _ = queue_emails(db, 25)
    counts = Counts()
    login = accept_login("dispatch", "right")
    with smtp_server(Recording(), authenticator=login, counts=counts) as port:
        settings = settings_for(port, username="dispatch", password="right", connections=4)
        assert drain_outbox(sender, settings).sent == 25
    assert counts.auth == counts.connections  # one AUTH a connection
    with db.read() as conn:
        row = conn.execute(select(mail_accounts)).mappings().one()
    assert row["login_token"] is None and row["login_ok_at"] == NOW
    assert row["paused_until"] is None
