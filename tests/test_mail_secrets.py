"""The SMTP password never shows (docs/guarantees.md): a canary is forced through every
error path and every output is scanned for it, plain or base64-encoded."""

from __future__ import annotations

import base64
import logging
import ssl
from pathlib import Path

import pytest
import trustme
from sqlalchemy import select

from wo_tui.core.db import Database
from wo_tui.core.models import outbox
from wo_tui.core.orders import assign
from wo_tui.mail.sender import DrainResult, drain_outbox

from conftest import NOW
from mailserver import (
    Recording,
    contexts,
    free_port,
    new_order,
    refuse_login,
    settings_for,
    smtp_server,
    technician,
)

CANARY = "Canary-7f3a-Pw!"
FORMS = (
    CANARY,
    base64.b64encode(CANARY.encode()).decode(),
    base64.b64encode(f"\0dispatch\0{CANARY}".encode()).decode(),
)


def leaks(text: str) -> list[str]:
    return [form for form in FORMS if form in text]


def everything_said(db: Database, result: DrainResult, caplog: pytest.LogCaptureFixture) -> str:
    with db.read() as conn:
        replies = [str(r) for r in conn.execute(select(outbox.c.last_reply)).scalars()]
    pause = result.paused
    return "\n".join(
        [
            *replies,
            repr(result),
            result.summary(),
            *result.replies,
            str(pause),
            repr(pause),
            pause.reason if pause else "",
            # Everything logged, except the test server's own log ("mail.log"): it is the
            # server (here made to echo the password), not this program.
            *(logging.Formatter().format(r) for r in caplog.records if r.name != "mail.log"),
        ]
    )


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "smtp-password"
    path.write_text(CANARY + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("echo", [False, True], ids=["refused", "server-echoes-password"])
def test_a_refused_login_never_shows_the_password(
    db: Database,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    password_file: Path,
    echo: bool,
) -> None:
    caplog.set_level(logging.DEBUG)
    ctx, sender, _ = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    with smtp_server(Recording(), authenticator=refuse_login(echo=echo)) as port:
        settings = settings_for(port, username="dispatch", password_file=password_file)
        result = drain_outbox(sender, settings)
    assert result.paused is not None and "535" in result.paused.reason
    said = everything_said(db, result, caplog) + repr(settings) + str(capsys.readouterr())
    assert leaks(said) == []


def test_an_unreachable_server_never_shows_the_password(
    db: Database, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    ctx, sender, _ = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    settings = settings_for(free_port(), username="dispatch", password=CANARY)
    result = drain_outbox(sender, settings)
    assert result.retried == 1
    said = everything_said(db, result, caplog) + repr(settings) + str(capsys.readouterr())
    assert "cannot connect" in said and leaks(said) == []


def test_a_tls_failure_never_shows_the_password(
    db: Database, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    ctx, sender, _ = contexts(db, NOW)
    assign(ctx, new_order(ctx), technician(ctx))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    with smtp_server(Recording(), starttls=context) as port:
        settings = settings_for(port, tls="starttls", username="dispatch", password=CANARY)
        result = drain_outbox(sender, settings)
    assert result.paused is not None and "TLS" in result.paused.reason
    said = everything_said(db, result, caplog) + repr(settings) + str(capsys.readouterr())
    assert leaks(said) == []


def test_the_scan_would_find_a_leak(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    """The scan itself works: a reply that carries the canary is found."""
    logging.getLogger("wo_tui.mail").warning("oops %s", CANARY)
    assert leaks(everything_said(db, DrainResult(), caplog)) == [CANARY]
