"""Bulk status changes (`wo_tui.core.status_changes`): per-order outcomes in the order asked,
validation before anything is written, readings, fees, life support, conflicts, and the
billing feed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Integer, String, func, insert, literal, select, update

from wo_tui.core import status_changes, status_writer
from wo_tui.core.context import Context
from wo_tui.core.errors import Conflict, InvalidInput
from wo_tui.core.models import (
    assignees,
    billing_outbound,
    history,
    outbox,
    work_order_types,
    work_orders,
)
from wo_tui.core.orders import assign, create_order, edit_order, get_order
from wo_tui.core.seed import seed_orders
from wo_tui.core.status_changes import (
    LIFE_SUPPORT_SKIP,
    Result,
    bulk_cancel,
    bulk_complete,
    hold,
    mark_sent,
    release_hold,
    reopen,
    unassign,
)
from wo_tui.core.statuses import CancelReason, Outcome, WorkOrderStatus

from conftest import NOW

ADDR = {"account_number": "40012345", "site_address": "1 Pitt St", "meter_number": "M100"}
FEES = {
    "RECONNECT": "FEE_RECONNECT",
    "DISCONNECT": "FEE_DISCONNECT",
    "SPECIAL_READ": "FEE_SPECIAL_READ",
    "FINAL_READ": None,
    "METER_INVESTIGATION": None,
    "METER_EXCHANGE": None,
    "NEW_CONNECTION": "FEE_CONNECTION",
    "MISC": None,
}


def make(ctx: Context, type_code: str = "MISC", **fields: Any) -> int:
    return create_order(ctx, {"type_code": type_code, **ADDR, **fields})


def add_tech(ctx: Context, name: str = "Sam Carter", email: str = "sam@utility.example") -> None:
    with ctx.db.write() as conn:
        conn.execute(insert(assignees), {"name": name, "kind": "internal", "email": email})


def other(ctx: Context, operator: str = "dispatcher-b") -> Context:
    return Context(ctx.db, operator, clock=ctx.clock)


def snapshot(ctx: Context) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a status change writes, to prove nothing changed."""
    with ctx.db.read() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]
            for t in (work_orders, history, billing_outbound, outbox)
        }


def row(ctx: Context, order_id: int) -> dict[str, Any]:
    with ctx.db.read() as conn:
        return dict(get_order(conn, order_id))


def outbound(ctx: Context, order_id: int | None = None) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        query = select(billing_outbound).order_by(billing_outbound.c.id)
        if order_id is not None:
            query = query.where(billing_outbound.c.work_order_id == order_id)
        return [dict(r) for r in conn.execute(query).mappings()]


def status_trail(ctx: Context, order_id: int) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        query = (
            select(history)
            .where(history.c.work_order_id == order_id, history.c.field == "status")
            .order_by(history.c.id)
        )
        return [dict(r) for r in conn.execute(query).mappings()]


# --- complete ----------------------------------------------------------------------------


