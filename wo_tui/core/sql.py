"""Small SQL constructs that read the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    DateTime,
    Integer,
    Select,
    String,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import TableValuedAlias


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


def _id_table(conn: Connection, ids: Sequence[int]) -> TableValuedAlias:
    """The ids as a table with one column, `value`, from ONE bound parameter."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY  # only PostgreSQL pays the import

        values = func.unnest(bindparam(None, list(ids), type_=ARRAY(Integer)))
        return values.table_valued("value").render_derived()
    return func.json_each(bindparam(None, json.dumps(list(ids)))).table_valued("value")


def id_set(conn: Connection, ids: Sequence[int]) -> Select[Any]:
    """`SELECT value FROM <the ids>` as ONE bound parameter (a JSON array on SQLite, an
    array on PostgreSQL), for `column.in_(id_set(...))`. An expanding `IN (?, ?, ...)` of
    thousands of parameters costs more to build and bind than the statement takes to run,
    and SQLite's limit on parameters would force chunks."""
    return select(_id_table(conn, ids).c.value)


class order_number(FunctionElement[str]):
    """An order's number from its id in SQL: the twin of `numbers.format_number`
    (`WO-000123`; more digits past 999,999)."""

    type = String()
    inherit_cache = True


@compiles(order_number)
def _order_number_default(element: order_number, compiler: Any, **kw: Any) -> str:
    (order_id,) = element.clauses
    return f"printf('WO-%06d', {compiler.process(order_id, **kw)})"


@compiles(order_number, "postgresql")
def _order_number_postgresql(element: order_number, compiler: Any, **kw: Any) -> str:
    (order_id,) = element.clauses
    digits = f"CAST({compiler.process(order_id, **kw)} AS TEXT)"
    return f"('WO-' || lpad({digits}, greatest(6, length({digits})), '0'))"


class contains_any_case(FunctionElement[bool]):
    """`column LIKE pattern`, ignoring case, for a pattern with `\\` as its escape. SQLite's
    LIKE already ignores ASCII case (and its lower() knows no other), so it runs as is:
    lower() on every row cost a third of a text filter's scan. PostgreSQL: ILIKE."""

    type = Boolean()
    inherit_cache = True

    def __init__(self, column: ColumnElement[Any], pattern: str) -> None:
        super().__init__(column, literal(pattern, String()))


def _like_parts(element: contains_any_case, compiler: Any, **kw: Any) -> tuple[str, str]:
    column, pattern = element.clauses
    return compiler.process(column, **kw), compiler.process(pattern, **kw)


@compiles(contains_any_case)
def _contains_any_case_default(element: contains_any_case, compiler: Any, **kw: Any) -> str:
    column, pattern = _like_parts(element, compiler, **kw)
    return f"{column} LIKE {pattern} ESCAPE '\\'"


@compiles(contains_any_case, "postgresql")
def _contains_any_case_postgresql(element: contains_any_case, compiler: Any, **kw: Any) -> str:
    column, pattern = _like_parts(element, compiler, **kw)
    return f"{column} ILIKE {pattern} ESCAPE '\\'"
