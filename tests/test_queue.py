"""The open queue (`wo_tui.core.queue`): keyset windows in every sort order, the filter
language, bucket counts, and (on SQLite) that the hot queries use the partial indexes.

The queue only reads, so one seeded database serves the whole module."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from wo_tui.core import queue, schema
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import connect, sqlite_url_for
from wo_tui.core.errors import InvalidInput
from wo_tui.core.models import assignees, work_orders
from wo_tui.core.orders import create_order
from wo_tui.core.queue import SORT_KEYS, QueueFilter, QueueRow, SortOrder, parse_filter
from wo_tui.core.seed import seed_orders
from wo_tui.core.statuses import OPEN_STATUSES, Priority, WorkOrderStatus

from conftest import NOW, PG_URL, drop_postgres_database, new_postgres_database, statements_sent

# SQLAlchemy deprecations (e.g. an empty and_()) become errors here: they break on upgrade.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SADeprecationWarning")

TODAY = NOW.date()
OPEN = {s.value for s in OPEN_STATUSES}

# Orders whose text holds LIKE wildcards, and look-alikes a wildcard would also match.
SPECIAL = [
    ("100% Pure Water Co", "7 Percent Pl"),
    ("100X Pure Water Co", "8 Lookalike Pl"),
    ("A_B Plumbing", "9 Under Score St"),
    ("AxB Plumbing", "10 Lookalike Pl"),
    ("Back\\slash Pty", "11 Escape Rd"),
    (None, "12 Nameless Rd"),  # no customer name: sorts as ""
]


@dataclass(frozen=True)
class QueueData:
    ctx: Context
    rows: list[dict[str, Any]]
    """Every order with its assignee's name, as stored."""
    special: dict[str, int]
    """customer name (or address) → id of the SPECIAL orders."""


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueueData]:
    url = (
        new_postgres_database()
        if PG_URL
        else sqlite_url_for(tmp_path_factory.mktemp("queue") / "queue.db")
    )
    db = connect(url)
    try:
        schema.upgrade(db)
        ctx = Context(db, "dispatcher-a", clock=fixed_clock(NOW))
        seed_orders(ctx, 150, seed=11)
        special = {
            (name or address): create_order(
                ctx, {"type_code": "MISC", "customer_name": name, "site_address": address}
            )
            for name, address in SPECIAL
        }
        with db.write() as conn:
            crew = conn.execute(
                insert(assignees).returning(assignees.c.id),
                [
                    {"name": "Ops_Team 50%", "kind": "partner", "email": "ops@x.example"},
                    {"name": "OpsXTeam 50X", "kind": "partner", "email": "opsx@x.example"},
                ],
            ).scalars()
            for tech, order_id in zip(crew, list(special.values())[:2], strict=True):
                conn.execute(
                    update(work_orders)
                    .where(work_orders.c.id == order_id)
                    .values(assignee_id=tech, status="SETUP")
                )
            # make sure "due today" and the edges of the sort keys are represented
            conn.execute(
                update(work_orders)
                .where(work_orders.c.id.in_(list(special.values())[2:4]))
                .values(due_date=TODAY, scheduled_date=TODAY + timedelta(days=1))
            )
        with db.read() as conn:
            query = (
                select(work_orders, assignees.c.name.label("assignee_name"))
                .outerjoin(assignees, assignees.c.id == work_orders.c.assignee_id)
                .order_by(work_orders.c.id)
            )
            rows = [dict(r) for r in conn.execute(query).mappings()]
        yield QueueData(ctx, rows, special)
    finally:
        db.dispose()
        if PG_URL:
            drop_postgres_database(url)


# --- helpers -----------------------------------------------------------------------------


def py_match(row: dict[str, Any], flt: QueueFilter) -> bool:
    """The filter's meaning, computed in Python from a stored row."""
    is_open = row["status"] in OPEN
    if not flt.include_closed and not is_open:
        return False
    if flt.statuses and row["status"] not in {s.value for s in flt.statuses}:
        return False
    if flt.types and row["type_code"] not in flt.types:
        return False
    if flt.priorities and row["priority"] not in {int(p) for p in flt.priorities}:
        return False
    if flt.assignee and flt.assignee.lower() not in (row["assignee_name"] or "\0").lower():
        return False
    if flt.overdue and not (is_open and row["due_date"] < TODAY):
        return False
    if flt.due_today and row["due_date"] != TODAY:
        return False
    for word in flt.text.split():
        fields = ("customer_name", "site_address", "site_id", "meter_number", "account_number")
        texts = [(row[f] or "").lower() for f in fields]
        number = re.fullmatch(r"(?:wo-?)?(\d+)", word, re.IGNORECASE)
        by_number = number is not None and int(number[1]) == row["id"]
        if not by_number and not any(word.lower() in t for t in texts):
            return False
    return True