def test_bulk_complete_reports_each_order_in_the_order_asked(ctx: Context) -> None:
    add_tech(ctx)
    new = make(ctx, "MISC")
    read = make(ctx, "SPECIAL_READ")
    setup = make(ctx, "NEW_CONNECTION")
    assign(ctx, setup, "Sam Carter")
    sent = make(ctx, "RECONNECT")
    assign(ctx, sent, "Sam Carter")
    mark_sent(ctx, [sent])
    held = make(ctx, "METER_EXCHANGE")
    hold(ctx, [held], "No access")
    cancelled = make(ctx, "MISC")
    bulk_cancel(ctx, [cancelled], "duplicate")
    completed = make(ctx, "MISC")
    bulk_complete(ctx, [completed])
    life = make(ctx, "DISCONNECT", life_support=True)
    missing = 987_654
    before = snapshot(ctx)

    asked = [cancelled, new, missing, read, new, life, completed, setup, sent, held, read]
    result = bulk_complete(ctx, asked, note="Job done")

    expected = [
        (cancelled, Result.SKIPPED, "is CANCELLED; cannot go to COMPLETED"),
        (new, Result.DONE, ""),
        (missing, Result.SKIPPED, "no such order"),
        (read, Result.DONE, ""),
        (life, Result.SKIPPED, LIFE_SUPPORT_SKIP),
        (completed, Result.SKIPPED, "already COMPLETED"),
        (setup, Result.DONE, ""),
        (sent, Result.DONE, ""),
        (held, Result.DONE, ""),
    ]
    assert [(o.order_id, o.result, o.detail) for o in result.outcomes] == expected
    assert result.summary() == "5 completed, 4 skipped, 0 conflicts"
    assert not result.all_done
    assert result.outcomes[2].number == "WO-987654"

    done = result.ids(Result.DONE)
    after = snapshot(ctx)
    # skipped orders are untouched
    untouched = {cancelled, completed, life}
    assert [r for r in after["work_orders"] if r[0] in untouched] == [
        r for r in before["work_orders"] if r[0] in untouched
    ]
    for order_id in done:
        order = row(ctx, order_id)
        assert order["status"] == "COMPLETED"
        assert order["completed_at"] == NOW and order["completed_by"] == "dispatcher-a"
        assert order["completion_note"] == "Job done" and order["outcome"] == "done"
        last = status_trail(ctx, order_id)[-1]
        assert last["new_value"] == "COMPLETED" and last["batch_id"] == result.batch_id
        assert last["reason"] == "Job done"
    assert [s["old_value"] for s in (status_trail(ctx, i)[-1] for i in done)] == [
        "NEW",
        "NEW",
        "SETUP",
        "SENT",
        "ON_HOLD",
    ]
    # one history row and one billing row per completed order, nothing else
    assert len(after["history"]) - len(before["history"]) == len(done)
    assert len(after["billing_outbound"]) - len(before["billing_outbound"]) == len(done)
    assert after["outbox"] == before["outbox"]
    # read types without a reading are "reading to follow"
    assert row(ctx, read)["reading_to_follow"] is True and row(ctx, read)["reading"] is None
    assert row(ctx, sent)["reading_to_follow"] is True
    assert row(ctx, new)["reading_to_follow"] is False


def test_a_reading_for_one_read_order_is_stored(ctx: Context) -> None:
    order_id = make(ctx, "SPECIAL_READ")
    result = bulk_complete(ctx, [order_id], reading=" 012345.60 ")
    assert result.all_done
    order = row(ctx, order_id)
    assert order["reading"] == "12345.60" and order["reading_to_follow"] is False
    [sent] = outbound(ctx, order_id)
    assert sent["reading"] == "12345.60" and sent["reading_to_follow"] is False
    assert sent["fee_code"] == "FEE_SPECIAL_READ" and sent["outcome"] == "done"


def test_a_reading_for_an_order_without_readings_is_skipped(ctx: Context) -> None:
    order_id = make(ctx, "MISC")
    before = snapshot(ctx)
    result = bulk_complete(ctx, [order_id], reading="5")
    assert result.outcomes[0].result is Result.SKIPPED
    assert "takes no meter reading" in result.outcomes[0].detail
    assert snapshot(ctx) == before


def test_a_reading_for_several_orders_is_refused(ctx: Context) -> None:
    a, b = make(ctx, "SPECIAL_READ"), make(ctx, "FINAL_READ")
    before = snapshot(ctx)
    with pytest.raises(InvalidInput) as caught:
        bulk_complete(ctx, [a, b], reading="100")
    assert "reading" in caught.value.problems
    assert snapshot(ctx) == before
    # the same id twice is still one order
    assert bulk_complete(ctx, [a, a], reading="100").all_done


def test_invalid_readings_are_refused(ctx: Context) -> None:
    order_id = make(ctx, "SPECIAL_READ")
    before = snapshot(ctx)
    for bad in ["abc", "-1", "", "NaN", "Infinity", "1,000", "12 34"]:
        with pytest.raises(InvalidInput) as caught:
            bulk_complete(ctx, [order_id], reading=bad)
        assert "reading" in caught.value.problems, bad
    assert snapshot(ctx) == before


