"""MIME parts built with `EmailMessage` (default policy) and whole header values.

The content manager's `set_content`/`add_attachment` re-parse the Content-Type header once
per parameter they set, which made building an email cost several milliseconds; here each
header is set once, whole, and the payload is encoded directly: the same structure, several
times faster. Header values that are the same in every email (content types, encodings) are
parsed once and shared: the default policy stores a ready header object as it is. None of the
values set in this module comes from order data.
"""

from __future__ import annotations

import base64
import functools
import secrets
from email import policy, quoprimime
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from typing import Any

BOUNDARY = f"=_wo_{secrets.token_hex(12)}"
"""One boundary per process. It starts with '=_', which quoted-printable (it writes '=' as
'=3D') and base64 (no '_', '=' only as final padding) can never produce, so no part can
contain it; the level is appended to keep nested containers apart."""


class _RememberingRegistry(HeaderRegistry):
    """The default header registry, remembering the class it makes for each header name
    (CPython's builds a new class on every lookup, twice per header set)."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


MAIL_POLICY = policy.default.clone(header_factory=_RememberingRegistry())
"""`email.policy.default` in every respect (same header classes, parsing, validation and
folding); only the registry's class lookups are remembered."""


def new_message() -> EmailMessage:
    """An empty message under the default policy (see MAIL_POLICY)."""
    return EmailMessage(policy=MAIL_POLICY)


@functools.cache
def fixed_header(name: str, value: str) -> Any:
    """A parsed header for a value used in every email (parsed once per process)."""
    return MAIL_POLICY.header_factory(name, value)


def text_part(subtype: str, text: str) -> EmailMessage:
    """A text/plain or text/html part in UTF-8, quoted-printable (7-bit clean)."""
    part = new_message()
    part["Content-Type"] = fixed_header("Content-Type", f'text/{subtype}; charset="utf-8"')
    part["Content-Transfer-Encoding"] = fixed_header(
        "Content-Transfer-Encoding", "quoted-printable"
    )
    # body_encode works on octets given as latin-1 characters: UTF-8 bytes → =XX escapes.
    part.set_payload(quoprimime.body_encode(text.encode("utf-8").decode("latin-1"), 76))
    return part


def attachment(content_type: str, data: bytes, filename: str) -> EmailMessage:
    """An attachment in base64 (keeps e.g. a calendar's CRLF line ends byte for byte)."""
    part = new_message()
    part["Content-Type"] = fixed_header("Content-Type", content_type)
    part["Content-Transfer-Encoding"] = fixed_header("Content-Transfer-Encoding", "base64")
    part["Content-Disposition"] = f'attachment; filename="{filename}"'
    part.set_payload(base64.encodebytes(data).decode("ascii"))
    return part


def multipart(
    subtype: str, parts: list[EmailMessage], headers: dict[str, str] | None = None
) -> EmailMessage:
    """A multipart/<subtype> container of `parts`, with `headers` first (for the top)."""
    container = new_message()
    for name, value in (headers or {}).items():
        container[name] = value
    boundary = f"{BOUNDARY}_{subtype}"
    container["Content-Type"] = fixed_header(
        "Content-Type", f'multipart/{subtype}; boundary="{boundary}"'
    )
    for part in parts:
        container.attach(part)
    return container
