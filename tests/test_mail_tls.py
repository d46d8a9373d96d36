"""TLS by default (docs/guarantees.md) and what a refused login does: sending pauses, the
emails go back untouched."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from sqlalchemy import select

from wo_tui.core.db import Database
from wo_tui.core.models import outbox
from wo_tui.core.orders import assign
from wo_tui.mail.sender import drain_outbox

from conftest import NOW
from mailserver import (
    Recording,
    accept_login,
    contexts,
    new_order,
    refuse_login,
    settings_for,
    smtp_server,
    technician,
)


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    """A certificate authority only these tests trust."""
    return trustme.CA()


@pytest.fixture
def server_tls(authority: trustme.CA) -> ssl.SSLContext:
    """The server's TLS context, with a certificate for 127.0.0.1 from `authority`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def ca_file(authority: trustme.CA, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    yield path


def statuses(db: Database) -> list[tuple[str, int]]:
    with db.read() as conn:
        query = select(outbox.c.status, outbox.c.attempts).order_by(outbox.c.id)
        return [(r.status, r.attempts) for r in conn.execute(query)]


def test_starttls_required_but_not_offered_sends_nothing(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    server = Recording()
    with smtp_server(server) as port:
        result = drain_outbox(sender, settings_for(port, tls="starttls"))
    assert result.paused is not None and result.sent == 0
    assert "does not offer STARTTLS" in result.paused.reason
    assert "nothing was sent" in result.paused.reason
    assert server.received == [] and server.rcpt_seen == []
    assert statuses(db) == [("queued", 0)], "back untouched, no attempt used"


def test_starttls_with_a_trusted_private_authority_delivers(
    db: Database, server_tls: ssl.SSLContext, ca_file: Path
) -> None:
    ctx, sender, _ = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    server = Recording()
    with smtp_server(server, starttls=server_tls) as port:
        result = drain_outbox(sender, settings_for(port, tls="starttls", ca_file=ca_file))
    assert (result.sent, result.paused) == (1, None)
    assert len(server.received) == 1


def test_starttls_with_an_untrusted_certificate_pauses(
    db: Database, server_tls: ssl.SSLContext
) -> None:
    ctx, sender, _ = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    server = Recording()
    with smtp_server(server, starttls=server_tls) as port:
        result = drain_outbox(sender, settings_for(port, tls="starttls"))
    assert result.paused is not None
    assert "CERTIFICATE_VERIFY_FAILED" in result.paused.reason.upper().replace(" ", "_")
    assert server.received == [] and server.rcpt_seen == []
    assert statuses(db) == [("queued", 0)]


def test_implicit_tls_delivers(db: Database, server_tls: ssl.SSLContext, ca_file: Path) -> None:
    ctx, sender, _ = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    server = Recording()
    with smtp_server(server, implicit=server_tls) as port:
        result = drain_outbox(sender, settings_for(port, tls="implicit", ca_file=ca_file))
    assert (result.sent, result.paused) == (1, None)
    assert len(server.received) == 1


def test_a_login_over_starttls_delivers(
    db: Database, server_tls: ssl.SSLContext, ca_file: Path
) -> None:
    ctx, sender, _ = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    server = Recording()
    login = accept_login("dispatch", "right")
    with smtp_server(server, starttls=server_tls, authenticator=login) as port:
        settings = settings_for(
            port, tls="starttls", ca_file=ca_file, username="dispatch", password="right"
        )
        assert drain_outbox(sender, settings).sent == 1


def test_a_refused_login_pauses_once_and_uses_no_attempt(db: Database) -> None:
    ctx, sender, _ = contexts(db, NOW)
    name = technician(ctx)
    for _ in range(30):
        assign(ctx, new_order(ctx), name)
    server = Recording()
    with smtp_server(server, authenticator=refuse_login()) as port:
        settings = settings_for(port, username="dispatch", password="wrong", connections=4)
        result = drain_outbox(sender, settings)
    assert result.paused is not None and "refused the login of dispatch" in result.paused.reason
    assert (result.sent, result.retried, result.failed) == (0, 0, 0)
    assert server.received == []
    assert statuses(db) == [("queued", 0)] * 30
