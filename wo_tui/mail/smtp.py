"""One SMTP connection as the sender uses it, and what each failure means.

Outcomes are classified by the server's reply code, never by aiosmtplib's exception class
(421, 450 and 451 arrive as three different classes, reliability.md §10): 4xx, disconnects
and timeouts are retried; 5xx is permanent; a refused login, a server without the TLS the
configuration asks for, or a certificate that does not verify pauses all sending instead
(nothing about the email is wrong, and retrying would only burn its attempts).

The password goes from `SmtpSettings.resolved_password()` straight into `login()` and is
scrubbed from every reply and error text kept from here on (reliability.md §16).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import socket
import ssl

import aiosmtplib
from pydantic import SecretStr

from wo_tui.config import SmtpSettings
from wo_tui.core.outbox import Verdict
from wo_tui.core.sanitize import clean_text
from wo_tui.mail.errors import SendingPaused

AUTH_CODES = frozenset({530, 534, 535, 538, 454})
"""Replies that mean 'log in (properly) first': they pause sending, whatever the email."""
REPLY_LIMIT = 1000


class ConnectionFailed(Exception):
    """The server could not be reached or dropped us: a temporary problem (retry)."""


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


async def connect(settings: SmtpSettings, password: SecretStr | None) -> aiosmtplib.SMTP:
    """An open, TLS-protected (unless `tls = none`) and logged-in connection. Raises
    SendingPaused for a problem only a person can fix, ConnectionFailed otherwise."""
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
    try:
        async with asyncio.timeout(settings.send_deadline_seconds):
            await smtp.connect()
            if settings.tls == "starttls":
                await smtp.ehlo()
                if not smtp.supports_extension("starttls"):
                    raise SendingPaused(
                        f"the mail server {where(settings)} does not offer STARTTLS, which "
                        "smtp.tls = 'starttls' requires; nothing was sent. Use tls = "
                        "'implicit' for a server that speaks TLS from the start, or 'none' "
                        "only for a trusted local relay"
                    )
                await smtp.starttls()
            if settings.username:
                await smtp.login(settings.username, password.get_secret_value() if password else "")
    except SendingPaused:
        smtp.close()
        raise
    except BaseException as exc:
        smtp.close()
        if isinstance(exc, asyncio.CancelledError):
            raise
        # `from None`: the original traceback holds frames whose locals include the password.
        raise _connect_problem(exc, settings, password) from None
    return smtp


def _connect_problem(
    exc: BaseException, settings: SmtpSettings, password: SecretStr | None
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
    code = getattr(exc, "code", None)
    message = tidy(getattr(exc, "message", None) or str(exc) or type(exc).__name__)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError) or code in AUTH_CODES:
        return SendingPaused(
            f"the mail server {where(settings)} refused the login of "
            f"{tidy(settings.username or '(no user)')}: {code} {message}; check smtp.username "
            "and the password"
        )
    if isinstance(code, int) and code >= 500:
        return SendingPaused(f"the mail server {where(settings)} refused us: {code} {message}")
    if isinstance(exc, aiosmtplib.SMTPException) and code is None and "AUTH" in message:
        return SendingPaused(f"the mail server {where(settings)}: {message}")
    if isinstance(exc, TimeoutError):
        message = f"no answer within {settings.send_deadline_seconds:g} s ({message})"
    prefix = f"{code} " if code else ""
    return ConnectionFailed(f"cannot connect to {where(settings)}: {prefix}{message}")


async def send_one(
    smtp: aiosmtplib.SMTP,
    sender: str,
    recipient: str,
    data: bytes,
    settings: SmtpSettings,
    password: SecretStr | None,
) -> tuple[Verdict, str, bool]:
    """Send one email over an open connection within the overall deadline. Returns the
    verdict, the reply to keep, and whether the connection is still usable. Raises
    SendingPaused when the server wants a login it did not get."""

    def tidy(text: str) -> str:
        return scrub(text, password, settings.username)

    try:
        async with asyncio.timeout(settings.send_deadline_seconds):
            refused, reply = await smtp.sendmail(sender, [recipient], data)
    except TimeoutError:
        return (
            Verdict.RETRY,
            f"no complete answer within the {settings.send_deadline_seconds:g} s deadline",
            False,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        first = exc.recipients[0]
        return _by_code(first.code, tidy(first.message), smtp, settings)
    except aiosmtplib.SMTPResponseException as exc:
        return _by_code(exc.code, tidy(exc.message), smtp, settings)
    except (aiosmtplib.SMTPServerDisconnected, ConnectionError) as exc:
        return Verdict.RETRY, f"the server closed the connection ({tidy(str(exc))})", False
    except aiosmtplib.SMTPTimeoutError as exc:
        return Verdict.RETRY, f"timed out ({tidy(str(exc))})", False
    except aiosmtplib.SMTPException as exc:
        return Verdict.RETRY, tidy(str(exc)), smtp.is_connected
    if recipient in refused:  # a partial refusal returns normally: read it from the result
        answer = refused[recipient]
        return _by_code(answer.code, tidy(answer.message), smtp, settings)
    return Verdict.SENT, f"250 {tidy(reply)}", True


def _by_code(
    code: int, message: str, smtp: aiosmtplib.SMTP, settings: SmtpSettings
) -> tuple[Verdict, str, bool]:
    if code in AUTH_CODES:
        raise SendingPaused(
            f"the mail server {where(settings)} wants a login first: {code} {message}; "
            "check smtp.username and the password"
        )
    reply = f"{code} {message}"
    usable = smtp.is_connected and code != 421
    if 400 <= code < 500:
        return Verdict.RETRY, reply, usable
    if code >= 500:
        return Verdict.FAILED, reply, usable
    return Verdict.RETRY, f"unexpected reply {reply}", usable


async def close(smtp: aiosmtplib.SMTP) -> None:
    """Say QUIT politely (briefly), then drop the connection whatever happens."""
    with contextlib.suppress(Exception):
        if smtp.is_connected:
            async with asyncio.timeout(2):
                await smtp.quit()
    smtp.close()


def unexpected(exc: Exception, settings: SmtpSettings, password: SecretStr | None) -> str:
    """The reply kept for an error nobody foresaw: its kind and scrubbed text only."""
    return f"unexpected error: {type(exc).__name__}: {scrub(str(exc), password, settings.username)}"
