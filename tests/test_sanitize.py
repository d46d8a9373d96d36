"""The terminal sanitizer (docs/guarantees.md): examples and properties."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wo_tui.core.sanitize import REMOVED_CHARS, clean_text, has_line_break

ESC, BEL = "\x1b", "\x07"

# Characters the brief says must never survive, listed independently of the module's table.
MUST_GO = (
    {chr(c) for c in range(0x20)} - {"\t", "\n"}
    | {chr(c) for c in range(0x7F, 0xA0)}
    | {chr(c) for c in range(0x202A, 0x202F)}
    | {chr(c) for c in range(0x2066, 0x206A)}
    | {"\u200e", "\u200f", "\u061c", "\u2028", "\u2029"}
)


def test_removed_table_covers_everything_required() -> None:
    assert MUST_GO <= REMOVED_CHARS
    assert "\t" not in REMOVED_CHARS and "\n" not in REMOVED_CHARS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Smith\x1b]52;c;SGVsbG8=\x07Jr", "Smith]52;c;SGVsbG8=Jr"),  # OSC 52 clipboard write
        ("\x1b]52;c;SGVsbG8=\x1b\\", "]52;c;SGVsbG8=\\"),  # OSC 52 ended by ST
        ("a\x9d52;c;SGVsbG8=\x9cb", "a52;c;SGVsbG8=b"),  # 8-bit OSC / ST
        ("clear\x1b[2Jme", "clear[2Jme"),  # CSI erase display
        ("\x9b2J", "2J"),  # 8-bit CSI
        ("x\x1bP1$r0m\x1b\\y", "xP1$r0m\\y"),  # DCS ... ST
        ("\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\", "]8;;http://evil/\\click]8;;\\"),
        ("user\u202egnp.exe", "usergnp.exe"),  # right-to-left override
        ("a\u2066b\u2069c\u200ed\u200fe\u061cf", "abcdef"),
        ("line\x85next", "line next"),  # NEL
        ("tab\there", "tab here"),
        ("one\ntwo\rthree\r\nfour", "one two three four"),
        ("p\u2028q\u2029r", "p q r"),
        ("del\x7fete\x00nul", "deletenul"),
        ("vt\x0bff\x0c", "vt ff "),
        ("Zoë Ñúñez 山田 Ωμέγα 🙂", "Zoë Ñúñez 山田 Ωμέγα 🙂"),
    ],
)
def test_single_line_examples(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("one\r\ntwo", "one\ntwo"),
        ("one\rtwo", "one\ntwo"),
        ("a\tb\nc", "a\tb\nc"),
        ("a\x85b\u2028c\u2029d", "a\nb\nc\nd"),
        ("note\x1b[31mred\x1b[0m\n", "note[31mred[0m\n"),
        ("\x1b]52;c;SGVsbG8=\x07", "]52;c;SGVsbG8="),
    ],
)
def test_multiline_examples(raw: str, expected: str) -> None:
    assert clean_text(raw, multiline=True) == expected


def test_osc52_leaves_no_esc_or_bel() -> None:
    for multiline in (False, True):
        out = clean_text("\x1b]52;c;SGVsbG8=\x07", multiline=multiline)
        assert ESC not in out and BEL not in out


@pytest.mark.parametrize(
    "value", ["a\rb", "a\nb", "a\x85b", "a\u2028b", "a\u2029b", "a\x0bb", "a\x0cb", "a\r\n"]
)
def test_has_line_break_true(value: str) -> None:
    assert has_line_break(value)


@pytest.mark.parametrize("value", ["", "plain@example.com", "Zoë\tÑ", "a\u2027b", "\x1b[2J"])
def test_has_line_break_false(value: str) -> None:
    assert not has_line_break(value)


@given(st.text())
def test_has_line_break_agrees_with_splitlines(value: str) -> None:
    assert has_line_break(value) == (len(("x" + value + "x").splitlines()) > 1)


# Text biased towards the dangerous characters, mixed with anything else.
dangerous = st.sampled_from(sorted(MUST_GO | {"\t", "\n", "\r\n"}))
mixed_text = st.lists(st.one_of(dangerous, st.characters()), max_size=60).map("".join)


@given(mixed_text, st.booleans())
def test_output_never_contains_removed_characters(value: str, multiline: bool) -> None:
    out = clean_text(value, multiline=multiline)
    assert not set(out) & MUST_GO
    if not multiline:
        assert "\t" not in out and "\n" not in out


@given(mixed_text, st.booleans())
def test_idempotent(value: str, multiline: bool) -> None:
    once = clean_text(value, multiline=multiline)
    assert clean_text(once, multiline=multiline) == once


@given(st.text(alphabet=string.printable.strip() + " "))
def test_printable_ascii_unchanged(value: str) -> None:
    assert clean_text(value) == value
    assert clean_text(value, multiline=True) == value


@given(st.text(alphabet=st.characters(categories=["L", "M", "N", "P", "S", "Zs"])))
def test_ordinary_unicode_unchanged(value: str) -> None:
    assert clean_text(value) == value


@given(st.lists(st.text(alphabet=string.ascii_letters + " "), min_size=1, max_size=8))
def test_multiline_keeps_newlines(lines: list[str]) -> None:
    value = "\n".join(lines)
    assert clean_text(value, multiline=True) == value
    assert clean_text("\r\n".join(lines), multiline=True) == value
