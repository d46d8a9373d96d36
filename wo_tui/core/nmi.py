"""Australian NMI (National Metering Identifier) check digits, per AEMO's NMI checksum.

An NMI is 10 characters (digits and uppercase letters except O and I), optionally followed
by one checksum digit. The checksum walks the 10 characters from the right, takes each
character's ASCII code, doubles every other one starting with the rightmost, adds up the
decimal digits of all results, and is (10 - total % 10) % 10.
"""

from __future__ import annotations

import re

__all__ = ["check_site_id", "looks_like_nmi", "nmi_checksum"]

_NMI10 = re.compile(r"[A-HJ-NP-Z0-9]{10}")
_NMI11 = re.compile(r"[A-HJ-NP-Z0-9]{10}[0-9]")


def _normalise(site_id: str) -> str:
    """Uppercase and drop all whitespace (people type NMIs in groups)."""
    return "".join(site_id.split()).upper()


def nmi_checksum(nmi10: str) -> int:
    """Return the AEMO check digit (0-9) for a 10-character NMI."""
    nmi = _normalise(nmi10)
    if not _NMI10.fullmatch(nmi):
        raise ValueError(f"not a 10-character NMI: {nmi10!r}")
    total = 0
    for i, ch in enumerate(reversed(nmi)):
        value = ord(ch) * 2 if i % 2 == 0 else ord(ch)
        while value:
            total += value % 10
            value //= 10
    return (10 - total % 10) % 10


def looks_like_nmi(site_id: str) -> bool:
    """Return True if the site id has the shape of an NMI with its check digit (11 chars)."""
    return _NMI11.fullmatch(_normalise(site_id)) is not None


def check_site_id(site_id: str) -> str | None:
    """Return an error message if the site id looks like an NMI but its check digit is wrong."""
    if not looks_like_nmi(site_id):
        return None
    nmi = _normalise(site_id)
    expected = nmi_checksum(nmi[:10])
    if int(nmi[10]) == expected:
        return None
    return f"NMI check digit should be {expected}, not {nmi[10]} (NMI {nmi[:10]})"
