"""The status machine is enforced where the write happens (docs/guarantees.md).

A Hypothesis rule-based state machine drives random actions through the services over a few
orders and keeps a model of what each order should be. After every step the database must
match the model exactly: status, version (+1 per change), one `history` status row per
change, one `billing_outbound` row per close or reopen, the emails queued; an action that is
not allowed is skipped (or refused) and changes nothing; and the life-support disconnection
is never closed without an override."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, func, insert, select

from wo_tui.core import orders
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database, connect, sqlite_url_for
from wo_tui.core.errors import Conflict, InvalidInput, NotAllowed
from wo_tui.core.models import (
    assignees,
    billing_outbound,
    events,
    history,
    notes,
    outbox,
    work_orders,
)
from wo_tui.core.status_changes import (
    BatchResult,
    Result,
    bulk_cancel,
    bulk_complete,
    hold,
    mark_sent,
    release_hold,
    reopen,
    unassign,
)
from wo_tui.core.statuses import (
    CLOSED_STATUSES,
    CancelReason,
    Outcome,
    WorkOrderStatus,
    allowed_from,
    can_move,
)

from conftest import NOW, PG_URL

S = WorkOrderStatus
TECHS = {"Sam Carter": "sam@utility.example", "Priya Singh": "priya@utility.example"}
# (type, life support); the read types complete with "reading to follow", the last one is
# the life-support disconnection
ORDERS = [("MISC", False), ("SPECIAL_READ", False), ("FINAL_READ", False), ("DISCONNECT", True)]
FEES = {
    "MISC": None,
    "SPECIAL_READ": "FEE_SPECIAL_READ",
    "FINAL_READ": None,
    "DISCONNECT": "FEE_DISCONNECT",
}
OVERRIDE = "life-support override:"

order_index = st.integers(0, len(ORDERS) - 1)
STARTS = ["new", "setup", "sent", "on_hold", "on_hold_assigned", "completed", "cancelled"]


def is_open(expected: Expected) -> bool:
    return expected.status not in CLOSED_STATUSES


class Databases:
    """A fresh database per Hypothesis example, made cheaply: SQLite copies the migrated
    template file; PostgreSQL reuses one database and deletes every row in between."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self.count = 0
        self.tmp_path = tmp_path
        if PG_URL:
            self.shared: Database | None = connect(request.getfixturevalue("db_url"))
        else:
            self.shared = None
            self.template: Path = request.getfixturevalue("_sqlite_template")

    def fresh(self) -> Database:
        if self.shared is not None:
            with self.shared.write() as conn:
                for table in (outbox, billing_outbound, history, notes, work_orders):
                    conn.execute(delete(table))
                conn.execute(delete(assignees))
                conn.execute(delete(events))
            return self.shared
        self.count += 1
        path = self.tmp_path / f"example-{self.count}.db"
        shutil.copyfile(self.template, path)
        return connect(sqlite_url_for(path))

    def release(self, db: Database) -> None:
        if db is not self.shared:
            db.dispose()

    def close(self) -> None:
        if self.shared is not None:
            self.shared.dispose()


@dataclass
class Expected:
    """What one order must look like in the database."""

    type_code: str
    life_support: bool
    status: WorkOrderStatus = S.NEW
    version: int = 1
    status_rows: int = 1  # the creation row
    billing_rows: int = 0
    emails: int = 0
    assignee: str | None = None
    customer: str = "Ann Lee"


