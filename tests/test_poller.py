"""The event poller in one process: the rules of docs/events.md, duplicates, life support,
a bad event among good ones (retry, backoff, dead, retry by hand), and the run loop.

Crash and multi-process tests are in test_poller_crash.py; the commands in
test_poller_cli.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update

from wo_tui.core.assignees import add_assignee, set_active
from wo_tui.core.context import Context
from wo_tui.core.dates import add_business_days
from wo_tui.core.errors import InvalidInput, NotAllowed, NotFound
from wo_tui.core.event_rules import LIFE_SUPPORT_WARNING
from wo_tui.core.event_settings import EventsSettings
from wo_tui.core.events import add_event, discard_event, retry_event
from wo_tui.core.models import events, work_orders
from wo_tui.core.nmi import nmi_checksum
from wo_tui.core.orders import create_order
from wo_tui.core.poller import (
    BACKOFF_FIRST,
    BACKOFF_MAX,
    PollResult,
    backoff_delay,
    drain_events,
    process_batch,
)
from wo_tui.core.status_changes import bulk_complete

from conftest import NOW, PG_URL

TODAY = NOW.date()


class MovableClock:
    """A clock the test can move forward (retries become due)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(NOW)


@pytest.fixture
def pctx(ctx: Context, clock: MovableClock) -> Context:
    """The poller's context: operator 'event-poller', a clock the test can move."""
    return Context(ctx.db, "event-poller", clock=clock)


def nmi(n: int) -> str:
    """A valid 11-character NMI, different for each n."""
    base = f"41{n:08d}"
    return base + str(nmi_checksum(base))


def settings(**rules: dict[str, Any]) -> EventsSettings:
    """The default rules, with the given rules merged over them."""
    return EventsSettings.model_validate({"rules": rules, "max_attempts": 3})


def add(ctx: Context, kind: str, n: int = 1, **fields: Any) -> int:
    """A complete event for site number n (every field any default rule needs)."""
    values: dict[str, Any] = {
        "account_number": f"ACC{n:05d}",
        "customer_name": f"Customer {n}",
        "site_address": f"{n} Example St, Springfield VIC 3000",
        "site_id": nmi(n),
        "meter_number": f"M{n:06d}",
    }
    values.update(fields)
    return add_event(ctx, kind, external_ref=f"REF-{kind}-{n}-{len(refs(ctx))}", **values)


def refs(ctx: Context) -> list[str]:
    with ctx.db.read() as conn:
        return list(conn.execute(select(events.c.external_ref)).scalars())


def rows(ctx: Context, sql: str, **params: Any) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def event(ctx: Context, event_id: int) -> dict[str, Any]:
    with ctx.db.read() as conn:
        return dict(conn.execute(select(events).where(events.c.id == event_id)).mappings().one())


def orders(ctx: Context) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        query = select(work_orders).order_by(work_orders.c.id)
        return [dict(r) for r in conn.execute(query).mappings()]


def trail(ctx: Context, order_id: int) -> list[tuple[Any, ...]]:
    found = rows(ctx, "SELECT * FROM history WHERE work_order_id = :i ORDER BY id", i=order_id)
    return [(h["field"], h["old_value"], h["new_value"], h["reason"]) for h in found]


DEFAULT_RULES = [
    ("move_in", ["RECONNECT"]),
    ("move_out", ["DISCONNECT", "FINAL_READ"]),
    ("special_read_request", ["SPECIAL_READ"]),
    ("final_read_request", ["FINAL_READ"]),
    ("non_payment", ["DISCONNECT"]),
    ("payment_received", ["RECONNECT"]),
    ("meter_investigation_request", ["METER_INVESTIGATION"]),
]


