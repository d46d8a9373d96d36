"""Keeping database passwords out of everything wo-tui prints.

`printable_url` is the one way a database URL is shown (error messages, `config check`,
`db upgrade`, `db current`, `seed`): the password of its user-info (`user:PASSWORD@host`) and
the value of every query parameter whose name contains "pass", "secret", "token" or "key"
(`password`, `sslpassword`, `passfile`, `sslkey`, `auth_token`, ...) become `***`. The URL is
cut up as SQLAlchemy cuts it, so what is masked is exactly what the driver gets as a password.

A driver's error text can quote parts of its connection string, so `scrub` replaces every
secret wo-tui knows of (plain, %-encoded or base64) in a text before it is printed. The
secrets are made known (`remember`) when the settings are loaded and when a `Database` is
made, before any connection can fail.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote, unquote_plus

MASK = "***"
SECRET_WORDS = ("pass", "secret", "token", "key")
"""A query parameter whose name contains one of these (in any case) carries a secret."""

# SQLAlchemy's own reading of the user-info (`sqlalchemy.engine.url._parse_url`): the user
# name runs to the first ':' or '/', the password to the first '@'.
_USER_INFO = re.compile(r"(?P<head>[\w+]+://[^:/]*):(?P<password>[^@]*)@")

_known: set[str] = set()
_known_lock = threading.Lock()


def is_secret_parameter(name: str) -> bool:
    """Whether a URL query parameter of this name carries a secret."""
    lowered = unquote_plus(name).lower()
    return any(word in lowered for word in SECRET_WORDS)


def printable_url(url: str) -> str:
    """`url` fit to print: `redact_url`, then `scrub` (a known secret can also sit in a
    part that is no password, e.g. a host name typed into the wrong field)."""
    return scrub(redact_url(url))


def redact_url(url: str) -> str:
    """`url` fit to print: its password and secret query values replaced by `***`. A file
    path (no `://`) is returned as it is."""
    if "://" not in url:
        return url
    found = _USER_INFO.match(url)
    if found:
        url = f"{found.group('head')}:{MASK}@{url[found.end() :]}"
    base, question, query = url.partition("?")
    if not question:
        return url
    return f"{base}?{'&'.join(_masked(param) for param in query.split('&'))}"


def _masked(param: str) -> str:
    name, equals, _value = param.partition("=")
    return f"{name}={MASK}" if equals and is_secret_parameter(name) else param


def url_secrets(url: str) -> set[str]:
    """The secrets written in `url` (what `redact_url` masks), as written and decoded."""
    if "://" not in url:
        return set()
    found = _USER_INFO.match(url)
    secrets: set[str] = set()
    rest = url
    if found:
        secrets |= {found.group("password"), unquote(found.group("password"))}
        rest = url[found.end() :]
    for param in rest.partition("?")[2].split("&"):
        name, equals, value = param.partition("=")
        if equals and is_secret_parameter(name):
            secrets |= {value, unquote_plus(value)}
    return {secret for secret in secrets if secret}


def remember(secrets: Iterable[str]) -> None:
    """Make `secrets` known to `scrub` for the rest of the process."""
    with _known_lock:
        _known.update(secret for secret in secrets if secret)


def scrub(text: str) -> str:
    """`text` with every known secret, in any of its printable forms, replaced by `***`."""
    with _known_lock:
        secrets = tuple(_known)
    forms = {form for secret in secrets for form in _forms(secret)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def _forms(secret: str) -> set[str]:
    """How a secret may appear in a text: as it is, %-encoded (as in a URL) or base64."""
    return {
        secret,
        quote(secret),
        quote(secret, safe=""),
        quote_plus(secret),
        base64.b64encode(secret.encode()).decode(),
    }


def explain(exc: BaseException) -> str:
    """An exception as one short line for stderr, a log or a notification: its type and the
    first line of its text, without any database password (a driver's error can quote its
    connection string)."""
    lines = scrub(str(exc)).splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__
