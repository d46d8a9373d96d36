"""The poller's plain check of an event's customer fields against the order model it stands
in for: the same inputs must give the same fields, or the same refusal."""

from __future__ import annotations

import random
from typing import Any

import pytest

from wo_tui.core.drafts import TEXT_LIMITS, OrderFields, validate_fields
from wo_tui.core.errors import InvalidInput
from wo_tui.core.event_rules import CUSTOMER_FIELDS, customer_fields, plain_customer_fields

PLAIN = ("account_number", "customer_name", "site_address", "meter_number")
SPACES = [chr(c) for c in range(0x110000) if chr(c).isspace()]
"""Python's whitespace: pydantic strips all of it but U+001C-U+001F."""
TRICKY = [
    *SPACES,
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\x9b",
    "\r\n",
    "\u200e",
    "\u202e",
    "\u2066",
    "\u061c",
    "\ufeff",
    "\u00e9",
    "\u00fc",
    "\u4e2d",
    "\U0001f600",
    "\ud800",
    "\udfff",
    "\\",
    '"',
]


def model_outcome(data: dict[str, Any]) -> tuple[str, Any]:
    """What the poller did before the plain check: the order model for every event."""
    try:
        draft = validate_fields(OrderFields, data)
    except InvalidInput as exc:
        return ("refused", f"cannot make an order from this event: {exc}")
    return ("ok", draft.model_dump(include=set(CUSTOMER_FIELDS)))


def outcome(data: dict[str, Any]) -> tuple[str, Any]:
    try:
        return ("ok", customer_fields(data))
    except Exception as exc:  # the poller's _Refused
        return ("refused", str(exc))


def check(data: dict[str, Any]) -> bool:
    """Assert both ways agree; returns whether the plain check decided alone."""
    expected = model_outcome(data)
    plain = plain_customer_fields(data)
    if plain is not None:
        assert ("ok", plain) == expected, data
        assert list(plain) == list(expected[1]), "the same keys in the same order"
    assert outcome(data) == expected, data
    return plain is not None


def padded(field: str, extra: int, pad: str = "") -> str:
    return pad + "x" * (TEXT_LIMITS[field] + extra) + pad


CASES: list[dict[str, Any]] = [
    {},
    {
        "account_number": "ACC00001",
        "customer_name": "Customer 1",
        "site_address": "1 Example St, Springfield VIC 3000",
        "meter_number": "M000001",
    },
    {"customer_name": "José Müller-Łukasiewicz 中文 😀"},
    {"customer_name": "Jo \x1b]52;c;aGk=\x07Citizen\u202e", "site_address": "1 A St\r\nX"},
    {"customer_name": "   "},
    {"customer_name": "\x1c a \x1f"},
    {"customer_name": "\x1c\x1d\x1e\x1f"},
    {"customer_name": "\u3000 name \u2028"},
    {"customer_name": "a\x00b"},
    {"customer_name": "x\ud800"},
    {"customer_name": b"  bytes  "},
    {"customer_name": 12345},
    {"customer_name": None},
    {"customer_name": ""},
    {"customer_name": ["a list"]},
    {"site_id": "4100000001"},
    {"site_id": "41000000019"},
    {"bogus": "x"},
    {"priority": "high"},
    *({f: padded(f, 0)} for f in PLAIN),
    *({f: padded(f, 1)} for f in PLAIN),
    *({f: padded(f, 0, pad=" \t\u3000")} for f in PLAIN),
    *({f: padded(f, 0, pad="\x1c")} for f in PLAIN),
    *({f: padded(f, -1) + "\x1b\x07"} for f in PLAIN),
    *({f: padded(f, 1, pad=" ")} for f in PLAIN),
    {"customer_name": padded("customer_name", 5), "site_address": padded("site_address", 5)},
]


@pytest.mark.parametrize("data", CASES, ids=range(len(CASES)))
def test_the_plain_check_agrees_with_the_model(data: dict[str, Any]) -> None:
    check(data)


def test_the_plain_check_decides_ordinary_events_alone() -> None:
    assert check(CASES[1]) and check(CASES[2]) and check(CASES[3]) and check({})
    assert not check({"customer_name": padded("customer_name", 1)})  # the model words it


def test_random_text_gets_the_same_answer_both_ways() -> None:
    rng = random.Random(20261126)
    alphabet = TRICKY + list("abcXYZ 019-,.'")
    plain = 0
    for _ in range(3000):
        data: dict[str, Any] = {}
        for field in rng.sample(PLAIN, rng.randint(0, 4)):
            limit = TEXT_LIMITS[field]
            size = rng.choice([rng.randint(0, 12), rng.randint(limit - 3, limit + 3)])
            data[field] = "".join(rng.choice(alphabet) for _ in range(size))
        plain += check(data)
    assert plain > 1000  # most of them were decided without the model
