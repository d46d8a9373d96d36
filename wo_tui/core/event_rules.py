"""Turning claimed billing events into work-order rows: the rules of docs/events.md.

Everything is decided in Python for a whole batch: the types and default assignees are read
once, and the open orders that would make an event a duplicate, and the non-payment
disconnections that a payment undoes, are each read with one query per batch (never one per
event). A problem with one event becomes its `error`; it never stops the others.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping

from wo_tui.core.context import Context
from wo_tui.core.drafts import FIELD_LABELS, field_label, line_field, site_id_text
from wo_tui.core.errors import InvalidInput
from wo_tui.core.event_lookups import (
    NON_PAYMENT,
    SiteKey,
    assignees_named,
    lock_sites,
    non_payment_disconnections,
    open_orders,
    payer,
    site_and_account,
    site_key,
)
from wo_tui.core.event_rows import ReadRow
from wo_tui.core.event_settings import EventRule, EventsSettings
from wo_tui.core.life_support import needs_life_support_override
from wo_tui.core.nmi import check_site_id
from wo_tui.core.orders import OrderType, order_types
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import Priority, WorkOrderStatus

CUSTOMER_FIELDS = ("account_number", "customer_name", "site_address", "site_id", "meter_number")
LIFE_SUPPORT_WARNING = "life-support site: not disconnected without a person's override"


Trail = list[tuple[str, Any, Any, str | None]]


@dataclass(eq=False)
class NewOrderRow:
    """One order to insert: its `work_orders` row, its history, and whom to email."""

    values: dict[str, Any]
    trail: Trail
    assignee: RowMapping | None = None
    related: NewOrderRow | None = None
    """An order of the same batch this one links to (its id is known only after insert)."""
    order_id: int | None = None


@dataclass(eq=False)
class EventPlan:
    """What one event will do: create `order` (and `companion`), or link to `duplicate_of`,
    or fail with `error`."""

    event: Mapping[str, Any]
    """The event's values as read (`wo_tui/core/event_rows.py`)."""
    error: str | None = None
    order: NewOrderRow | None = None
    companion: NewOrderRow | None = None
    duplicate_of: int | NewOrderRow | None = None
    site: SiteKey | None = None
    final: bool = False
    """The error cannot go away by trying again (a value over its limit): dead at once."""

    @property
    def ref(self) -> str:
        """The billing system's reference, safe to print."""
        return clean_text(str(self.event["external_ref"]))


def plan_batch(
    conn: Connection, ctx: Context, settings: EventsSettings, claimed: Sequence[ReadRow]
) -> list[EventPlan]:
    """Decide, for each claimed event in id order, what it creates or why it fails (first
    of all because a value of its row cannot be understood)."""
    types = order_types(conn)
    wanted = {r.default_assignee.casefold() for r in settings.rules.values() if r.default_assignee}
    people = assignees_named(conn, wanted) if wanted else {}
    now = ctx.now()
    batch = _Batch(ctx, settings.rules, types, people, now, ctx.today())
    plans = [
        EventPlan(row.values, error=row.problem, final=row.too_long)
        if row.troubles
        else _plan_event(batch, row.values)
        for row in claimed
    ]
    ready = [(p, p.order) for p in plans if p.order is not None]
    lock_sites(conn, [order.values for _, order in ready])
    sites = {(p.site, order.values["type_code"]) for p, order in ready if p.site}
    existing: dict[tuple[SiteKey, str], int | NewOrderRow] = {**open_orders(conn, sites)}
    payers = [
        payer(order.values)
        for p, order in ready
        if settings.rules[p.event["event_type"]].link_to_non_payment_disconnection
    ]
    cut_offs: dict[SiteKey, int | NewOrderRow] = {**non_payment_disconnections(conn, payers)}
    for plan, _ in ready:
        _resolve(plan, settings.rules[plan.event["event_type"]], existing, cut_offs)
    return plans