@pytest.mark.parametrize(("kind", "types"), DEFAULT_RULES)
def test_each_default_event_type_creates_its_orders(
    pctx: Context, kind: str, types: list[str]
) -> None:
    event_id = add(pctx, kind, 7, customer_name="Jo \x1b]52;c;aGk=\x07Citizen")
    result = process_batch(pctx, settings())
    assert result == PollResult(events=1, processed=1, orders_created=len(types))
    made = orders(pctx)
    assert [o["type_code"] for o in made] == types
    main = made[0]
    assert {k: main[k] for k in ("source", "source_event_id", "status", "created_by")} == {
        "source": kind,
        "source_event_id": event_id,
        "status": "NEW",
        "created_by": "event-poller",
    }
    assert (main["account_number"], main["site_id"], main["meter_number"]) == (
        "ACC00007",
        nmi(7),
        "M000007",
    )
    assert main["customer_name"] == "Jo ]52;c;aGk=Citizen"  # control characters removed
    assert main["site_address"] == "7 Example St, Springfield VIC 3000"
    done = event(pctx, event_id)
    assert (done["status"], done["work_order_id"], done["attempts"]) == ("processed", main["id"], 1)
    assert done["processed_at"] == NOW and done["last_error"] is None
    assert trail(pctx, main["id"])[0] == (
        "status",
        None,
        "NEW",
        f"created from {kind} event {event(pctx, event_id)['external_ref']}"
        + (": non-payment" if kind == "non_payment" else ""),
    )


def test_move_out_links_its_final_read_to_the_disconnection(pctx: Context) -> None:
    event_id = add(pctx, "move_out")
    process_batch(pctx, settings())
    disconnect, final_read = orders(pctx)
    assert final_read["type_code"] == "FINAL_READ"
    assert final_read["related_order_id"] == disconnect["id"]
    assert final_read["source_event_id"] is None and final_read["source"] == "move_out"
    assert disconnect["source_event_id"] == event_id
    assert event(pctx, event_id)["work_order_id"] == disconnect["id"]


def test_payment_links_the_reconnection_to_the_non_payment_disconnection(pctx: Context) -> None:
    add(pctx, "non_payment", 1)
    add(pctx, "move_out", 2)  # a DISCONNECT too, but not for non-payment
    process_batch(pctx, settings())
    cut_off = next(o for o in orders(pctx) if o["source"] == "non_payment")
    assert cut_off["instructions"] == "Reason: non-payment."
    add(pctx, "payment_received", 1)
    add(pctx, "payment_received", 2)  # no non-payment disconnection for site 2
    process_batch(pctx, settings())
    reconnects = [o for o in orders(pctx) if o["source"] == "payment_received"]
    assert [o["related_order_id"] for o in reconnects] == [cut_off["id"], None]
    assert (
        "note",
        None,
        "no non-payment disconnection found for this site",
        None,
    ) in trail(pctx, reconnects[1]["id"])


def test_payment_in_the_same_batch_and_by_account(pctx: Context) -> None:
    add(pctx, "non_payment", 3, site_id=None)
    add(pctx, "payment_received", 3, site_id=None)  # matched by account number
    result = process_batch(pctx, settings())
    assert result.orders_created == 2
    cut_off, reconnect = orders(pctx)
    assert reconnect["related_order_id"] == cut_off["id"]
    assert reconnect["priority"] == 1


def test_priority_and_due_date_from_the_rule_or_the_type(pctx: Context) -> None:
    add(pctx, "non_payment", 1)  # rule: High; due from the DISCONNECT's SLA (2 days)
    add(pctx, "meter_investigation_request", 2)  # type: Low, 10 days
    custom = settings(meter_investigation_request={"priority": "High", "due_in_business_days": 1})
    process_batch(pctx, settings())
    add(pctx, "meter_investigation_request", 3)
    process_batch(pctx, custom)
    made = orders(pctx)
    assert [(o["priority"], o["due_date"]) for o in made] == [
        (1, add_business_days(TODAY, 2)),
        (3, add_business_days(TODAY, 10)),
        (1, add_business_days(TODAY, 1)),
    ]


