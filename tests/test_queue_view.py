"""The dashboard's view of the queue (`QueueView`): re-reading around the current rows after
orders left the queue."""

from __future__ import annotations

from sqlalchemy import select

from wo_tui.core.context import Context
from wo_tui.core.models import work_orders
from wo_tui.core.queue import QueueFilter, SortOrder, parse_filter
from wo_tui.core.seed import seed_orders
from wo_tui.core.status_changes import bulk_complete
from wo_tui.tui.queue_view import QueueView

from conftest import statements_sent

OPEN = ("NEW", "SETUP", "SENT", "ON_HOLD")


def queue_ids(ctx: Context, flt_sql: object = None) -> list[int]:
    """The open queue in its default order, read with a query of its own."""
    c = work_orders.c
    query = select(c.id).where(c.status.in_(OPEN)).order_by(c.priority, c.due_date, c.id)
    if flt_sql is not None:
        query = query.where(flt_sql)  # type: ignore[arg-type]
    with ctx.db.read() as conn:
        return list(conn.execute(query).scalars())


def test_a_refresh_after_the_rows_on_screen_closed_shows_the_last_rows_left(
    ctx: Context,
) -> None:
    seed_orders(ctx, 200, seed=11)
    view = QueueView(ctx.db, ctx.today, height=10)
    view.apply(view.read(view.snapshot_request(keep=False)))
    view.load_end()
    ids = queue_ids(ctx)
    assert [r.id for r in view.visible] == ids[-10:]
    # Everything from the first row of the buffer on is completed by someone.
    gone = [r.id for r in view.rows]
    assert bulk_complete(ctx, gone).all_done
    left = [i for i in ids if i not in gone]

    view.apply(view.read(view.snapshot_request(keep=True)))

    assert [r.id for r in view.visible] == left[-10:]
    assert view.current_id == left[-1]  # the cursor stays at the end, on the last row left
    assert view.has_before and not view.has_after
    assert view.total == len(left)
    assert view.first_index + len(view.rows) == len(left)


def test_a_refresh_of_a_filter_that_now_matches_nothing_is_empty(ctx: Context) -> None:
    seed_orders(ctx, 120, seed=12)
    flt = parse_filter("type:special_read")
    view = QueueView(ctx.db, ctx.today, height=8, filter=flt, sort=SortOrder())
    view.apply(view.read(view.snapshot_request(keep=False)))
    view.move(5)
    reads = queue_ids(ctx, work_orders.c.type_code == "SPECIAL_READ")
    bulk_complete(ctx, reads)

    view.apply(view.read(view.snapshot_request(keep=True)))

    assert view.rows == [] and view.total == 0
    assert not view.has_after and not view.has_before
    assert isinstance(view.filter, QueueFilter)


def test_a_jump_to_an_end_reads_one_window_and_the_next_refresh_puts_the_position_right(
    ctx: Context,
) -> None:
    """G and g read the window only (the count of the whole queue cost a third of the key):
    the position at the end comes from the total of the last read, and a refresh corrects it
    when orders came in meanwhile."""
    seed_orders(ctx, 200, seed=13)
    view = QueueView(ctx.db, ctx.today, height=10)
    view.apply(view.read(view.snapshot_request(keep=False)))
    with statements_sent(ctx.db.engine) as sent:
        view.load_end()
        view.load_start()
        view.load_end()
    statements = [statement for statement, _ in sent]
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3
    assert not any("count(" in s.lower() for s in statements)
    ids = queue_ids(ctx)
    assert view.current_id == ids[-1] and view.position == len(ids) - 1

    seed_orders(ctx, 20, seed=14)  # others add orders: some sort before the view
    view.apply(view.read(view.snapshot_request(keep=True)))

    now = queue_ids(ctx)
    assert view.total == len(now)
    assert view.current_id == ids[-1]
    assert view.position == now.index(ids[-1])
