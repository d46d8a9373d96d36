"""The open queue: filters, sort orders, keyset windows and bucket counts.

Only the rows asked for are ever loaded: a window is `WHERE (sort key) > (last row's key)
ORDER BY sort key LIMIT n`, which for the default order (priority, due date, number) walks the
partial index `ix_work_orders_open_queue`. Status lists are rendered as literals (SQLAlchemy's
expanding IN parameters stop SQLite from matching a partial index).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
    tuple_,
)

from wo_tui.core.models import (
    assignees,
    open_status_clause,
    status_is,
    work_orders,
)
from wo_tui.core.numbers import MAX_ORDER_ID
from wo_tui.core.queue_types import (
    BUCKETS,
    Bucket,
    BucketCounts,
    QueueFilter,
    QueueRow,
    SortOrder,
    Window,
    parse_filter,
)
from wo_tui.core.sql import contains_any_case, id_set
from wo_tui.core.statuses import OPEN_STATUSES

__all__ = [
    "BUCKETS",
    "Bucket",
    "BucketCounts",
    "QueueFilter",
    "QueueRow",
    "SortOrder",
    "Window",
    "parse_filter",
]
"""The plain data of the queue (`queue_types`), here too for the callers that read it."""

QUEUE_COLUMNS = (
    work_orders.c.id,
    work_orders.c.type_code,
    work_orders.c.status,
    work_orders.c.priority,
    work_orders.c.customer_name,
    work_orders.c.site_address,
    work_orders.c.site_id,
    work_orders.c.meter_number,
    work_orders.c.scheduled_date,
    assignees.c.name.label("assignee_name"),
    work_orders.c.due_date,
    work_orders.c.life_support,
    work_orders.c.version,
)
"""The columns of a `QueueRow`, in its fields' order (rows are built by position: by name,
through `.mappings()`, cost a third of a window's time)."""


def _blank_first(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """`coalesce(column, '')` with '' written in the SQL, not bound: the sort indexes
    (models.py) are on exactly this expression, and a parameter would not match them."""
    return func.coalesce(column, literal_column("''"))


SORT_KEYS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "priority": (work_orders.c.priority, work_orders.c.due_date, work_orders.c.id),
    "due": (work_orders.c.due_date, work_orders.c.priority, work_orders.c.id),
    "number": (work_orders.c.id,),
    "status": (work_orders.c.status, work_orders.c.id),
    "type": (work_orders.c.type_code, work_orders.c.id),
    # '' as a literal, not a parameter: the sort indexes are on exactly these expressions.
    "customer": (
        func.coalesce(work_orders.c.customer_name, literal_column("''")),
        work_orders.c.id,
    ),
    "address": (func.coalesce(work_orders.c.site_address, literal_column("''")), work_orders.c.id),
    "site": (func.coalesce(work_orders.c.site_id, literal_column("''")), work_orders.c.id),
    "scheduled": (
        func.coalesce(work_orders.c.scheduled_date, date(9999, 12, 31)),
        work_orders.c.id,
    ),
    "assignee": (func.coalesce(assignees.c.name, ""), work_orders.c.id),
}
"""Every sort order ends with the number, so keys are unique and windows never overlap."""


def _literal_in(column: ColumnElement[Any], values: list[str]) -> ColumnElement[bool]:
    if not values:
        return false()
    # unique=True: the same column may be listed twice (`status:` plus `overdue` with closed
    # orders included); a shared bind name would make both lists take the last one's values.
    return column.in_(bindparam(f"lit_{column.key}", values, literal_execute=True, unique=True))