def test_a_default_assignee_gets_the_order_and_an_email(pctx: Context) -> None:
    add_assignee(pctx, "Sam Carter", "internal", "sam@utility.example")
    add_assignee(pctx, "Old Timer", "internal", "old@utility.example")
    set_active(pctx, "Old Timer", False)
    add(pctx, "move_in", 1)
    add(pctx, "special_read_request", 2)
    add(pctx, "final_read_request", 3)
    rules = settings(
        move_in={"default_assignee": "sam carter"},
        special_read_request={"default_assignee": "Old Timer"},
        final_read_request={"default_assignee": "Nobody"},
    )
    result = process_batch(pctx, rules)
    assert (result.orders_created, result.processed) == (3, 3)
    assigned, inactive, unknown = orders(pctx)
    assert (assigned["status"], assigned["assigned_by"]) == ("SETUP", "event-poller")
    assert trail(pctx, assigned["id"])[1:] == [
        ("assignee", None, "Sam Carter", "default assignee of the move_in rule"),
        ("status", "NEW", "SETUP", None),
    ]
    emails = rows(pctx, "SELECT work_order_id, kind, recipient, status FROM outbox")
    assert emails == [
        {
            "work_order_id": assigned["id"],
            "kind": "assignment",
            "recipient": "sam@utility.example",
            "status": "queued",
        }
    ]
    for order, why in ((inactive, "'Old Timer' is deactivated"), (unknown, "'Nobody' is unknown")):
        assert (order["status"], order["assignee_id"]) == ("NEW", None)
        note = f"default assignee {why}: assign the order by hand"
        assert ("note", None, note, None) in trail(pctx, order["id"])


def test_a_default_assignee_is_found_in_any_case_beyond_ascii(pctx: Context) -> None:
    add_assignee(pctx, "Zoë Ångström", "internal", "zoe@utility.example")
    add(pctx, "move_in", 1)
    result = process_batch(pctx, settings(move_in={"default_assignee": "ZOË ÅNGSTRÖM"}))
    assert result.orders_created == 1
    (order,) = orders(pctx)
    assert order["status"] == "SETUP" and order["assignee_id"] is not None


def test_a_life_support_disconnection_is_held_and_never_assigned(pctx: Context) -> None:
    add_assignee(pctx, "Sam Carter", "internal", "sam@utility.example")
    add(pctx, "non_payment", 1, life_support=True)
    add(pctx, "move_out", 2, life_support=True)
    process_batch(pctx, settings(non_payment={"default_assignee": "Sam Carter"}))
    cut_off, move_out_cut, final_read = orders(pctx)
    for order in (cut_off, move_out_cut):
        assert (order["type_code"], order["status"]) == ("DISCONNECT", "ON_HOLD")
        assert order["assignee_id"] is None and order["life_support"]
        assert order["hold_note"] == LIFE_SUPPORT_WARNING
        history = trail(pctx, order["id"])
        assert history[0][:3] == ("status", None, "ON_HOLD")
        assert ("warning", None, LIFE_SUPPORT_WARNING) in [h[:3] for h in history]
    assert final_read["status"] == "NEW"  # a final read is not a disconnection
    assert rows(pctx, "SELECT id FROM outbox") == []


def test_a_duplicate_event_is_linked_not_doubled(pctx: Context) -> None:
    first = add(pctx, "special_read_request", 1)
    process_batch(pctx, settings())
    again = add(pctx, "special_read_request", 1)  # a later batch
    same_batch = [add(pctx, "move_in", 2), add(pctx, "move_in", 2)]
    other_type = add(pctx, "move_in", 1)
    result = process_batch(pctx, settings())
    assert (result.events, result.orders_created, result.duplicates) == (4, 2, 2)
    read, reconnect, reconnect_site_1 = orders(pctx)
    assert event(pctx, first)["work_order_id"] == event(pctx, again)["work_order_id"] == read["id"]
    assert [event(pctx, e)["work_order_id"] for e in same_batch] == [reconnect["id"]] * 2
    assert event(pctx, other_type)["work_order_id"] == reconnect_site_1["id"]
    ref = event(pctx, again)["external_ref"]
    assert ("event", None, f"duplicate event {ref} linked", "special_read_request event") in (
        trail(pctx, read["id"])
    )
    assert all(event(pctx, e)["status"] == "processed" for e in [first, again, *same_batch])


