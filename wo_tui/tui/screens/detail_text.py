"""The detail screen's text, built once per read: the title and warnings as `Content`,
the page as `Document` rows of (plain text, role) pieces. Never markup.

Every value from the database is cleaned of control characters and placed as plain text,
so a customer called `[@click=app.quit]Eve` is shown as exactly that.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from textual.content import Content

from wo_tui.core.clock import Zone, local_time
from wo_tui.core.dates import describe_date
from wo_tui.core.detail import OrderDetail
from wo_tui.core.numbers import format_number
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import CancelReason, Priority, WorkOrderStatus
from wo_tui.tui.widgets.document import Row

LABEL_WIDTH = 17
FIELD_NAMES = {
    "type_code": "type",
    "customer_name": "customer",
    "site_address": "site address",
    "site_id": "site id",
    "meter_number": "meter",
    "scheduled_date": "scheduled date",
    "preferred_date": "preferred date",
    "window_start": "window start",
    "window_end": "window end",
    "service_time": "service time",
    "due_date": "due date",
    "access_details": "access details",
    "life_support": "life support",
    "account_number": "account",
}


def show(value: Any, *, multiline: bool = False) -> str:
    """A stored value as safe plain text ('' for nothing)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return clean_text(str(value), multiline=multiline)


def _field(label: str, value: Any, *, multiline: bool = False, role: str = "") -> list[Row]:
    text = show(value, multiline=multiline) or "—"
    first, *more = text.split("\n")
    pad = " " * (LABEL_WIDTH + 2)
    rows: list[Row] = [((f"  {label:<{LABEL_WIDTH}}", "dim"), (first, role))]
    rows.extend(((pad, ""), (line, role)) for line in more)
    return rows


def _heading(title: str) -> Row:
    return ((title, "heading"),)


BLANK: Row = (("", ""),)


def _when(d: date | None, today: date) -> str:
    return describe_date(d, today) if d else ""


def _at(moment: datetime | None, zone: Zone) -> str:
    """A stored time to the minute, in the utility's zone ('' for none)."""
    return f"{local_time(moment, zone):%Y-%m-%d %H:%M}" if moment else ""


def _by(moment: datetime | None, who: Any, zone: Zone) -> str:
    """`2026-11-26 20:30 by sam` ('' when it did not happen)."""
    return f"{_at(moment, zone)} by {show(who)}" if moment else ""


def _window(order: dict[str, Any]) -> str:
    start, end = order["window_start"], order["window_end"]
    return f"{start:%H:%M}-{end:%H:%M}" if start and end else ""


def title(detail: OrderDetail) -> Content:
    """`WO-000123  Reconnection  NEW  High priority` (status as a word, not a colour)."""
    o = detail.order
    status = WorkOrderStatus(o["status"])
    return Content.assemble(
        (detail.number, "bold"),
        "  ",
        show(detail.type_name),
        "  ",
        (f" {status.label.upper()} ", "reverse bold"),
        "  ",
        f"{Priority(o['priority']).label} priority",
    )


def warnings(detail: OrderDetail, today: date) -> Content:
    """One line per field warning, each starting with a glyph so it shows without colour."""
    return Content("\n").join(
        Content.styled(f"⚠ {show(w)}", "bold $error") for w in detail.warnings(today)
    )


def fields(detail: OrderDetail, today: date, zone: Zone) -> list[Row]:
    """Every field of the order, grouped as the domain groups them."""
    o = detail.order
    due_role = "alert" if detail.is_open and o["due_date"] < today else ""
    reason = o["cancel_reason"]
    reason_label = CancelReason(reason).label if reason in set(CancelReason) else reason
    groups: list[tuple[str, list[list[Row]]]] = [
        (
            "Identity",
            [
                _field("number", detail.number),
                _field("type", f"{o['type_code']} ({detail.type_name})"),
                _field("status", WorkOrderStatus(o["status"]).label),
                _field("priority", Priority(o["priority"]).label),
                _field("source", o["source"]),
                _field("source event", o["source_event_id"]),
                _field("version", o["version"]),
            ],
        ),
        (
            "Where",
            [
                _field("account", o["account_number"]),
                _field("customer", o["customer_name"]),
                _field("site address", o["site_address"]),
                _field("site id (NMI)", o["site_id"]),
                _field("meter", o["meter_number"]),
                _field("meter location", o["meter_location"]),
            ],
        ),
        (
            "When",
            [
                _field("created", _by(o["created_at"], o["created_by"], zone)),
                _field("preferred date", _when(o["preferred_date"], today)),
                _field("scheduled date", _when(o["scheduled_date"], today)),
                _field("time window", _window(o)),
                _field("service time", show(o["service_time"]).replace("_", " ")),
                _field("due by", _when(o["due_date"], today), role=due_role),
            ],
        ),
        (
            "What",
            [
                _field("instructions", o["instructions"], multiline=True),
                _field("materials", o["materials"], multiline=True),
                _field("access details", o["access_details"], multiline=True),
                _field("hazards", o["hazards"], multiline=True),
                _field(
                    "life support",
                    "YES" if o["life_support"] else "no",
                    role="alert" if o["life_support"] else "",
                ),
            ],
        ),
        (
            "Who",
            [
                _field(
                    "assignee",
                    f"{show(o['assignee_name'])} ({show(o['assignee_kind'])})"
                    if o["assignee_name"]
                    else "",
                ),
                _field("assigned", _by(o["assigned_at"], o["assigned_by"], zone)),
                _field("sent at", _at(o["sent_at"], zone)),
            ],
        ),
        (
            "Outcome",
            [
                _field("completed", _by(o["completed_at"], o["completed_by"], zone)),
                _field("outcome", show(o["outcome"]).replace("_", " ")),
                _field("outcome reason", o["outcome_reason"], multiline=True),
                _field("completion note", o["completion_note"], multiline=True),
                _field(
                    "reading",
                    "to follow" if o["reading_to_follow"] else o["reading"],
                ),
                _field("cancelled", _by(o["cancelled_at"], o["cancelled_by"], zone)),
                _field("cancel reason", reason_label),
                _field("cancel note", o["cancel_note"], multiline=True),
                _field("hold note", o["hold_note"], multiline=True),
                _field("fee code", o["fee_code"]),
            ],
        ),
    ]
    rows: list[Row] = []
    for name, fields_of_group in groups:
        rows.append(_heading(name))
        for field_rows in fields_of_group:
            rows.extend(field_rows)
        rows.append(BLANK)
    return rows[:-1]