def _where(flt: QueueFilter, today: date) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if not flt.include_closed:
        clauses.append(open_status_clause())
    if flt.statuses:
        clauses.append(_literal_in(work_orders.c.status, [s.value for s in flt.statuses]))
    if flt.types:
        clauses.append(work_orders.c.type_code.in_(flt.types))
    if flt.priorities:
        clauses.append(work_orders.c.priority.in_([int(p) for p in flt.priorities]))
    if flt.assignee:
        clauses.append(func.lower(assignees.c.name).contains(flt.assignee.lower(), autoescape=True))
    if flt.overdue:
        clauses.append(work_orders.c.due_date < today)
        if flt.include_closed:
            clauses.append(_literal_in(work_orders.c.status, [s.value for s in OPEN_STATUSES]))
    if flt.due_today:
        clauses.append(work_orders.c.due_date == today)
    for word in flt.text.split():
        clauses.append(_text_match(word))
    return clauses


def _text_match(word: str) -> ColumnElement[bool]:
    pattern = "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    matches: list[ColumnElement[bool]] = [
        contains_any_case(column, pattern)
        for column in (
            work_orders.c.customer_name,
            work_orders.c.site_address,
            work_orders.c.site_id,
            work_orders.c.meter_number,
            work_orders.c.account_number,
        )
    ]
    number = re.fullmatch(r"(?:wo-?)?0*(\d+)", word, re.IGNORECASE)
    # Only numbers an id can have: a long digit string (an NMI, an account number) would
    # overflow the integer column (SQLite: OverflowError; PostgreSQL: out of range).
    if number and int(number.group(1)) <= MAX_ORDER_ID:
        matches.append(work_orders.c.id == int(number.group(1)))
    return or_(*matches)


def _base(flt: QueueFilter, today: date, *columns: Any, with_assignee: bool = False) -> Select[Any]:
    query = select(*columns).select_from(work_orders)
    if with_assignee or flt.assignee:
        query = query.outerjoin(assignees, assignees.c.id == work_orders.c.assignee_id)
    # where(*clauses), not where(and_(*clauses)): an empty and_() is deprecated (and refused
    # by future SQLAlchemy) for a filter with no clause at all (closed orders included).
    return query.where(*_where(flt, today))


def fetch_window(
    conn: Connection,
    flt: QueueFilter,
    sort: SortOrder,
    today: date,
    *,
    after: tuple[Any, ...] | None = None,
    before: tuple[Any, ...] | None = None,
    at_or_after: tuple[Any, ...] | None = None,
    from_end: bool = False,
    limit: int = 50,
) -> Window:
    """Up to `limit` rows after the cursor `after` (or from `at_or_after` inclusive, or
    before `before`, or the last rows with `from_end`), in the sort order. Reads at most
    limit + 1 rows."""
    backwards = before is not None or from_end
    cursor = before if before is not None else after
    if cursor is None and at_or_after is not None:
        cursor, inclusive = at_or_after, True
    else:
        inclusive = False
    query = _window_statement(
        flt, sort, today, cursor is not None, inclusive, sort.descending != backwards, limit
    )
    params = _cursor_params(cursor) if cursor is not None else {}
    rows = [QueueRow(*r) for r in conn.execute(query, params).all()]  # QUEUE_COLUMNS' order
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
        return Window(rows, has_before=more, has_after=before is not None)
    return Window(rows, has_before=after is not None or at_or_after is not None, has_after=more)


@lru_cache(maxsize=32)
def _window_statement(
    flt: QueueFilter,
    sort: SortOrder,
    today: date,
    has_cursor: bool,
    inclusive: bool,
    descending: bool,
    limit: int,
) -> Select[Any]:
    """A window's statement, the cursor as bind parameters (`_cursor_params`). Built once
    per filter, sort and direction: building it and its cache key cost a third of a window
    (the dashboard asks for a window on every page and refresh)."""
    key = SORT_KEYS[sort.column]
    query = _base(flt, today, *QUEUE_COLUMNS, with_assignee=True)
    if has_cursor:
        query = query.where(*_beyond(key, descending, inclusive=inclusive))
    return query.order_by(*[(k.desc() if descending else k.asc()) for k in key]).limit(limit + 1)


