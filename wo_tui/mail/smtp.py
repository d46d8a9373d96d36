"""One SMTP connection as the sender uses it, and what each failure means.

Outcomes are classified by the server's reply code, never by aiosmtplib's exception class
(421, 450 and 451 arrive as three different classes): 4xx, disconnects and timeouts are
retried; 5xx is permanent; a refused login, a server without the TLS the configuration asks
for, or a certificate that does not verify pauses all sending instead (nothing about the
email is wrong, and retrying would only burn its attempts). Each message says what happened
and which setting is involved: a per-socket timeout names `smtp.timeout_seconds`, the
overall deadline `smtp.send_deadline_seconds`.

The password goes from `SmtpSettings.resolved_password()` straight into the one login
attempt and is scrubbed from every reply and error text kept from here on (a server may echo
it back).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import socket
import ssl
from dataclasses import dataclass

import aiosmtplib
from pydantic import SecretStr

from wo_tui.config import SmtpSettings
from wo_tui.core.outbox import Verdict
from wo_tui.core.sanitize import clean_text
from wo_tui.mail.errors import LoginRefused, SendingPaused

AUTH_CODES = frozenset({530, 534, 535, 538, 454})
"""Replies that mean 'log in (properly) first': they pause sending, whatever the email."""
REPLY_LIMIT = 1000


class ConnectionFailed(Exception):
    """The server could not be reached or dropped us: a temporary problem (retry)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


@functools.cache
def local_hostname() -> str:
    """The name this host gives in EHLO (looked up once per process)."""
    return socket.getfqdn()