class StatusMachine(RuleBasedStateMachine):
    def __init__(self, databases: Databases) -> None:
        super().__init__()
        self.databases = databases
        self.db = databases.fresh()
        self.ctx = Context(self.db, "dispatcher-a", clock=fixed_clock(NOW))
        self.other = Context(self.db, "dispatcher-b", clock=fixed_clock(NOW))
        with self.db.write() as conn:
            conn.execute(
                insert(assignees),
                [{"name": n, "kind": "internal", "email": e} for n, e in TECHS.items()],
            )
        self.ids: list[int] = []
        self.model: dict[int, Expected] = {}
        for type_code, life_support in ORDERS:
            order_id = orders.create_order(
                self.ctx,
                {
                    "type_code": type_code,
                    "account_number": "40012345",
                    "site_address": "1 Pitt St",
                    "meter_number": "M1",
                    "customer_name": "Ann Lee",
                    "life_support": life_support,
                },
            )
            self.ids.append(order_id)
            self.model[order_id] = Expected(type_code, life_support)
        self.seen_versions = {i: 1 for i in self.ids}

    def teardown(self) -> None:
        self.databases.release(self.db)

    # --- reading the database ------------------------------------------------------------

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        with self.db.read() as conn:
            return {
                t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]
                for t in (work_orders, history, billing_outbound, outbox)
            }

    def last_status_row(self, order_id: int) -> Any:
        with self.db.read() as conn:
            return conn.execute(
                select(history)
                .where(history.c.work_order_id == order_id, history.c.field == "status")
                .order_by(history.c.id.desc())
                .limit(1)
            ).one()

    # --- applying a status change and checking it against the model ----------------------

    def expect_change(
        self,
        i: int,
        target: WorkOrderStatus,
        action: Any,
        *,
        other_guards_allow: bool = True,
        billing: bool = False,
    ) -> bool:
        """Run `action(order_id)`; it must be DONE exactly when the machine and the other
        guards allow `target`, else SKIPPED with nothing changed. Returns whether it was done
        (the model is updated here for the status, version, history and billing)."""
        order_id = self.ids[i]
        expected = self.model[order_id]
        before = self.snapshot()
        result: BatchResult = action(order_id)
        [outcome] = result.outcomes
        allowed = can_move(expected.status, target) and other_guards_allow
        if not allowed:
            assert outcome.result is Result.SKIPPED, (expected, target, outcome)
            assert outcome.detail
            assert self.snapshot() == before
            return False
        assert outcome.result is Result.DONE, (expected, target, outcome)
        row = self.last_status_row(order_id)
        assert (row.old_value, row.new_value) == (expected.status.value, target.value)
        assert row.batch_id == result.batch_id and row.actor == "dispatcher-a"
        expected.status = target
        expected.version += 1
        expected.status_rows += 1
        expected.billing_rows += billing
        return True

    def pick(self, data: st.DataObject, likely: Any) -> int:
        """An order index: mostly one for which `likely(expected)` holds (so that moves
        that need a set-up, such as assign then send, happen often), sometimes any order
        (so that refused moves are tried too)."""
        eligible = [n for n, order_id in enumerate(self.ids) if likely(self.model[order_id])]
        if eligible and data.draw(st.integers(0, 3), label="any order") != 3:
            return data.draw(st.sampled_from(eligible), label="order")
        return data.draw(order_index, label="order")

    def is_protected(self, i: int, override: bool) -> bool:
        expected = self.model[self.ids[i]]
        return expected.type_code == "DISCONNECT" and expected.life_support and not override

    # --- the actions (each checks its own outcome and updates the model) ----------------

    def do_complete(self, i: int, outcome: Outcome, override: bool) -> None:
        done = self.expect_change(
            i,
            S.COMPLETED,
            lambda order_id: bulk_complete(
                self.ctx,
                [order_id],
                outcome=outcome,
                outcome_reason="No access" if outcome is Outcome.NOT_DONE else None,
                life_support_override="Confirmed with retailer" if override else None,
            ),
            other_guards_allow=not self.is_protected(i, override),
            billing=True,
        )
        if done:
            order_id = self.ids[i]
            expected = self.model[order_id]
            with self.db.read() as conn:
                row = orders.get_order(conn, order_id)
            fee = FEES[expected.type_code] if outcome is Outcome.DONE else None
            assert row["fee_code"] == fee and row["outcome"] == outcome.value
            reads = expected.type_code != "MISC" and outcome is Outcome.DONE
            assert row["reading_to_follow"] is reads

    def do_cancel(self, i: int, reason: CancelReason, with_note: bool, override: bool) -> None:
        order_id = self.ids[i]
        expected = self.model[order_id]
        note = "Per the customer" if with_note else None
        if reason is CancelReason.OTHER and not with_note:
            before = self.snapshot()
            with pytest.raises(InvalidInput):
                bulk_cancel(self.ctx, [order_id], reason, note=note)
            assert self.snapshot() == before
            return
        was_sent = expected.status is S.SENT
        done = self.expect_change(
            i,
            S.CANCELLED,
            lambda order_id: bulk_cancel(
                self.ctx,
                [order_id],
                reason.value,
                note=note,
                life_support_override="Site vacant" if override else None,
            ),
            other_guards_allow=not self.is_protected(i, override),
            billing=True,
        )
        if done and was_sent:
            expected.emails += 1  # the cancellation notice to the assignee

    def do_reopen(self, i: int) -> None:
        expected = self.model[self.ids[i]]
        self.expect_change(
            i,
            S.NEW,
            lambda order_id: reopen(self.ctx, [order_id], "Closed by mistake"),
            other_guards_allow=expected.status in CLOSED_STATUSES,
            billing=True,
        )

    def do_hold(self, i: int) -> None:
        self.expect_change(i, S.ON_HOLD, lambda order_id: hold(self.ctx, [order_id], "No access"))

    def do_release(self, i: int, to: WorkOrderStatus) -> None:
        expected = self.model[self.ids[i]]
        self.expect_change(
            i,
            to,
            lambda order_id: release_hold(self.ctx, [order_id], "Access arranged", to=to),
            # SETUP means assigned: an order without an assignee leaves hold to NEW only
            other_guards_allow=expected.status is S.ON_HOLD
            and (to is S.NEW or expected.assignee is not None),
        )

    def do_send(self, i: int) -> None:
        self.expect_change(i, S.SENT, lambda order_id: mark_sent(self.ctx, [order_id]))

    def do_unassign(self, i: int) -> None:
        expected = self.model[self.ids[i]]
        if self.expect_change(
            i,
            S.NEW,
            lambda order_id: unassign(self.ctx, [order_id]),
            other_guards_allow=expected.status is S.SETUP,
        ):
            expected.assignee = None

    def do_assign(self, i: int, tech: str, with_note: bool, override: bool = True) -> None:
        order_id = self.ids[i]
        expected = self.model[order_id]
        before = self.snapshot()
        note = "Swapped technician" if with_note else None
        reason = "Vacant, confirmed with retailer" if override else None

        def call() -> None:
            orders.assign(self.ctx, order_id, tech, note=note, life_support_override=reason)

        # A life-support disconnection is never sent without an override reason.
        if expected.status in CLOSED_STATUSES or self.is_protected(i, override):
            with pytest.raises(NotAllowed):
                call()
            assert self.snapshot() == before
            return
        if expected.status is S.SENT and not with_note:
            with pytest.raises(InvalidInput):
                call()
            assert self.snapshot() == before
            return
        call()
        assert can_move(expected.status, S.SETUP) or expected.status is S.SETUP
        if expected.status is not S.SETUP:
            row = self.last_status_row(order_id)
            assert (row.old_value, row.new_value) == (expected.status.value, "SETUP")
            expected.status_rows += 1
        expected.emails += 1  # the assignment
        if expected.status is S.SENT and expected.assignee not in (None, tech):
            expected.emails += 1  # the reassignment notice to the previous assignee
        expected.status = S.SETUP
        expected.version += 1
        expected.assignee = tech

    def do_edit(self, i: int, customer: str) -> None:
        order_id = self.ids[i]
        expected = self.model[order_id]
        before = self.snapshot()
        if expected.status in CLOSED_STATUSES:
            with pytest.raises(NotAllowed):
                orders.edit_order(self.ctx, order_id, expected.version, {"customer_name": customer})
            assert self.snapshot() == before
            return
        version = orders.edit_order(
            self.ctx, order_id, expected.version, {"customer_name": customer}
        )
        if customer != expected.customer:
            expected.version += 1
            expected.customer = customer
        assert version == expected.version

    # --- rules ---------------------------------------------------------------------------

    @initialize(
        starts=st.lists(st.sampled_from(STARTS), min_size=len(ORDERS), max_size=len(ORDERS))
    )
    def start(self, starts: list[str]) -> None:
        """Bring each order to a varied starting point through the services (checked like
        any other step), so that moves needing a set-up are tried often."""
        for i, start in enumerate(starts):
            if start in ("setup", "sent", "on_hold_assigned"):
                self.do_assign(i, "Sam Carter", with_note=False)
            if start == "sent":
                self.do_send(i)
            if start.startswith("on_hold"):
                self.do_hold(i)
            if start == "completed":
                self.do_complete(i, Outcome.DONE, override=True)
            if start == "cancelled":
                self.do_cancel(i, CancelReason.DUPLICATE, with_note=False, override=True)

    @rule(data=st.data(), outcome=st.sampled_from(Outcome), override=st.booleans())
    def complete(self, data: st.DataObject, outcome: Outcome, override: bool) -> None:
        self.do_complete(self.pick(data, is_open), outcome, override)

    @rule(
        data=st.data(),
        reason=st.sampled_from(CancelReason),
        with_note=st.booleans(),
        override=st.booleans(),
    )
    def cancel(
        self, data: st.DataObject, reason: CancelReason, with_note: bool, override: bool
    ) -> None:
        self.do_cancel(self.pick(data, is_open), reason, with_note, override)

    @rule(data=st.data())
    def reopen_order(self, data: st.DataObject) -> None:
        self.do_reopen(self.pick(data, lambda e: not is_open(e)))

    @rule(data=st.data())
    def put_on_hold(self, data: st.DataObject) -> None:
        self.do_hold(self.pick(data, lambda e: can_move(e.status, S.ON_HOLD)))

    @rule(data=st.data(), to=st.sampled_from([S.NEW, S.SETUP]))
    def release(self, data: st.DataObject, to: WorkOrderStatus) -> None:
        self.do_release(self.pick(data, lambda e: e.status is S.ON_HOLD), to)

    @rule(data=st.data())
    def send(self, data: st.DataObject) -> None:
        self.do_send(self.pick(data, lambda e: e.status is S.SETUP))

    @rule(data=st.data())
    def take_off_assignee(self, data: st.DataObject) -> None:
        self.do_unassign(self.pick(data, lambda e: e.status is S.SETUP))

    @rule(
        data=st.data(),
        tech=st.sampled_from(sorted(TECHS)),
        with_note=st.booleans(),
        override=st.booleans(),
    )
    def assign(self, data: st.DataObject, tech: str, with_note: bool, override: bool) -> None:
        self.do_assign(self.pick(data, is_open), tech, with_note, override)

    @rule(data=st.data(), customer=st.sampled_from(["Ann Lee", "Bob Ryan", "Cat Kelly"]))
    def edit(self, data: st.DataObject, customer: str) -> None:
        self.do_edit(self.pick(data, is_open), customer)

    @rule(data=st.data())
    def edit_with_a_stale_version(self, data: st.DataObject) -> None:
        i = data.draw(order_index, label="order")
        order_id = self.ids[i]
        before = self.snapshot()
        with pytest.raises(Conflict):
            orders.edit_order(
                self.other, order_id, self.model[order_id].version - 1, {"customer_name": "X"}
            )
        assert self.snapshot() == before

    @rule(data=st.data(), cancel_it=st.booleans())
    def close_with_a_stale_version(self, data: st.DataObject, cancel_it: bool) -> None:
        i = data.draw(order_index, label="order")
        order_id = self.ids[i]
        stale = {order_id: self.model[order_id].version + 1}
        before = self.snapshot()
        if cancel_it:
            result = bulk_cancel(self.other, [order_id], "duplicate", expected_versions=stale)
        else:
            result = bulk_complete(self.other, [order_id], expected_versions=stale)
        assert result.outcomes[0].result is Result.CONFLICT
        assert "changed by dispatcher-a" in result.outcomes[0].detail
        assert self.snapshot() == before

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def database_matches_the_model(self) -> None:
        with self.db.read() as conn:
            rows = {
                r.id: r
                for r in conn.execute(
                    select(
                        work_orders.c.id,
                        work_orders.c.status,
                        work_orders.c.version,
                        work_orders.c.customer_name,
                        work_orders.c.assignee_id,
                    )
                )
            }
            status_rows = dict(
                conn.execute(
                    select(history.c.work_order_id, func.count())
                    .where(history.c.field == "status")
                    .group_by(history.c.work_order_id)
                ).all()
            )
            billing_rows = dict(
                conn.execute(
                    select(billing_outbound.c.work_order_id, func.count()).group_by(
                        billing_outbound.c.work_order_id
                    )
                ).all()
            )
            emails = dict(
                conn.execute(
                    select(outbox.c.work_order_id, func.count()).group_by(outbox.c.work_order_id)
                ).all()
            )
        assert sorted(rows) == sorted(self.ids)
        for order_id, expected in self.model.items():
            row = rows[order_id]
            assert (row.status, row.version) == (expected.status.value, expected.version)
            assert row.version >= self.seen_versions[order_id]  # versions only grow
            self.seen_versions[order_id] = row.version
            assert row.customer_name == expected.customer
            assert (row.assignee_id is not None) == (expected.assignee is not None)
            assert status_rows.get(order_id, 0) == expected.status_rows
            assert billing_rows.get(order_id, 0) == expected.billing_rows
            assert emails.get(order_id, 0) == expected.emails
            if row.status == S.SETUP.value or row.status == S.SENT.value:
                assert row.assignee_id is not None  # set up and sent orders have someone

    @invariant()
    def life_support_is_only_closed_with_an_override(self) -> None:
        protected = [i for i, e in self.model.items() if e.life_support]
        with self.db.read() as conn:
            closes = conn.execute(
                select(history.c.reason).where(
                    history.c.work_order_id.in_(protected),
                    history.c.field == "status",
                    history.c.new_value.in_([s.value for s in CLOSED_STATUSES]),
                )
            ).scalars()
            assert all(reason and reason.startswith(OVERRIDE) for reason in closes)