def expected_ids(data: QueueData, flt: QueueFilter) -> list[int]:
    return sorted(r["id"] for r in data.rows if py_match(r, flt))


def big_order(data: QueueData, flt: QueueFilter, sort: SortOrder) -> list[int]:
    """The whole result in one ORDER BY (no windows), written independently of the queue's
    statement builder."""
    keys = SORT_KEYS[sort.column]
    wanted = set(expected_ids(data, flt))
    query = (
        select(work_orders.c.id)
        .select_from(work_orders)
        .outerjoin(assignees, assignees.c.id == work_orders.c.assignee_id)
        .order_by(*[k.desc() if sort.descending else k.asc() for k in keys])
    )
    with data.ctx.db.read() as conn:
        return [i for i in conn.execute(query).scalars() if i in wanted]


def walk_forward(data: QueueData, flt: QueueFilter, sort: SortOrder, size: int = 7) -> list[int]:
    seen: list[int] = []
    with data.ctx.db.read() as conn:
        window = queue.fetch_window(conn, flt, sort, TODAY, limit=size)
        assert not window.has_before
        while True:
            assert len(window.rows) <= size
            seen += [r.id for r in window.rows]
            if not window.has_after:
                break
            assert len(window.rows) == size
            window = queue.fetch_window(
                conn, flt, sort, TODAY, after=sort.key_of(window.rows[-1]), limit=size
            )
            assert window.has_before
    return seen


def walk_backward(data: QueueData, flt: QueueFilter, sort: SortOrder, size: int = 7) -> list[int]:
    seen: list[int] = []
    with data.ctx.db.read() as conn:
        window = queue.fetch_window(conn, flt, sort, TODAY, from_end=True, limit=size)
        assert not window.has_after
        while True:
            assert len(window.rows) <= size
            seen = [r.id for r in window.rows] + seen
            if not window.has_before:
                break
            window = queue.fetch_window(
                conn, flt, sort, TODAY, before=sort.key_of(window.rows[0]), limit=size
            )
            assert window.has_after
    return seen


# --- keyset windows ----------------------------------------------------------------------

WALK_FILTERS = [
    QueueFilter(),
    QueueFilter(include_closed=True),
    parse_filter("pri:1,2 smith"),
]


def test_queue_rows_are_built_by_position_from_the_queue_columns() -> None:
    """A window builds its rows from the columns' positions: both lists keep one order."""
    from dataclasses import fields

    assert [c.key for c in queue.QUEUE_COLUMNS] == [f.name for f in fields(QueueRow)]


def test_the_data_has_what_the_tests_need(data: QueueData) -> None:
    statuses = {r["status"] for r in data.rows}
    assert statuses == OPEN | {"COMPLETED", "CANCELLED"}
    assert any(r["due_date"] < TODAY for r in data.rows)
    assert any(r["due_date"] == TODAY for r in data.rows)
    assert any(r["customer_name"] is None for r in data.rows)
    assert any(r["scheduled_date"] is None for r in data.rows)
    assert any(r["assignee_name"] is None for r in data.rows)
    assert len(expected_ids(data, QueueFilter())) > 100


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("column", list(SORT_KEYS))
def test_windows_walk_every_order_once_in_sort_order(
    data: QueueData, column: str, descending: bool
) -> None:
    sort = SortOrder(column, descending)
    for flt in WALK_FILTERS:
        full = big_order(data, flt, sort)
        assert sorted(full) == expected_ids(data, flt)
        assert walk_forward(data, flt, sort) == full, flt
        assert walk_backward(data, flt, sort) == full, flt
        with data.ctx.db.read() as conn:
            assert queue.matching_ids(conn, flt, TODAY) == sorted(full)
            assert queue.count_matching(conn, flt, TODAY) == len(full)
            last = queue.fetch_window(conn, flt, sort, TODAY, from_end=True, limit=7)
            one_big = queue.fetch_window(conn, flt, sort, TODAY, limit=len(full) + 5)
        assert [r.id for r in last.rows] == full[-7:]
        assert last.has_before == (len(full) > 7) and not last.has_after
        assert [r.id for r in one_big.rows] == full
        assert not one_big.has_after and not one_big.has_before


