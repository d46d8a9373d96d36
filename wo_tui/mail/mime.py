"""The wire text of an email: headers made and folded by the stdlib's default policy, the MIME
structure around them written directly.

Flattening an `EmailMessage` costs more than a millisecond per email (the generator re-parses
and re-folds every header of every part); here the text is written as
`email.generator.BytesGenerator` writes such a message (CRLF line ends, 7-bit clean), without
the message objects:

- every header goes through `email.policy.default`'s own header classes and folding (parsing,
  RFC 2047 encoding of non-ASCII text, line length): the same code the generator runs. Headers
  whose value repeats (From, To, Date, the content types) are folded once and remembered;
- a folded header is checked once more: no CR, LF or other control character in it except
  the folds (CRLF + space) and its final CRLF (header values are checked before,
  `headers.header_value`; this is the last line of defence against a header split);
- bodies are quoted-printable (`email.quoprimime`, as the `email` package writes them) or
  base64, with CRLF line ends; a part is its headers, a blank line and its body; a multipart
  container is its parts between boundary lines, exactly as the generator frames them;
- the result is encoded as ASCII: a non-ASCII character anywhere fails the email.

tests/test_mail_wire.py parses the result back with the stdlib and compares every header and
part, and compares the bytes with what `EmailMessage.as_bytes` makes of the same message.
"""

from __future__ import annotations

import base64
import functools
import re
import secrets
from email import policy, quoprimime
from email.headerregistry import BaseHeader, HeaderRegistry

BOUNDARY = f"=_wo_{secrets.token_hex(12)}"
"""One boundary per process. It starts with '=_', which quoted-printable (it writes '=' as
'=3D') and base64 (no '_', '=' only as final padding) can never produce, so no part can
contain it; the container's subtype is appended to keep nested containers apart."""

CRLF = "\r\n"


class _RememberingRegistry(HeaderRegistry):
    """The default header registry, remembering the class it makes for each header name
    (CPython's builds a new class on every lookup)."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


WIRE_POLICY = policy.default.clone(
    header_factory=_RememberingRegistry(), linesep=CRLF, cte_type="7bit"
)
"""`email.policy.default` in every respect (same header classes, parsing, validation and
folding) with SMTP's CRLF line ends and 7-bit output, as the sender flattened messages
before; only the registry's class lookups are remembered."""

_FOLD = re.compile(r"\r\n[ \t]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class HeaderSplit(ValueError):
    """A folded header with a line break (not a fold) or another control character: never
    expected, as values are checked before they are folded."""


def header(name: str, value: str) -> str:
    """`Name: value` parsed and folded by the default policy, ending in CRLF."""
    folded: str = WIRE_POLICY.header_factory(name, value).fold(policy=WIRE_POLICY)
    if not folded.endswith(CRLF) or _CONTROL.search(_FOLD.sub("", folded[:-2])):
        raise HeaderSplit(f"the {name} header would contain a line break or control character")
    return folded


@functools.lru_cache(maxsize=1024)
def common_header(name: str, value: str) -> str:
    """`header` for a value that repeats from email to email (folded once per value)."""
    return header(name, value)


_ATOMS = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_PLAIN_MESSAGE_ID = re.compile(f"<{_ATOMS}@{_ATOMS}>")
_PLAIN_FILENAME = re.compile(_ATOMS)


def _as_the_policy_writes(name: str, value: str, plain: bool) -> str:
    """`header(name, value)` without parsing when the value is `plain` (letters, digits,
    hyphens and dots in the places its syntax allows) and the line fits in 78 characters:
    the policy writes such a value as it is (tests compare the two on many values); any
    other value goes through the policy."""
    line = f"{name}: {value}{CRLF}"
    if plain and len(line) <= 80:
        return line
    return header(name, value)


def message_id_header(message_id: str) -> str:
    """The Message-ID header (ours are `<wo-000123.<hex>@<domain>>`)."""
    plain = _PLAIN_MESSAGE_ID.fullmatch(message_id) is not None
    return _as_the_policy_writes("Message-ID", message_id, plain)


def part(headers: str, body: str) -> str:
    """One MIME entity: its folded headers, a blank line, its body."""
    return headers + CRLF + body


def text_part(subtype: str, text: str) -> str:
    """A text/plain or text/html part in UTF-8, quoted-printable (7-bit clean)."""
    headers = common_header("Content-Type", f'text/{subtype}; charset="utf-8"')
    headers += common_header("Content-Transfer-Encoding", "quoted-printable")
    # body_encode works on octets given as latin-1 characters: UTF-8 bytes → =XX escapes.
    # With eol=CRLF its line ends are CRLF throughout (it leaves no other CR or LF).
    body = quoprimime.body_encode(text.encode("utf-8").decode("latin-1"), 76, CRLF)
    return part(headers, body)


def attachment(content_type: str, data: bytes, filename: str) -> str:
    """An attachment in base64 (keeps e.g. a calendar's CRLF line ends byte for byte)."""
    headers = common_header("Content-Type", content_type)
    headers += common_header("Content-Transfer-Encoding", "base64")
    plain = _PLAIN_FILENAME.fullmatch(filename) is not None
    disposition = f'attachment; filename="{filename}"'
    headers += _as_the_policy_writes("Content-Disposition", disposition, plain)
    return part(headers, base64.encodebytes(data).decode("ascii").replace("\n", CRLF))


def multipart(subtype: str, parts: list[str], headers: str = "") -> str:
    """A multipart/<subtype> container of `parts` (each from `part`), with the folded
    `headers` first (for the top)."""
    boundary = f"{BOUNDARY}_{subtype}"
    headers += common_header("Content-Type", f'multipart/{subtype}; boundary="{boundary}"')
    body = f"{CRLF}--{boundary}{CRLF}".join(parts)
    return part(headers, f"--{boundary}{CRLF}{body}{CRLF}--{boundary}--{CRLF}")


def wire_bytes(text: str) -> bytes:
    """The finished email as 7-bit bytes (a non-ASCII character raises UnicodeEncodeError)."""
    return text.encode("ascii")
