"""A filled database survives `wo-tui db upgrade`: at the newest revision nothing changes
(rows, revision, schema); from the first revision every row and value comes through, and the
columns added since hold their documented defaults. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, inspect, select, update

from wo_tui import cli
from wo_tui.core import schema
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import connect
from wo_tui.core.event_settings import EventsSettings
from wo_tui.core.models import work_orders
from wo_tui.core.orders import add_note, assign, create_order
from wo_tui.core.poller import process_batch
from wo_tui.core.status_changes import bulk_cancel, bulk_complete, hold, reopen

from conftest import NOW, isolate_cli

pytestmark = pytest.mark.filterwarnings("ignore:.*expression-based index")

HEAD = schema.SCHEMA_HEAD
SCRIPT = Path(sys.executable).with_name("wo-tui")
ADDED_SINCE_0001 = {
    # migration 0002: "existing rows get sequence 0 and no attempt times"
    "outbox": {"ical_sequence": 0, "last_attempt_at": None, "failed_at": None},
}
"""Every column added after revision 0001, with the value an existing row gets."""
TABLES_ADDED_SINCE_0001 = {"mail_accounts"}
"""Every table added after revision 0001 (0006: empty until a sender logs in)."""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_cli(monkeypatch, tmp_path, "upgrade-tester")


def wo(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> tuple[int, str, str]:
    """`wo-tui --db URL ...` in-process: (status, stdout, stderr)."""
    capsys.readouterr()
    status = cli.run(["--db", url, *argv])
    out, err = capsys.readouterr()
    return status, out, err


def wo_script(url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """The real console script (in the environment `_isolated` made)."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "wo_tui"]
    return subprocess.run(
        [*command, "--db", url, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC"},
        timeout=120,
        check=False,
    )


def reflect(engine: Engine) -> MetaData:
    meta = MetaData()
    meta.reflect(bind=engine)
    return meta


def dump(engine: Engine, columns: dict[str, list[str]] | None = None) -> dict[str, list[dict]]:
    """Every row of every table (or of the given tables and columns), in primary-key order."""
    meta = reflect(engine)
    wanted = columns or {name: list(t.columns.keys()) for name, t in meta.tables.items()}
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for name, names in wanted.items():
            table = meta.tables[name]
            query = select(*(table.c[n] for n in names)).order_by(*table.primary_key.columns)
            out[name] = [dict(r) for r in conn.execute(query).mappings()]
    return out


def schema_shape(engine: Engine) -> dict[str, Any]:
    """Tables, columns, keys, indexes (and on SQLite the stored DDL), to compare."""
    inspector = inspect(engine)
    shape: dict[str, Any] = {}
    for name in sorted(inspector.get_table_names()):
        shape[name] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c["default"]))
                for c in inspector.get_columns(name)
            ],
            "pk": inspector.get_pk_constraint(name)["constrained_columns"],
            "fks": sorted(
                (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(name)
            ),
            "unique": sorted(
                (u["name"] or "", tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(name)
            ),
            "indexes": sorted(
                (
                    ix["name"] or "",
                    str(ix["column_names"]),
                    str(sorted((k, str(v)) for k, v in ix.get("dialect_options", {}).items())),
                )
                for ix in inspector.get_indexes(name)
            ),
        }
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        else:
            query = (
                "SELECT tablename, indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = 'public' ORDER BY indexname"
            )
        shape["ddl"] = [tuple(r) for r in conn.exec_driver_sql(query)]
    return shape


# ---------------------------------------------------------------------------------------------
# (a) at the newest revision


def test_db_upgrade_leaves_a_filled_database_at_head_unchanged(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    assert wo(capsys, db_url, "seed", "--orders", "200", "--events", "20")[0] == 0
    db = connect(db_url)
    try:
        ctx = Context(db, "dispatcher-a", clock=fixed_clock(NOW))
        with db.read() as conn:
            new = list(
                conn.execute(
                    select(work_orders.c.id)
                    .where(work_orders.c.status == "NEW", ~work_orders.c.life_support)
                    .order_by(work_orders.c.id)
                ).scalars()
            )
        assert len(new) >= 30
        for order_id in new[:10]:
            add_note(ctx, order_id, f"Note on {order_id}: gate code 1234\nDog — friendly")
        assign(ctx, new[0], "Sam Carter", scheduled_date=NOW.date() + timedelta(days=1))
        assert bulk_complete(ctx, new[1:8], note="done on the round").all_done
        assert bulk_cancel(ctx, new[8:12], "duplicate", note="raised twice").all_done
        assert reopen(ctx, new[8:10], "not a duplicate after all").all_done
        assert hold(ctx, new[12:14], "no access: locked gate").all_done
        assert process_batch(ctx, EventsSettings(), limit=5).processed == 5
        before, shape = dump(db.engine), schema_shape(db.engine)
    finally:
        db.dispose()
    assert len(before["work_orders"]) > 200 and len(before["events"]) == 20
    assert len(before["notes"]) == 10 and len(before["outbox"]) == 1
    assert len(before["billing_outbound"]) == 7 + 4 + 2
    assert {r["status"] for r in before["events"]} == {"pending", "processed"}
    assert before["alembic_version"] == [{"version_num": HEAD}]

    status, out, err = wo(capsys, db_url, "db", "upgrade")
    assert (status, err) == (0, "")
    assert out.endswith(f": already at revision {HEAD}\n"), out
    assert wo(capsys, db_url, "db", "current")[0] == 0

    db = connect(db_url)
    try:
        assert dump(db.engine) == before
        assert schema_shape(db.engine) == shape
    finally:
        db.dispose()


# ---------------------------------------------------------------------------------------------
# (b) from the first revision

T0 = NOW - timedelta(days=3, microseconds=-123456)  # with a fraction of a second


def fill_0001(engine: Engine) -> dict[str, list[int]]:
    """Representative rows in every table of revision 0001, every column given a value
    somewhere; the database numbers the rows. Returns the ids by table."""
    meta = reflect(engine)
    t: dict[str, Table] = dict(meta.tables)
    assert set(t) == {
        "alembic_version",
        "assignees",
        "billing_outbound",
        "events",
        "history",
        "notes",
        "outbox",
        "work_order_types",
        "work_orders",
    }
    ids: dict[str, list[int]] = {}
    filled: dict[str, set[str]] = {}

    def add(table: str, **values: Any) -> int:
        assert set(values) <= set(t[table].columns.keys()), set(values) - set(t[table].c.keys())
        filled.setdefault(table, set()).update(k for k, v in values.items() if v is not None)
        with engine.begin() as conn:
            key = conn.execute(t[table].insert().values(**values)).inserted_primary_key
        assert key is not None
        if table == "work_order_types":  # keyed by its code
            return 0
        ids.setdefault(table, []).append(int(key[0]))
        return int(key[0])

    add(
        "work_order_types",
        code="GAS_CHECK",
        name="Gas safety check — ÅÖ",
        default_priority=2,
        sla_business_days=4,
        completion_needs="note",
        fee_code="FEE_GAS",
        required_fields="site_address,meter_number",
        active=False,
    )
    sam = add(
        "assignees",
        name="Sam Carter",
        kind="internal",
        email="sam@field.example",
        phone="0400 000 000",
        active=True,
        created_at=T0,
    )
    partner = add(
        "assignees",
        name="Metering Partner Pty Ltd",
        kind="partner",
        email="dispatch@partner.example",
        phone=None,
        active=False,
        created_at=T0 + timedelta(minutes=1),
    )
    event = {
        "event_type": "move_in",
        "occurred_at": T0,
        "account_number": "40012345",
        "customer_name": "Jo Citizen",
        "site_address": "12 Example St, Springfield VIC 3000",
        "site_id": "63051234567",
        "meter_number": "M1234567",
        "life_support": False,
        "payload": json.dumps({"move_in_date": "2026-03-03"}),
        "received_at": T0 + timedelta(seconds=5),
    }
    processed = add(
        "events",
        **event,
        external_ref="BILL-1",
        status="processed",
        attempts=1,
        processed_at=T0 + timedelta(seconds=9),
    )
    add(
        "events",
        **{**event, "event_type": "move_out", "life_support": True},
        external_ref="BILL-2",
        status="dead",
        attempts=5,
        last_error="no rule for event type 'move_out'\nfix the config",
        next_attempt_at=T0 + timedelta(hours=1),
    )
    add("events", **{**event, "payload": None}, external_ref="BILL-3", status="pending", attempts=0)

    base = {
        "type_code": "RECONNECT",
        "priority": 1,
        "source": "manual",
        "account_number": "40012345",
        "customer_name": "Zoë O'Brien",
        "site_address": "1 Main St, Newtown NSW 2042",
        "site_id": "63051234567",
        "meter_number": "M1234567",
        "created_at": T0,
        "created_by": "dispatcher-a",
        "service_time": "any",
        "due_date": date(2026, 11, 27),
        "life_support": False,
        "reading_to_follow": False,
        "updated_at": T0,
        "updated_by": "dispatcher-a",
        "version": 1,
    }
    first = add(
        "work_orders",
        **{**base, "source": "move_in"},
        status="NEW",
        source_event_id=processed,
        meter_location="Garage",
        preferred_date=date(2026, 11, 30),
        instructions="Call 30 min before.\nKey in lockbox.",
        materials="Seal kit",
        access_details="Side gate",
        hazards="Aggressive dog",
    )
    with engine.begin() as conn:
        conn.execute(
            update(t["events"]).where(t["events"].c.id == processed).values(work_order_id=first)
        )
    filled["events"].add("work_order_id")
    add(
        "work_orders",
        **{**base, "type_code": "GAS_CHECK", "priority": 2},
        status="SETUP",
        related_order_id=first,
        assignee_id=sam,
        assigned_by="dispatcher-a",
        assigned_at=T0 + timedelta(hours=1),
        scheduled_date=date(2026, 11, 28),
        window_start=time(8, 0),
        window_end=time(12, 30),
    )
    add(
        "work_orders",
        **{**base, "type_code": "SPECIAL_READ", "life_support": True, "version": 3},
        status="SENT",
        assignee_id=partner,
        assigned_by="dispatcher-b",
        assigned_at=T0,
        sent_at=T0 + timedelta(minutes=2),
    )
    add("work_orders", **base, status="ON_HOLD", hold_note="no access: locked gate")
    done = add(
        "work_orders",
        **{**base, "type_code": "DISCONNECT"},
        status="COMPLETED",
        completed_at=NOW,
        completed_by="dispatcher-a",
        completion_note="done",
        outcome="done",
        outcome_reason=None,
        reading="12345.60",
        fee_code="FEE_DISCONNECT",
    )
    add(
        "work_orders",
        **{**base, "type_code": "MISC", "reading_to_follow": True},
        status="COMPLETED",
        completed_at=NOW,
        completed_by="dispatcher-a",
        outcome="not_done",
        outcome_reason="no access",
    )
    cancelled = add(
        "work_orders",
        **base,
        status="CANCELLED",
        cancelled_at=NOW,
        cancelled_by="dispatcher-b",
        cancel_reason="duplicate",
        cancel_note="raised twice",
    )
    orders = ids["work_orders"]
    for order_id in orders:
        add(
            "history",
            work_order_id=order_id,
            at=T0,
            actor="seed",
            field="status",
            old_value=None,
            new_value="NEW",
            reason="created",
            batch_id=None,
        )
    add(
        "history",
        work_order_id=done,
        at=NOW,
        actor="dispatcher-a",
        field="status",
        old_value="SENT",
        new_value="COMPLETED",
        reason="done",
        batch_id="b" * 32,
    )
    add("notes", work_order_id=first, at=T0, author="dispatcher-a", body="Gate code 1234")
    add("notes", work_order_id=first, at=NOW, author="Zoë", body="Two\nlines — ünïcode")
    for n, status in enumerate(("queued", "sent", "failed", "retry"), start=1):
        add(
            "outbox",
            work_order_id=orders[1],
            kind="assignment",
            assignee_id=sam,
            recipient="sam@field.example",
            message_id=f"<wo-000002.{n}@localhost>",
            status=status,
            attempts=n - 1,
            next_attempt_at=T0 + timedelta(minutes=n) if status == "retry" else None,
            lease_token="a" * 32 if status == "retry" else None,
            lease_until=T0 + timedelta(minutes=5) if status == "retry" else None,
            last_reply=None if n == 1 else f"{400 + n} reply {n}",
            created_at=T0,
            created_by="dispatcher-a",
            sent_at=T0 + timedelta(minutes=1) if status == "sent" else None,
        )
    outbound = {
        "order_type": "DISCONNECT",
        "account_number": "40012345",
        "site_id": "63051234567",
        "meter_number": "M1234567",
        "actor": "dispatcher-a",
        "at": NOW,
    }
    add(
        "billing_outbound",
        **outbound,
        work_order_id=done,
        order_number=f"WO-{done:06d}",
        action="COMPLETED",
        outcome="done",
        reading="12345.60",
        reading_to_follow=False,
        fee_code="FEE_DISCONNECT",
        acknowledged_at=NOW + timedelta(minutes=1),
    )
    add(
        "billing_outbound",
        **{**outbound, "order_type": "RECONNECT"},
        work_order_id=cancelled,
        order_number=f"WO-{cancelled:06d}",
        action="CANCELLED",
        reason="duplicate",
        reading_to_follow=True,
    )
    # every column of every table of 0001 has a value in some row ("id" from the database)
    for name, table in t.items():
        if name != "alembic_version":
            assert set(table.columns.keys()) - filled[name] <= {"id"}, name
    return ids


def test_db_upgrade_keeps_every_row_of_a_filled_0001_database(
    capsys: pytest.CaptureFixture[str], empty_db_url: str
) -> None:
    db = connect(empty_db_url)
    try:
        assert schema.upgrade(db, "0001") == (None, "0001")
        ids = fill_0001(db.engine)
        old_columns = {
            name: list(t.columns.keys()) for name, t in reflect(db.engine).tables.items()
        }
        before = dump(db.engine)
    finally:
        db.dispose()
    assert before["alembic_version"] == [{"version_num": "0001"}]
    assert len(before["work_order_types"]) == 9 and len(before["work_orders"]) == 7

    done = wo_script(empty_db_url, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f": upgraded from 0001 to {HEAD}\n"), done.stdout
    assert done.stderr == ""

    db = connect(empty_db_url)
    try:
        assert schema.current_revision(db) == HEAD
        new_columns = {
            name: list(t.columns.keys()) for name, t in reflect(db.engine).tables.items()
        }
        assert set(new_columns) == set(old_columns) | TABLES_ADDED_SINCE_0001  # none lost
        added = {
            name: set(new_columns[name]) - set(cols)
            for name, cols in old_columns.items()
            if set(new_columns[name]) != set(cols)
        }
        assert added == {name: set(d) for name, d in ADDED_SINCE_0001.items()}

        # every row, same ids, same values in the columns of 0001
        old_only = {name: cols for name, cols in old_columns.items() if name != "alembic_version"}
        assert dump(db.engine, old_only) == {k: v for k, v in before.items() if k in old_only}
        # the columns added since hold their documented defaults
        after = dump(db.engine)
        assert all(after[name] == [] for name in TABLES_ADDED_SINCE_0001)
        for name, defaults in ADDED_SINCE_0001.items():
            assert len(after[name]) == len(before[name])
            for row in after[name]:
                assert {k: row[k] for k in defaults} == defaults, row
    finally:
        db.dispose()

    # The upgraded database works: queries through the rebuilt indexes, new rows numbered on.
    status, out, _ = wo(capsys, empty_db_url, "orders", "list", "--format", "json")
    assert status == 0
    open_orders = {r["number"]: r["status"] for r in json.loads(out)}
    assert open_orders == {
        f"WO-{i:06d}": s
        for i, s in zip(ids["work_orders"][:4], ("NEW", "SETUP", "SENT", "ON_HOLD"), strict=True)
    }
    status, out, _ = wo(capsys, empty_db_url, "orders", "list", "--all", "--format", "json")
    assert status == 0
    assert sorted(r["number"] for r in json.loads(out)) == [
        f"WO-{i:06d}" for i in ids["work_orders"]
    ]
    db = connect(empty_db_url)
    try:
        ctx = Context(db, "dispatcher-a", clock=fixed_clock(NOW))
        made = create_order(ctx, {"type_code": "MISC", "site_address": "9 New St"})
        assert made == max(ids["work_orders"]) + 1
        assign(ctx, made, "Sam Carter")
        with db.read() as conn:
            outbox_ids = list(conn.exec_driver_sql("SELECT id FROM outbox ORDER BY id").scalars())
        assert outbox_ids == [*ids["outbox"], max(ids["outbox"]) + 1]
    finally:
        db.dispose()
    again = wo(capsys, empty_db_url, "db", "upgrade")
    assert again[0] == 0 and again[1].endswith(f": already at revision {HEAD}\n")