def test_a_closed_order_does_not_make_the_next_event_a_duplicate(pctx: Context) -> None:
    add(pctx, "special_read_request", 1)
    process_batch(pctx, settings())
    bulk_complete(pctx, [orders(pctx)[0]["id"]])
    add(pctx, "special_read_request", 1)
    assert process_batch(pctx, settings()).orders_created == 1
    assert len(orders(pctx)) == 2


def test_an_nmi_with_a_bad_check_digit_is_kept_with_a_warning(pctx: Context) -> None:
    good = nmi(5)
    bad = good[:10] + str((int(good[10]) + 1) % 10)
    add(pctx, "move_in", 5, site_id=bad.lower())
    process_batch(pctx, settings())
    (order,) = orders(pctx)
    assert order["site_id"] == bad
    assert (
        "warning",
        None,
        f"site id from billing kept as sent: NMI check digit should be {good[10]}, not "
        f"{bad[10]} (NMI {bad[:10]})",
        None,
    ) in trail(pctx, order["id"])


def test_text_from_billing_is_cleaned_of_control_characters(pctx: Context) -> None:
    insert_raw_event(
        pctx,
        external_ref="R\x1b[31mED",
        customer_name="Jo \x1b]52;c;aGk=\x07Citizen\u202e",
        site_address="1 A St\r\nX",
        account_number="A1",
    )
    process_batch(pctx, settings())
    (order,) = orders(pctx)
    assert (order["customer_name"], order["site_address"]) == ("Jo ]52;c;aGk=Citizen", "1 A St X")
    assert trail(pctx, order["id"])[0][3] == "created from move_in event R[31mED"


def insert_raw_event(ctx: Context, **values: Any) -> int:
    """An event row as billing might write it, bypassing add_event's checks."""
    row = {"event_type": "move_in", "occurred_at": NOW, "external_ref": f"RAW-{len(refs(ctx))}"}
    with ctx.db.write() as conn:
        return int(
            conn.execute(insert(events).returning(events.c.id), {**row, **values}).scalar_one()
        )


BAD_EVENTS = [
    ({"event_type": "teleport"}, "no rule for event type 'teleport': add [events.rules.teleport]"),
    ({"event_type": "meter_investigation_request"}, "is turned off in the config"),
    ({"event_type": "special_read_request"}, "work-order type 'NO_SUCH_TYPE', which does not"),
    ({"payload": "{not json"}, "payload is not valid JSON"),
    ({"payload": "[1, 2]"}, "payload must be a JSON object"),
    ({"site_address": None}, "missing site address (required for a Reconnection"),
]


@pytest.mark.parametrize(("change", "message"), BAD_EVENTS)
def test_a_bad_event_gets_a_clear_error(
    pctx: Context, change: dict[str, Any], message: str
) -> None:
    full = {"account_number": "A1", "site_address": "1 A St", "meter_number": "M1", **change}
    bad = insert_raw_event(pctx, **full)
    rules = settings(
        meter_investigation_request={"enabled": False},
        special_read_request={"order_type": "NO_SUCH_TYPE"},
    )
    result = process_batch(pctx, rules)
    assert result == PollResult(events=1, retried=1)
    row = event(pctx, bad)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert message in row["last_error"]
    assert orders(pctx) == []