def history(detail: OrderDetail, zone: Zone) -> list[Row]:
    """The trail, oldest first: when, who, field old → new, and why (one row each)."""
    rows: list[Row] = [_heading(f"History ({len(detail.history):,})")]
    for h in detail.history:
        field = FIELD_NAMES.get(h["field"], h["field"].replace("_", " "))
        change: Row = (
            (f"  {_at(h['at'], zone)}  ", "dim"),
            (show(h["actor"]), "strong"),
            (f"  {show(field)}: {show(h['old_value']) or '—'} → {show(h['new_value']) or '—'}", ""),
        )
        if h["reason"]:
            change = (*change, ("  why: ", "dim"), (show(h["reason"]), ""))
        rows.append(change)
    return rows


def notes(detail: OrderDetail, zone: Zone) -> list[Row]:
    """The notes, oldest first (`m` adds one)."""
    rows: list[Row] = [_heading(f"Notes ({len(detail.notes):,})  m adds one")]
    for n in detail.notes:
        first, *more = show(n["body"], multiline=True).split("\n")
        rows.append(
            (
                (f"  {_at(n['at'], zone)}  ", "dim"),
                (show(n["author"]), "strong"),
                (f"  {first}", ""),
            )
        )
        rows.extend((("    " + line, ""),) for line in more)
    return rows


def emails(detail: OrderDetail, zone: Zone) -> list[Row]:
    """The emails queued for this order and where each one is."""
    rows: list[Row] = [_heading(f"Emails ({len(detail.emails)})")]
    for e in detail.emails:
        sent = f" sent {_at(e['sent_at'], zone)}" if e["sent_at"] else ""
        row: Row = (
            ("  ", ""),
            (show(e["status"]).upper(), "strong"),
            (f"  {show(e['kind']).replace('_', ' ')} to {show(e['recipient'])}", ""),
            (f"  queued {_at(e['created_at'], zone)}{sent}", ""),
        )
        if e["last_reply"]:
            row = (*row, ("  reply: ", "dim"), (show(e["last_reply"]), ""))
        rows.append(row)
    return rows


def source_and_links(detail: OrderDetail, zone: Zone) -> list[Row]:
    """The billing event the order came from, and the orders linked to it."""
    rows: list[Row] = [_heading("Source event")]
    event = detail.source_event
    if event is None:
        rows.append(((f"  none (source: {show(detail.order['source'])})", ""),))
    else:
        rows.append(
            (
                (
                    f"  #{event['id']} {show(event['event_type'])} ref "
                    f"{show(event['external_ref'])} occurred {_at(event['occurred_at'], zone)} "
                    f"status {show(event['status'])}",
                    "",
                ),
            )
        )
        if event["last_error"]:
            rows.append(((f"  error: {show(event['last_error'])}", "alert"),))
    rows.append(BLANK)
    rows.append(_heading(f"Linked orders ({len(detail.linked)})"))
    rows.extend(
        ((f"  {o.relation:<12} {o.number}  {show(o.type_code)}  {show(o.status)}", ""),)
        for o in detail.linked
    )
    return rows


def page(detail: OrderDetail, today: date, zone: Zone) -> list[Row]:
    """The whole scrolling page: fields, history, notes, emails, source and links (or a
    line saying the trail is being read); times in the utility's `zone`."""
    rows = fields(detail, today, zone)
    if not detail.trail_loaded:
        rows.append(BLANK)
        rows.append(_heading(f"History and notes ({detail.trail_rows:,}): reading…"))
        return rows
    parts = (history, notes, emails, source_and_links)
    for part in (make(detail, zone) for make in parts):
        rows.append(BLANK)
        rows.extend(part)
    return rows


def number_list(ids: Iterable[int]) -> str:
    """`WO-000001, WO-000002`."""
    return ", ".join(format_number(i) for i in ids)
