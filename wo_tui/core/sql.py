"""Small SQL constructs that read the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, DateTime, Integer, Select, bindparam, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class utc_now(FunctionElement[Any]):
    """The current UTC time without a zone, whatever the session's time zone: times are
    stored in UTC, and the billing system's own sessions may run in local time."""

    type = DateTime()
    inherit_cache = True


@compiles(utc_now)
def _utc_now_default(element: utc_now, compiler: Any, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"  # SQLite: always UTC


@compiles(utc_now, "postgresql")
def _utc_now_postgresql(element: utc_now, compiler: Any, **kw: Any) -> str:
    return "(now() AT TIME ZONE 'utc')"


def id_set(conn: Connection, ids: Sequence[int]) -> Select[Any]:
    """`SELECT value FROM <the ids>` as ONE bound parameter (a JSON array on SQLite, an
    array on PostgreSQL), for `column.in_(id_set(...))`. An expanding `IN (?, ?, ...)` of
    thousands of parameters costs more to build and bind than the statement takes to run,
    and SQLite's limit on parameters would force chunks."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY  # only PostgreSQL pays the import

        values = func.unnest(bindparam(None, list(ids), type_=ARRAY(Integer)))
        table = values.table_valued("value").render_derived()
    else:
        table = func.json_each(bindparam(None, json.dumps(list(ids)))).table_valued("value")
    return select(table.c.value)


def pair_set(conn: Connection, pairs: Sequence[tuple[int, int]]) -> Select[Any]:
    """`SELECT a, b FROM <the pairs>` as one or two bound parameters, for
    `tuple_(col_a, col_b).in_(pair_set(...))` (e.g. the (id, version) lost-update guard)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        firsts = bindparam(None, [a for a, _ in pairs], type_=ARRAY(Integer))
        seconds = bindparam(None, [b for _, b in pairs], type_=ARRAY(Integer))
        table = func.unnest(firsts, seconds).table_valued("a", "b").render_derived()
        return select(table.c.a, table.c.b)
    rows = func.json_each(bindparam(None, json.dumps(list(pairs)))).table_valued("value")
    return select(func.json_extract(rows.c.value, "$[0]"), func.json_extract(rows.c.value, "$[1]"))
