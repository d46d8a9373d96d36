"""The life-support rule: a disconnection at a life-support site is never completed,
cancelled or sent (assigned) without a person's explicit override reason, which the history
keeps (README.md, "Status changes with reasons"); a billing event never makes one that goes
out as it is (docs/events.md).

The rule is written once, twice over and side by side: `needs_life_support_override` for one
order's values (a dialog, an assignment, an event becoming an order), and
`life_support_disconnection` as SQL, for the statements that change many orders at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, and_
from sqlalchemy.sql.elements import ColumnElement

from wo_tui.core.models import work_orders

DISCONNECT = "DISCONNECT"
"""The work-order type the rule is about."""


def needs_life_support_override(order: Mapping[str, Any] | RowMapping) -> bool:
    """Whether the order (its `type_code` and `life_support` values) is a disconnection at a
    life-support site: closing or sending it needs a person's stated reason."""
    return order["type_code"] == DISCONNECT and bool(order["life_support"])


def life_support_disconnection() -> ColumnElement[bool]:
    """`needs_life_support_override` in SQL, on the `work_orders` row: true or false for
    every order (both columns are NOT NULL)."""
    order = work_orders.c
    return and_(order.type_code == DISCONNECT, order.life_support)
