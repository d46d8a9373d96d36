"""Opening connections without locking the mail account: one login at a time across every
sender, and none while sending is paused after a refused login.

A run of the sender opens its connections one after the other (the first one has logged in
before the second one opens). With `smtp.username` set, each connection opens under the
account's login claim in the database (`wo_tui.core.mail_accounts`); a refused login pauses
sending for every app and worker for `smtp.pause_seconds`. docs/email.md, "One login at a
time", explains why this allows at most one refused login per pause.
"""

from __future__ import annotations

import asyncio

import aiosmtplib
from pydantic import SecretStr

from wo_tui.config import SmtpSettings
from wo_tui.core.context import Context
from wo_tui.core.mail_accounts import (
    Pause,
    account_key,
    active_pause,
    claim_login,
    login_refused,
    login_succeeded,
    release_login,
)
from wo_tui.mail.errors import LoginRefused, SendingPaused
from wo_tui.mail.smtp import connect

CLAIM_POLL_SECONDS = 0.2
"""While another sender holds the login claim, ask again this often."""
CLAIM_MARGIN_SECONDS = 30.0
"""A claim is held for a connect's deadline and this much more (room for a slow database
write of the outcome, and for clocks of different hosts that disagree a little); a sender
that died holding it keeps the others waiting no longer than that."""


def paused_by(pause: Pause) -> SendingPaused:
    """The pause recorded in the database, as the sender reports it."""
    return SendingPaused(pause.reason, pause.until)


class Logins:
    """Opens the connections of one run of the sender."""

    def __init__(self, ctx: Context, settings: SmtpSettings, password: SecretStr | None) -> None:
        self._ctx = ctx
        self._settings = settings
        self._password = password
        self._account = account_key(settings.host, settings.effective_port(), settings.username)

    async def pause(self) -> SendingPaused | None:
        """The pause in force for the account (recorded by any sender), if any."""
        if not self._settings.username:
            return None
        pause = await asyncio.to_thread(active_pause, self._ctx, self._account)
        return None if pause is None else paused_by(pause)

    async def open(self) -> aiosmtplib.SMTP:
        """An open, logged-in connection. Raises as `connect` does, and SendingPaused while
        sending is paused. The caller opens one connection at a time."""
        if not self._settings.username:
            return await connect(self._settings, self._password)
        token = await self._claim()
        return await self._connect_holding(token)

    async def _claim(self) -> str:
        hold = self._settings.send_deadline_seconds + CLAIM_MARGIN_SECONDS
        while True:
            turn = await asyncio.to_thread(claim_login, self._ctx, self._account, hold)
            if isinstance(turn, str):
                return turn
            if isinstance(turn, Pause):
                raise paused_by(turn)
            await asyncio.sleep(CLAIM_POLL_SECONDS)  # another sender is logging in

    async def _connect_holding(self, token: str) -> aiosmtplib.SMTP:
        ctx, account = self._ctx, self._account
        try:
            smtp = await connect(self._settings, self._password)
        except LoginRefused as refused:
            seconds = self._settings.pause_seconds
            pause = await asyncio.to_thread(
                login_refused, ctx, account, token, refused.reason, seconds
            )
            raise paused_by(pause) from None
        except BaseException:
            await asyncio.to_thread(release_login, ctx, account, token)
            raise
        try:
            await asyncio.to_thread(login_succeeded, ctx, account, token)
        except BaseException:
            smtp.close()
            raise
        return smtp