def test_not_done_needs_a_reason_and_charges_no_fee(ctx: Context) -> None:
    order_id = make(ctx, "RECONNECT")
    before = snapshot(ctx)
    for reason in [None, "", "  \x1b  "]:
        with pytest.raises(InvalidInput) as caught:
            bulk_complete(ctx, [order_id], outcome=Outcome.NOT_DONE, outcome_reason=reason)
        assert "reason" in caught.value.problems
    assert snapshot(ctx) == before
    result = bulk_complete(
        ctx, [order_id], outcome=Outcome.NOT_DONE, outcome_reason="Meter inaccessible"
    )
    assert result.all_done
    order = row(ctx, order_id)
    assert order["outcome"] == "not_done" and order["outcome_reason"] == "Meter inaccessible"
    assert order["fee_code"] is None and order["reading_to_follow"] is False
    [sent] = outbound(ctx, order_id)
    assert (sent["action"], sent["outcome"], sent["fee_code"], sent["reason"]) == (
        "COMPLETED",
        "not_done",
        None,
        "Meter inaccessible",
    )
    assert status_trail(ctx, order_id)[-1]["reason"] == "Meter inaccessible"


def test_life_support_disconnection_needs_an_override(ctx: Context) -> None:
    life = make(ctx, "DISCONNECT", life_support=True)
    plain = make(ctx, "DISCONNECT")
    also_life = make(ctx, "DISCONNECT", life_support=True)
    before = snapshot(ctx)
    for action in (
        lambda: bulk_complete(ctx, [life]),
        lambda: bulk_cancel(ctx, [life], "no_access"),
    ):
        result = action()
        assert [(o.result, o.detail) for o in result.outcomes] == [
            (Result.SKIPPED, LIFE_SUPPORT_SKIP)
        ]
    assert snapshot(ctx) == before
    # an override is for one order at a time
    with pytest.raises(InvalidInput) as caught:
        bulk_complete(ctx, [life, also_life], life_support_override="Customer moved out")
    assert "override" in caught.value.problems
    with pytest.raises(InvalidInput):
        bulk_cancel(ctx, [life, plain], "unsafe", life_support_override="Checked")
    assert snapshot(ctx) == before

    result = bulk_complete(
        ctx, [life], note="De-energised", life_support_override="Confirmed with retailer"
    )
    assert result.all_done
    last = status_trail(ctx, life)[-1]
    assert last["new_value"] == "COMPLETED"
    assert last["reason"] == "life-support override: Confirmed with retailer; De-energised"
    assert row(ctx, life)["fee_code"] == "FEE_DISCONNECT"
    # a bulk without an override still closes the ordinary disconnection
    assert bulk_complete(ctx, [plain, also_life]).ids(Result.DONE) == [plain]

    cancelled = bulk_cancel(ctx, [also_life], "no_longer_required", life_support_override="Moved")
    assert cancelled.all_done
    assert status_trail(ctx, also_life)[-1]["reason"] == (
        "life-support override: Moved; No longer required"
    )


def test_billing_rows_carry_the_fee_of_what_was_done(ctx: Context) -> None:
    with ctx.db.read() as conn:
        types = select(work_order_types.c.code, work_order_types.c.fee_code)
        configured = {code: fee for code, fee in conn.execute(types)}
    assert configured == FEES
    done = {code: make(ctx, code) for code in FEES}
    not_done = {code: make(ctx, code) for code in FEES}
    cancelled = {code: make(ctx, code) for code in FEES}
    bulk_complete(ctx, done.values())
    bulk_complete(ctx, not_done.values(), outcome=Outcome.NOT_DONE, outcome_reason="No access")
    bulk_cancel(ctx, cancelled.values(), CancelReason.CUSTOMER_REQUESTED)
    for code in FEES:
        [d] = outbound(ctx, done[code])
        [n] = outbound(ctx, not_done[code])
        [c] = outbound(ctx, cancelled[code])
        assert (d["action"], d["fee_code"], d["order_type"]) == ("COMPLETED", FEES[code], code)
        assert (n["action"], n["fee_code"]) == ("COMPLETED", None)
        assert (c["action"], c["fee_code"], c["reason"]) == (
            "CANCELLED",
            None,
            "customer_requested",
        )
        assert row(ctx, done[code])["fee_code"] == FEES[code]
        for sent in (d, n, c):
            assert sent["order_number"] == f"WO-{sent['work_order_id']:06d}"
            assert sent["account_number"] == "40012345" and sent["meter_number"] == "M100"
            assert sent["actor"] == "dispatcher-a" and sent["at"] == NOW
            assert sent["acknowledged_at"] is None


