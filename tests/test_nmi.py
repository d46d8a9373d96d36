"""NMI check digits against AEMO's published examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wo_tui.core.nmi import check_site_id, looks_like_nmi, nmi_checksum

# From AEMO's "National Metering Identifier procedure", checksum examples.
AEMO_EXAMPLES = [
    ("2001985732", 8),
    ("2001985733", 6),
    ("3075621875", 8),
    ("3075621876", 6),
    ("4316854005", 9),
    ("6305888444", 6),
    ("6350888444", 2),
    ("7001888333", 8),
    ("7102000001", 7),
    ("NAAAMYS582", 6),
    ("NBBBX11110", 0),
    ("NBBBX11111", 8),
    ("NCCC519495", 5),
    ("NGGG000055", 4),
    ("NDDDXX1234", 6),
]

NMI_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
nmi10s = st.text(alphabet=NMI_CHARS, min_size=10, max_size=10)


def reference_checksum(nmi10: str) -> int:
    """The algorithm as AEMO states it, written independently of the module."""
    total = 0
    double = True
    for ch in reversed(nmi10):
        value = ord(ch) * 2 if double else ord(ch)
        total += sum(int(digit) for digit in str(value))
        double = not double
    return (10 - total % 10) % 10


@pytest.mark.parametrize(("nmi", "digit"), AEMO_EXAMPLES)
def test_aemo_examples(nmi: str, digit: int) -> None:
    assert reference_checksum(nmi) == digit
    assert nmi_checksum(nmi) == digit
    assert check_site_id(f"{nmi}{digit}") is None


def test_worked_example_uses_ascii_codes() -> None:
    # '2' is ASCII 50: the rightmost character is doubled, 50 * 2 = 100 -> digits sum 1.
    assert nmi_checksum("2001985732") == 8


@pytest.mark.parametrize(
    "bad", ["", "123", "20019857321", "2001985 73", "200198573O", "I001985732"]
)
def test_checksum_refuses_non_nmis(bad: str) -> None:
    with pytest.raises(ValueError):
        nmi_checksum(bad)


def test_lowercase_is_uppercased() -> None:
    assert nmi_checksum("naaamys582") == 6
    assert looks_like_nmi("naaamys5826")
    assert check_site_id("naaamys5826") is None


def test_wrong_check_digit_message() -> None:
    assert check_site_id("20019857323") == "NMI check digit should be 8, not 3 (NMI 2001985732)"


def test_spaces_are_ignored() -> None:
    assert looks_like_nmi(" 2001 985 732 8 ")
    assert check_site_id(" 2001 985 732 8 ") is None
    assert check_site_id("2001 985 732 3") is not None


@pytest.mark.parametrize(
    "site_id",
    [
        "",
        "2001985732",  # no check digit: not judged
        "200198573288",  # 12 characters
        "NAAAMYS582X",  # letter in the check digit position
        "NAAAMYS5O26",  # letter O is not allowed
        "IAAAMYS5826",  # letter I is not allowed
        "SITE-0042",
        "2001-985-7328",
        "٢٠٠١٩٨٥٧٣٢٨",  # non-ASCII digits
    ],
)
def test_not_nmi_shaped(site_id: str) -> None:
    assert not looks_like_nmi(site_id)
    assert check_site_id(site_id) is None


@given(nmi10s)
def test_module_matches_reference(nmi: str) -> None:
    assert nmi_checksum(nmi) == reference_checksum(nmi)


@given(nmi10s, st.integers(min_value=0, max_value=9))
def test_only_the_right_digit_passes(nmi: str, digit: int) -> None:
    expected = nmi_checksum(nmi)
    assert looks_like_nmi(f"{nmi}{digit}")
    message = check_site_id(f"{nmi}{digit}")
    if digit == expected:
        assert message is None
    else:
        assert message == f"NMI check digit should be {expected}, not {digit} (NMI {nmi})"