def _resolve(
    plan: EventPlan,
    rule: EventRule,
    existing: dict[tuple[SiteKey, str], int | NewOrderRow],
    cut_offs: dict[SiteKey, int | NewOrderRow],
) -> None:
    """Apply the duplicate and link rules against the database and the batch so far."""
    order = plan.order
    assert order is not None
    key = (plan.site, order.values["type_code"]) if plan.site else None
    if key is not None and key in existing:
        plan.duplicate_of, plan.order, plan.companion = existing[key], None, None
        return
    if key is not None:
        existing[key] = order
    if rule.link_to_non_payment_disconnection:
        found = next((cut_offs[k] for k in payer(order.values) if k in cut_offs), None)
        if isinstance(found, NewOrderRow):
            order.related = found
        elif found is not None:
            order.values["related_order_id"] = found
        else:
            order.trail.append(
                ("note", None, "no non-payment disconnection found for this site", None)
            )
    if plan.event["event_type"] == NON_PAYMENT and order.values["type_code"] == "DISCONNECT":
        for k in site_and_account(order.values):
            cut_offs[k] = order
    companion = plan.companion
    if companion is not None and plan.site:
        companion_key = (plan.site, companion.values["type_code"])
        if companion_key in existing:
            plan.companion = None
            order.trail.append(
                ("note", None, f"an open {companion_key[1]} already exists for the site", None)
            )
        else:
            existing[companion_key] = companion


@dataclass
class _Batch:
    """What every event of a batch shares: read or computed once."""

    ctx: Context
    rules: Mapping[str, EventRule]
    types: Mapping[str, OrderType]
    people: Mapping[str, RowMapping]
    now: datetime
    today: date
    due_dates: dict[int, date] = field(default_factory=dict)
    shapes: dict[tuple[str, str], _Shape] = field(default_factory=dict)

    def due(self, business_days: int) -> date:
        """`business_days` after today (cached: a batch asks for a handful of values)."""
        if business_days not in self.due_dates:
            self.due_dates[business_days] = self.ctx.calendar.add_business_days(
                self.today, business_days
            )
        return self.due_dates[business_days]


def _plan_event(batch: _Batch, event: Mapping[str, Any]) -> EventPlan:
    plan = EventPlan(event)
    kind = clean_text(str(event["event_type"]))
    rule = batch.rules.get(event["event_type"])
    try:
        if rule is None:
            raise _Refused(
                f"no rule for event type {kind!r}: add [events.rules.{kind}] with an order_type "
                "to the config and retry the event, or discard it"
            )
        if not rule.enabled:
            raise _Refused(
                f"event type {kind!r} is turned off in the config (enabled = false): turn it on "
                "and retry the event, or discard it"
            )
        _check_payload(event["payload"])
        customer, warnings = _customer(event)
        reason = f"created from {kind} event {plan.ref}"
        if rule.reason:
            reason += f": {clean_text(rule.reason)}"
        plan.order = _order_row(batch, rule, rule.order_type, event, customer, warnings, reason)
        if rule.also_final_read:
            plan.companion = _order_row(batch, rule, "FINAL_READ", event, customer, [], reason)
            plan.companion.related = plan.order
    except _Refused as exc:
        plan.error, plan.order, plan.companion = str(exc), None, None
    except Exception as exc:  # a poison event must never stall the queue
        plan.error = f"unexpected problem: {type(exc).__name__}: {str(exc)[:200]}"
        plan.order = plan.companion = None
    if plan.order is not None:
        plan.site = site_key(plan.order.values)
    return plan


class _Refused(Exception):
    """Why an event cannot become an order (becomes the event's last_error)."""


def _check_payload(payload: str | None) -> None:
    if payload is None:
        return
    try:
        parsed = json.loads(payload)
    except ValueError as exc:
        raise _Refused(f"payload is not valid JSON ({exc}); billing must resend it") from None
    if not isinstance(parsed, dict):
        raise _Refused("payload must be a JSON object ({...}); billing must resend it")


def _customer(event: Mapping[str, Any]) -> tuple[dict[str, Any], Trail]:
    """The event's customer fields as an order keeps them, and the warnings they bring."""
    values = customer_fields(event)
    warnings: Trail = []
    # A site id shaped like an NMI with a wrong check digit is kept as billing sent it, with
    # a warning on the order: the job is real (a move-out, a non-payment) and refusing it
    # would park it until someone finds it; the dispatcher sees the warning and can correct
    # the NMI on the order.
    site_id = values["site_id"]
    problem = check_site_id(site_id) if site_id else None
    if problem:
        warnings.append(("warning", None, f"site id from billing kept as sent: {problem}", None))
    return values, warnings


