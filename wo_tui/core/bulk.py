"""Inserting many rows in one go: the event poller's orders and their history, the seed's
orders.

Why not SQLAlchemy's executemany / insertmanyvalues (`conn.execute(insert(table), rows)`),
as everything else does: measured with bench/bench_events_compare.py, the poller at batch 500
against this module (2026-12-06, SQLAlchemy 2.1, psycopg 3.3):
- SQLite, instructions per event (cachegrind; ~575,000 with this module): the orders with
  RETURNING through insertmanyvalues +157,000 (+27%), the history through executemany
  +62,000 (+11%): SQLAlchemy's per-row parameter work (a dict per row, a processor call per
  value) and a statement text for each batch size;
- PostgreSQL, events/s (median of 7 interleaved runs, 10,000 events): 1,327 against 3,505
  (-62%): psycopg parses the batch's statement of ~15,000 parameters in Python on every call.
The events' marks (an UPDATE per event) go through SQLAlchemy's executemany: with that, and
without the NULL literals and private SQLAlchemy calls this module had, the poller went from
572,000 to 629,000 instructions per event (+10%); events/s, median of interleaved runs:
SQLite 8,992 -> 9,436 (20,000 events, 7 runs: noise), PostgreSQL 5,378 -> 5,066 (-6%,
10,000 events, 9 runs). `wo-tui seed` inserts its orders here too: for 1,000,000 orders
SQLAlchemy's executemany took ~29 s of CPU, this module ~21 s (SQLite's own work included).

SQLite: the rows go to the driver as tuples (`exec_driver_sql`), each value first put
through its column's bind processor (`TypeEngine.dialect_impl(...).bind_processor`, once
per distinct value of a column), so it is stored exactly as SQLAlchemy's own insert stores
it. With RETURNING, a multi-row `INSERT ... VALUES (...), (...)` in chunks of a power of two
rows (a handful of statement texts, each prepared once per connection); without, an
executemany. Rows for which SQLAlchemy would add a column default go through SQLAlchemy.

PostgreSQL: one `INSERT ... SELECT * FROM unnest(:col1, :col2, ...)` with one array
parameter per column.

Other databases: SQLAlchemy's executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Row, Table, insert, text
from sqlalchemy.engine import Dialect

CHUNK_PARAMETERS = 8_000
"""At most this many values per multi-row INSERT (SQLite allows 32,766)."""


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    returning: Sequence[Column[Any]] = (),
) -> Sequence[Row[Any]]:
    """Insert `rows` (dicts with the same keys) into `table`; the `returning` columns of
    the new rows come back in no particular order."""
    if not rows:
        return []
    names = list(rows[0])
    dialect = conn.dialect.name
    if dialect == "sqlite" and not _filled_by_default(table, names):
        return _sqlite_insert(conn, table, names, rows, returning)
    if dialect == "postgresql":
        return _postgresql_insert(conn, table, names, rows, returning)
    if returning:
        return conn.execute(insert(table).returning(*returning), list(rows)).all()
    conn.execute(insert(table), list(rows))
    return []


def _filled_by_default(table: Table, names: Sequence[str]) -> bool:
    """Whether SQLAlchemy's insert would add a column default that the rows leave out."""
    given = set(names)
    return any(c.default is not None and c.name not in given for c in table.columns)


def _sqlite_insert(
    conn: Connection,
    table: Table,
    names: list[str],
    rows: Sequence[dict[str, Any]],
    returning: Sequence[Column[Any]],
) -> Sequence[Row[Any]]:
    data = _driver_values(conn.dialect, table, names, rows)
    quote = conn.dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES "
    row = f"({', '.join('?' * len(names))})"
    if not returning:
        conn.exec_driver_sql(head + row, data)
        return []
    tail = " RETURNING " + ", ".join(quote(c.name) for c in returning)
    returned: list[Row[Any]] = []
    most = _power_of_two_at_most(CHUNK_PARAMETERS // len(names))
    start = 0
    while start < len(data):
        size = min(most, _power_of_two_at_most(len(data) - start))
        chunk = data[start : start + size]
        sql = head + ", ".join([row] * size) + tail
        returned += conn.exec_driver_sql(sql, tuple(v for r in chunk for v in r)).all()
        start += size
    return returned


def _driver_values(
    dialect: Dialect, table: Table, names: list[str], rows: Sequence[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """Each row as a tuple of what the column's bind processor hands the driver (SQLite: a
    date or time as text, a boolean as 0 or 1). A value repeated down a column (a batch's
    timestamp, its due dates) is processed once."""
    columns: list[list[Any]] = []
    for name in names:
        values = [row[name] for row in rows]
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            done = {value: process(value) for value in set(values) if value is not None}
            done[None] = None
            values = [done[value] for value in values]
        columns.append(values)
    return list(zip(*columns, strict=True))


def _power_of_two_at_most(n: int) -> int:
    return 1 << (n.bit_length() - 1)


def _postgresql_insert(
    conn: Connection,
    table: Table,
    names: list[str],
    rows: Sequence[dict[str, Any]],
    returning: Sequence[Column[Any]],
) -> Sequence[Row[Any]]:
    quote = conn.dialect.identifier_preparer.quote
    arrays = ", ".join(
        f"CAST(:p{i} AS {table.c[name].type.compile(dialect=conn.dialect)}[])"
        for i, name in enumerate(names)
    )
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"SELECT * FROM unnest({arrays})"
    )
    if returning:
        sql += " RETURNING " + ", ".join(quote(c.name) for c in returning)
    params = {f"p{i}": [row[name] for row in rows] for i, name in enumerate(names)}
    result = conn.execute(text(sql), params)
    return result.all() if returning else []