def find_row(conn: Connection, flt: QueueFilter, today: date, order_id: int) -> QueueRow | None:
    """The queue row of one order if the filter matches it."""
    query = _base(flt, today, *QUEUE_COLUMNS, with_assignee=True).where(
        work_orders.c.id == order_id
    )
    found = conn.execute(query).first()
    return QueueRow(*found) if found else None


def count_before(
    conn: Connection, flt: QueueFilter, sort: SortOrder, today: date, key: tuple[Any, ...]
) -> int:
    """How many matching rows sort before `key` (the position of the row with that key)."""
    query = _base(flt, today, func.count(), with_assignee=sort.column == "assignee").where(
        *_beyond(SORT_KEYS[sort.column], not sort.descending, inclusive=False)
    )
    return int(conn.execute(query, _cursor_params(key)).scalar_one())


def _beyond(
    key: tuple[ColumnElement[Any], ...], descending: bool, *, inclusive: bool
) -> list[ColumnElement[bool]]:
    """The rows after the cursor (`_cursor_params`) in the key's order (before it when
    `descending`): the row value comparison, plus the same bound on the key's first column
    alone, which lets SQLite seek an index on an expression (it does not for a row value on
    one). The cursor's values are bind parameters of the key columns' types."""
    row_key = tuple_(*key)
    bound = tuple_(*[bindparam(f"k{i}", type_=k.type) for i, k in enumerate(key)])
    first: ColumnElement[Any] = bindparam("k0_alone", type_=key[0].type)
    if descending:
        return [row_key <= bound if inclusive else row_key < bound, key[0] <= first]
    return [row_key >= bound if inclusive else row_key > bound, key[0] >= first]


def _cursor_params(cursor: tuple[Any, ...]) -> dict[str, Any]:
    """The values of `_beyond`'s bind parameters for one cursor (a row's sort key)."""
    return {"k0_alone": cursor[0], **{f"k{i}": value for i, value in enumerate(cursor)}}


def count_buckets(conn: Connection, today: date) -> BucketCounts:
    """All bucket counts in one statement, each a count over one small partial index:
    'all' is the sum of the four statuses, 'overdue' is all minus those due today or later
    (fewer index entries to count than those overdue)."""
    due = work_orders.c.due_date

    def count(*conditions: ColumnElement[bool]) -> Any:
        return select(func.count()).select_from(work_orders).where(*conditions).scalar_subquery()

    open_rows = open_status_clause()
    query = select(
        *(count(status_is(s.value)) for s in OPEN_STATUSES),
        count(open_rows, due >= bindparam("today_ge", today)),
        count(open_rows, due == bindparam("today_eq", today)),
    )
    new, setup, sent, on_hold, not_overdue, due_today = (int(v) for v in conn.execute(query).one())
    total = new + setup + sent + on_hold
    return BucketCounts(total, new, setup, sent, on_hold, total - not_overdue, due_today)


def count_matching(conn: Connection, flt: QueueFilter, today: date) -> int:
    """How many orders the filter matches."""
    return int(conn.execute(_base(flt, today, func.count())).scalar_one())


def count_matching_among(
    conn: Connection, flt: QueueFilter, today: date, ids: Sequence[int]
) -> int:
    """How many of `ids` the filter matches (of marked orders: how many it leaves shown)."""
    if not ids:
        return 0
    query = _base(flt, today, func.count()).where(work_orders.c.id.in_(id_set(conn, ids)))
    return int(conn.execute(query).scalar_one())


def matching_ids(conn: Connection, flt: QueueFilter, today: date) -> list[int]:
    """The ids of every order the filter matches (for 'mark all'), in number order."""
    query = _base(flt, today, work_orders.c.id).order_by(work_orders.c.id)
    return list(conn.execute(query).scalars())


def matching_versions(conn: Connection, flt: QueueFilter, today: date) -> dict[int, int]:
    """id → version of every order the filter matches (what a bulk action guards with)."""
    query = _base(flt, today, work_orders.c.id, work_orders.c.version)
    return {row[0]: row[1] for row in conn.execute(query)}
