"""What every sender (each app, each `wo-tui worker`) shares about one mail account: who may
try a login now, and whether sending is paused after a refused login.

A sender tries a login only while it holds the account's *login claim*: a fresh token that
one atomic UPDATE writes only when nobody holds an unexpired claim and sending is not
paused. A refused login sets `paused_until` and drops the claim in one statement, so nobody
can claim again before the pause is over: at most one refused login per pause, however many
senders start at the same moment (docs/email.md, "One login at a time").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, case, or_, select, update

from wo_tui.core.context import Context
from wo_tui.core.models import mail_accounts

_row = mail_accounts.c


@dataclass(frozen=True)
class Pause:
    """Sending to this account is paused until `until` (UTC, as stored), because `reason`."""

    until: datetime
    reason: str


LoginTurn = str | Pause | None
"""What `claim_login` gives: the claim's token, the pause in force, or None while another
sender holds the claim (ask again shortly)."""


def account_key(host: str, port: int, username: str | None) -> str:
    """The row of a mail account: `user@host:port` (`@host:port` without a login)."""
    return f"{username or ''}@{host}:{port}"


def _paused(now: datetime) -> ColumnElement[bool]:
    return and_(_row.paused_until.is_not(None), _row.paused_until > now)


def active_pause(ctx: Context, account: str) -> Pause | None:
    """The pause in force for `account`, if any."""
    now = ctx.now()
    query = select(_row.paused_until, _row.pause_reason).where(
        _row.account == account, _paused(now)
    )
    with ctx.db.read() as conn:
        row = conn.execute(query).first()
    return None if row is None else Pause(row.paused_until, row.pause_reason or "")


def claim_login(ctx: Context, account: str, hold_seconds: float) -> LoginTurn:
    """Take the account's login claim for `hold_seconds` (the time a connect and login may
    take) if sending is not paused and nobody else holds it."""
    now = ctx.now()
    token = secrets.token_hex(16)
    free = or_(_row.login_token.is_(None), _row.login_until < now)
    with ctx.db.write() as conn:
        _add_row(conn, account)
        claimed = conn.execute(
            update(mail_accounts)
            .where(_row.account == account, ~_paused(now), free)
            .values(login_token=token, login_until=now + timedelta(seconds=hold_seconds))
        ).rowcount
        if claimed == 1:
            return token
        row = conn.execute(
            select(_row.paused_until, _row.pause_reason).where(
                _row.account == account, _paused(now)
            )
        ).first()
    return None if row is None else Pause(row.paused_until, row.pause_reason or "")


def _add_row(conn: Connection, account: str) -> None:
    """The account's row, made the first time (two senders at once: one insert wins)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(mail_accounts).values(account=account).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(mail_accounts).values(account=account).on_conflict_do_nothing())


def _let_go(token: str) -> ColumnElement[str | None]:
    """`login_token` without our claim (someone else's stays)."""
    return case((_row.login_token == token, None), else_=_row.login_token)


def login_succeeded(ctx: Context, account: str, token: str) -> None:
    """The login worked: give the claim back and note when."""
    with ctx.db.write() as conn:
        conn.execute(
            update(mail_accounts)
            .where(_row.account == account)
            .values(login_token=_let_go(token), login_ok_at=ctx.now())
        )


def release_login(ctx: Context, account: str, token: str) -> None:
    """No login was refused (the connection failed first, or the sender stopped): give the
    claim back for the next sender."""
    with ctx.db.write() as conn:
        conn.execute(
            update(mail_accounts).where(_row.account == account).values(login_token=_let_go(token))
        )


def login_refused(
    ctx: Context, account: str, token: str, reason: str, pause_seconds: float
) -> Pause:
    """The server refused the login: pause sending for everyone for `pause_seconds` and give
    the claim back, in one statement."""
    pause = Pause(ctx.now() + timedelta(seconds=pause_seconds), reason)
    with ctx.db.write() as conn:
        conn.execute(
            update(mail_accounts)
            .where(_row.account == account)
            .values(paused_until=pause.until, pause_reason=reason, login_token=_let_go(token))
        )
    return pause
