"""Creating, editing, noting and assigning one order through `wo_tui.core.orders`."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from wo_tui.core.models import assignees, history, notes, outbox, work_order_types, work_orders
from wo_tui.core.nmi import nmi_checksum
from wo_tui.core.orders import (
    add_note,
    assign,
    create_order,
    edit_order,
    get_order,
    order_history,
    order_notes,
)
from wo_tui.core.status_changes import bulk_complete, mark_sent

from conftest import NOW

FULL = {"account_number": "40012345", "site_address": "12 George St, Newtown NSW 2042"}
FULL_READ = {**FULL, "meter_number": "M1234567"}


def add_assignee(ctx: Context, name: str, email: str, *, active: bool = True) -> int:
    with ctx.db.write() as conn:
        return int(
            conn.execute(
                insert(assignees).returning(assignees.c.id),
                {"name": name, "kind": "internal", "email": email, "active": active},
            ).scalar_one()
        )


def other(ctx: Context, operator: str = "dispatcher-b") -> Context:
    """The same database and clock, another dispatcher."""
    return Context(ctx.db, operator, clock=ctx.clock)


def counts(ctx: Context) -> dict[str, int]:
    with ctx.db.read() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (work_orders, history, notes, outbox)
        }


def order(ctx: Context, order_id: int) -> dict[str, Any]:
    with ctx.db.read() as conn:
        return dict(get_order(conn, order_id))


def trail(ctx: Context, order_id: int) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        return [dict(r) for r in order_history(conn, order_id)]


def mails(ctx: Context, order_id: int) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        query = select(outbox).where(outbox.c.work_order_id == order_id).order_by(outbox.c.id)
        return [dict(r) for r in conn.execute(query).mappings()]


# --- create ------------------------------------------------------------------------------


def test_fixed_clock_is_a_thursday(ctx: Context) -> None:
    assert ctx.today() == date(2026, 11, 26) and ctx.today().weekday() == 3


# type → (default priority, due date from its SLA counted in business days from Thursday)
TYPE_DEFAULTS = {
    "RECONNECT": (1, date(2026, 11, 27)),  # 1 business day: Friday
    "DISCONNECT": (2, date(2026, 11, 30)),  # 2 business days: over the weekend to Monday
    "SPECIAL_READ": (2, date(2026, 12, 1)),
    "FINAL_READ": (2, date(2026, 12, 1)),
    "METER_INVESTIGATION": (3, date(2026, 12, 10)),
    "METER_EXCHANGE": (3, date(2026, 12, 17)),
    "NEW_CONNECTION": (3, date(2026, 12, 10)),
    "MISC": (3, date(2026, 12, 10)),
}


def test_create_takes_the_type_defaults(ctx: Context) -> None:
    # One database for all eight types (a fresh PostgreSQL database per case is slow).
    for type_code, (priority, due) in TYPE_DEFAULTS.items():
        order_id = create_order(ctx, {"type_code": type_code.lower(), **FULL_READ})
        row = order(ctx, order_id)
        assert (row["type_code"], row["priority"], row["due_date"]) == (
            type_code,
            priority,
            due,
        ), type_code
        assert row["status"] == "NEW" and row["version"] == 1
        assert row["created_at"] == NOW and row["created_by"] == "dispatcher-a"
        assert row["updated_at"] == NOW and row["updated_by"] == "dispatcher-a"
        assert row["service_time"] == "any"
        assert row["assignee_id"] is None and row["life_support"] is False
        assert [
            (h["field"], h["old_value"], h["new_value"], h["reason"]) for h in trail(ctx, order_id)
        ] == [("status", None, "NEW", "created")]


def test_create_keeps_given_priority_and_due_date(ctx: Context) -> None:
    order_id = create_order(
        ctx, {"type_code": "MISC", **FULL, "priority": "high", "due_date": "2026-12-24"}
    )
    row = order(ctx, order_id)
    assert row["priority"] == 1 and row["due_date"] == date(2026, 12, 24)


REQUIRED = {
    "RECONNECT": {"account number", "site address"},
    "DISCONNECT": {"account number", "site address"},
    "SPECIAL_READ": {"site address", "meter number"},
    "FINAL_READ": {"account number", "site address", "meter number"},
    "METER_INVESTIGATION": {"site address", "meter number"},
    "METER_EXCHANGE": {"site address", "meter number"},
    "NEW_CONNECTION": {"site address"},
    "MISC": {"site address"},
}


def test_create_refuses_missing_required_fields(ctx: Context) -> None:
    for type_code, missing in REQUIRED.items():
        with pytest.raises(InvalidInput) as caught:
            create_order(ctx, {"type_code": type_code, "customer_name": "Ann Lee"})
        assert set(caught.value.problems) == missing, type_code
        assert all("required for a" in msg for msg in caught.value.problems.values())
    assert counts(ctx)["work_orders"] == 0 and counts(ctx)["history"] == 0


def test_blank_required_field_counts_as_missing(ctx: Context) -> None:
    with pytest.raises(InvalidInput) as caught:
        create_order(ctx, {"type_code": "MISC", "site_address": "   \x1b\x07\x00  "})
    assert set(caught.value.problems) == {"site address"}


def test_create_checks_the_nmi_check_digit(ctx: Context) -> None:
    base = "4102345678"
    good = base + str(nmi_checksum(base))
    bad = base + str((nmi_checksum(base) + 1) % 10)
    with pytest.raises(InvalidInput) as caught:
        create_order(ctx, {"type_code": "MISC", **FULL, "site_id": bad})
    assert set(caught.value.problems) == {"site id (NMI)"}
    assert f"should be {nmi_checksum(base)}" in caught.value.problems["site id (NMI)"]
    assert counts(ctx)["work_orders"] == 0
    spaced = f"{good[:5]} {good[5:]}".lower()
    order_id = create_order(ctx, {"type_code": "MISC", **FULL, "site_id": spaced})
    assert order(ctx, order_id)["site_id"] == good


def test_create_refuses_an_unknown_type(ctx: Context) -> None:
    with pytest.raises(InvalidInput) as caught:
        create_order(ctx, {"type_code": "TELEPORT", **FULL})
    message = caught.value.problems["type"]
    assert "TELEPORT" in message and "RECONNECT" in message and "SPECIAL_READ" in message
    assert counts(ctx)["work_orders"] == 0


def test_create_refuses_an_inactive_type(ctx: Context) -> None:
    with ctx.db.write() as conn:
        conn.execute(
            update(work_order_types)
            .where(work_order_types.c.code == "METER_EXCHANGE")
            .values(active=False)
        )
    with pytest.raises(InvalidInput):
        create_order(ctx, {"type_code": "METER_EXCHANGE", **FULL_READ})


def test_create_refuses_unknown_fields_and_bad_values(ctx: Context) -> None:
    with pytest.raises(InvalidInput) as caught:
        create_order(
            ctx,
            {
                "type_code": "MISC",
                **FULL,
                "colour": "red",
                "priority": "urgent",
                "window_start": "10:00",
            },
        )
    assert set(caught.value.problems) >= {"colour", "priority"}
    assert counts(ctx)["work_orders"] == 0


def test_create_strips_control_characters(ctx: Context) -> None:
    order_id = create_order(
        ctx,
        {
            "type_code": "MISC",
            "site_address": "1 High St\x1b[2J",
            "customer_name": "Eve\x1b]52;c;ZXZpbA==\x07 \u202eSmith\x9b",
            "instructions": "Ring first.\r\nThen\x00 knock.\x1bP+q\x1b\\",
        },
    )
    row = order(ctx, order_id)
    for field in ("site_address", "customer_name", "instructions"):
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", row[field]), field
    assert row["customer_name"] == "Eve]52;c;ZXZpbA== Smith"
    assert row["site_address"] == "1 High St[2J"
    assert row["instructions"] == "Ring first.\nThen knock.P+q\\"


def test_create_with_an_assignee_sets_it_up(ctx: Context) -> None:
    tech = add_assignee(ctx, "Sam Carter", "sam@utility.example")
    order_id = create_order(ctx, {"type_code": "MISC", **FULL, "assignee": "sam carter"})
    row = order(ctx, order_id)
    assert row["status"] == "SETUP" and row["assignee_id"] == tech and row["version"] == 2
    assert [m["kind"] for m in mails(ctx, order_id)] == ["assignment"]


# --- edit --------------------------------------------------------------------------------


def test_edit_writes_one_history_row_per_changed_field(ctx: Context) -> None:
    order_id = create_order(ctx, {"type_code": "MISC", **FULL, "customer_name": "Ann Lee"})
    editor = Context(ctx.db, "dispatcher-a", clock=fixed_clock(NOW.replace(hour=11)))
    version = edit_order(
        editor,
        order_id,
        1,
        {
            "priority": "High",
            "customer_name": "Ann Lee-Smith",
            "instructions": "Gate code 1234",
            "site_address": FULL["site_address"],  # unchanged: no history row
            "service_time": "after_hours",
            "scheduled_date": "2026-12-02",
        },
    )
    assert version == 2
    row = order(ctx, order_id)
    assert row["version"] == 2
    assert row["priority"] == 1 and row["customer_name"] == "Ann Lee-Smith"
    assert row["service_time"] == "after_hours" and row["scheduled_date"] == date(2026, 12, 2)
    assert row["updated_at"] == NOW.replace(hour=11) and row["created_at"] == NOW
    changes = {h["field"]: (h["old_value"], h["new_value"]) for h in trail(ctx, order_id)[1:]}
    assert changes == {
        "priority": ("Low", "High"),
        "customer_name": ("Ann Lee", "Ann Lee-Smith"),
        "instructions": (None, "Gate code 1234"),
        "service_time": ("any", "after_hours"),
        "scheduled_date": (None, "2026-12-02"),
    }
    assert len(trail(ctx, order_id)) == 6


def test_edit_without_a_change_writes_nothing(ctx: Context) -> None:
    order_id = create_order(ctx, {"type_code": "MISC", **FULL})
    before = counts(ctx)
    assert edit_order(ctx, order_id, 1, {"site_address": FULL["site_address"]}) == 1
    assert order(ctx, order_id)["version"] == 1
    assert counts(ctx) == before


def test_edit_with_a_stale_version_is_a_conflict_naming_who(ctx: Context) -> None:
    order_id = create_order(ctx, {"type_code": "MISC", **FULL, "customer_name": "Ann Lee"})
    assert edit_order(other(ctx), order_id, 1, {"customer_name": "Bob Ryan"}) == 2
    before_row, before_counts = order(ctx, order_id), counts(ctx)
    with pytest.raises(Conflict) as caught:
        edit_order(ctx, order_id, 1, {"customer_name": "Cat Kelly", "priority": 1})
    assert "dispatcher-b" in str(caught.value) and "WO-" in str(caught.value)
    assert order(ctx, order_id) == before_row
    assert counts(ctx) == before_counts
    assert before_row["customer_name"] == "Bob Ryan" and before_row["version"] == 2


def test_edit_of_a_closed_order_is_not_allowed(ctx: Context) -> None:
    order_id = create_order(ctx, {"type_code": "MISC", **FULL})
    assert bulk_complete(ctx, [order_id]).all_done
    before_row, before_counts = order(ctx, order_id), counts(ctx)
    with pytest.raises(NotAllowed) as caught:
        edit_order(ctx, order_id, before_row["version"], {"customer_name": "Late Change"})
    assert "COMPLETED" in str(caught.value)
    assert order(ctx, order_id) == before_row and counts(ctx) == before_counts


def test_edit_cannot_clear_a_required_field(ctx: Context) -> None:
    order_id = create_order(ctx, {"type_code": "DISCONNECT", **FULL})
    with pytest.raises(InvalidInput) as caught:
        edit_order(ctx, order_id, 1, {"account_number": ""})
    assert set(caught.value.problems) == {"account number"}
    assert order(ctx, order_id)["account_number"] == FULL["account_number"]
    assert order(ctx, order_id)["version"] == 1


def test_edit_refuses_invalid_input_and_missing_orders(ctx: Context) -> None:
    order_id = create_order(ctx, {"type_code": "MISC", **FULL})
    with pytest.raises(InvalidInput) as caught:
        edit_order(ctx, order_id, 1, {"status": "COMPLETED"})
    assert caught.value.problems == {"status": "is not a field of a work order"}
    with pytest.raises(InvalidInput):
        edit_order(ctx, order_id, 1, {"window_start": "12:00", "window_end": "09:00"})
    with pytest.raises(NotFound):
        edit_order(ctx, order_id + 100, 1, {"customer_name": "Nobody"})
    assert order(ctx, order_id)["version"] == 1


def test_edit_of_an_order_whose_type_was_retired(ctx: Context) -> None:
    """A type made inactive after orders were raised must not make those orders uneditable
    (this raised KeyError before the fix)."""
    order_id = create_order(ctx, {"type_code": "METER_EXCHANGE", **FULL_READ})
    with ctx.db.write() as conn:
        conn.execute(
            update(work_order_types)
            .where(work_order_types.c.code == "METER_EXCHANGE")
            .values(active=False)
        )
    assert edit_order(ctx, order_id, 1, {"customer_name": "Still Editable"}) == 2
    with pytest.raises(InvalidInput):
        edit_order(ctx, order_id, 2, {"meter_number": None})


# --- notes -------------------------------------------------------------------------------


def test_notes_are_stored_cleaned_in_order(ctx: Context) -> None:
    order_id = create_order(ctx, {"type_code": "MISC", **FULL})
    first = add_note(ctx, order_id, "  Customer rang.\x1b[31m\nWill be home after 3.  ")
    second = add_note(other(ctx), order_id, "Dog is friendly")
    with ctx.db.read() as conn:
        rows = order_notes(conn, order_id)
    assert [r["id"] for r in rows] == [first, second]
    assert rows[0]["body"] == "Customer rang.[31m\nWill be home after 3."
    assert [r["author"] for r in rows] == ["dispatcher-a", "dispatcher-b"]
    assert rows[0]["at"] == NOW
    assert order(ctx, order_id)["version"] == 1  # a note is not an edit of the order


def test_empty_notes_are_refused(ctx: Context) -> None:
    order_id = create_order(ctx, {"type_code": "MISC", **FULL})
    for body in ["", "   ", "\n\t\n", "\x1b\x07\x00"]:
        with pytest.raises(InvalidInput) as caught:
            add_note(ctx, order_id, body)
        assert "note" in caught.value.problems, repr(body)
    assert counts(ctx)["notes"] == 0


def test_note_on_a_missing_order_is_not_found(ctx: Context) -> None:
    with pytest.raises(NotFound):
        add_note(ctx, 424242, "hello")
    assert counts(ctx)["notes"] == 0


# --- assignment --------------------------------------------------------------------------


def test_assign_sets_up_and_queues_one_email(ctx: Context) -> None:
    tech = add_assignee(ctx, "Sam Carter", "sam@utility.example")
    order_id = create_order(ctx, {"type_code": "MISC", **FULL})
    assign(ctx, order_id, "Sam Carter")
    row = order(ctx, order_id)
    assert row["status"] == "SETUP" and row["version"] == 2
    assert row["assignee_id"] == tech and row["assignee_name"] == "Sam Carter"
    assert row["assigned_by"] == "dispatcher-a" and row["assigned_at"] == NOW
    assert [(h["field"], h["old_value"], h["new_value"]) for h in trail(ctx, order_id)[1:]] == [
        ("assignee", None, "Sam Carter"),
        ("status", "NEW", "SETUP"),
    ]
    [mail] = mails(ctx, order_id)
    assert mail["kind"] == "assignment" and mail["status"] == "queued"
    assert mail["recipient"] == "sam@utility.example" and mail["assignee_id"] == tech
    assert re.fullmatch(rf"<wo-0*{order_id}\.[0-9a-f]{{32}}@localhost>", mail["message_id"])
    assert mail["attempts"] == 0 and mail["created_by"] == "dispatcher-a"


def test_assign_with_a_scheduled_date_records_it(ctx: Context) -> None:
    add_assignee(ctx, "Sam Carter", "sam@utility.example")
    order_id = create_order(ctx, {"type_code": "MISC", **FULL})
    assign(ctx, order_id, "Sam Carter", scheduled_date=date(2026, 12, 3))
    row = order(ctx, order_id)
    assert row["scheduled_date"] == date(2026, 12, 3) and row["version"] == 2
    fields = [(h["field"], h["old_value"], h["new_value"]) for h in trail(ctx, order_id)[1:]]
    assert ("scheduled_date", None, "2026-12-03") in fields


def test_each_assignment_gets_its_own_message_id(ctx: Context) -> None:
    add_assignee(ctx, "Sam Carter", "sam@utility.example")
    add_assignee(ctx, "Priya Singh", "priya@utility.example")
    order_id = create_order(ctx, {"type_code": "MISC", **FULL})
    assign(ctx, order_id, "Sam Carter")
    assign(ctx, order_id, "Priya Singh")  # reassigning a SETUP order: no note needed
    found = mails(ctx, order_id)
    assert [m["recipient"] for m in found] == ["sam@utility.example", "priya@utility.example"]
    assert len({m["message_id"] for m in found}) == 2
    assert order(ctx, order_id)["version"] == 3
    # SETUP → SETUP is no status change: only the assignee row is added
    assert [h["field"] for h in trail(ctx, order_id)[1:]] == ["assignee", "status", "assignee"]


def test_assigning_to_a_deactivated_assignee_is_not_allowed(ctx: Context) -> None:
    add_assignee(ctx, "Gone Away", "gone@utility.example", active=False)
    order_id = create_order(ctx, {"type_code": "MISC", **FULL})
    before_row, before_counts = order(ctx, order_id), counts(ctx)
    with pytest.raises(NotAllowed) as caught:
        assign(ctx, order_id, "gone away", scheduled_date=date(2026, 12, 3))
    assert "Gone Away" in str(caught.value)
    assert order(ctx, order_id) == before_row and counts(ctx) == before_counts


def test_assigning_to_nobody_known_is_not_found(ctx: Context) -> None:
    order_id = create_order(ctx, {"type_code": "MISC", **FULL})
    with pytest.raises(NotFound):
        assign(ctx, order_id, "Nobody")
    assert order(ctx, order_id)["status"] == "NEW"


def test_assigning_a_closed_order_is_not_allowed(ctx: Context) -> None:
    add_assignee(ctx, "Sam Carter", "sam@utility.example")
    order_id = create_order(ctx, {"type_code": "MISC", **FULL})
    bulk_complete(ctx, [order_id])
    before_row, before_counts = order(ctx, order_id), counts(ctx)
    with pytest.raises(NotAllowed):
        assign(ctx, order_id, "Sam Carter")
    assert order(ctx, order_id) == before_row and counts(ctx) == before_counts


def _sent_order(ctx: Context) -> int:
    add_assignee(ctx, "Sam Carter", "sam@utility.example")
    add_assignee(ctx, "Priya Singh", "priya@utility.example")
    order_id = create_order(ctx, {"type_code": "MISC", **FULL})
    assign(ctx, order_id, "Sam Carter")
    assert mark_sent(ctx, [order_id]).all_done
    return order_id


def test_reassigning_a_sent_order_needs_a_note(ctx: Context) -> None:
    order_id = _sent_order(ctx)
    before_row, before_counts = order(ctx, order_id), counts(ctx)
    for note in [None, "", "   ", "\x1b\x07"]:
        with pytest.raises(InvalidInput) as caught:
            assign(ctx, order_id, "Priya Singh", note=note, scheduled_date=date(2026, 12, 9))
        assert "note" in caught.value.problems, repr(note)
    assert order(ctx, order_id) == before_row and counts(ctx) == before_counts


def test_reassigning_a_sent_order_tells_the_old_assignee(ctx: Context) -> None:
    order_id = _sent_order(ctx)
    assign(ctx, order_id, "Priya Singh", note="Sam is off sick\x1b[5m")
    row = order(ctx, order_id)
    assert row["status"] == "SETUP" and row["assignee_name"] == "Priya Singh"
    assert row["version"] == 4  # created 1, assigned 2, sent 3, reassigned 4
    found = mails(ctx, order_id)
    assert [(m["kind"], m["recipient"]) for m in found] == [
        ("assignment", "sam@utility.example"),
        ("assignment", "priya@utility.example"),
        ("reassignment_notice", "sam@utility.example"),
    ]
    last = trail(ctx, order_id)[-2:]
    assert [(h["field"], h["old_value"], h["new_value"]) for h in last] == [
        ("assignee", "Sam Carter", "Priya Singh"),
        ("status", "SENT", "SETUP"),
    ]
    assert {h["reason"] for h in last} == {"Sam is off sick[5m"}