# The table of docs/domain.md, written out independently of wo_tui.core.statuses.
DOMAIN_TRANSITIONS = {
    "NEW": {"SETUP", "COMPLETED", "CANCELLED", "ON_HOLD"},
    "SETUP": {"NEW", "SENT", "COMPLETED", "CANCELLED", "ON_HOLD"},
    "SENT": {"SETUP", "ON_HOLD", "COMPLETED", "CANCELLED"},
    "ON_HOLD": {"NEW", "SETUP", "COMPLETED", "CANCELLED"},
    "COMPLETED": {"NEW"},
    "CANCELLED": {"NEW"},
}


def test_the_machine_is_the_table_of_domain_md() -> None:
    """`can_move` is the oracle of the state machine below, so check it against the
    domain's table first."""
    for current in WorkOrderStatus:
        for target in WorkOrderStatus:
            allowed = target.value in DOMAIN_TRANSITIONS[current.value]
            assert can_move(current, target) is allowed, (current, target)
            assert (current in allowed_from(target)) is allowed, (current, target)


def test_status_machine(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    databases = Databases(request, tmp_path)
    try:
        run_state_machine_as_test(
            lambda: StatusMachine(databases),
            settings=settings(
                max_examples=30,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            ),
        )
    finally:
        databases.close()