def customer_fields(event: Mapping[str, Any]) -> dict[str, Any]:
    """The customer fields of an order made from `event` (whose columns are text or None),
    checked, cleaned and stored as an order's (`drafts.line_field`, `drafts.site_id_text`);
    what is refused raises `_Refused` saying, as a form would, what is wrong with each."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name in CUSTOMER_FIELDS:
        try:
            values[name] = line_field(name, event[name]) if event[name] else None
        except ValueError as exc:
            problems[field_label(name)] = str(exc)
    if problems:
        raise _Refused(f"cannot make an order from this event: {InvalidInput(problems)}")
    if values["site_id"]:
        values["site_id"] = site_id_text(values["site_id"])
    return values


@dataclass
class _Shape:
    """What every order of one type made by one rule shares within a batch."""

    order_type: OrderType
    required: list[tuple[str, str]]
    """(field, label) of each field the type requires."""
    main: bool
    """The rule's own order (not the FINAL_READ that comes with a move-out)."""
    values: dict[str, Any]
    """Its row but for the customer fields, the source event and life support."""
    person: RowMapping | None
    """The rule's default assignee, when active."""
    assignment: Trail
    """What the default assignee adds to the trail (a note, or the assignment)."""
    held: dict[str, Any]
    """What a life-support disconnection has instead of `values`: held, never assigned."""


def _shape(batch: _Batch, rule: EventRule, type_code: str, event_type: str) -> _Shape:
    """The `_Shape` of `type_code` orders from `event_type` events (made once per batch)."""
    key = (event_type, type_code)
    if key in batch.shapes:
        return batch.shapes[key]
    order_type = batch.types.get(type_code)
    if order_type is None:  # not kept: each event of the rule gets the refusal
        raise _Refused(
            f"the {event_type} rule names work-order type {type_code!r}, which does not "
            "exist or is retired: fix order_type in the config and retry the event"
        )
    main = type_code == rule.order_type
    person, assignment = None, Trail()
    if rule.default_assignee:
        person = batch.people.get(rule.default_assignee.casefold())
        if person is None or not person["active"]:
            why = "is unknown" if person is None else "is deactivated"
            note = f"default assignee {rule.default_assignee!r} {why}: assign the order by hand"
            assignment.append(("note", None, note, None))
            person = None
        else:
            by_rule = f"default assignee of the {event_type} rule"
            assignment.append(("assignee", None, person["name"], by_rule))
            assignment.append(("status", NEW, WorkOrderStatus.SETUP.value, None))
    days = order_type.sla_business_days
    if main and rule.due_in_business_days is not None:
        days = rule.due_in_business_days
    priority = Priority.parse(rule.priority) if main and rule.priority else None
    operator, now = batch.ctx.operator, batch.now
    values = {
        "type_code": order_type.code,
        "priority": int(priority or order_type.default_priority),
        "status": NEW if person is None else WorkOrderStatus.SETUP.value,
        "source": event_type,
        "source_event_id": None,
        "related_order_id": None,
        "life_support": False,
        "created_at": now,
        "created_by": operator,
        "due_date": batch.due(days),
        "service_time": "any",
        "instructions": f"Reason: {clean_text(rule.reason)}." if main and rule.reason else None,
        "hold_note": None,
        "assignee_id": person["id"] if person is not None else None,
        "assigned_by": operator if person is not None else None,
        "assigned_at": now if person is not None else None,
        "reading_to_follow": False,
        "updated_at": now,
        "updated_by": operator,
        "version": 1,
    }
    held = {
        "status": WorkOrderStatus.ON_HOLD.value,
        "hold_note": LIFE_SUPPORT_WARNING,
        "assignee_id": None,
        "assigned_by": None,
        "assigned_at": None,
    }
    required = [(f, FIELD_LABELS.get(f, f)) for f in order_type.required_fields]
    shape = _Shape(order_type, required, main, values, person, assignment, held)
    batch.shapes[key] = shape
    return shape


NEW = WorkOrderStatus.NEW.value
LIFE_SUPPORT_TRAIL = ("warning", None, LIFE_SUPPORT_WARNING, "life support: never sent as is")


def _order_row(
    batch: _Batch,
    rule: EventRule,
    type_code: str,
    event: Mapping[str, Any],
    customer: dict[str, Any],
    warnings: Trail,
    reason: str,
) -> NewOrderRow:
    shape = _shape(batch, rule, type_code, event["event_type"])
    missing = [label for f, label in shape.required if not customer.get(f)]
    if missing:
        raise _Refused(
            f"missing {', '.join(missing)} (required for a {shape.order_type.name}); billing "
            "must resend the event with it, or fix the row and retry"
        )
    trail: Trail = [("status", None, NEW, reason), *warnings]
    values = {**customer, **shape.values, "life_support": bool(event["life_support"])}
    if needs_life_support_override(values):
        values |= shape.held
        trail[0] = ("status", None, WorkOrderStatus.ON_HOLD.value, reason)
        trail.append(LIFE_SUPPORT_TRAIL)
        person = None
    else:
        trail += shape.assignment
        person = shape.person
    values["source_event_id"] = event["id"] if shape.main else None
    return NewOrderRow(values, trail, person)