@pytest.mark.skipif(bool(PG_URL), reason="PostgreSQL's events table refuses the long name")
def test_a_value_over_its_column_limit_parks_the_event_at_once(pctx: Context) -> None:
    """A value longer than its column allows (docs/events.md) cannot succeed however often it
    is tried: the event is dead at once, with the column, its length and the limit; text
    within the limit is cleaned as usual."""
    full = {"account_number": "A1", "site_address": "1 A St", "meter_number": "M1"}
    bad = insert_raw_event(pctx, customer_name="x" * 201, **full)
    good = insert_raw_event(pctx, customer_name=" \u3000Jo\x1b Citizen\t", **full)
    first = process_batch(pctx, settings())
    assert first == PollResult(events=2, processed=1, orders_created=1, dead=1)
    assert [o["customer_name"] for o in orders(pctx)] == ["Jo Citizen"]
    assert event(pctx, good)["status"] == "processed"
    row = event(pctx, bad)
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("dead", 1, None)
    assert row["last_error"] == (
        "customer_name is too long: 201 characters, over its limit of 200 characters; "
        "billing must shorten it and send the event again"
    )


def test_a_malformed_event_among_100_good_ones(pctx: Context, clock: MovableClock) -> None:
    good = [add(pctx, "move_in", n) for n in range(1, 51)]
    bad = add(pctx, "move_in", 999, site_address=None)
    good += [add(pctx, "special_read_request", n) for n in range(51, 101)]
    rules = settings()
    first = process_batch(pctx, rules, limit=500)
    assert first == PollResult(events=101, processed=100, orders_created=100, retried=1)
    assert len(orders(pctx)) == 100
    assert {event(pctx, e)["status"] for e in good} == {"processed"}

    waits = []
    for attempt in range(1, rules.max_attempts + 1):
        row = event(pctx, bad)
        assert row["attempts"] == attempt and row["work_order_id"] is None
        assert "missing site address" in row["last_error"]
        if attempt == rules.max_attempts:
            assert (row["status"], row["next_attempt_at"]) == ("dead", None)
            break
        assert row["status"] == "pending"
        waits.append(row["next_attempt_at"] - clock.moment)
        assert process_batch(pctx, rules).events == 0  # not due yet
        clock.advance(waits[-1])
        result = process_batch(pctx, rules)
        assert result.events == 1 and result.dead == (attempt + 1 == rules.max_attempts)
    assert waits[0] < waits[1]
    assert BACKOFF_FIRST * 0.75 <= waits[0] <= BACKOFF_FIRST * 1.25

    with pctx.db.write() as conn:
        conn.execute(update(events).where(events.c.id == bad).values(site_address="9 Fixed St"))
    retry_event(pctx, bad)
    row = event(pctx, bad)
    assert (row["status"], row["attempts"]) == ("pending", 0)
    assert "missing site address" in row["last_error"]  # kept until processed
    assert process_batch(pctx, rules) == PollResult(events=1, processed=1, orders_created=1)
    row = event(pctx, bad)
    assert (row["status"], row["last_error"]) == ("processed", None)
    assert len(orders(pctx)) == 101


def test_backoff_grows_and_its_jitter_is_bounded() -> None:
    low = [backoff_delay(n, rand=lambda: 0.0) for n in range(1, 12)]
    high = [backoff_delay(n, rand=lambda: 0.999999) for n in range(1, 12)]
    assert low[0] == BACKOFF_FIRST * 0.75 and high[0] <= BACKOFF_FIRST * 1.25
    for n in range(len(low) - 1):
        if high[n] < BACKOFF_MAX * 0.75:
            assert low[n + 1] > high[n]  # always later than any wait before it
    assert max(high) <= BACKOFF_MAX * 1.25 and low[-1] == BACKOFF_MAX * 0.75


def test_retry_and_discard_refuse_what_they_cannot_do(pctx: Context) -> None:
    pending = add(pctx, "move_in", 1)
    with pytest.raises(NotFound, match="there is no event 999"):
        retry_event(pctx, 999)
    with pytest.raises(NotAllowed, match=f"event {pending} is pending; only a dead event can be"):
        retry_event(pctx, pending)
    with pytest.raises(NotAllowed, match="only a dead event can be discarded"):
        discard_event(pctx, pending, "nope")
    with pytest.raises(InvalidInput, match="reason: say why"):
        discard_event(pctx, pending, " \x07 ")


