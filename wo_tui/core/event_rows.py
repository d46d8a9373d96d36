"""Reading `events` rows without trusting them (docs/events.md, "When an event cannot be
handled").

Billing writes the rows, and SQLite keeps any value in any column: a time as
`'02/03/2026 09:15'` or as the number 1772442900, a blob in a text column, text that is not
UTF-8 (Python's sqlite3 refuses the whole result when it meets one), 30 MB in a name. So
every column is read raw and checked here, row by row, and a value that cannot be understood
becomes a `Trouble` of that row alone, never an exception for the whole read:

- each text is fetched only when its length in bytes, read first in SQL (`length()`,
  `octet_length()`), is within 4 x its limit: else that length comes instead, so an
  oversized value never reaches Python;
- on SQLite a value of the wrong storage type (`typeof()`) comes as a short description
  of it; PostgreSQL's typed columns refuse such values at insert;
- Python's sqlite3 refuses a whole result when one text in it is not UTF-8: the statement
  is then run again with a lenient decoder, and such a text is a trouble of its row.

One statement reads a whole batch. A good row takes the quick way (`Reader._good`: the
tuple of its values' types is one of a good row, and their lengths are within the limits);
only a row with a bad value is read column by column to say what is wrong with each.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Label, Row, Select, literal_column, select
from sqlalchemy.exc import OperationalError

from wo_tui.core.models import events
from wo_tui.core.sanitize import clean_text

COLUMN_LIMITS = {
    "event_type": 60,
    "external_ref": 120,
    "account_number": 60,
    "customer_name": 200,
    "site_address": 400,
    "site_id": 40,
    "meter_number": 60,
    "payload": 64 * 1024,
}
"""The most characters billing may write in each text column (the declared varchar sizes;
64 KiB for `payload`): docs/events.md, the column table."""
BYTES_PER_CHARACTER = 4
"""A character takes at most 4 bytes in UTF-8: a value of more than 4 x its limit in bytes
is over the limit, whatever it holds, and is not fetched."""
TIME_BYTES = 64
"""The longest text read as a time (`'2026-03-02 09:15:00.000000+10:00'` is 32 bytes)."""
EXCERPT_CHARACTERS = 40
"""How much of a bad value an error shows."""
TIME_FORM = "text 'YYYY-MM-DD HH:MM:SS' in UTC, e.g. '2026-03-02 09:15:00'"


@dataclass(frozen=True)
class Column:
    """How one column of `events` is read and checked."""

    name: str
    kind: str
    """`text`, `time` (a timestamp), `flag` (a boolean) or `count` (an integer)."""
    limit: int
    """A text column: the most characters it may hold. A time: the most bytes read as one
    (a longer value is not a time). Not used for flags and counts."""
    required: bool
    """NULL is a trouble (the schema says NOT NULL; a hand-made table may not)."""
    expected: str
    """What the column holds, for an error: "text", "a time", ..."""
    advice: str
    """What billing (or a person) should write instead."""


def _billing_text(name: str, required: bool = False) -> Column:
    advice = f"billing must write it as UTF-8 text of at most {COLUMN_LIMITS[name]:,} characters"
    return Column(name, "text", COLUMN_LIMITS[name], required, "text", advice)


BILLING_COLUMNS = (
    _billing_text("event_type", required=True),
    Column(
        "occurred_at", "time", TIME_BYTES, True, "a time", f"billing must write it as {TIME_FORM}"
    ),
    _billing_text("external_ref", required=True),
    _billing_text("account_number"),
    _billing_text("customer_name"),
    _billing_text("site_address"),
    _billing_text("site_id"),
    _billing_text("meter_number"),
    Column("life_support", "flag", 0, True, "TRUE or FALSE", "billing must write TRUE or FALSE"),
    _billing_text("payload"),
)
"""What billing writes: everything the poller needs to make an order."""
ATTEMPTS = Column(
    "attempts",
    "count",
    0,
    True,
    "a number of attempts",
    "wo-tui keeps this column; billing must leave it out of its INSERT and never change it "
    "(the count starts again from 0)",
)
_OWN = "wo-tui keeps this column"
LISTED_COLUMNS = (
    *BILLING_COLUMNS,
    Column("status", "text", 20, True, "a status", _OWN),
    ATTEMPTS,
    Column("last_error", "text", 64 * 1024, False, "text", _OWN),
    Column("next_attempt_at", "time", TIME_BYTES, False, "a time", _OWN),
    Column("received_at", "time", TIME_BYTES, False, "a time", _OWN),
    Column("processed_at", "time", TIME_BYTES, False, "a time", _OWN),
    Column("work_order_id", "count", 0, False, "an order id", _OWN),
)
"""Every column but `id`, for listing events."""


@dataclass
class Trouble:
    """A value of one row that cannot be understood."""

    column: Column
    storage: str
    """How the value is stored: text, integer, real, blob or null (SQLite's `typeof`)."""
    size: int
    """Its length: characters when `text` is known, else bytes."""
    text: str | None = None
    """The value as text (its start, when long), as far as it can be shown: None for a
    blob, NULL or text that was too long to fetch."""
    too_long: bool = False
    """Longer than the column's limit: sending the event again will not change that."""
    bad_utf8: bool = False
    """Text that is not valid UTF-8 (`text` shows it with U+FFFD in place of bad bytes)."""

    @property
    def length(self) -> str:
        unit = "bytes" if self.text is None else "characters"
        return f"{self.size:,} {unit}" if self.size != 1 else f"1 {unit[:-1]}"

    def excerpt(self) -> str:
        """`text`, cleaned for a terminal and cut short."""
        text = self.text or ""
        more = "…" if len(text) > EXCERPT_CHARACTERS or len(text) < self.size else ""
        return clean_text(text[:EXCERPT_CHARACTERS]) + more

    def shown(self) -> str:
        """The value, briefly, for an error."""
        if self.storage == "null":
            return "nothing (NULL)"
        if self.text is None:
            return (
                f"a blob (binary data) of {self.length}"
                if self.storage == "blob"
                else (f"text of {self.length}")
            )
        if self.storage in ("integer", "real"):
            return f"the number {self.excerpt()}"
        return repr(self.excerpt())

    def message(self) -> str:
        """What is wrong and what to write instead, in one line."""
        c = self.column
        if self.too_long:
            return (
                f"{c.name} is too long: {self.length}, over its limit of {c.limit:,} "
                "characters; billing must shorten it and send the event again"
            )
        if self.bad_utf8:
            return f"{c.name} is not valid UTF-8 text ({self.shown()}): {c.advice}"
        return f"{c.name} holds {self.shown()}, not {c.expected}: {c.advice}"

    def listed(self) -> str:
        """The value as a listing shows it: its text if it has one, else a description."""
        if self.too_long:
            return f"(too long: {self.length})"
        if self.text is not None:
            return self.excerpt() if self.storage != "text" else clean_text(self.text)
        return f"({self.shown()})"


@dataclass(slots=True)
class ReadRow:
    """One row as read: its values by column name (None where a value cannot be
    understood) and the troubles of the values that cannot."""

    values: Mapping[str, Any]
    """A good row's values as the database gave them (on SQLite a time stays the text it
    was checked as); a row with troubles: each value converted, or None."""
    troubles: Sequence[Trouble]

    @property
    def problem(self) -> str | None:
        """Every trouble of the row in one line, or None when it has none."""
        return "; ".join(t.message() for t in self.troubles) or None

    @property
    def too_long(self) -> bool:
        """Some value is over its limit: the event cannot succeed, however often tried."""
        return any(t.too_long for t in self.troubles)


class _Unreadable(Exception):
    def __init__(self, trouble: Trouble) -> None:
        self.trouble = trouble


_LENIENT = functools.partial(str, encoding="utf-8", errors="surrogateescape")
"""How SQLite's text is decoded when a result holds text that is not UTF-8: its bytes that
are not UTF-8 become lone surrogates (U+DC80-U+DCFF) instead of an error for the whole
result. Only then: called for each text, it costs more than sqlite3's own decoding."""


def _execute(conn: Connection, query: Select[Any]) -> tuple[Sequence[Row[Any]], bool]:
    """The rows of `query`, and whether they were decoded leniently. Python's sqlite3
    refuses a whole result when one text in it is not UTF-8; the same statement is then
    run again with `_LENIENT` (SQLite: in the same transaction, so the same rows)."""
    try:
        return conn.execute(query).all(), False
    except OperationalError as exc:
        if conn.dialect.name != "sqlite" or "decode" not in str(exc.orig):
            raise
    driver = conn.connection.dbapi_connection
    assert driver is not None
    before = driver.text_factory
    driver.text_factory = _LENIENT
    try:
        return conn.execute(query).all(), True
    finally:
        driver.text_factory = before


def _not_utf8(text: str) -> bool:
    """Whether `_LENIENT` found bytes that are not UTF-8 in this text."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def _decode(column: Column, raw: Any) -> Any:
    """The value of `column` from what the database gave for it, or `_Unreadable`.

    What comes (see `_sqlite_sql`): None; a str (text, decoded leniently when a result
    holds text that is not UTF-8); on SQLite, for a text column an int (the length in bytes
    of a value too long to fetch) or bytes (a blob), for the others the bytes
    `storage:length:hex` of a value of the wrong storage type and, for a time, an int (the
    length of a text too long to be one); an int, a bool or a datetime of the column's
    type."""
    kind = column.kind
    if raw is None:
        if column.required:
            raise _Unreadable(Trouble(column, "null", 0))
        return None
    if type(raw) is bytes:
        if kind == "text":
            raise _Unreadable(Trouble(column, "blob", len(raw)))
        raise _Unreadable(_marked(column, raw.decode("ascii")))
    if type(raw) is float:  # a real in a text column of a table made by hand
        raise _Unreadable(Trouble(column, "real", len(str(raw)), str(raw)))
    if kind == "text" or kind == "time":
        if type(raw) is int:
            raise _Unreadable(Trouble(column, "text", raw, too_long=kind == "text"))
        if type(raw) is str and _not_utf8(raw):
            shown = raw.encode(errors="surrogateescape").decode(errors="replace")
            raise _Unreadable(Trouble(column, "text", len(shown), shown, bad_utf8=True))
        if kind == "text":
            if len(raw) > column.limit:
                raise _Unreadable(Trouble(column, "text", len(raw), raw, too_long=True))
            return raw
        if type(raw) is datetime:
            return raw
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            raise _Unreadable(Trouble(column, "text", len(raw), raw)) from None
    if kind == "flag":
        if raw is True or raw is False:
            return raw
        if raw == 0 or raw == 1:
            return raw == 1
    elif raw >= 0:
        return raw
    raise _Unreadable(Trouble(column, "integer", len(str(raw)), str(raw)))


def _marked(column: Column, marker: str) -> Trouble:
    """The trouble a SQLite marker `storage:length:hex` of a wrong storage type names."""
    storage, size, excerpt = marker.split(":", 2)
    if storage == "blob":
        return Trouble(column, storage, int(size))
    return Trouble(column, storage, int(size), bytes.fromhex(excerpt).decode(errors="replace"))


class Reader:
    """Reads `columns` of events (and `id`) defensively on one dialect: `select()` gives the
    statement to filter and order, `read()` runs it and returns `ReadRow`s.

    A row whose values all have their column's Python type (checked at once, in C, on the
    tuple of their types) and are within their limits takes the quick way: its values are
    used as the database gave them (a `RowMapping`, nothing converted; on SQLite a time
    stays the text it was checked as). Any other row is read column by column
    (`_checked`), which finds every trouble. On PostgreSQL a last column, `check`, names
    the texts too long to fetch (`name:length;`), else ''."""

    def __init__(self, dialect: str, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)
        self._sqlite = dialect == "sqlite"
        at = {c.name: i for i, c in enumerate(columns, start=1)}  # 0 is the id
        self._texts = [(at[c.name], c.limit) for c in columns if c.kind == "text"]
        self._times = [at[c.name] for c in columns if c.kind == "time"]
        self._flags = [at[c.name] for c in columns if c.kind == "flag"]
        self._counts = [at[c.name] for c in columns if c.kind == "count"]
        self._shapes: dict[tuple[type, ...], bool] = {}
        """Whether a tuple of the Python types of a row's values is a good one."""
        sql = [(_sqlite_sql if self._sqlite else _postgresql_sql)(c) for c in columns]
        self._exprs: list[Label[Any]] = [
            literal_column(expr).label(c.name) for expr, c in zip(sql, columns, strict=True)
        ]
        if not self._sqlite:
            self._exprs.append(literal_column(_postgresql_check(columns)).label("check"))

    def select(self) -> Select[Any]:
        """`SELECT id, <each column, read safely>[, <check>] FROM events`."""
        return select(events.c.id, *self._exprs)

    def read(self, conn: Connection, query: Select[Any], *, quick: bool = True) -> list[ReadRow]:
        """Run `query` (made from `select()`) and read its rows; without `quick`, every row
        column by column (each value converted: a time to a datetime)."""
        result, lenient = _execute(conn, query)
        quick = quick and not lenient
        read: list[ReadRow] = []
        for raw in result:
            if quick and self._good(raw):
                read.append(ReadRow(raw._mapping, ()))  # type: ignore[arg-type]
            else:
                read.append(self._checked(raw))
        return read

    def _good(self, raw: Sequence[Any]) -> bool:
        """Whether every value of the row is good, the quick way (see the class)."""
        shape = tuple(map(type, raw))
        good = self._shapes.get(shape)
        if good is None:
            good = self._shapes[shape] = self._good_shape(shape)
        if not good or (not self._sqlite and raw[-1]):
            return False
        for i, limit in self._texts:
            if raw[i] is not None and len(raw[i]) > limit:
                return False
        for i in self._flags:
            if raw[i] != 0 and raw[i] != 1:
                return False
        for i in self._counts:
            if raw[i] is not None and raw[i] < 0:
                return False
        if self._sqlite:
            try:
                for i in self._times:
                    if raw[i] is not None:
                        datetime.fromisoformat(raw[i])
            except ValueError:
                return False
        return True

    def _good_shape(self, shape: tuple[type, ...]) -> bool:
        """Whether these are the Python types of a good row's values."""
        kinds: dict[str, tuple[type, ...]] = {
            "text": (str,),
            "time": (str,) if self._sqlite else (datetime,),
            "flag": (int,) if self._sqlite else (bool,),
            "count": (int,),
        }
        for column, kind in zip(self.columns, shape[1:], strict=False):
            allowed = kinds[column.kind] + (() if column.required else (type(None),))
            if kind not in allowed:
                return False
        return True

    def _checked(self, raw: Sequence[Any]) -> ReadRow:
        """A row read column by column: every value converted, and every trouble found."""
        too_long = {} if self._sqlite else _too_long_on_postgresql(raw[-1])
        troubles: list[Trouble] = []
        values: dict[str, Any] = {"id": raw[0]}
        for column, value in zip(self.columns, raw[1:], strict=False):
            try:
                if value is None and column.name in too_long:
                    size = too_long[column.name]
                    raise _Unreadable(Trouble(column, "text", size, too_long=True))
                values[column.name] = _decode(column, value)
            except _Unreadable as exc:
                values[column.name] = None
                troubles.append(exc.trouble)
        return ReadRow(values, troubles)


