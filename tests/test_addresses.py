"""The one email address check (wo_tui/core/addresses.py): the addresses it accepts are kept
as typed, a refusal says what is wrong, and a technician's email, the recipient of an email
and the configured From all go through it and say the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wo_tui.config import ConfigError, load_settings
from wo_tui.core.addresses import NotAnAddress, mailbox, plain_address
from wo_tui.core.assignees import add_assignee, check_email
from wo_tui.core.context import Context
from wo_tui.core.errors import InvalidInput
from wo_tui.mail.errors import MessageRefused
from wo_tui.mail.headers import recipient_address, sender_address

VALID = [
    "sam@field.example",
    "wo-tui@localhost",
    "dispatch@corp.local",
    "Sam.Carter+jobs@Field-Ops.Example.COM",
    "o'brien@utility.example",
    "a!#$%&'*+/=?^_`{|}~-z@x.example",
    "1234@10.example",
    "x@a.b.c.d.e.f",
    f"{'l' * 64}@{'d' * 63}.example",
]

REFUSED = {
    "": "it is empty",
    "sam": "it has no @",
    "bob at example": "it contains a space",
    "sam@@field.example": "it has more than one @",
    "sam@field@example": "it has more than one @",
    "Sam <sam@field.example>": "without a name or <>",
    "sam@field.example, evil@attacker.example": "more than one address",
    "sam@field.example;evil@attacker.example": "more than one address",
    "sam@field.example\r\nBcc: evil@attacker.example": "line break or another control",
    "sam@field.example\u2028": "line break or another control",
    "@field.example": "nothing before the @",
    "sam@": "nothing after the @",
    "zoë@field.example": "the part before the @ cannot contain 'ë'",
    '"sam"@field.example': "the part before the @ cannot contain '\"'",
    ".sam@field.example": "a dot cannot start or end the part before the @",
    "sam.@field.example": "a dot cannot start or end the part before the @",
    "sam..carter@field.example": "nor follow another dot",
    "sam@bücher.example": "the domain) cannot contain 'ü'",
    "sam@[192.0.2.1]": "cannot contain '[' ']'",
    "sam@field_ops.example": "cannot contain '_'",
    "sam@field..example": "joined by single dots",
    "sam@field.example.": "joined by single dots",
    "sam@-field.example": "starting and ending with a letter or digit",
    "sam@field-.example": "starting and ending with a letter or digit",
    f"sam@{'d' * 64}.example": "a name in the domain (between dots) is longer than 63",
    f"{'l' * 65}@field.example": "the part before the @ is longer than 64 characters (65)",
    f"sam@{'d.' * 130}example": "it is longer than 254 characters",
}


@pytest.mark.parametrize("address", VALID)
def test_a_plain_address_is_accepted_as_typed(address: str) -> None:
    assert plain_address(address) == address
    assert check_email(f"  {address} ") == address
    assert recipient_address(address) == address
    assert mailbox(address) == ("", address)


ATEXT = "abcxyzABCXYZ0189!#$%&'*+/=?^_`{|}~-"
LABEL = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?", fullmatch=True)


@given(
    local=st.lists(st.text(ATEXT, min_size=1, max_size=8), min_size=1, max_size=4),
    domain=st.lists(LABEL, min_size=1, max_size=4),
)
def test_every_dot_atom_address_is_accepted(local: list[str], domain: list[str]) -> None:
    address = f"{'.'.join(local)}@{'.'.join(domain)}"
    assert plain_address(address) == address


@pytest.mark.parametrize(("address", "reason"), list(REFUSED.items()))
def test_a_refusal_says_what_is_wrong(address: str, reason: str) -> None:
    with pytest.raises(NotAnAddress) as caught:
        plain_address(address)
    assert reason in str(caught.value)
    assert address not in str(caught.value) or not address, "never repeats the value"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("dispatch@wo.example", ("", "dispatch@wo.example")),
        ("  dispatch@wo.example ", ("", "dispatch@wo.example")),
        ("<dispatch@wo.example>", ("", "dispatch@wo.example")),
        ("Dispatch <dispatch@wo.example>", ("Dispatch", "dispatch@wo.example")),
        (
            '"Dispatch, Field Ops" <dispatch@wo.example>',
            ("Dispatch, Field Ops", "dispatch@wo.example"),
        ),
        ("Dispätch Süd <dispatch@wo.example>", ("Dispätch Süd", "dispatch@wo.example")),
        ("=?utf-8?q?Disp=C3=A4tch?= <dispatch@wo.example>", ("Dispätch", "dispatch@wo.example")),
    ],
)
def test_a_from_may_carry_a_display_name(value: str, expected: tuple[str, str]) -> None:
    assert mailbox(value) == expected
    assert sender_address(value) == expected[1]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a@b.example, c@d.example", "more than one address"),
        ("Dispatch, Field Ops <dispatch@wo.example>", "put it in double quotes"),
        ("evil@attacker.example <dispatch@wo.example>", "put it in double quotes"),
        ('Jo "x <dispatch@wo.example>', "put it in double quotes"),
        ("Dispatch <dispatch@wo.example> junk", "nothing after the >"),
        ("A <b> <dispatch@wo.example>", "nothing after the >"),
        ("Dispatch <dispatch wo.example>", "it contains a space"),
        ("Dispatch <zoë@wo.example>", "cannot contain 'ë'"),
        ("Dispatch <>", "it is empty"),
        ("Dispatch\x1b[2J <dispatch@wo.example>", "control character"),
        ("a @b", "it contains a space"),
        ("not-an-address", "it has no @"),
    ],
)
def test_a_bad_from_says_what_is_wrong(value: str, reason: str) -> None:
    with pytest.raises(NotAnAddress) as caught:
        mailbox(value)
    assert reason in str(caught.value)


@pytest.mark.parametrize("address", ["bob at example", "sam@@field.example", "zoë@x.example"])
def test_every_place_gives_the_same_reason(ctx: Context, address: str) -> None:
    with pytest.raises(NotAnAddress) as caught:
        plain_address(address)
    reason = str(caught.value)

    with pytest.raises(InvalidInput) as technician:
        add_assignee(ctx, "Bob", "internal", address)
    assert technician.value.problems == {"email": f"{address!r} is not an email address: {reason}"}

    with pytest.raises(ConfigError) as config:
        load_settings(environ={"WO_TUI_SMTP__FROM_ADDRESS": address})
    (problem,) = config.value.problems
    assert problem.endswith(f"not an email address: {reason}")
    assert address not in problem, "a config error never repeats a value"

    for check in (recipient_address, sender_address):
        with pytest.raises(MessageRefused) as refused:
            check(address)
        assert f"is not an email address: {reason}" in str(refused.value) or (
            f"is not a single plain email address: {reason}" in str(refused.value)
        )