def test_discarding_a_dead_event_keeps_who_when_and_why(pctx: Context) -> None:
    dead = insert_raw_event(pctx, status="dead", attempts=3, last_error="payload is not valid")
    discard_event(pctx, dead, "billing sent it twice")
    row = event(pctx, dead)
    assert row["status"] == "discarded"
    assert row["last_error"] == (
        "discarded by event-poller at 2026-11-26 09:30 UTC: billing sent it twice "
        "(last error: payload is not valid)"
    )
    with pytest.raises(NotAllowed, match="is discarded; only a dead event can be retried"):
        retry_event(pctx, dead)
    assert process_batch(pctx, settings()).events == 0


def test_an_unexpected_database_error_marks_only_that_event(pctx: Context) -> None:
    good = [add(pctx, "move_in", n) for n in range(1, 4)]
    clash = add(pctx, "move_in", 4)
    # An order that already claims this event: the unique source_event_id refuses a second,
    # which no Python check foresees. The batch is redone one event at a time.
    order_id = create_order(
        pctx, {"type_code": "MISC", "site_address": "4 Example St", "account_number": "A4"}
    )
    with pctx.db.write() as conn:
        conn.execute(
            update(work_orders).where(work_orders.c.id == order_id).values(source_event_id=clash)
        )
    result = process_batch(pctx, settings())
    assert result == PollResult(events=4, processed=3, orders_created=3, retried=1)
    assert {event(pctx, e)["status"] for e in good} == {"processed"}
    row = event(pctx, clash)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"].startswith("the database refused the order: ")


def test_the_redo_claims_again_only_what_is_still_pending_and_due(pctx: Context) -> None:
    """SQLite redoes a refused batch in a new transaction: an event another poller handled
    in between, or one not asked for, is not taken again."""
    from wo_tui.core.poller import _claim

    first, taken, later, _not_asked = (add(pctx, "move_in", n) for n in range(1, 5))
    with pctx.db.write() as conn:
        conn.execute(update(events).where(events.c.id == taken).values(status="processed"))
        due = NOW + timedelta(minutes=5)
        conn.execute(update(events).where(events.c.id == later).values(next_attempt_at=due))
        again = _claim(conn, NOW, 10, only=[first, taken, later])
    assert [e.values["id"] for e in again] == [first]


def test_hooks_are_called_at_the_four_points_in_order(pctx: Context) -> None:
    add(pctx, "move_in", 1)
    seen: list[str] = []
    process_batch(pctx, settings(), hooks=seen.append)
    assert seen == ["claimed", "inserted", "before_commit", "after_commit"]


def test_a_round_drains_a_burst_in_consecutive_batches(pctx: Context) -> None:
    for n in range(1, 24):
        add(pctx, "move_in", n)
    batches: list[PollResult] = []
    rules = EventsSettings(batch_size=5)
    total = drain_events(pctx, rules, on_batch=batches.append)
    assert [b.events for b in batches] == [5, 5, 5, 5, 3]
    assert (total.events, total.orders_created) == (23, 23)
    assert total.summary() == "created 23 orders from 23 events, 0 retried, 0 dead"
    assert drain_events(pctx, rules) == PollResult()


def test_a_site_without_site_id_is_known_by_account_and_address(pctx: Context) -> None:
    add(pctx, "move_in", 1, site_id=None)
    add(pctx, "move_in", 1, site_id=None)  # same account and address: a duplicate
    add(pctx, "move_in", 1, site_id=None, site_address="2 Other St")  # another site
    result = process_batch(pctx, settings())
    assert (result.orders_created, result.duplicates) == (2, 1)
