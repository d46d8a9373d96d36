"""An order's fields as the text a technician reads: the values of the template placeholders,
plain for the text part and escaped for the HTML part."""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from wo_tui.core.numbers import format_number
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import CancelReason, Priority

EMPTY = "-"
MULTILINE = ("instructions", "materials", "access_details", "hazards", "cancel_note")
SERVICE_TIMES = {
    "any": "Any time",
    "business_hours": "Business hours",
    "after_hours": "After hours",
}
LIFE_SUPPORT_TEXT = (
    "*** LIFE SUPPORT SITE ***\n"
    "A registered life-support customer lives here: never de-energise without the\n"
    "dispatcher's explicit confirmation.\n\n"
)
LIFE_SUPPORT_HTML = (
    '<div style="border: 3px solid #b00020; background: #fde7ea; color: #b00020; '
    'padding: 8px; font-weight: bold; font-size: 16px;">LIFE SUPPORT SITE: a registered '
    "life-support customer lives here. Never de-energise without the dispatcher's explicit "
    "confirmation.</div>"
)


def _day(value: date | None) -> str:
    return f"{value:%a %d %b %Y}" if value else EMPTY


def _clock(value: time | None) -> str:
    return f"{value:%H:%M}" if value else ""


def scheduled(order: Mapping[str, Any]) -> str:
    """'Fri 27 Nov 2026, 08:00-12:00', 'Fri 27 Nov 2026 (all day)' or 'not scheduled'."""
    day = order.get("scheduled_date")
    if day is None:
        return "not scheduled"
    start, end = _clock(order.get("window_start")), _clock(order.get("window_end"))
    if not start:
        return f"{_day(day)} (all day)"
    return f"{_day(day)}, {start}-{end}" if end else f"{_day(day)}, from {start}"


def short_type(type_name: str) -> str:
    """'Reconnection (re-energisation)' → 'Reconnection'."""
    return type_name.split(" (", 1)[0]


def _as_text(value: Any, *, multiline: bool = False, raw: bool = False) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, datetime):
        return f"{value:%a %d %b %Y %H:%M} UTC"
    if isinstance(value, date):
        return _day(value)
    if raw:
        # For headers: left as stored, so a line break is refused, never silently mended.
        return str(value).strip(" ") or EMPTY
    cleaned = clean_text(str(value), multiline=multiline).strip()
    return cleaned or EMPTY


def plain_values(
    order: Mapping[str, Any], from_address: str, *, for_header: bool = False
) -> dict[str, str]:
    """Every placeholder's value for the text part; `for_header` keeps single-line values
    as stored (control characters included) so that the header check can refuse them."""
    reason = order.get("cancel_reason")
    try:
        reason_label = CancelReason(reason).label if reason else EMPTY
    except ValueError:
        reason_label = _as_text(reason)
    life_support = bool(order.get("life_support"))

    def _text(value: Any, *, multiline: bool = False) -> str:
        return _as_text(value, multiline=multiline, raw=for_header and not multiline)

    values = {
        "number": format_number(order["id"]),
        "type": _text(short_type(order["type_name"])),
        "type_full": _text(order["type_name"]),
        "priority": Priority(order["priority"]).label,
        "status": _text(order["status"]),
        "customer": _text(order.get("customer_name")),
        "account": _text(order.get("account_number")),
        "site": _text(order.get("site_address")),
        "site_id": _text(order.get("site_id")),
        "meter_number": _text(order.get("meter_number")),
        "meter_location": _text(order.get("meter_location")),
        "scheduled": scheduled(order),
        "service_time": SERVICE_TIMES.get(order.get("service_time") or "any", EMPTY),
        "due_date": _day(order.get("due_date")),
        "preferred_date": _day(order.get("preferred_date")),
        "life_support": "YES" if life_support else "no",
        "life_support_warning": LIFE_SUPPORT_TEXT if life_support else "",
        "assignee": _text(order.get("recipient_name")),
        "current_assignee": _text(order.get("assignee_name")),
        "assigned_by": _text(order.get("assigned_by")),
        "assigned_at": _text(order.get("assigned_at")),
        "cancel_reason": reason_label,
        "from_address": from_address,
    }
    for field in MULTILINE:
        values[field] = _text(order.get(field), multiline=True)
    return values


def html_values(plain: Mapping[str, str], *, life_support: bool) -> dict[str, str]:
    """The same values escaped for HTML (line breaks kept as <br>)."""
    values = {k: html.escape(v).replace("\n", "<br>\n") for k, v in plain.items()}
    values["life_support_warning"] = LIFE_SUPPORT_HTML if life_support else ""
    return values
