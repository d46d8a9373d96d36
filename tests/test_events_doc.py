"""docs/events.md is a public contract: its SQL runs as written, on SQLite and PostgreSQL,
against a database made by the migrations, and does what the page says.

The SQL is read from the page's ```sql blocks (never copied here), and the expected defaults
from its column table, so the test follows the page: change one without the other and it
fails."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, inspect, select
from sqlalchemy.exc import IntegrityError

from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.event_settings import EventsSettings
from wo_tui.core.models import billing_outbound, events, work_orders
from wo_tui.core.orders import create_order
from wo_tui.core.poller import process_batch
from wo_tui.core.status_changes import bulk_cancel, bulk_complete, reopen

DOC = Path(__file__).resolve().parents[1] / "docs" / "events.md"
FENCE = re.compile(r"^```sql[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
INSERT = re.compile(
    r"^INSERT\s+INTO\s+events\s*\((?P<columns>[^)]*)\)\s*VALUES\s*\((?P<values>.*)\)\s*$",
    re.IGNORECASE | re.DOTALL,
)
ROW = re.compile(r"^\|\s*`(?P<name>\w+)`\s*\|(?P<cells>.*)\|\s*$")


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text of the `## ...` section whose title starts with `title`."""
    parts = re.split(r"^## ", doc_text(), flags=re.MULTILINE)
    found = [p for p in parts if p.startswith(title)]
    assert len(found) == 1, f"docs/events.md: no single section '## {title}'"
    return found[0]


def sql_statements(text: str) -> list[str]:
    """The statements of every ```sql block of `text`: `--` comments dropped, split at the
    semicolons outside quotes, without their final semicolon."""
    statements: list[str] = []
    for block in FENCE.findall(text):
        current, quoted = "", False
        for line in block.splitlines(keepends=True):
            for i, ch in enumerate(line):
                if ch == "'":
                    quoted = not quoted
                if not quoted and line.startswith("--", i):
                    current += "\n"
                    break
                if not quoted and ch == ";":
                    statements.append(current.strip())
                    current = ""
                else:
                    current += ch
        assert not quoted, f"an unterminated quote in docs/events.md:\n{block}"
        if current.strip():
            statements.append(current.strip())
    return [s for s in statements if s]


def split_top_level(text: str) -> list[str]:
    """`text` split at the commas outside quotes, each part stripped."""
    parts, current, quoted = [], "", False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return parts


def column_table() -> dict[str, dict[str, str]]:
    """The `events` column table: name -> type, null?, written by, default, meaning."""
    keys = ("type", "null", "written_by", "default", "meaning")
    part = section("`events`").split("### Columns", 1)[1].split("\n###", 1)[0]
    columns = {}
    for line in part.splitlines():
        match = ROW.match(line)
        if match:
            cells = [c.strip() for c in match["cells"].split("|")]
            columns[match["name"]] = dict(zip(keys, cells, strict=True))
    return columns


def literal(value: str, sql_type: str) -> Any:
    """A SQL literal of the example as the row should give it back."""
    upper = value.upper()
    if upper == "NULL":
        return None
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE"
    assert value.startswith("'") and value.endswith("'"), value
    text = value[1:-1].replace("''", "'")
    if sql_type.startswith("timestamp"):
        return datetime.fromisoformat(text)
    if sql_type.startswith("integer"):
        return int(text)
    return text


def example_inserts() -> list[tuple[str, dict[str, Any]]]:
    """The example INSERTs into `events`, each with the values it writes by column."""
    types = {name: spec["type"] for name, spec in column_table().items()}
    found = []
    for statement in sql_statements(section("`events`")):
        match = INSERT.match(statement)
        if match:
            names = split_top_level(match["columns"])
            values = split_top_level(match["values"])
            assert len(names) == len(values), statement
            found.append(
                (statement, {n: literal(v, types[n]) for n, v in zip(names, values, strict=True)})
            )
    return found


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def insert_as_billing(db: Database, statement: str) -> int:
    """Run one statement of the page as the billing system would: its own transaction."""
    with db.write() as conn:
        return conn.exec_driver_sql(statement).rowcount


def event_rows(conn: Connection, ref: str) -> list[dict[str, Any]]:
    query = select(events).where(events.c.external_ref == ref)
    return [dict(r) for r in conn.execute(query).mappings()]


# ---------------------------------------------------------------------------------------------


def test_the_page_has_one_example_insert_with_the_required_columns() -> None:
    inserts = example_inserts()
    assert len(inserts) == 1, "docs/events.md: expected one example INSERT INTO events"
    _, values = inserts[0]
    table = column_table()
    required = {name for name, spec in table.items() if spec["default"] == "—"}
    assert required == {"event_type", "occurred_at", "external_ref"}
    sentence = re.search(r"Only (.*?) are required", section("`events`"), re.DOTALL)
    assert sentence is not None
    assert set(re.findall(r"`(\w+)`", sentence[1])) == required
    assert required <= set(values)
    # billing writes only its own columns, and leaves out the ones wo-tui owns
    assert {table[name]["written_by"] for name in values} == {"billing"}


def test_the_column_table_lists_the_real_columns(db: Database) -> None:
    real = {c["name"]: c for c in inspect(db.engine).get_columns("events")}
    table = column_table()
    assert list(table) == list(real)
    assert {name for name, c in real.items() if c["nullable"]} == {
        name for name, spec in table.items() if spec["null"] == "yes"
    }


