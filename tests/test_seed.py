"""`seed_orders`: the same data however it is batched, a history row made from each order,
one transaction, and the schema as it was (on SQLite the indexes of `work_orders` are made
again after a large seed)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import DBAPIError

from wo_tui.core.context import Context
from wo_tui.core.models import history, work_orders
from wo_tui.core.seed import seed_orders


def rows(conn: Connection, table: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]


def indexes(conn: Connection) -> list[tuple[Any, ...]]:
    """Every index of the database and its definition."""
    if conn.dialect.name == "sqlite":
        sql = "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    else:
        sql = "SELECT indexname, tablename, indexdef FROM pg_indexes ORDER BY indexname"
    return [tuple(r) for r in conn.execute(text(sql))]


def test_the_same_seed_gives_the_same_orders_however_they_are_batched(ctx: Context) -> None:
    seed_orders(ctx, 30, seed=8, batch=7)
    with ctx.db.read() as conn:
        batched = rows(conn, work_orders)
    with ctx.db.write() as conn:
        conn.execute(history.delete())
        conn.execute(work_orders.delete())
    seed_orders(ctx, 30, seed=8)
    with ctx.db.read() as conn:
        assert rows(conn, work_orders) == batched
        assert len({r[0] for r in batched}) == 30


def test_each_order_gets_its_first_history_row(ctx: Context) -> None:
    seed_orders(ctx, 25, seed=2, batch=10)
    seed_orders(ctx, 5, seed=3)
    with ctx.db.read() as conn:
        orders = rows(conn, work_orders)
        trail = rows(conn, history)
    c = work_orders.c
    made = [
        (o[c.id.name], o[c.created_at.name], "seed", "status", None, o[c.status.name], "created")
        for o in (dict(zip(work_orders.c.keys(), order, strict=True)) for order in orders)
    ]
    assert [r[1:8] for r in trail] == made
    assert [r[8] for r in trail] == [None] * 30  # batch_id
    assert [r[0] for r in trail] == sorted(r[0] for r in trail)


def test_seeding_keeps_every_index(ctx: Context) -> None:
    with ctx.db.read() as conn:
        before = indexes(conn)
    seed_orders(ctx, 40, seed=1)  # into an empty table: SQLite makes its indexes again
    seed_orders(ctx, 10, seed=2)  # into a larger one: they stay
    with ctx.db.read() as conn:
        assert indexes(conn) == before
        count = conn.execute(select(func.count()).select_from(work_orders)).scalar_one()
    assert count == 50


def test_a_seed_that_fails_adds_nothing(ctx: Context) -> None:
    """The third batch's history is refused by the database: no order of the first two
    stays, and the indexes are back."""
    with ctx.db.write() as conn:
        before = indexes(conn)
        if conn.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER stop BEFORE INSERT ON history WHEN NEW.work_order_id = 25 "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION stop() RETURNS trigger AS $$ BEGIN "
                    "IF NEW.work_order_id = 25 THEN RAISE EXCEPTION 'refused'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER stop BEFORE INSERT ON history "
                    "FOR EACH ROW EXECUTE FUNCTION stop()"
                )
            )
    with pytest.raises(DBAPIError, match="refused"):
        seed_orders(ctx, 40, seed=1, batch=10)
    with ctx.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(work_orders)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(history)).scalar_one() == 0
        assert indexes(conn) == before
