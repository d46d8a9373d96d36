"""The schema: Alembic migrations from empty, models and migrations in agreement, data kept
across upgrades, the cheap start-up check, and SQLite's safety settings."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Index, inspect, select, text, update

from wo_tui.core import schema
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import BUSY_TIMEOUT_MS, Database, connect
from wo_tui.core.models import with_postgresql_options, work_order_types, work_orders
from wo_tui.core.orders import add_note, assign
from wo_tui.core.seed import seed_events, seed_orders
from wo_tui.core.status_changes import bulk_cancel, bulk_complete, reopen

from conftest import NOW, PG_URL, statements_sent

ROOT = Path(__file__).resolve().parents[1]

# The eight work-order types of docs/domain.md: code → (name, completion needs, fee or None)
DOMAIN_TYPES = {
    "RECONNECT": ("Reconnection (re-energisation)", "reading", "FEE_RECONNECT"),
    "DISCONNECT": ("Disconnection (de-energisation)", "reading", "FEE_DISCONNECT"),
    "SPECIAL_READ": ("Special read", "reading", "FEE_SPECIAL_READ"),
    "FINAL_READ": ("Final read", "reading", None),
    "METER_INVESTIGATION": ("Meter investigation", "note", None),
    "METER_EXCHANGE": ("Meter exchange", "note", None),
    "NEW_CONNECTION": ("Service connection", "note", "FEE_CONNECTION"),
    "MISC": ("Miscellaneous", "note", None),
}


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and the Alembic revision), in primary-key order."""
    with db.read() as conn:
        tables = {
            table.name: [
                tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in with_postgresql_options().sorted_tables
        }
        tables["alembic_version"] = [
            tuple(r) for r in conn.execute(text("SELECT version_num FROM alembic_version"))
        ]
    return tables


def test_head_constant_matches_the_migrations() -> None:
    assert schema.head_revision() == schema.SCHEMA_HEAD


def test_upgrade_from_empty_reaches_head(empty_db_url: str) -> None:
    db = connect(empty_db_url)
    try:
        assert schema.current_revision(db) is None
        assert inspect(db.engine).get_table_names() == []
        assert schema.upgrade(db) == (None, schema.SCHEMA_HEAD)
        assert schema.current_revision(db) == schema.SCHEMA_HEAD
        tables = set(inspect(db.engine).get_table_names())
        assert tables == set(with_postgresql_options().tables) | {"alembic_version"}
    finally:
        db.dispose()


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_models_and_migrations_agree(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, with_postgresql_options())
    # No filtering needed: on SQLite 3.40 and PostgreSQL 15 Alembic reports nothing at all.
    # (It skips the two expression indexes, with a warning; the next test checks them.)
    assert differences == []


def test_the_sort_expression_indexes_exist(db: Database) -> None:
    """Alembic cannot compare expression indexes: check by name that the migration made
    each one the models declare."""
    expected = {
        index.name
        for index in with_postgresql_options().tables["work_orders"].indexes
        if any(not isinstance(e, Column) for e in index.expressions)
    }
    assert expected == {"ix_work_orders_customer_sort", "ix_work_orders_address_sort"}
    query = (
        "SELECT indexname FROM pg_indexes WHERE tablename = 'work_orders'"
        if db.engine.dialect.name == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'work_orders'"
    )
    with db.read() as conn:
        assert expected <= set(conn.execute(text(query)).scalars())


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_partial_index_predicates_agree(db: Database) -> None:
    """compare_metadata does not look at the WHERE of a partial index; the queue's speed
    depends on them, so compare the statuses each predicate names."""
    dialect = db.engine.dialect.name
    inspector = inspect(db.engine)
    checked = 0
    for table in with_postgresql_options().sorted_tables:
        reflected = {ix["name"]: ix for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            assert isinstance(index, Index)
            where = index.dialect_options[dialect]["where"]
            if where is None and index.name not in reflected:
                continue  # an expression index (not reflected): see the test above
            found = reflected[index.name]["dialect_options"].get(f"{dialect}_where")
            if where is None:
                assert found is None, index.name
                continue
            assert found is not None, index.name
            # PostgreSQL gives the predicate back rewritten ("IN (...)" becomes
            # "= ANY (ARRAY[...])", with casts): compare what it names, not its spelling.
            assert predicate(str(where), table.columns.keys()) == predicate(
                str(found), table.columns.keys()
            ), index.name
            checked += 1
    assert checked == 8  # 6 on work_orders, 1 on events, 1 on billing_outbound


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_partial_indexes_on_orders_name_at_most_two_statuses(db: Database) -> None:
    """SQLite tests `status IN (<more than two values>)` through a temporary index; in a
    partial index's WHERE it rebuilds that index for every order an UPDATE of `status`
    touches (four per completed order with the two open-queue indexes: a quarter of a bulk
    complete's work). So "open" is written as "not one of the two closed statuses"."""
    inspector = inspect(db.engine)
    dialect = db.engine.dialect.name
    partial = {
        ix["name"]: ix["dialect_options"].get(f"{dialect}_where")
        for ix in inspector.get_indexes("work_orders")
        if ix["dialect_options"].get(f"{dialect}_where") is not None
    }
    assert {"ix_work_orders_open_queue", "ix_work_orders_open_due"} <= set(partial)
    for name, where in partial.items():
        assert len(re.findall(r"'(\w+)'", str(where))) <= 2, (name, where)
    assert "'COMPLETED'" in str(partial["ix_work_orders_open_queue"])
    assert "'NEW'" not in str(partial["ix_work_orders_open_queue"])


def predicate(sql: str, columns: list[str]) -> tuple[set[str], set[str], bool]:
    """The literals, the columns and whether NULL is tested, of an index predicate."""
    words = set(re.findall(r"\w+", sql.lower()))
    return set(re.findall(r"'(\w+)'", sql)), words & set(columns), "null" in words


def test_the_domain_types_are_seeded(db: Database) -> None:
    with db.read() as conn:
        rows = conn.execute(select(work_order_types)).mappings().all()
    seeded = {r["code"]: (r["name"], r["completion_needs"], r["fee_code"]) for r in rows}
    assert seeded == DOMAIN_TYPES
    assert all(r["active"] for r in rows)
    assert {r["code"]: r["default_priority"] for r in rows}["RECONNECT"] == 1
    assert all(r["sla_business_days"] > 0 and "site_address" in r["required_fields"] for r in rows)


def test_a_filled_database_survives_the_upgrade(empty_db_url: str) -> None:
    db = connect(empty_db_url)
    try:
        assert schema.upgrade(db, schema.SCHEMA_HEAD) == (None, schema.SCHEMA_HEAD)
        ctx = Context(db, "dispatcher-a", clock=fixed_clock(NOW))
        seed_orders(ctx, 500, seed=5)
        seed_events(ctx, 50, seed=5)
        with db.read() as conn:
            ids = list(conn.execute(select(work_orders.c.id).order_by(work_orders.c.id)).scalars())
            open_ids = list(
                conn.execute(
                    select(work_orders.c.id)
                    .where(work_orders.c.status == "NEW", ~work_orders.c.life_support)
                    .order_by(work_orders.c.id)
                ).scalars()
            )
        for order_id in ids[:40]:
            add_note(ctx, order_id, f"Note on {order_id}: call ahead\nGate code 1234")
        assign(ctx, open_ids[0], "Sam Carter")
        bulk_complete(ctx, open_ids[1:20], note="Done")
        bulk_cancel(ctx, open_ids[20:30], "duplicate")
        reopen(ctx, open_ids[20:25], "Not a duplicate")
        before = dump(db)
        assert len(before["work_orders"]) == 500 and len(before["notes"]) == 40
        assert len(before["events"]) == 50 and len(before["billing_outbound"]) == 34
        assert len(before["outbox"]) == 1

        assert schema.upgrade(db) == (schema.SCHEMA_HEAD, schema.SCHEMA_HEAD)
        schema.ensure_current(db)

        assert dump(db) == before
    finally:
        db.dispose()


def test_ensure_current_upgrades_an_empty_database(empty_db_url: str) -> None:
    db = connect(empty_db_url)
    try:
        schema.ensure_current(db)
        assert schema.current_revision(db) == schema.SCHEMA_HEAD
    finally:
        db.dispose()


ENSURE_SCRIPT = """
import sys
from wo_tui.core import schema
from wo_tui.core.db import connect
assert "alembic" not in sys.modules, "importing the schema module imported alembic"
db = connect(sys.argv[1])
schema.ensure_current(db)
print(schema.current_revision(db))
print(sorted(m for m in sys.modules if m == "alembic" or m.startswith("alembic.")))
"""


def test_ensure_current_at_head_does_not_import_alembic(db_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", ENSURE_SCRIPT, db_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [schema.SCHEMA_HEAD, "[]"]


# --- SQLite ------------------------------------------------------------------------------

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite settings")


@sqlite_only
def test_sqlite_runs_in_wal_with_a_busy_timeout(db: Database) -> None:
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_MS
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert BUSY_TIMEOUT_MS >= 5_000


@sqlite_only
def test_sqlite_keeps_statement_journals_in_memory(db: Database) -> None:
    """temp_store=MEMORY on every connection: a multi-row UPDATE inside a transaction keeps
    the pages it changes in a statement journal, which SQLite otherwise writes to a file in
    /var/tmp one page per call (40,000 calls for a 10,000-order bulk complete)."""
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY
    with db.write() as conn:
        assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2


@sqlite_only
def test_sqlite_writes_begin_immediate_and_reads_deferred(db: Database) -> None:
    with statements_sent(db.engine) as sent:
        with db.write() as conn:
            conn.execute(select(work_orders.c.id)).all()
        with db.read() as conn:
            conn.execute(select(work_orders.c.id)).all()
    statements = [statement.strip().upper() for statement, _ in sent]
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN"]


@sqlite_only
def test_a_second_sqlite_writer_waits_instead_of_failing(db: Database) -> None:
    """Two read-modify-write transactions on one row: the second waits at BEGIN IMMEDIATE
    for the first to commit, then reads the new value. With a deferred BEGIN it would read
    the old value and fail with "database is locked" (or lose the first update)."""
    ctx = Context(db, "dispatcher-a", clock=fixed_clock(NOW))
    seed_orders(ctx, 1, seed=1)

    def read_modify_write(conn: Any) -> None:
        version = conn.execute(select(work_orders.c.version)).scalar_one()
        conn.execute(update(work_orders).values(version=version + 1))

    b_started, b_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            b_started.set()
            with db.write() as conn:
                read_modify_write(conn)
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            b_done.set()

    other = threading.Thread(target=second_writer)
    with db.write() as conn:
        read_modify_write(conn)
        other.start()
        assert b_started.wait(10)
        time.sleep(0.3)
        # the lock is held: B cannot have finished, and must still be waiting, not failed
        assert not b_done.is_set() and not errors
        # WAL: readers are not blocked by the writer (and see the committed state)
        with db.read() as reader:
            assert reader.execute(select(work_orders.c.version)).scalar_one() == 1
    other.join(30)
    assert b_done.is_set() and not errors, errors
    with db.read() as conn:
        assert conn.execute(select(work_orders.c.version)).scalar_one() == 3