# --- cancel ------------------------------------------------------------------------------


def test_cancel_with_an_unknown_reason_names_the_valid_codes(ctx: Context) -> None:
    order_id = make(ctx)
    before = snapshot(ctx)
    with pytest.raises(InvalidInput) as caught:
        bulk_cancel(ctx, [order_id], "bored")
    message = caught.value.problems["reason"]
    assert "bored" in message
    assert all(code.value in message for code in CancelReason)
    assert snapshot(ctx) == before


def test_cancel_reason_other_needs_a_note(ctx: Context) -> None:
    order_id = make(ctx)
    before = snapshot(ctx)
    for note in [None, "", "   "]:
        with pytest.raises(InvalidInput) as caught:
            bulk_cancel(ctx, [order_id], "other", note=note)
        assert "note" in caught.value.problems
    assert snapshot(ctx) == before
    assert bulk_cancel(ctx, [order_id], "Other", note="Site demolished").all_done
    order = row(ctx, order_id)
    assert order["cancel_reason"] == "other" and order["cancel_note"] == "Site demolished"
    assert order["cancelled_at"] == NOW and order["cancelled_by"] == "dispatcher-a"
    assert status_trail(ctx, order_id)[-1]["reason"] == "Other: Site demolished"


def test_cancel_accepts_labels_and_reports_each_order(ctx: Context) -> None:
    a, b, done = make(ctx), make(ctx), make(ctx)
    bulk_complete(ctx, [done])
    result = bulk_cancel(ctx, [b, done, a, 55_555], "Raised in error")
    assert [(o.order_id, o.result) for o in result.outcomes] == [
        (b, Result.DONE),
        (done, Result.SKIPPED),
        (a, Result.DONE),
        (55_555, Result.SKIPPED),
    ]
    assert row(ctx, a)["cancel_reason"] == "raised_in_error"
    assert row(ctx, done)["status"] == "COMPLETED"


def test_cancelling_a_sent_order_tells_its_assignee(ctx: Context) -> None:
    add_tech(ctx)
    sent, setup, new = make(ctx), make(ctx), make(ctx)
    assign(ctx, sent, "Sam Carter")
    assign(ctx, setup, "Sam Carter")
    mark_sent(ctx, [sent])
    result = bulk_cancel(ctx, [sent, setup, new], "customer_requested")
    assert result.all_done
    with ctx.db.read() as conn:
        mails = conn.execute(
            select(outbox.c.work_order_id, outbox.c.kind, outbox.c.recipient).order_by(outbox.c.id)
        ).all()
    assert [tuple(m) for m in mails] == [
        (sent, "assignment", "sam@utility.example"),
        (setup, "assignment", "sam@utility.example"),
        (sent, "cancellation_notice", "sam@utility.example"),
    ]


# --- conflicts, reopen, hold -------------------------------------------------------------


def test_expected_version_mismatch_is_a_conflict_naming_the_other_actor(ctx: Context) -> None:
    stale, fresh = make(ctx), make(ctx)
    edit_order(other(ctx), stale, 1, {"customer_name": "Changed Meanwhile"})
    before = snapshot(ctx)
    result = bulk_complete(ctx, [stale, fresh], expected_versions={stale: 1, fresh: 1})
    [conflict, done] = result.outcomes
    assert conflict.result is Result.CONFLICT and done.result is Result.DONE
    assert "dispatcher-b" in conflict.detail and "2026-11-26 09:30" in conflict.detail
    assert result.summary() == "1 completed, 0 skipped, 1 conflict"
    after = snapshot(ctx)
    stale_before = [r for r in before["work_orders"] if r[0] == stale]
    assert [r for r in after["work_orders"] if r[0] == stale] == stale_before
    assert [b["work_order_id"] for b in outbound(ctx)] == [fresh]
    # a conflict wins over every other reason to skip
    result = bulk_cancel(ctx, [fresh], "duplicate", expected_versions={fresh: 1})
    assert result.outcomes[0].result is Result.CONFLICT


