"""The life-support rule is written once, side by side: for one order's values
(`needs_life_support_override`) and as SQL (`life_support_disconnection`); everything else
asks it. What the rule does (a bulk close skips such an order, an assignment needs an
override, an event makes it held) is tested where it happens (test_bulk, test_assignment,
test_poller)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from wo_tui.core.context import Context
from wo_tui.core.life_support import life_support_disconnection, needs_life_support_override
from wo_tui.core.models import work_orders
from wo_tui.core.orders import create_order

PACKAGE = Path(__file__).resolve().parents[1] / "wo_tui"


def test_the_rule_for_one_order_and_the_rule_in_sql_pick_the_same_orders(ctx: Context) -> None:
    made = {}
    for type_code in ("DISCONNECT", "RECONNECT", "MISC"):
        for life_support in (True, False):
            values = {"type_code": type_code, "life_support": life_support}
            made[create_order(ctx, {**values, "site_address": "1 A St", "account_number": "A"})] = (
                values
            )
    with ctx.db.read() as conn:
        rows = conn.execute(select(work_orders)).mappings().all()
        in_sql = set(conn.execute(select(work_orders.c.id).where(life_support_disconnection())))
    one_by_one = {row["id"] for row in rows if needs_life_support_override(row)}
    assert {order_id for (order_id,) in in_sql} == one_by_one
    assert [made[i] for i in one_by_one] == [{"type_code": "DISCONNECT", "life_support": True}]


def test_no_module_spells_the_life_support_rule_out_again() -> None:
    """Only `core/life_support.py` says what a life-support disconnection is; everywhere
    else asks it (a line naming both the type and the flag would be a second copy)."""
    copies = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "life_support.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "DISCONNECT" in line and re.search(r"life_support\b", line)
    ]
    assert copies == []
