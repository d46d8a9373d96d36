"""The poller's bulk inserts (`wo_tui.core.bulk`) store exactly what SQLAlchemy's own
insert stores, down to the driver's values (SQLite: a time's text, a boolean's 0/1), on both
databases; its marks on the events keep their guard."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Connection, Integer, MetaData, Table, insert, select, update

from wo_tui.core.bulk import insert_rows
from wo_tui.core.context import Context
from wo_tui.core.event_rules import EventPlan
from wo_tui.core.event_settings import EventsSettings
from wo_tui.core.models import events
from wo_tui.core.poller import _mark_events

from conftest import NOW

TEXTS = ["plain", "", "José Müller 中文 😀", 'it\'s "quoted" \\ back', "tab\there", "x" * 400]


def event_row(n: int, **changes: Any) -> dict[str, Any]:
    """An events row with every column but id given, varied by n."""
    row = {
        "event_type": "move_in",
        "occurred_at": NOW + timedelta(microseconds=n * 1_234_567),
        "external_ref": f"REF-{n}",
        "account_number": f"A{n}" if n % 3 else None,
        "customer_name": TEXTS[n % len(TEXTS)][:200],
        "site_address": TEXTS[(n + 1) % len(TEXTS)],
        "site_id": None,
        "meter_number": str(n),
        "life_support": n % 2 == 0,
        "payload": f'{{"n": {n}}}' if n % 4 else None,
        "status": "pending",
        "attempts": n * 1_000_003,
        "last_error": None,
        "next_attempt_at": None if n % 5 else datetime(2026, 1, 2, 3, 4, 5, 6),
        "received_at": NOW,
        "processed_at": None,
        "work_order_id": None,
    }
    return row | changes


def stored(conn: Connection, refs: list[str]) -> list[tuple[Any, ...]]:
    """The rows as the driver hands them back (no SQLAlchemy type processing), without
    their id and reference, in the order of `refs`."""
    names = [c.name for c in events.columns if c.name not in ("id", "external_ref")]
    sql = f"SELECT external_ref, {', '.join(names)} FROM events"
    found = {row[0]: tuple(row[1:]) for row in conn.exec_driver_sql(sql)}
    return [found[ref] for ref in refs]


def twins(n: int, **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same row twice: one for the bulk helper, one for SQLAlchemy."""
    return event_row(n, **changes), event_row(n, external_ref=f"TWIN-{n}", **changes)


def test_inserted_rows_are_stored_as_sqlalchemy_stores_them(ctx: Context) -> None:
    pairs = [twins(n) for n in range(40)]
    with ctx.db.write() as conn:
        returned = insert_rows(conn, events, [a for a, _ in pairs], (events.c.external_ref,))
        conn.execute(insert(events), [b for _, b in pairs])
        assert sorted(r.external_ref for r in returned) == sorted(
            a["external_ref"] for a, _ in pairs
        )
        mine = stored(conn, [a["external_ref"] for a, _ in pairs])
        theirs = stored(conn, [b["external_ref"] for _, b in pairs])
    assert mine == theirs


def test_a_left_out_column_gets_its_default_as_with_sqlalchemy(ctx: Context) -> None:
    pairs = [twins(n) for n in range(5)]
    for a, b in pairs:
        for row in (a, b):
            del row["status"], row["attempts"], row["life_support"]
    with ctx.db.write() as conn:
        insert_rows(conn, events, [a for a, _ in pairs])
        conn.execute(insert(events), [b for _, b in pairs])
        mine = stored(conn, [a["external_ref"] for a, _ in pairs])
        theirs = stored(conn, [b["external_ref"] for _, b in pairs])
    assert mine == theirs


def test_returning_covers_every_row_of_a_large_batch(ctx: Context) -> None:
    """700 rows of 17 values: several INSERT statements of different sizes on SQLite."""
    rows = [event_row(n) for n in range(700)]
    with ctx.db.write() as conn:
        returned = insert_rows(conn, events, rows, (events.c.id, events.c.external_ref))
        in_table = dict(conn.execute(select(events.c.external_ref, events.c.id)).all())
    assert len(returned) == 700
    assert {r.external_ref: r.id for r in returned} == in_table


def test_marking_the_events_leaves_alone_one_no_longer_pending(ctx: Context) -> None:
    """The events' marks are guarded by their status: one that another poller or a person
    changed meanwhile keeps what they wrote."""
    rows = [event_row(n, attempts=n, next_attempt_at=None) for n in range(3)]
    with ctx.db.write() as conn:
        ids = [int(r.id) for r in insert_rows(conn, events, rows, (events.c.id,))]
        ids.sort()
        conn.execute(update(events).where(events.c.id == ids[1]).values(status="dead"))
        claimed = conn.execute(select(events).where(events.c.id.in_(ids)).order_by(events.c.id))
        plans = [EventPlan(dict(row._mapping)) for row in claimed]
        plans[2].error = "bad value é"
        result = _mark_events(conn, ctx, EventsSettings(max_attempts=5), plans, 0)
        after = stored(conn, [r["external_ref"] for r in rows])
    assert (result.processed, result.retried, result.dead) == (2, 1, 0)
    names = [c.name for c in events.columns if c.name not in ("id", "external_ref")]
    marks = [
        {n: row[names.index(n)] for n in ("status", "attempts", "last_error")} for row in after
    ]
    assert marks == [
        {"status": "processed", "attempts": 1, "last_error": None},
        {"status": "dead", "attempts": 1, "last_error": None},  # left alone
        {"status": "pending", "attempts": 3, "last_error": "bad value é"},
    ]
    processed_at, retry_at = names.index("processed_at"), names.index("next_attempt_at")
    assert after[0][processed_at] is not None and after[2][retry_at] is not None


def test_rows_of_nothing_but_nulls_are_all_inserted(ctx: Context) -> None:
    scratch = Table("bulk_scratch", MetaData(), Column("a", Integer), Column("b", Integer))
    with ctx.db.write() as conn:
        scratch.create(conn)
        insert_rows(conn, scratch, [{"a": None, "b": None}] * 3)
        insert_rows(conn, scratch, [{"a": None, "b": 1}, {"a": None, "b": None}])
        assert sorted(conn.execute(select(scratch.c.b)).scalars(), key=str) == [1] + [None] * 4
        scratch.drop(conn)
