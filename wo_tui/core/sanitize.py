"""Make untrusted text safe to store and to show on a terminal (docs/guarantees.md).

Removes C0 controls, DEL, C1 controls and Unicode bidi overrides/isolates/marks, so no
escape sequence (CSI, OSC, DCS, ...) from data can reach the terminal: without ESC, BEL
and the C1 introducers what is left of a sequence is plain printable text.

Line breaks: in single-line mode tab, CR, LF, VT, FF, NEL, U+2028 and U+2029 become a
space; in multiline mode tab and LF are kept, CRLF and lone CR become LF, and NEL,
U+2028 and U+2029 become LF (VT and FF become a space in both modes).

Pure Python, no Textual/Rich import: used at ingestion and at display.
"""

from __future__ import annotations

import re

__all__ = ["REMOVED_CHARS", "clean_text", "has_line_break"]

_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]

#: Every character that never survives `clean_text` (in either mode).
REMOVED_CHARS: frozenset[str] = frozenset(
    [chr(c) for c in range(0x00, 0x0A)]  # C0 up to (not incl.) LF; tab handled below
    + [chr(c) for c in range(0x0B, 0x20)]
    + [chr(c) for c in range(0x7F, 0xA0)]  # DEL and C1 (incl. NEL \x85)
    + [chr(c) for c in _BIDI]
    + ["\u2028", "\u2029"]
) - {"\t"}


def _table(multiline: bool) -> dict[int, str | None]:
    """Build the `str.translate` table for one mode."""
    table: dict[int, str | None] = {ord(c): None for c in REMOVED_CHARS}
    newline = "\n" if multiline else " "
    table[ord("\t")] = "\t" if multiline else " "
    table[ord("\n")] = newline
    table[ord("\r")] = newline
    for ch in ("\x85", "\u2028", "\u2029"):
        table[ord(ch)] = newline
    table[0x0B] = " "  # vertical tab
    table[0x0C] = " "  # form feed
    return table


_SINGLE_LINE = _table(multiline=False)
_MULTILINE = _table(multiline=True)

# Everything str.splitlines() splits on, plus nothing else: used to refuse header injection.
_LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """Strip control, C1 and bidi-override characters; normalise line breaks per mode."""
    return value.replace("\r\n", "\n").translate(_MULTILINE if multiline else _SINGLE_LINE)


def has_line_break(value: str) -> bool:
    """Return True if the value contains any line break (CR, LF, VT, FF, NEL, U+2028/9...)."""
    return _LINE_BREAK.search(value) is not None
