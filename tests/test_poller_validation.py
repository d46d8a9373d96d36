"""An event's customer fields against the order model: the poller checks them with the
model's own rules (`drafts.line_field`), and the same text must give the same fields, or the
same refusal, both ways. An event's columns are always text or NULL (`event_rows` makes any
other value a trouble of its event), so only text is compared."""

from __future__ import annotations

import random
from typing import Any

import pytest

from wo_tui.core.drafts import TEXT_LIMITS, OrderFields, validate_fields
from wo_tui.core.errors import InvalidInput
from wo_tui.core.event_rules import CUSTOMER_FIELDS, customer_fields
from wo_tui.core.nmi import nmi_checksum

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
    """What a form or the command line makes of the same fields: the order model."""
    try:
        draft = validate_fields(OrderFields, data)
    except InvalidInput as exc:
        return ("refused", f"cannot make an order from this event: {exc}")
    return ("ok", draft.model_dump(include=set(CUSTOMER_FIELDS)))


def outcome(data: dict[str, Any]) -> tuple[str, Any]:
    """What the poller makes of an event with these fields."""
    try:
        return ("ok", customer_fields({**dict.fromkeys(CUSTOMER_FIELDS), **data}))
    except Exception as exc:  # the poller's _Refused
        return ("refused", str(exc))


def check(data: dict[str, Any]) -> None:
    """Assert both ways agree (fields, their order, or the refusal's words)."""
    expected, got = model_outcome(data), outcome(data)
    assert got == expected, data
    if got[0] == "ok":
        assert list(got[1]) == list(CUSTOMER_FIELDS)


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
    {"customer_name": ""},
    {"site_id": "4100000001"},
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


def test_both_ways_agree_on_a_site_id() -> None:
    """Cleaned, upper case, without spaces; the poller keeps a bad check digit (with a
    warning, tests/test_poller.py) where the model refuses it."""
    good = "6305123456" + str(nmi_checksum("6305123456"))
    for typed in (good, f" {good[:4].lower()} {good[4:]}\t", f"{good[:4]}\u3000{good[4:]}"):
        check({"site_id": typed})
        assert outcome({"site_id": typed})[1]["site_id"] == good
    check({"site_id": "qb0000000"})
    bad = good[:10] + str((int(good[10]) + 1) % 10)
    assert outcome({"site_id": bad})[1]["site_id"] == bad
    assert model_outcome({"site_id": bad})[0] == "refused"


def test_random_text_gets_the_same_answer_both_ways() -> None:
    rng = random.Random(20261126)
    alphabet = [c for c in TRICKY if not "\ud800" <= c <= "\udfff"] + list("abcXYZ 019-,.'")
    refused = 0
    for _ in range(3000):
        data: dict[str, Any] = {}
        for field in rng.sample(PLAIN, rng.randint(0, 4)):
            limit = TEXT_LIMITS[field]
            # Some of the text is removed (controls, bidi marks) or stripped: up to a
            # quarter over the limit is sometimes over it, sometimes not.
            size = rng.choice([rng.randint(0, 12), rng.randint(limit - 3, limit * 5 // 4)])
            data[field] = "".join(rng.choice(alphabet) for _ in range(size))
        check(data)
        refused += model_outcome(data)[0] == "refused"
    assert 20 < refused < 2000  # both answers were compared, each many times
