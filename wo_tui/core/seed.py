"""Realistic synthetic data for demos and benchmarks, deterministic for a given seed.

Orders go in through `wo_tui/core/bulk.py` (tuples to the driver on SQLite), their history
rows with one `INSERT ... SELECT` per batch from the orders just made, all in one
transaction; on SQLite a large seed builds the indexes of `work_orders` after its rows
(`_indexes_built_after`). `wo-tui seed --orders 1000000` into a new SQLite file, 2 shared
cores (load average 4-7), side by side with SQLAlchemy's executemany, commits of 20,000
orders and their history rows made in Python: 95-102 s of CPU (172-286 s on the clock)
before, 54-59 s (76-102 s) now. What is left: making the rows in Python ~19 s (mostly
`random`), handing them to SQLite ~8 s, SQLite inserting them ~9 s, building the indexes
~12 s.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import Connection, Insert, func, insert, literal, null, select, text

from wo_tui.core.bulk import insert_rows
from wo_tui.core.context import Context
from wo_tui.core.models import assignees, events, history, work_orders
from wo_tui.core.nmi import nmi_checksum
from wo_tui.core.orders import order_types
from wo_tui.core.statuses import AssigneeKind

FIRST = [
    "Olivia",
    "Jack",
    "Amelia",
    "Noah",
    "Isla",
    "Oliver",
    "Mia",
    "Leo",
    "Ava",
    "William",
    "Grace",
    "Henry",
    "Chloe",
    "Thomas",
    "Ruby",
]
LAST = [
    "Smith",
    "Jones",
    "Williams",
    "Brown",
    "Wilson",
    "Taylor",
    "Nguyen",
    "Johnson",
    "Martin",
    "White",
    "Anderson",
    "Walker",
    "Thompson",
    "Harris",
    "Lee",
    "Ryan",
    "Kelly",
    "Clarke",
]
STREETS = [
    "George St",
    "Pitt St",
    "Elizabeth St",
    "Smith St",
    "High St",
    "Church St",
    "Railway Pde",
    "Victoria Rd",
    "Park Ave",
    "King St",
    "Queen St",
    "Station St",
    "Bridge Rd",
    "Main St",
    "Beach Rd",
]
SUBURBS = [
    ("Newtown", "NSW", "2042"),
    ("Fitzroy", "VIC", "3065"),
    ("Paddington", "QLD", "4064"),
    ("Glenelg", "SA", "5045"),
    ("Fremantle", "WA", "6160"),
    ("Sandy Bay", "TAS", "7005"),
    ("Braddon", "ACT", "2612"),
]
TECHNICIANS = [
    ("Sam Carter", AssigneeKind.INTERNAL, "sam.carter@utility.example"),
    ("Priya Singh", AssigneeKind.INTERNAL, "priya.singh@utility.example"),
    ("Tom Becker", AssigneeKind.INTERNAL, "tom.becker@utility.example"),
    ("Lena Okafor", AssigneeKind.EXTERNAL, "lena@okafor-electrical.example"),
    ("Mick Russo", AssigneeKind.EXTERNAL, "mick@russo-plumbing.example"),
    ("Metering Partner Pty Ltd", AssigneeKind.PARTNER, "dispatch@meterpartner.example"),
]
STATUS_MIX = [("NEW", 30), ("SETUP", 20), ("SENT", 25), ("ON_HOLD", 5)]
CLOSED_MIX = [("COMPLETED", 15), ("CANCELLED", 5)]
SOURCES = {
    "RECONNECT": ("move_in", "payment_received", "manual"),
    "DISCONNECT": ("move_out", "non_payment", "manual"),
    "SPECIAL_READ": ("special_read_request",),
    "FINAL_READ": ("final_read_request", "move_out"),
    "METER_INVESTIGATION": ("meter_investigation_request", "manual"),
}
"""Where orders of each type plausibly come from (the default event rules, or by hand)."""
EVENT_TYPES = ["move_in", "move_out", "special_read_request", "final_read_request"]


def _nmi(rng: random.Random) -> str:
    base = f"{rng.choice('2345678')}{rng.randrange(10**8, 10**9)}"
    return base + str(nmi_checksum(base))


def _mix(weighted: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    """The choices of a mix and their cumulative weights (`random.choices` draws the same
    from these as from the weights, without adding them up on every call)."""
    return [w[0] for w in weighted], list(accumulate(w[1] for w in weighted))


_STATUSES = _mix(STATUS_MIX)
_CLOSED_STATUSES = _mix(CLOSED_MIX)


def seed_technicians(ctx: Context) -> int:
    """Add the demo technicians and partner that are not there yet; returns how many."""
    with ctx.db.write() as conn:
        have = {n.lower() for n in conn.execute(select(assignees.c.name)).scalars()}
        rows = [
            {"name": n, "kind": k.value, "email": e, "phone": None, "active": True}
            for n, k, e in TECHNICIANS
            if n.lower() not in have
        ]
        if rows:
            conn.execute(insert(assignees), rows)
        return len(rows)


def seed_orders(
    ctx: Context, count: int, *, seed: int = 1, closed_share: float = 0.2, batch: int = 20_000
) -> int:
    """Insert `count` orders (open and closed mixed) with a history row each, all in one
    transaction (interrupted, it adds nothing), `batch` orders at a time in memory."""
    rng = random.Random(seed)
    seed_technicians(ctx)
    now = ctx.now()
    today = ctx.today()
    with ctx.db.write() as conn:
        types = list(order_types(conn).values())
        tech_ids = list(conn.execute(select(assignees.c.id).order_by(assignees.c.id)).scalars())
        first_id = (conn.execute(select(func.max(work_orders.c.id))).scalar() or 0) + 1
        last_id = first_id + count
        with _indexes_built_after(conn, count):
            for start in range(first_id, last_id, batch):
                ids = range(start, min(start + batch, last_id))
                orders = [
                    _order(rng, order_id, types, tech_ids, now, today, ctx, closed_share)
                    for order_id in ids
                ]
                insert_rows(conn, work_orders, orders)
                conn.execute(_created_history(ids))
        if conn.dialect.name == "postgresql":
            # The ids were given explicitly: move the id sequence past them.
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('work_orders', 'id'), "
                "(SELECT max(id) FROM work_orders))"
            )
    return count


def _created_history(ids: range) -> Insert:
    """The first history row of each order numbered in `ids`, made from its row."""
    o = work_orders.c
    made = select(
        o.id,
        o.created_at,
        literal("seed"),
        literal("status"),
        null(),
        o.status,
        literal("created"),
        null(),
    ).where(o.id >= ids.start, o.id < ids.stop)
    h = history.c
    columns = [h.work_order_id, h.at, h.actor, h.field, h.old_value, h.new_value, h.reason]
    return insert(history).from_select([*columns, h.batch_id], made.order_by(o.id))


@contextmanager
def _indexes_built_after(conn: Connection, count: int) -> Iterator[None]:
    """SQLite, adding at least as many orders as there are: the indexes of `work_orders`
    are dropped first and made again after (in the same transaction, from their own SQL),
    which SQLite does from sorted keys instead of one B-tree insert per order and index.
    1,000,000 orders into an empty table: ~19 s of CPU (inserts ~9 s, indexes ~10 s)
    instead of ~41 s."""
    if conn.dialect.name != "sqlite" or count == 0 or count < _order_count(conn):
        yield
        return
    indexes = conn.execute(
        text(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = 'work_orders' AND sql IS NOT NULL"
        )
    ).all()
    for name, _ in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _, sql in indexes:
        conn.exec_driver_sql(sql)


def _order_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(work_orders)).scalar_one())


def _order(
    rng: random.Random,
    order_id: int,
    types: list[Any],
    tech_ids: list[int],
    now: datetime,
    today: Any,
    ctx: Context,
    closed_share: float,
) -> dict[str, Any]:
    order_type = rng.choice(types)
    closed = rng.random() < closed_share
    statuses, weights = _CLOSED_STATUSES if closed else _STATUSES
    status = rng.choices(statuses, cum_weights=weights)[0]
    created = now - timedelta(days=rng.randrange(0, 30), minutes=rng.randrange(0, 1440))
    # Due by the SLA from the day it was made, in the utility's zone and business days (as
    # create_order does).
    due = ctx.calendar.add_business_days(ctx.local(created).date(), order_type.sla_business_days)
    suburb, state, postcode = rng.choice(SUBURBS)
    assigned = status in ("SETUP", "SENT") or (status != "NEW" and rng.random() < 0.5)
    scheduled = today + timedelta(days=rng.randrange(-3, 10)) if assigned else None
    window = rng.choice([(8, 12), (12, 16), (9, 17)])
    life_support = rng.random() < 0.02
    return {
        "id": order_id,
        "type_code": order_type.code,
        "priority": int(order_type.default_priority)
        if rng.random() < 0.7
        else rng.choice([1, 2, 3]),
        "status": status,
        "source": rng.choice(SOURCES.get(order_type.code, ("manual",))),
        "account_number": f"{rng.randrange(10**7, 10**8)}",
        "customer_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "site_address": f"{rng.randrange(1, 400)} {rng.choice(STREETS)}, {suburb} {state} "
        f"{postcode}",
        "site_id": _nmi(rng),
        "meter_number": f"M{rng.randrange(10**6, 10**7)}",
        "meter_location": rng.choice(["Front wall", "Garage", "Meter box by gate", None]),
        "created_at": created,
        "created_by": "seed",
        "scheduled_date": scheduled,
        "window_start": time(window[0]) if scheduled else None,
        "window_end": time(window[1]) if scheduled else None,
        "service_time": rng.choice(["any", "business_hours", "after_hours"]),
        "due_date": due,
        "instructions": rng.choice(
            ["Call customer 30 min before arrival.", "Key in lockbox, code with dispatcher.", None]
        ),
        "access_details": rng.choice(["Dog on premises", "Side gate", None]),
        "hazards": rng.choice([None, None, "Asbestos meter board", "Aggressive dog"]),
        "life_support": life_support,
        "assignee_id": rng.choice(tech_ids) if assigned and tech_ids else None,
        "assigned_by": "seed" if assigned else None,
        "assigned_at": created if assigned else None,
        "completed_at": now if status == "COMPLETED" else None,
        "completed_by": "seed" if status == "COMPLETED" else None,
        "outcome": "done" if status == "COMPLETED" else None,
        "cancelled_at": now if status == "CANCELLED" else None,
        "cancelled_by": "seed" if status == "CANCELLED" else None,
        "cancel_reason": "customer_requested" if status == "CANCELLED" else None,
        "hold_note": "No access on first visit" if status == "ON_HOLD" else None,
        "reading_to_follow": False,
        "updated_at": created,
        "updated_by": "seed",
        "version": 1,
    }


def seed_events(ctx: Context, count: int, *, seed: int = 1, batch: int = 20_000) -> int:
    """Add `count` pending billing events (as the billing system would write them), `batch`
    rows per transaction (a large count is never all in memory)."""
    rng = random.Random(seed)
    now = ctx.now()
    made = 0
    while made < count:
        rows = [_event(rng, now, seed, n) for n in range(made, min(count, made + batch))]
        with ctx.db.write() as conn:
            conn.execute(insert(events), rows)
        made += len(rows)
    return made


def _event(rng: random.Random, now: datetime, seed: int, n: int) -> dict[str, Any]:
    suburb, state, postcode = rng.choice(SUBURBS)
    return {
        "event_type": rng.choice(EVENT_TYPES),
        "occurred_at": now - timedelta(minutes=rng.randrange(1, 600)),
        "external_ref": f"BILL-{seed}-{n:07d}-{rng.randrange(10**6)}",
        "account_number": f"{rng.randrange(10**7, 10**8)}",
        "customer_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "site_address": f"{rng.randrange(1, 400)} {rng.choice(STREETS)}, {suburb} "
        f"{state} {postcode}",
        "site_id": _nmi(rng),
        "meter_number": f"M{rng.randrange(10**6, 10**7)}",
        "life_support": rng.random() < 0.02,
    }
