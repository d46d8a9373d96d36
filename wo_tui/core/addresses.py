"""Email addresses: the one check of an address, for a technician's or partner's email, the
recipient of every outbox email and the configured From (`smtp.from_address`).

A plain address is `local@domain` in ASCII, as RFC 5321 lets it into the SMTP envelope: the
part before the @ is letters, digits and ``!#$%&'*+-/=?^_`{|}~`` in dot-separated pieces; the
domain is dot-separated labels of letters, digits and hyphens (a dot is not required:
`wo-tui@localhost` is an address). No display name, no quotes, no comments, nothing after.
Nothing is looked up on the network. A refusal says what is wrong, in words, and never
repeats the value (it may be a mistyped secret in a config file): the caller names it where
that is safe.

Not the `email-validator` package: it refuses the special-use domains `localhost` (our default
From), `.local` (common for a utility's internal relay) and `.test` unless its module-wide
list is changed, and importing it takes 30-60 ms, paid at every start because the settings
check the From.
"""

from __future__ import annotations

import string

__all__ = ["NotAnAddress", "mailbox", "plain_address"]

EXAMPLE = "name@example.com"
_LETTERS_DIGITS = frozenset(string.ascii_letters + string.digits)
_LOCAL_CHARS = _LETTERS_DIGITS | frozenset("!#$%&'*+/=?^_`{|}~.-")
_DOMAIN_CHARS = _LETTERS_DIGITS | frozenset(".-")
_CONTROL = frozenset(chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029])
"""C0, DEL, C1 (NEL among them) and the Unicode line and paragraph separators."""


class NotAnAddress(ValueError):
    """Not one plain email address; the message says why, without the value."""


def _bad_characters(part: str, allowed: frozenset[str]) -> str:
    return " ".join(repr(ch) for ch in dict.fromkeys(part) if ch not in allowed)


def _has_control(value: str) -> bool:
    return not _CONTROL.isdisjoint(value)


def _problem(value: str) -> str | None:
    """What is wrong with `value` as a plain address, or None."""
    if not value:
        return "it is empty"
    if _has_control(value):
        return "it contains a line break or another control character"
    if "<" in value or ">" in value:
        return f"give the address alone, without a name or <> (e.g. {EXAMPLE})"
    if "," in value or ";" in value:
        return "it is more than one address; give one"
    if " " in value:
        return "it contains a space"
    ats = value.count("@")
    if ats != 1:
        return f"it has {'no' if ats == 0 else 'more than one'} @ (expected e.g. {EXAMPLE})"
    if len(value) > 254:
        return f"it is longer than 254 characters ({len(value)})"
    local, _, domain = value.partition("@")
    if not local:
        return "nothing before the @"
    if not domain:
        return "nothing after the @"
    if bad := _bad_characters(local, _LOCAL_CHARS):
        return f"the part before the @ cannot contain {bad}"
    if len(local) > 64:
        return f"the part before the @ is longer than 64 characters ({len(local)})"
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return "a dot cannot start or end the part before the @, nor follow another dot"
    if bad := _bad_characters(domain, _DOMAIN_CHARS):
        return f"the part after the @ (the domain) cannot contain {bad}"
    labels = domain.split(".")
    if not all(labels) or any(label[0] == "-" or label[-1] == "-" for label in labels):
        return (
            "the domain must be names of letters, digits and hyphens joined by single dots, "
            "each starting and ending with a letter or digit"
        )
    if any(len(label) > 63 for label in labels):
        return "a name in the domain (between dots) is longer than 63 characters"
    return None


def plain_address(value: str) -> str:
    """`value` unchanged when it is one plain address (`sam@example.com`), else
    NotAnAddress saying what is wrong."""
    problem = _problem(value)
    if problem is not None:
        raise NotAnAddress(problem)
    return value


def mailbox(value: str) -> tuple[str, str]:
    """A From: one plain address, alone or after a display name (`Dispatch
    <dispatch@example.com>`, `"Dispatch, Field Ops" <dispatch@example.com>`; the name is read
    as the email package reads the header). Returns (display name, address), else
    NotAnAddress."""
    if _has_control(value):
        raise NotAnAddress("it contains a line break or another control character")
    if "<" not in value and ">" not in value:
        return "", plain_address(value.strip())
    before, bracket, rest = value.rpartition("<")
    inside, closing, after = rest.partition(">")
    if not bracket or not closing or after.strip() or "<" in before or ">" in before:
        raise NotAnAddress(f"expected {EXAMPLE} or Name <{EXAMPLE}>, nothing after the >")
    address = plain_address(inside)
    # Imported here: the settings check the From at every start, mostly without a name.
    from email.headerregistry import AddressHeader, HeaderRegistry

    header = HeaderRegistry()("From", value)
    assert isinstance(header, AddressHeader)
    if header.defects or [a.addr_spec for a in header.addresses] != [address]:
        raise NotAnAddress(
            "the name before the <> is not a valid name; put it in double quotes "
            f'(e.g. "Dispatch, Field Ops" <{EXAMPLE}>)'
        )
    return header.addresses[0].display_name, address
