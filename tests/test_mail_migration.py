"""Migration 0002 keeps every outbox row written at 0001 and gives it the sender's columns."""

from __future__ import annotations

from sqlalchemy import select, text

from wo_tui.core import schema
from wo_tui.core.db import connect
from wo_tui.core.models import outbox

from conftest import NOW


def test_outbox_rows_of_0001_survive_the_upgrade(empty_db_url: str) -> None:
    db = connect(empty_db_url)
    try:
        schema.upgrade(db, "0001")
        with db.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO assignees (id, name, kind, email, active) "
                    "VALUES (1, 'Sam Carter', 'internal', 'sam@field.example', true)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO work_orders (id, type_code, priority, status, source, "
                    "created_at, created_by, service_time, due_date, life_support, "
                    "reading_to_follow, updated_at, updated_by, version, assignee_id) VALUES "
                    "(1, 'MISC', 3, 'SETUP', 'manual', :now, 'a', 'any', '2026-12-01', false, "
                    "false, :now, 'a', 2, 1)"
                ),
                {"now": NOW},
            )
            for n, status in enumerate(("queued", "sent", "failed"), start=1):
                conn.execute(
                    text(
                        "INSERT INTO outbox (id, work_order_id, kind, assignee_id, recipient, "
                        "message_id, status, attempts, last_reply, created_at, created_by) "
                        "VALUES (:id, 1, 'assignment', 1, 'sam@field.example', :mid, :status, "
                        ":attempts, :reply, :now, 'a')"
                    ),
                    {
                        "id": n,
                        "mid": f"<wo-000001.{n}@localhost>",
                        "status": status,
                        "attempts": n - 1,
                        "reply": None if n == 1 else f"reply {n}",
                        "now": NOW,
                    },
                )
        assert schema.upgrade(db) == ("0001", schema.SCHEMA_HEAD)
        with db.read() as conn:
            rows = conn.execute(select(outbox).order_by(outbox.c.id)).mappings().all()
        assert [
            (r["id"], r["status"], r["attempts"], r["last_reply"], r["message_id"]) for r in rows
        ] == [
            (1, "queued", 0, None, "<wo-000001.1@localhost>"),
            (2, "sent", 1, "reply 2", "<wo-000001.2@localhost>"),
            (3, "failed", 2, "reply 3", "<wo-000001.3@localhost>"),
        ]
        assert {(r["ical_sequence"], r["last_attempt_at"], r["failed_at"]) for r in rows} == {
            (0, None, None)
        }
    finally:
        db.dispose()