def test_reopen_needs_a_reason_and_clears_the_outcome(ctx: Context) -> None:
    order_id, open_one = make(ctx, "SPECIAL_READ"), make(ctx)
    bulk_complete(ctx, [order_id], reading="42")
    before = snapshot(ctx)
    for reason in ["", "   ", "\x07"]:
        with pytest.raises(InvalidInput) as caught:
            reopen(ctx, [order_id], reason)
        assert "reason" in caught.value.problems
    assert snapshot(ctx) == before
    result = reopen(ctx, [order_id, open_one], "Completed by mistake")
    assert [(o.result, o.detail) for o in result.outcomes] == [
        (Result.DONE, ""),
        (Result.SKIPPED, "already NEW"),
    ]
    order = row(ctx, order_id)
    assert order["status"] == "NEW" and order["version"] == 3
    assert order["reading"] is None and order["fee_code"] is None and order["outcome"] is None
    assert order["completed_at"] is None and order["reading_to_follow"] is False
    trail = status_trail(ctx, order_id)
    assert [(t["old_value"], t["new_value"]) for t in trail] == [
        (None, "NEW"),
        ("NEW", "COMPLETED"),
        ("COMPLETED", "NEW"),
    ]
    assert trail[-1]["reason"] == "Completed by mistake"
    [completed, reopened] = outbound(ctx, order_id)
    assert completed["fee_code"] == "FEE_SPECIAL_READ" and completed["reading"] == "42"
    assert (reopened["action"], reopened["reason"], reopened["fee_code"]) == (
        "REOPENED",
        "Completed by mistake",
        None,
    )


def test_reopen_skips_open_orders_that_could_move_to_new(ctx: Context) -> None:
    add_tech(ctx)
    setup, held = make(ctx), make(ctx)
    assign(ctx, setup, "Sam Carter")
    hold(ctx, [held], "No access")
    before = snapshot(ctx)
    result = reopen(ctx, [setup, held], "Oops")
    assert [o.detail for o in result.outcomes] == ["is SETUP, not closed", "is ON_HOLD, not closed"]
    assert snapshot(ctx) == before


def test_hold_release_unassign_and_send(ctx: Context) -> None:
    add_tech(ctx)
    a, b = make(ctx), make(ctx)
    with pytest.raises(InvalidInput):
        hold(ctx, [a], "  ")
    assert hold(ctx, [a, b], "No access\x1b[1m").all_done
    assert row(ctx, a)["hold_note"] == "No access[1m"
    # SETUP means assigned: an unassigned order cannot leave hold to SETUP
    before = snapshot(ctx)
    result = release_hold(ctx, [a], to=WorkOrderStatus.SETUP)
    assert result.outcomes[0].result is Result.SKIPPED
    assert "no assignee" in result.outcomes[0].detail
    assert snapshot(ctx) == before
    with pytest.raises(InvalidInput):
        release_hold(ctx, [a], to=WorkOrderStatus.SENT)
    assert release_hold(ctx, [a], "Access arranged").all_done
    assert row(ctx, a)["status"] == "NEW" and row(ctx, a)["hold_note"] is None
    assign(ctx, b, "Sam Carter")  # ON_HOLD → SETUP by assignment
    assert row(ctx, b)["status"] == "SETUP"
    hold(ctx, [b], "Customer away")
    assert release_hold(ctx, [b], to=WorkOrderStatus.SETUP).all_done
    assert unassign(ctx, [a]).outcomes[0].detail == "already NEW"
    assert mark_sent(ctx, [a]).outcomes[0].detail == "is NEW; cannot go to SENT"
    assert mark_sent(ctx, [b]).all_done
    assert row(ctx, b)["sent_at"] == NOW and row(ctx, b)["status"] == "SENT"
    assert unassign(ctx, [b]).outcomes[0].result is Result.SKIPPED
    assert [t["new_value"] for t in status_trail(ctx, b)] == [
        "NEW",
        "ON_HOLD",
        "SETUP",
        "ON_HOLD",
        "SETUP",
        "SENT",
    ]


