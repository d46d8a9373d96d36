"""Values that go into headers and the SMTP envelope, checked before they get there.

The email package and aiosmtplib do not refuse everything that splits a line (aiosmtplib
silently truncated an injected recipient; docs/guarantees.md), so any line break or control
character in a header value refuses the email with a clear error instead. Addresses are
checked by the one address check, `wo_tui.core.addresses`.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from wo_tui.core.addresses import NotAnAddress, mailbox, plain_address
from wo_tui.core.sanitize import clean_text
from wo_tui.mail.errors import MessageRefused

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_control(ch: str) -> bool:
    # Cc: C0, DEL and C1 (NEL among them); Zl/Zp: U+2028, U+2029; and bidi overrides.
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI


_CONTROL = re.compile(rf"[\x00-\x1f\x7f-\x9f\u2028\u2029{''.join(sorted(_BIDI))}]")
"""The characters of `_is_control` as one class (Cc is exactly U+0000-U+001F and
U+007F-U+009F; Zl is U+2028 alone, Zp U+2029 alone): finds one without a loop in Python."""


def header_value(value: str, what: str) -> str:
    """`value` unchanged if it is safe in a header, else MessageRefused naming `what`."""
    if _CONTROL.search(value) is None:
        return value
    bad = sorted({f"U+{ord(ch):04X}" for ch in value if _is_control(ch)})
    if bad:
        raise MessageRefused(
            f"{what} contains a line break or control character ({', '.join(bad)}); "
            f"the email was not sent; correct the order and resend it"
        )
    return value


def recipient_address(address: str) -> str:
    """One plain address (no display name, no comment, no second address), or
    MessageRefused."""
    header_value(address, "the recipient's address")
    try:
        return plain_address(address)
    except NotAnAddress as exc:
        raise MessageRefused(
            f"{clean_text(address)!r} is not a single plain email address: {exc}; correct the "
            "technician's email and resend"
        ) from None


@functools.lru_cache(maxsize=16)
def sender_address(from_address: str) -> str:
    """The bare address of the configured From (which may carry a display name); remembered
    per value (a refusal is not: it raises every time)."""
    header_value(from_address, "smtp.from_address")
    try:
        return mailbox(from_address)[1]
    except NotAnAddress as exc:
        raise MessageRefused(f"smtp.from_address is not an email address: {exc}") from None


def mail_domain(from_address: str) -> str:
    """The domain of the sender's address (the right-hand side of calendar UIDs)."""
    return sender_address(from_address).rpartition("@")[2].lower()