@pytest.mark.parametrize("column", ["priority", "due", "number", "scheduled"])
def test_sort_keys_agree_with_key_of(data: QueueData, column: str) -> None:
    """For the non-text keys the order can be checked in Python: the database's order is the
    order of `key_of`, so a cursor taken from a row continues right after it."""
    sort = SortOrder(column)
    with data.ctx.db.read() as conn:
        rows = queue.fetch_window(conn, QueueFilter(), sort, TODAY, limit=10_000).rows
    keys = [sort.key_of(r) for r in rows]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_window_edges(data: QueueData) -> None:
    sort = SortOrder()
    full = big_order(data, QueueFilter(), sort)
    with data.ctx.db.read() as conn:
        first = queue.fetch_window(conn, QueueFilter(), sort, TODAY, limit=5)
        assert [r.id for r in first.rows] == full[:5] and first.has_after
        last_key = sort.key_of(
            queue.fetch_window(conn, QueueFilter(), sort, TODAY, from_end=True, limit=1).rows[0]
        )
        beyond = queue.fetch_window(conn, QueueFilter(), sort, TODAY, after=last_key)
        assert beyond.rows == [] and beyond.has_before and not beyond.has_after
        middle = sort.key_of(first.rows[2])
        before = queue.fetch_window(conn, QueueFilter(), sort, TODAY, before=middle, limit=50)
        assert [r.id for r in before.rows] == full[:2]
        assert not before.has_before and before.has_after
        nothing = queue.fetch_window(conn, parse_filter("zzzzzz-no-such"), sort, TODAY)
        assert nothing.rows == [] and not nothing.has_after and not nothing.has_before


def test_queue_rows_carry_what_the_screen_shows(data: QueueData) -> None:
    target = data.special["100% Pure Water Co"]
    with data.ctx.db.read() as conn:
        [row] = queue.fetch_window(conn, parse_filter(f"WO-{target:06d}"), SortOrder(), TODAY).rows
    assert isinstance(row, QueueRow)
    assert row.number == f"WO-{target:06d}"
    assert row.assignee_name == "Ops_Team 50%" and row.status == "SETUP"
    assert row.customer_name == "100% Pure Water Co" and row.version == 1
    assert row.is_overdue(row.due_date + timedelta(days=1))
    assert not row.is_overdue(row.due_date)


def test_unknown_sort_column_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        SortOrder("colour")
    assert "priority" in caught.value.problems["sort"]


# --- filters -----------------------------------------------------------------------------


def test_parse_filter_understands_the_language() -> None:
    flt = parse_filter(
        'tech:"Sam Carter" overdue pri:h,2 type:misc,special_read status:hold,set-up '
        'due:today smith "george st"'
    )
    assert flt.assignee == "Sam Carter"
    assert flt.overdue and flt.due_today
    assert flt.priorities == (Priority.HIGH, Priority.MEDIUM)
    assert flt.types == ("MISC", "SPECIAL_READ")
    assert flt.statuses == (WorkOrderStatus.ON_HOLD, WorkOrderStatus.SETUP)
    assert flt.text == "smith george st"
    assert not flt.include_closed
    assert parse_filter("status:done").include_closed
    assert parse_filter("status:canceled").statuses == (WorkOrderStatus.CANCELLED,)
    assert parse_filter("", include_closed=True).include_closed
    assert parse_filter("") == QueueFilter()