# --- volume ------------------------------------------------------------------------------


def test_bulk_complete_of_ten_thousand_orders(ctx: Context) -> None:
    seed_orders(ctx, 10_000, seed=3)
    with ctx.db.read() as conn:
        open_rows = conn.execute(
            select(work_orders.c.id, work_orders.c.type_code, work_orders.c.life_support).where(
                work_orders.c.status.in_(["NEW", "SETUP", "SENT", "ON_HOLD"])
            )
        ).all()
        history_before = conn.execute(select(func.count()).select_from(history)).scalar_one()
    ids = [r.id for r in open_rows]
    protected = {r.id for r in open_rows if r.type_code == "DISCONNECT" and r.life_support}
    assert len(ids) > 7_000 and protected  # the seed mixes in closed and life-support orders

    result = bulk_complete(ctx, ids, note="Field report batch 7")

    assert len(result.outcomes) == len(ids)
    assert [o.order_id for o in result.outcomes] == ids
    assert set(result.ids(Result.SKIPPED)) == protected
    assert len(result.ids(Result.DONE)) == len(ids) - len(protected)
    assert not result.ids(Result.CONFLICT)
    done = len(ids) - len(protected)
    with ctx.db.read() as conn:
        history_after = conn.execute(select(func.count()).select_from(history)).scalar_one()
        batch_rows = conn.execute(
            select(func.count()).where(history.c.batch_id == result.batch_id)
        ).scalar_one()
        outbound_rows = conn.execute(
            select(func.count()).select_from(billing_outbound)
        ).scalar_one()
        still_open = conn.execute(
            select(work_orders.c.id).where(
                work_orders.c.status.in_(["NEW", "SETUP", "SENT", "ON_HOLD"])
            )
        ).scalars()
        versions = conn.execute(
            select(work_orders.c.version, func.count())
            .where(work_orders.c.id.in_(result.ids(Result.DONE)))
            .group_by(work_orders.c.version)
        ).all()
        fees_ok = conn.execute(
            select(func.count())
            .select_from(billing_outbound)
            .join(work_order_types, work_order_types.c.code == billing_outbound.c.order_type)
            .where(
                (billing_outbound.c.fee_code == work_order_types.c.fee_code)
                | (billing_outbound.c.fee_code.is_(None) & work_order_types.c.fee_code.is_(None))
            )
        ).scalar_one()
    assert history_after - history_before == done == batch_rows
    assert outbound_rows == done == fees_ok
    assert set(still_open) == protected
    assert [tuple(v) for v in versions] == [(2, done)]


@pytest.mark.parametrize(
    "meanwhile",
    [
        {"version": work_orders.c.version + 1},  # the version guard
        {"status": "CANCELLED"},  # the status guard (version left alone)
    ],
    ids=["version", "status"],
)
def test_the_guard_is_in_the_update_statement(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, meanwhile: dict[str, Any]
) -> None:
    """The UPDATE carries the guard itself: an order that changes after its history row was
    written (impossible under the write lock; simulated inside the transaction) is not
    overwritten, and since the trail would then name an order that did not change, the
    whole batch is refused and nothing is saved."""
    target, bystander = make(ctx), make(ctx)
    versions = {target: 1, bystander: 1}
    real_write_history = status_writer._write_history

    def write_history_then_change(conn: Any, *args: Any) -> int:
        written = real_write_history(conn, *args)
        conn.execute(update(work_orders).where(work_orders.c.id == target).values(meanwhile))
        return written

    before = snapshot(ctx)
    monkeypatch.setattr(status_writer, "_write_history", write_history_then_change)
    with pytest.raises(Conflict, match="1 orders changed but 2 history rows were written"):
        bulk_complete(ctx, [target, bystander], expected_versions=versions)
    assert snapshot(ctx) == before


