"""A first pass through the core services on the test database."""

from __future__ import annotations

from wo_tui.core import queue
from wo_tui.core.context import Context
from wo_tui.core.orders import create_order, get_order
from wo_tui.core.status_changes import Result, bulk_cancel, bulk_complete, reopen


def test_create_complete_cancel_reopen(ctx: Context) -> None:
    a = create_order(
        ctx, {"type_code": "special_read", "site_address": "1 A St", "meter_number": "M1"}
    )
    b = create_order(ctx, {"type_code": "MISC", "site_address": "2 B St"})
    result = bulk_complete(ctx, [a, b, 999])
    assert [o.result for o in result.outcomes] == [Result.DONE, Result.DONE, Result.SKIPPED]
    with ctx.db.read() as conn:
        assert get_order(conn, a)["reading_to_follow"] is True
        assert get_order(conn, a)["fee_code"] == "FEE_SPECIAL_READ"
        assert get_order(conn, b)["reading_to_follow"] is False
        assert queue.count_buckets(conn, ctx.today()).all == 0
    again = bulk_cancel(ctx, [a], "duplicate")
    assert again.outcomes[0].result is Result.SKIPPED
    back = reopen(ctx, [a], "completed by mistake")
    assert back.all_done
    with ctx.db.read() as conn:
        row = get_order(conn, a)
        assert row["status"] == "NEW" and row["version"] == 3 and row["reading"] is None
        assert queue.count_buckets(conn, ctx.today()).new == 1