def _too_long_on_postgresql(check: str) -> dict[str, int]:
    """The columns PostgreSQL's `check` names, with their lengths in bytes."""
    return {name: int(size) for name, size in (p.split(":") for p in check.split(";") if p)}


@lru_cache(maxsize=16)
def reader(dialect: str, columns: tuple[Column, ...]) -> Reader:
    """The `Reader` of these columns on this dialect (built once)."""
    return Reader(dialect, columns)


def _fetch_limit(column: Column) -> int:
    """The most bytes of a text or time that are fetched at all."""
    return column.limit * BYTES_PER_CHARACTER if column.kind == "text" else column.limit


def _sqlite_sql(column: Column) -> str:
    """The column as SQLite gives it to `Reader`.

    A text column (its affinity stores a number as text, so it holds text, a blob or NULL):
    the value, or when longer in bytes than `_fetch_limit` that length instead. Another
    column: a value of its storage type as is (a time: when not too long, else its length),
    NULL, and any other value as the bytes `storage:length:hex of its start`.

    `typeof()` reads nothing. SQLite 3.40 has no `octet_length()`: `length(CAST(col AS
    BLOB))` loads a value inside SQLite (never into Python); `length()` of a blob reads only
    its header."""
    n = f'"{column.name}"'
    size = f"length(CAST({n} AS BLOB))"
    limit = _fetch_limit(column)
    if column.kind == "text":
        return f"CASE WHEN {size} <= {limit} THEN {n} ELSE {size} END"
    start = f"hex(substr({n}, 1, {EXCERPT_CHARACTERS + 1}))"
    marker = f"CAST(typeof({n}) || ':' || length({n}) || ':' || {start} AS BLOB)"
    storage, fetched = "integer", n
    if column.kind == "time":
        storage, fetched = "text", f"CASE WHEN {size} <= {limit} THEN {n} ELSE {size} END"
    return (
        f"CASE typeof({n}) WHEN '{storage}' THEN {fetched} WHEN 'null' THEN NULL ELSE {marker} END"
    )


def _postgresql_sql(column: Column) -> str:
    """The column as PostgreSQL gives it to `Reader`: its columns are typed, so only a text
    column's length is checked (`octet_length()`, which does not load the value): NULL
    comes instead of a text too long to fetch (and `check` names it)."""
    n = f'"{column.name}"'
    if column.kind != "text":
        return n
    return f"CASE WHEN octet_length({n}) <= {_fetch_limit(column)} THEN {n} END"


def _postgresql_check(columns: Sequence[Column]) -> str:
    """PostgreSQL's `check` (see `Reader`): '', or `name:length;` for each text over its
    limit in bytes."""
    parts = [
        f'CASE WHEN octet_length("{c.name}") > {c.limit} '
        f"THEN '{c.name}:' || octet_length(\"{c.name}\") || ';' ELSE '' END"
        for c in columns
        if c.kind == "text"
    ]
    return " || ".join(parts) or "''"


POLLER_COLUMNS = (*BILLING_COLUMNS, ATTEMPTS)
"""What the poller reads of a claimed event."""
