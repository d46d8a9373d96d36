"""Work-order numbers: `WO-000123` is order id 123; people may type `123` or `wo-123`."""

from __future__ import annotations

import re

from wo_tui.core.errors import InvalidInput

MAX_ORDER_ID = 2**31 - 1
"""The largest id the integer primary key holds on every supported database (events and
the other tables have the same integer keys)."""

_NUMBER = re.compile(r"^\s*(?:WO-?)?0*(\d{1,12})\s*$", re.IGNORECASE)


def format_number(order_id: int) -> str:
    """The human-friendly number of an order."""
    return f"WO-{order_id:06d}"


def parse_number(text: str) -> int:
    """The order id named by `WO-000123`, `wo-123` or `123`."""
    match = _NUMBER.match(text)
    if not match or int(match.group(1)) == 0:
        raise InvalidInput({"number": f"{text!r} is not a work-order number (e.g. WO-000123)"})
    order_id = int(match.group(1))
    if order_id > MAX_ORDER_ID:
        raise InvalidInput(
            {
                "number": f"{text.strip()!r} is beyond the largest work-order number "
                f"{format_number(MAX_ORDER_ID)}"
            }
        )
    return order_id