@pytest.mark.parametrize(
    "query", ["colour:red", "due:tomorrow", "status:bogus", "pri:urgent", "Status:nope"]
)
def test_bad_filters_are_refused(query: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter(query)
    assert "filter" in caught.value.problems


def _filters(data: QueueData) -> list[tuple[str, bool]]:
    """Filter strings built from the stored data (so each matches something)."""
    seeded = [r for r in data.rows if r["id"] not in data.special.values()]
    sample = next(r for r in seeded if r["status"] == "NEW")
    gone = next(r for r in seeded if r["status"] == "CANCELLED")
    return [
        ("", False),
        ("", True),
        (sample["customer_name"].split()[1].upper(), False),
        (sample["customer_name"].lower(), True),
        (sample["site_address"].split(",")[1].strip().split()[0], False),  # the suburb
        (sample["site_id"][:7], False),
        (sample["site_id"].lower(), True),
        (sample["meter_number"], False),
        (sample["account_number"][2:], False),
        (f"WO-{sample['id']:06d}", False),
        (str(sample["id"]), False),
        (f"wo-{sample['id']}", True),
        ("status:new,sent", False),
        ("status:hold", False),
        ("status:set-up overdue", False),
        ("status:completed", False),
        (f"status:cancelled {gone['customer_name'].split()[1]}", False),
        ("status:new overdue", True),
        ("status:completed overdue", False),
        ("type:special_read,final_read", False),
        ("pri:high", False),
        ("pri:1,3 type:misc", True),
        ("tech:sam", False),
        ('tech:"priya singh"', True),
        ("overdue", False),
        ("overdue", True),
        ("due:today", False),
        ("due:today", True),
        ("overdue pri:1 smith", False),
        ("%", False),
        ("_", True),
        ("a_b", False),
        ("100%", False),
        ("\\", False),
        ("tech:_", False),
        ("tech:%", False),
        ("12345678901234567890", False),  # longer than any id: text only, no error
        ("41023456789", True),  # NMI-like, beyond a 32-bit id
    ]


def test_filters_match_what_python_computes(data: QueueData) -> None:
    with data.ctx.db.read() as conn:
        for query, include_closed in _filters(data):
            flt = parse_filter(query, include_closed=include_closed)
            want = expected_ids(data, flt)
            where = (query, include_closed)
            assert queue.matching_ids(conn, flt, TODAY) == want, where
            assert queue.count_matching(conn, flt, TODAY) == len(want), where
            assert sorted(queue.matching_versions(conn, flt, TODAY)) == want, where
            window = queue.fetch_window(conn, flt, SortOrder("due"), TODAY, limit=10_000)
            assert sorted(r.id for r in window.rows) == want, where


def test_filters_that_must_match_something_do(data: QueueData) -> None:
    """Guards the test above against passing because everything is empty."""
    empty = {"status:completed overdue", "12345678901234567890", "41023456789"}
    with data.ctx.db.read() as conn:
        for query, include_closed in _filters(data):
            flt = parse_filter(query, include_closed=include_closed)
            found = queue.count_matching(conn, flt, TODAY)
            assert (found == 0) == (query in empty), (query, found)


def test_like_wildcards_are_matched_literally(data: QueueData) -> None:
    special = data.special
    with data.ctx.db.read() as conn:

        def ids(query: str) -> set[int]:
            return set(queue.matching_ids(conn, parse_filter(query), TODAY))

        assert ids("100%") == {special["100% Pure Water Co"]}
        assert ids("0%") == {special["100% Pure Water Co"]}
        assert ids("a_b") == {special["A_B Plumbing"]}
        assert ids("_") == {special["A_B Plumbing"]}
        assert ids("\\") == {special["Back\\slash Pty"]}
        assert ids("k\\s") == {special["Back\\slash Pty"]}
        assert ids("tech:_") == {special["100% Pure Water Co"]}
        assert ids("tech:50%") == {special["100% Pure Water Co"]}
        assert ids("tech:opsxteam") == {special["100X Pure Water Co"]}


def test_overdue_with_closed_orders_keeps_the_status_filter(data: QueueData) -> None:
    """`status:` and `overdue` both restrict the status column; neither may replace the other
    (the two IN lists shared one bind name before the fix)."""
    with data.ctx.db.read() as conn:
        new_overdue = queue.matching_ids(
            conn, parse_filter("status:new overdue", include_closed=True), TODAY
        )
        completed_overdue = queue.count_matching(
            conn, parse_filter("status:completed overdue"), TODAY
        )
    assert new_overdue == sorted(
        r["id"] for r in data.rows if r["status"] == "NEW" and r["due_date"] < TODAY
    )
    assert new_overdue and completed_overdue == 0


def test_with_bucket_narrows_a_filter(data: QueueData) -> None:
    with data.ctx.db.read() as conn:
        counts = queue.count_buckets(conn, TODAY)
        for bucket in queue.BUCKETS:
            flt = QueueFilter().with_bucket(bucket)
            assert queue.count_matching(conn, flt, TODAY) == getattr(counts, bucket), bucket


# --- bucket counts -----------------------------------------------------------------------


def test_bucket_counts_equal_python_counts(data: QueueData) -> None:
    with data.ctx.db.read() as conn:
        counts = queue.count_buckets(conn, TODAY)
    open_rows = [r for r in data.rows if r["status"] in OPEN]
    assert counts == queue.BucketCounts(
        all=len(open_rows),
        new=sum(r["status"] == "NEW" for r in open_rows),
        setup=sum(r["status"] == "SETUP" for r in open_rows),
        sent=sum(r["status"] == "SENT" for r in open_rows),
        on_hold=sum(r["status"] == "ON_HOLD" for r in open_rows),
        overdue=sum(r["due_date"] < TODAY for r in open_rows),
        due_today=sum(r["due_date"] == TODAY for r in open_rows),
    )
    assert counts.all == counts.new + counts.setup + counts.sent + counts.on_hold
    assert min(counts.new, counts.setup, counts.sent, counts.on_hold, counts.overdue) > 0
    assert counts.due_today > 0
    # a day later, today's orders are overdue
    with data.ctx.db.read() as conn:
        tomorrow = queue.count_buckets(conn, TODAY + timedelta(days=1))
    assert tomorrow.overdue == counts.overdue + counts.due_today


# --- query plans (SQLite) ----------------------------------------------------------------
# Here the plan is the point: the queue is fast at 100,000 orders because each read walks one
# index. The tests name the index each read must use and forbid a scan or a sort in a
# temporary B-tree; they do not pin the rest of SQLite's wording.


def _plans(data: QueueData, action: Any) -> list[str]:
    """Run `action(conn)` and return the EXPLAIN QUERY PLAN of every SELECT it issued."""
    with statements_sent(data.ctx.db.engine) as sent, data.ctx.db.read() as conn:
        action(conn)
    seen = [(s, p) for s, p in sent if s.lstrip().upper().startswith("SELECT")]
    plans = []
    with data.ctx.db.read() as conn:
        for statement, params in seen:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            plans.append("\n".join(str(r[-1]) for r in rows))
    return plans


@pytest.mark.skipif(bool(PG_URL), reason="SQLite query plans")
def test_default_windows_walk_the_partial_queue_index(data: QueueData) -> None:
    sort = SortOrder()

    def windows(conn: Any) -> None:
        first = queue.fetch_window(conn, QueueFilter(), sort, TODAY, limit=50)
        queue.fetch_window(conn, QueueFilter(), sort, TODAY, after=sort.key_of(first.rows[-1]))
        queue.fetch_window(conn, QueueFilter(), sort, TODAY, before=sort.key_of(first.rows[-1]))

    plans = _plans(data, windows)
    assert len(plans) == 3
    for plan in plans:
        assert "USING INDEX ix_work_orders_open_queue" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


@pytest.mark.skipif(bool(PG_URL), reason="SQLite query plans")
def test_bucket_counts_use_the_partial_indexes(data: QueueData) -> None:
    [plan] = _plans(data, lambda conn: queue.count_buckets(conn, TODAY))
    for index in ("new", "setup", "sent", "on_hold"):
        assert f"USING INDEX ix_work_orders_{index}\n" in plan + "\n", plan
    assert "USING INDEX ix_work_orders_open_due" in plan, plan  # overdue, due today
    lines = [line for line in plan.splitlines() if "work_orders" in line]
    assert all("USING" in line and "INDEX" in line for line in lines), plan  # no table scan
    assert "TEMP B-TREE" not in plan


def test_today_is_the_fixed_clock() -> None:
    assert date(2026, 11, 26) == TODAY


@pytest.mark.skipif(bool(PG_URL), reason="SQLite query plans")
@pytest.mark.parametrize(("column", "index"), [("customer", "customer"), ("address", "address")])
@pytest.mark.parametrize("descending", [False, True])
def test_name_and_address_windows_seek_their_sort_index(
    data: QueueData, column: str, index: str, descending: bool
) -> None:
    sort = SortOrder(column, descending)

    def windows(conn: Any) -> None:
        first = queue.fetch_window(conn, QueueFilter(), sort, TODAY, limit=50)
        key = sort.key_of(first.rows[-1])
        queue.fetch_window(conn, QueueFilter(), sort, TODAY, after=key)
        queue.fetch_window(conn, QueueFilter(), sort, TODAY, before=key)

    plans = _plans(data, windows)
    assert len(plans) == 3
    for plan in plans:
        assert f"USING INDEX ix_work_orders_{index}_sort" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
    # after= and before= seek to the cursor instead of walking from the start
    assert all("SEARCH work_orders USING INDEX" in plan for plan in plans[1:]), plans


@pytest.mark.skipif(bool(PG_URL), reason="SQLite query plans")
def test_a_type_filter_seeks_the_type_index(data: QueueData) -> None:
    """`type:X` reads its window and count through (type, priority, due date, number), not
    by looking at the type of every open order (a scan of the whole queue when none of the
    type is left open, as right after completing all of them)."""
    flt = QueueFilter(types=("SPECIAL_READ",))

    def reads(conn: Any) -> None:
        first = queue.fetch_window(conn, flt, SortOrder(), TODAY, limit=5)
        queue.fetch_window(conn, flt, SortOrder(), TODAY, after=SortOrder().key_of(first.rows[-1]))
        queue.count_matching(conn, flt, TODAY)

    plans = _plans(data, reads)
    assert len(plans) == 3
    for plan in plans:
        assert "SEARCH work_orders USING INDEX ix_work_orders_type_queue (type_code=?" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
