"""The sender where dispatchers meet it: `wo-tui worker --once` sends over a real SMTP
server; the running app sends after an assignment and the order becomes SENT; the Outbox
screen lists emails with their state and reply, previews one and resends a failed one."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select, update
from textual.widgets import DataTable, Static

from wo_tui.config import load_settings
from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.models import outbox
from wo_tui.core.orders import assign, get_order
from wo_tui.mail.sender import send_due
from wo_tui.tui.app import WoTuiApp, make_app
from wo_tui.tui.screens.outbox import EmailPreviewScreen, OutboxScreen

from conftest import NOW, record_notices, wait_until
from mailserver import (
    Recording,
    Scripted,
    new_order,
    settings_for,
    smtp_server,
    technician,
)

SIZE = (120, 30)


def _smtp(port: int) -> dict[str, object]:
    """The test server's settings (plain SMTP on 127.0.0.1), as config values."""
    return {
        **settings_for(port).model_dump(mode="json", exclude_none=True),
        "poll_interval_seconds": 0.2,
    }


def worker_once(
    config: Path, smtp: dict[str, object], db_url: str
) -> subprocess.CompletedProcess[str]:
    """`wo-tui worker --once` with an [smtp] section of `smtp`, as a real process."""
    lines = ["[smtp]", *(f"{k} = {json.dumps(v)}" for k, v in smtp.items())]
    config.write_text("\n".join(lines) + "\n")
    command = [sys.executable, "-m", "wo_tui", "worker", "--once", "--config", str(config)]
    return subprocess.run([*command, "--db", db_url], capture_output=True, text=True, timeout=60)


def _app(ctx: Context, port: int, **smtp: object) -> WoTuiApp:
    settings = load_settings(
        None,
        environ={},
        overrides={
            "ui": {"refresh_interval_seconds": 600},
            "events": {"poll_in_app": False},
            "smtp": {**_smtp(port), **smtp},
        },
    )
    return make_app(settings, ctx)


def _email(db: Database) -> dict[str, object]:
    with db.read() as conn:
        return dict(conn.execute(select(outbox)).mappings().one())


def test_worker_once_sends_the_outbox(db_url: str, ctx: Context, tmp_path: Path) -> None:
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    server = Recording()
    with smtp_server(server) as port:
        done = worker_once(tmp_path / "wo-tui.toml", _smtp(port), db_url)
    assert done.returncode == 0, done.stderr
    assert "emails: 1 sent" in done.stdout
    assert [r.rcpt_tos for r in server.received] == [["sam@field.example"]]
    with ctx.db.read() as conn:
        assert get_order(conn, order_id)["status"] == "SENT"


def test_worker_once_says_when_sending_is_paused(db_url: str, ctx: Context, tmp_path: Path) -> None:
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    with smtp_server(Recording()) as port:
        # TLS required (the default) but the server offers none: nothing may be sent.
        smtp = {"host": "127.0.0.1", "port": port}
        done = worker_once(tmp_path / "wo-tui.toml", smtp, db_url)
    assert done.returncode == 1
    assert "sending paused" in done.stderr and "STARTTLS" in done.stderr
    assert _email(ctx.db)["status"] == "queued"


async def test_the_app_sends_an_assignment_and_the_order_becomes_sent(ctx: Context) -> None:
    order_id = new_order(ctx)
    server = Recording()
    with smtp_server(server) as port:
        app = _app(ctx, port)
        messages = record_notices(app)
        async with app.run_test(size=SIZE) as pilot:
            assign(ctx, order_id, technician(ctx))
            app.action_send_now()
            await wait_until(pilot, lambda: "1 email sent" in messages)
    assert len(server.received) == 1
    assert "1 email sent" in messages
    with ctx.db.read() as conn:
        assert get_order(conn, order_id)["status"] == "SENT"


async def test_a_paused_sender_says_so_once(ctx: Context) -> None:
    for n in range(3):
        assign(ctx, new_order(ctx, account_number=f"4001000{n}"), technician(ctx, f"Tech {n}"))
    with smtp_server(Recording()) as port:
        app = _app(ctx, port, tls="starttls", poll_interval_seconds=0.1)
        messages = record_notices(app)
        async with app.run_test(size=SIZE) as pilot:
            assert app.background is not None
            sender = app.background.supervisor
            # The first round after 1 s, then every 0.1 s x PAUSED_BACKOFF while paused; `s`
            # starts one at once: three rounds in all, each finding sending paused.
            for rounds in (1, 2, 3):
                await wait_until(
                    pilot, lambda rounds=rounds: sender.rounds("email sender") >= rounds
                )
                app.action_send_now()
    paused = [m for m in messages if "paused" in m]
    assert len(paused) == 1 and "STARTTLS" in paused[0]
    with ctx.db.read() as conn:
        states = conn.execute(select(outbox.c.status, outbox.c.attempts)).all()
    assert sorted(states) == [("queued", 0)] * 3


async def test_outbox_screen_lists_previews_and_resends(ctx: Context) -> None:
    order_id = new_order(ctx, customer_name="[@click=app.quit]Eve")
    assign(ctx, order_id, technician(ctx))
    server = Scripted(replies=["550 5.1.1 mailbox unknown"])
    with smtp_server(server) as port:
        await send_due(ctx, settings_for(port))
        assert _email(ctx.db)["status"] == "failed"
        app = _app(ctx, port, send_from_app=False)
        async with app.run_test(size=SIZE) as pilot:
            await app.push_screen(OutboxScreen())
            await pilot.pause()
            table = app.screen.query_one(DataTable)
            row = [str(c) for c in table.get_row_at(0)]
            assert row[1:5] == ["WO-000001", "assignment", "sam@field.example", "failed"]
            assert row[6].startswith("550 5.1.1 mailbox unknown")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, EmailPreviewScreen)
            body = str(app.screen.query_one("#preview-body", Static).render())
            assert "To: sam@field.example" in body
            assert "[@click=app.quit]Eve" in body  # literally
            await pilot.press("escape")
            await pilot.press("R")
            await pilot.pause()
            assert _email(ctx.db)["status"] == "queued"
            assert app.is_running


def test_retry_state_shows_its_time(ctx: Context) -> None:
    from wo_tui.tui.screens.outbox import state_of

    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    with ctx.db.write() as conn:
        conn.execute(update(outbox).values(status="retry", next_attempt_at=NOW))
    assert state_of(_email(ctx.db)) == "retry at 09:30"


async def test_the_dashboard_shows_failed_emails(ctx: Context) -> None:
    order_id = new_order(ctx)
    assign(ctx, order_id, technician(ctx))
    with smtp_server(Scripted(replies=["550 5.1.1 mailbox unknown"])) as port:
        await send_due(ctx, settings_for(port))
        app = _app(ctx, port, send_from_app=False)
        async with app.run_test(size=SIZE) as pilot:

            async def status_line_once(check: Callable[[str], bool]) -> str:
                """The status line, once `check` holds (the counts come after the rows, from
                a worker: wait for them, up to 10 s)."""
                for _ in range(200):
                    line = str(app.screen.query_one("#status-line", Static).render())
                    if check(line):
                        break
                    await pilot.pause(0.05)
                return line

            line = await status_line_once(lambda text: "failed email" in text)
            assert line.startswith("✉ 1 failed email (M)")
            await pilot.press("M", "R", "q")  # resend it from the Outbox, back to the queue
            await pilot.press("r")
            line = await status_line_once(lambda text: "failed email" not in text)
            assert "failed email" not in line