def scrub(text: str, password: SecretStr | None, username: str | None = None) -> str:
    """`text` without the password (plain or in any AUTH encoding), control characters or
    excess length: fit for `last_reply`, logs and the screen."""
    if password is not None:
        secret = password.get_secret_value()
        if secret:
            forms = {secret, base64.b64encode(secret.encode()).decode()}
            if username:
                plain = f"\0{username}\0{secret}".encode()
                forms.add(base64.b64encode(plain).decode())
                forms.add(base64.b64encode(plain[1:]).decode())
            for form in sorted(forms, key=len, reverse=True):
                text = text.replace(form, "***")
    text = clean_text(text).strip()
    return text if len(text) <= REPLY_LIMIT else text[: REPLY_LIMIT - 3] + "..."


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """The default context (system CAs, hostname check) plus `ca_file`; verification is
    off only when `verify_certificate = false` says so."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if settings.ca_file is not None:
        context.load_verify_locations(cafile=str(settings.ca_file))
    if not settings.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def where(settings: SmtpSettings) -> str:
    """host:port, for messages."""
    return f"{settings.host}:{settings.effective_port()}"


def _ssl_error(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


LOGIN_METHODS = ("plain", "login", "cram-md5")
"""The login mechanisms we use, best first: PLAIN is the standard one (the password is
protected by TLS), LOGIN the old equivalent, CRAM-MD5 the last resort. One login attempt per
connection, with the best one the server offers (aiosmtplib's own `login()` tries each in
turn: two or three refused logins a connection towards an account lock-out)."""


async def connect(settings: SmtpSettings, password: SecretStr | None) -> aiosmtplib.SMTP:
    """An open, TLS-protected (unless `tls = none`) and logged-in connection. Raises
    LoginRefused for a refused login, SendingPaused for another problem only a person can
    fix, ConnectionFailed otherwise."""
    context = tls_context(settings) if settings.tls != "none" else None
    smtp = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.effective_port(),
        use_tls=settings.tls == "implicit",
        start_tls=False,  # done below, and required: never a silent plain-text fallback
        tls_context=context,
        timeout=settings.timeout_seconds,
        local_hostname=local_hostname(),
    )
    step = "connecting"
    try:
        async with asyncio.timeout(settings.send_deadline_seconds) as deadline:
            await smtp.connect()
            if settings.tls == "starttls":
                step = "saying EHLO"
                await smtp.ehlo()
                if not smtp.supports_extension("starttls"):
                    raise SendingPaused(
                        f"the mail server {where(settings)} does not offer STARTTLS, which "
                        "smtp.tls = 'starttls' requires; nothing was sent. Use tls = "
                        "'implicit' for a server that speaks TLS from the start, or 'none' "
                        "only for a trusted local relay"
                    )
                step = "STARTTLS"
                await smtp.starttls()
            if settings.username:
                step = "saying EHLO"
                if smtp.is_ehlo_or_helo_needed:
                    await smtp.ehlo()
                step = "login"
                await log_in(smtp, settings, password)
    except SendingPaused:
        smtp.close()
        raise
    except BaseException as exc:
        smtp.close()
        if isinstance(exc, asyncio.CancelledError):
            raise
        # `from None`: the original traceback holds frames whose locals include the password.
        raise _connect_problem(exc, step, deadline.expired(), settings, password) from None
    return smtp


async def log_in(smtp: aiosmtplib.SMTP, settings: SmtpSettings, password: SecretStr | None) -> None:
    """One login attempt, with the best mechanism of LOGIN_METHODS the server offers."""
    offered = smtp.server_auth_methods
    method = next((m for m in LOGIN_METHODS if m in offered), None)
    if method is None:
        what = f"AUTH {' '.join(offered).upper()}" if offered else "no AUTH at all"
        raise SendingPaused(
            f"the mail server {where(settings)} offers no login wo-tui can use ({what}); "
            "nothing was sent. Unset smtp.username if it needs no login, or use TLS if it "
            "offers AUTH only over TLS"
        )
    auth = {"plain": smtp.auth_plain, "login": smtp.auth_login, "cram-md5": smtp.auth_crammd5}
    secret = password.get_secret_value() if password else ""
    await auth[method](settings.username or "", secret)


def _connect_problem(
    exc: BaseException,
    step: str,
    past_deadline: bool,
    settings: SmtpSettings,
    password: SecretStr | None,
) -> SendingPaused | ConnectionFailed:
    def tidy(text: str) -> str:
        return scrub(text, password, settings.username)

    tls_problem = _ssl_error(exc)
    if tls_problem is not None:
        return SendingPaused(
            f"TLS with the mail server {where(settings)} failed: "
            f"{tidy(tls_problem.reason or str(tls_problem))}; nothing was sent. Check "
            "smtp.tls, and smtp.ca_file for a server with its own certificate authority"
        )
    if past_deadline:
        return ConnectionFailed(
            f"cannot connect to {where(settings)}: not connected within the "
            f"{settings.send_deadline_seconds:g} s deadline (smtp.send_deadline_seconds; "
            f"still {step})",
            timed_out=True,
        )
    if isinstance(exc, aiosmtplib.SMTPTimeoutError):
        return ConnectionFailed(
            f"cannot connect to {where(settings)}: no answer within "
            f"{settings.timeout_seconds:g} s (smtp.timeout_seconds) while {step}",
            timed_out=True,
        )
    code = getattr(exc, "code", None)
    message = tidy(getattr(exc, "message", None) or str(exc) or type(exc).__name__)
    reply = f"{code} {message}" if code else message
    if step == "login" and isinstance(code, int) and (code in AUTH_CODES or code >= 500):
        return LoginRefused(
            f"the mail server {where(settings)} refused the login of "
            f"{tidy(settings.username or '(no user)')}: {reply}; check smtp.username "
            "and the password"
        )
    if step == "STARTTLS" and code:
        return SendingPaused(
            f"the mail server {where(settings)} refused STARTTLS: {reply}; nothing was sent"
        )
    if isinstance(code, int) and code >= 500:
        return SendingPaused(f"the mail server {where(settings)} refused us: {reply}")
    return ConnectionFailed(f"cannot connect to {where(settings)}: {reply}")


@dataclass(frozen=True)
class Attempt:
    """What sending one email over an open connection came to."""

    verdict: Verdict
    reply: str
    """The reply to keep (the server's, or what happened instead)."""
    usable: bool
    """Whether the connection may carry the next email."""
    timed_out: bool = False
    """The server did not answer in time (the circuit breaker counts these)."""
    turned_away: bool = False
    """421: the server is closing its door for now; open no new connection this run."""


async def send_one(
    smtp: aiosmtplib.SMTP,
    sender: str,
    recipient: str,
    data: bytes,
    settings: SmtpSettings,
    password: SecretStr | None,
) -> Attempt:
    """Send one email over an open connection within the overall deadline. Raises
    SendingPaused when the server wants a login it did not get."""

    def tidy(text: str) -> str:
        return scrub(text, password, settings.username)

    try:
        async with asyncio.timeout(settings.send_deadline_seconds) as deadline:
            refused, reply = await smtp.sendmail(sender, [recipient], data)
    except TimeoutError as exc:
        if deadline.expired():
            why = (
                f"no complete answer within the {settings.send_deadline_seconds:g} s deadline "
                "(smtp.send_deadline_seconds)"
            )
        else:
            why = (
                f"no answer within {settings.timeout_seconds:g} s (smtp.timeout_seconds): "
                f"{tidy(str(exc))}"
            )
        return Attempt(Verdict.RETRY, why, usable=False, timed_out=True)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        first = exc.recipients[0]
        return _by_code(first.code, tidy(first.message), smtp, settings)
    except aiosmtplib.SMTPResponseException as exc:
        return _by_code(exc.code, tidy(exc.message), smtp, settings)
    except (aiosmtplib.SMTPServerDisconnected, ConnectionError) as exc:
        return Attempt(
            Verdict.RETRY, f"the server closed the connection ({tidy(str(exc))})", usable=False
        )
    except aiosmtplib.SMTPException as exc:
        return Attempt(Verdict.RETRY, tidy(str(exc)), usable=smtp.is_connected)
    if recipient in refused:  # a partial refusal returns normally: read it from the result
        answer = refused[recipient]
        return _by_code(answer.code, tidy(answer.message), smtp, settings)
    return Attempt(Verdict.SENT, f"250 {tidy(reply)}", usable=True)


def _by_code(code: int, message: str, smtp: aiosmtplib.SMTP, settings: SmtpSettings) -> Attempt:
    if code in AUTH_CODES:
        raise SendingPaused(
            f"the mail server {where(settings)} wants a login first: {code} {message}; "
            "check smtp.username and the password"
        )
    reply = f"{code} {message}"
    usable = smtp.is_connected
    if code == 421:
        return Attempt(Verdict.RETRY, reply, usable=False, turned_away=True)
    if 400 <= code < 500:
        return Attempt(Verdict.RETRY, reply, usable)
    if code >= 500:
        return Attempt(Verdict.FAILED, reply, usable)
    return Attempt(Verdict.RETRY, f"unexpected reply {reply}", usable)


async def close(smtp: aiosmtplib.SMTP) -> None:
    """Say QUIT politely (briefly), then drop the connection whatever happens."""
    try:
        with contextlib.suppress(Exception):
            if smtp.is_connected:
                async with asyncio.timeout(2):
                    await smtp.quit()
    finally:
        smtp.close()


def unexpected(exc: Exception, settings: SmtpSettings, password: SecretStr | None) -> str:
    """The reply kept for an error nobody foresaw: its kind and scrubbed text only."""
    return f"unexpected error: {type(exc).__name__}: {scrub(str(exc), password, settings.username)}"