def test_the_example_insert_lands_with_the_documented_defaults(db: Database) -> None:
    (statement, written), *_ = example_inserts()
    before = utc_now().replace(microsecond=0)
    assert insert_as_billing(db, statement) == 1
    after = utc_now()
    with db.read() as conn:
        rows = event_rows(conn, written["external_ref"])
    assert len(rows) == 1
    row = rows[0]
    # what billing wrote, read back as written
    assert {name: row[name] for name in written} == written
    # every column billing left out has the default the page gives
    for name, spec in column_table().items():
        if name in written:
            continue
        default, value = spec["default"], row[name]
        if default == "NULL":
            assert value is None, name
        elif default == "`pending`":
            assert value == "pending", name
        elif default in ("0", "false"):
            expected = {"0": 0, "false": False}[default]
            assert value == expected and type(value) is type(expected), (name, value)
        elif default == "next number":
            assert isinstance(value, int) and value > 0, name
        elif default == "current time":
            # UTC, as the page says of every time (a local time would be hours away)
            assert isinstance(value, datetime), name
            assert before - timedelta(minutes=5) <= value <= after + timedelta(minutes=5), (
                name,
                value,
                before,
            )
        else:
            pytest.fail(f"docs/events.md: column {name}: a default this test does not know")
    assert row["status"] == "pending" and row["attempts"] == 0  # spelled out for the reader


def test_the_same_insert_again_is_refused_as_documented(db: Database) -> None:
    (statement, written), *_ = example_inserts()
    assert insert_as_billing(db, statement) == 1
    errors = re.search(
        r"\(`([^`]+)` on SQLite;\s*`([^`]+)` on PostgreSQL\)", section("`events`"), re.DOTALL
    )
    assert errors is not None, "docs/events.md: the unique-constraint errors are not quoted"
    documented = {"sqlite": errors[1], "postgresql": errors[2]}[db.engine.dialect.name]

    with pytest.raises(IntegrityError) as refused:
        insert_as_billing(db, statement)
    assert documented in str(refused.value.orig)

    # The portable retry of the page: the repeated insert inserts 0 rows, without an error.
    clause = re.search(r"add `(ON CONFLICT [^`]+)`", section("`events`"))
    assert clause is not None
    assert insert_as_billing(db, f"{statement} {clause[1]}") == 0

    with db.read() as conn:
        assert len(event_rows(conn, written["external_ref"])) == 1
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 1


def test_the_example_event_becomes_the_documented_order(ctx: Context) -> None:
    """The example is a move_in: the default rule makes one RECONNECT from it."""
    (statement, written), *_ = example_inserts()
    insert_as_billing(ctx.db, statement)
    result = process_batch(ctx, EventsSettings())
    assert (result.processed, result.orders_created, result.dead) == (1, 1, 0)
    with ctx.db.read() as conn:
        (event,) = event_rows(conn, written["external_ref"])
        order = conn.execute(select(work_orders)).mappings().one()
    assert event["status"] == "processed" and event["work_order_id"] == order["id"]
    assert order["type_code"] == "RECONNECT" and order["source"] == written["event_type"]
    assert {k: order[k] for k in ("customer_name", "site_id", "meter_number")} == {
        k: written[k] for k in ("customer_name", "site_id", "meter_number")
    }


def test_the_billing_outbound_loop_reads_and_acknowledges(ctx: Context) -> None:
    """The two statements of "Reading and acknowledging", run unchanged."""
    select_sql, update_sql = sql_statements(section("`billing_outbound`"))
    assert select_sql.upper().startswith("SELECT") and update_sql.upper().startswith("UPDATE")
    acknowledged = [int(n) for n in re.findall(r"\d+", update_sql.split("IN", 1)[1])]
    assert acknowledged == [1, 2, 3]  # what the page's UPDATE names

    ids = [create_order(ctx, {"type_code": "MISC", "site_address": f"{n} A St"}) for n in "1234"]
    assert bulk_complete(ctx, ids[:2], note="done").all_done
    assert bulk_cancel(ctx, ids[2:3], "duplicate").all_done
    assert reopen(ctx, ids[:1], "completed by mistake").all_done
    with ctx.db.read() as conn:
        written = list(conn.execute(select(billing_outbound.c.id).order_by("id")).scalars())
    assert written == [1, 2, 3, 4]

    def unread() -> list[Any]:
        with ctx.db.read() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(select_sql)]

    first = unread()
    assert [r[0] for r in first] == [1, 2, 3, 4]
    assert {r[7] for r in first} == {"COMPLETED", "CANCELLED", "REOPENED"}  # the action column
    with ctx.db.write() as conn:
        assert conn.exec_driver_sql(update_sql).rowcount == 3
    assert [r[0] for r in unread()] == [4]
    with ctx.db.write() as conn:  # acknowledging again changes nothing
        assert conn.exec_driver_sql(update_sql).rowcount == 0
    with ctx.db.read() as conn:
        stamped = conn.execute(
            select(billing_outbound.c.id).where(billing_outbound.c.acknowledged_at.is_not(None))
        ).scalars()
        assert sorted(stamped) == [1, 2, 3]