def test_a_change_after_the_confirmation_is_a_conflict_named_by_the_write(ctx: Context) -> None:
    """Orders changed since the caller read them (their versions) are left as they are and
    reported as conflicts with who changed them; the others of the batch are done."""
    changed, cancelled, bystander = make(ctx), make(ctx), make(ctx)
    versions = {changed: 1, cancelled: 1, bystander: 1}
    edit_order(other(ctx), changed, 1, {"instructions": "call first"})
    bulk_cancel(other(ctx), [cancelled], CancelReason.DUPLICATE)

    result = bulk_complete(ctx, [changed, cancelled, bystander], expected_versions=versions)

    assert [(o.result, o.detail) for o in result.outcomes] == [
        (Result.CONFLICT, f"changed by dispatcher-b at {NOW:%Y-%m-%d %H:%M:%S}"),
        (Result.CONFLICT, f"changed by dispatcher-b at {NOW:%Y-%m-%d %H:%M:%S}"),
        (Result.DONE, ""),
    ]
    assert result.versions == {bystander: 2}
    assert (row(ctx, changed)["status"], row(ctx, changed)["version"]) == ("NEW", 2)
    assert row(ctx, cancelled)["status"] == "CANCELLED"
    assert [b["work_order_id"] for b in outbound(ctx) if b["action"] == "COMPLETED"] == [bystander]
    assert [h["new_value"] for h in status_trail(ctx, changed)] == ["NEW"]  # created only


def test_a_skip_whose_reason_comes_out_null_still_skips(ctx: Context) -> None:
    """A rule whose reason text is NULL in SQL still keeps its order as it is (a NULL reason
    must not read as "no reason"), with a reason shown."""
    kept, moved = make(ctx), make(ctx)
    rule = status_changes.Skip(work_orders.c.id == kept, literal(None, String()))
    result = status_changes.change_status(
        ctx,
        [kept, moved],
        WorkOrderStatus.ON_HOLD,
        action="put on hold",
        reason="no access",
        changes=lambda _kind: {"hold_note": "no access"},
        skips=[rule],
    )
    assert [(o.result, o.detail) for o in result.outcomes] == [
        (Result.SKIPPED, "skipped"),
        (Result.DONE, ""),
    ]
    assert (row(ctx, kept)["status"], row(ctx, moved)["status"]) == ("NEW", "ON_HOLD")


def test_orders_read_at_different_versions_change_in_one_batch(ctx: Context) -> None:
    """The guarded UPDATE runs once per version read: orders edited a different number of
    times all complete, each one version up, with one history and one billing row each."""
    ids = [make(ctx, "SPECIAL_READ"), make(ctx, "MISC"), make(ctx, "RECONNECT"), make(ctx)]
    for times, order_id in enumerate(ids):
        for n in range(times):
            version = row(ctx, order_id)["version"]
            edit_order(ctx, order_id, version, {"instructions": f"edit {n}"})
    before = {i: row(ctx, i)["version"] for i in ids}
    assert sorted(set(before.values())) == [1, 2, 3, 4]

    result = bulk_complete(ctx, ids)

    assert result.all_done
    assert result.versions == {i: before[i] + 1 for i in ids}
    assert {i: row(ctx, i)["version"] for i in ids} == result.versions
    for order_id in ids:
        batch_rows = [h for h in status_trail(ctx, order_id) if h["batch_id"] == result.batch_id]
        assert [(h["old_value"], h["new_value"]) for h in batch_rows] == [("NEW", "COMPLETED")]
    feed = {b["work_order_id"]: b for b in outbound(ctx)}
    assert set(feed) == set(ids)
    assert feed[ids[0]]["reading_to_follow"] and feed[ids[2]]["fee_code"] == "FEE_RECONNECT"


@pytest.mark.parametrize("order_id", [1, 42, 999_999, 1_000_000, 123_456_789])
def test_the_sql_order_number_is_the_python_one(db: Any, order_id: int) -> None:
    """The billing feed formats numbers in SQL: the same text as `format_number`."""
    from wo_tui.core.numbers import format_number
    from wo_tui.core.sql import order_number

    with db.read() as conn:
        in_sql = conn.execute(select(order_number(literal(order_id, Integer)))).scalar_one()
    assert in_sql == format_number(order_id)
