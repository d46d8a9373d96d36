"""The detail screen's text, built once per read as `Content` (never markup).

Every value from the database is cleaned of control characters and placed in the content
as plain text, so a customer called `[@click=app.quit]Eve` is shown as exactly that.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from textual.content import Content

from wo_tui.core.dates import describe_date
from wo_tui.core.detail import OrderDetail
from wo_tui.core.numbers import format_number
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import CancelReason, Priority, WorkOrderStatus

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


def _field(label: str, value: Any, *, multiline: bool = False, style: str = "") -> Content:
    text = show(value, multiline=multiline) or "—"
    pad = " " * (LABEL_WIDTH + 2)
    body = text.replace("\n", "\n" + pad)
    value_content = Content.styled(body, style) if style else Content(body)
    return Content.assemble((f"  {label:<{LABEL_WIDTH}}", "dim"), value_content)


def _heading(title: str) -> Content:
    return Content.styled(title, "bold underline")


def _when(d: date | None, today: date) -> str:
    return describe_date(d, today) if d else ""


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


def fields(detail: OrderDetail, today: date) -> Content:
    """Every field of the order, grouped as the domain groups them."""
    o = detail.order
    due_style = "bold $error" if detail.is_open and o["due_date"] < today else ""
    reason = o["cancel_reason"]
    reason_label = CancelReason(reason).label if reason in set(CancelReason) else reason
    groups: list[tuple[str, list[Content]]] = [
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
                _field("created", f"{show(o['created_at'])} by {show(o['created_by'])}"),
                _field("preferred date", _when(o["preferred_date"], today)),
                _field("scheduled date", _when(o["scheduled_date"], today)),
                _field("time window", _window(o)),
                _field("service time", show(o["service_time"]).replace("_", " ")),
                _field("due by", _when(o["due_date"], today), style=due_style),
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
                    style="bold $error" if o["life_support"] else "",
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
                _field(
                    "assigned",
                    f"{show(o['assigned_at'])} by {show(o['assigned_by'])}"
                    if o["assigned_at"]
                    else "",
                ),
                _field("sent at", o["sent_at"]),
            ],
        ),
        (
            "Outcome",
            [
                _field(
                    "completed",
                    f"{show(o['completed_at'])} by {show(o['completed_by'])}"
                    if o["completed_at"]
                    else "",
                ),
                _field("outcome", show(o["outcome"]).replace("_", " ")),
                _field("outcome reason", o["outcome_reason"], multiline=True),
                _field("completion note", o["completion_note"], multiline=True),
                _field(
                    "reading",
                    "to follow" if o["reading_to_follow"] else o["reading"],
                ),
                _field(
                    "cancelled",
                    f"{show(o['cancelled_at'])} by {show(o['cancelled_by'])}"
                    if o["cancelled_at"]
                    else "",
                ),
                _field("cancel reason", reason_label),
                _field("cancel note", o["cancel_note"], multiline=True),
                _field("hold note", o["hold_note"], multiline=True),
                _field("fee code", o["fee_code"]),
            ],
        ),
    ]
    parts: list[Content] = []
    for name, lines in groups:
        parts.append(_heading(name))
        parts.extend(lines)
        parts.append(Content(""))
    return Content("\n").join(parts[:-1])


def history(detail: OrderDetail) -> Content:
    """The trail, oldest first: when, who, field old → new, and why."""
    lines = [_heading(f"History ({len(detail.history):,})")]
    for h in detail.history:
        field = FIELD_NAMES.get(h["field"], h["field"].replace("_", " "))
        change = Content.assemble(
            (f"  {h['at']:%Y-%m-%d %H:%M}  ", "dim"),
            (show(h["actor"]), "bold"),
            "  ",
            show(field),
            ": ",
            show(h["old_value"]) or "—",
            " → ",
            show(h["new_value"]) or "—",
        )
        if h["reason"]:
            change = Content.assemble(change, ("  why: ", "dim"), show(h["reason"]))
        lines.append(change)
    return Content("\n").join(lines)


def notes(detail: OrderDetail) -> Content:
    """The notes, oldest first (`m` adds one)."""
    lines = [_heading(f"Notes ({len(detail.notes):,})  m adds one")]
    for n in detail.notes:
        body = show(n["body"], multiline=True).replace("\n", "\n    ")
        lines.append(
            Content.assemble(
                (f"  {n['at']:%Y-%m-%d %H:%M}  ", "dim"), (show(n["author"]), "bold"), "  ", body
            )
        )
    return Content("\n").join(lines)


def emails(detail: OrderDetail) -> Content:
    """The emails queued for this order and where each one is."""
    lines = [_heading(f"Emails ({len(detail.emails)})")]
    for e in detail.emails:
        sent = f" sent {show(e['sent_at'])}" if e["sent_at"] else ""
        line = Content.assemble(
            "  ",
            (show(e["status"]).upper(), "bold"),
            f"  {show(e['kind']).replace('_', ' ')} to ",
            show(e["recipient"]),
            f"  queued {show(e['created_at'])}{sent}",
        )
        if e["last_reply"]:
            line = Content.assemble(line, ("  reply: ", "dim"), show(e["last_reply"]))
        lines.append(line)
    return Content("\n").join(lines)


def source_and_links(detail: OrderDetail) -> Content:
    """The billing event the order came from, and the orders linked to it."""
    lines = [_heading("Source event")]
    event = detail.source_event
    if event is None:
        lines.append(Content(f"  none (source: {show(detail.order['source'])})"))
    else:
        lines.append(
            Content(
                f"  #{event['id']} {show(event['event_type'])} ref {show(event['external_ref'])}"
                f" occurred {show(event['occurred_at'])} status {show(event['status'])}"
            )
        )
        if event["last_error"]:
            lines.append(Content(f"  error: {show(event['last_error'])}"))
    lines.append(Content(""))
    lines.append(_heading(f"Linked orders ({len(detail.linked)})"))
    lines.extend(
        Content(f"  {o.relation:<12} {o.number}  {show(o.type_code)}  {show(o.status)}")
        for o in detail.linked
    )
    return Content("\n").join(lines)


def number_list(ids: Iterable[int]) -> str:
    """`WO-000001, WO-000002`."""
    return ", ".join(format_number(i) for i in ids)
