"""The order form's fields and how typed text becomes the shared pydantic models.

The rules themselves live in `wo_tui.core.drafts` (`validate_fields`) and the type table;
this module only parses what people type (dates, time windows) and maps the problems the
core reports back to the field they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any, Literal

from wo_tui.core.dates import describe_date, parse_date, parse_time_window
from wo_tui.core.drafts import FIELD_LABELS, NewOrder, OrderFields, validate_fields
from wo_tui.core.errors import InvalidInput
from wo_tui.core.orders import OrderType

Kind = Literal["select", "text", "date", "window", "block", "check"]


@dataclass(frozen=True)
class FormField:
    """One row of the form: the order field it edits, its label and widget kind."""

    name: str
    label: str
    kind: Kind
    placeholder: str = ""


FORM_FIELDS: tuple[FormField, ...] = (
    FormField("type_code", "Type", "select"),
    FormField("account_number", "Account", "text", "account number"),
    FormField("customer_name", "Customer", "text", "customer name"),
    FormField("site_address", "Site address", "text", "street, suburb, postcode"),
    FormField("site_id", "Site id (NMI)", "text", "NMI with its check digit, e.g. 4102001234"),
    FormField("meter_number", "Meter", "text", "meter number / serial"),
    FormField("meter_location", "Meter location", "text", "e.g. garage wall"),
    FormField("priority", "Priority", "select"),
    FormField("preferred_date", "Preferred date", "date", "3/12, 2026-12-03, tomorrow, +2d, mon"),
    FormField("scheduled_date", "Scheduled date", "date", "3/12, 2026-12-03, tomorrow, +2d, mon"),
    FormField("window", "Time window", "window", "e.g. 08:00-12:00 or 8-12 or 1-3pm"),
    FormField("service_time", "Service time", "select"),
    FormField("due_date", "Due by", "date", "default: from the type's SLA"),
    FormField("instructions", "Instructions", "block"),
    FormField("materials", "Materials", "block"),
    FormField("access_details", "Access details", "block"),
    FormField("hazards", "Hazards", "block"),
    FormField("life_support", "Life support", "check"),
    FormField("assignee", "Assignee", "select"),
)
BY_NAME = {f.name: f for f in FORM_FIELDS}

_LABEL_TO_FIELD = {
    **{name.replace("_", " "): name for name in NewOrder.model_fields},
    **{label: name for name, label in FIELD_LABELS.items()},
    "window start": "window",
    "window end": "window",
    "order": "window",  # the model's own check is the time window's
    "assignee": "assignee",
}


def field_of(problem_key: str) -> str | None:
    """The form field a problem reported by the core is about (None: the whole form)."""
    name = _LABEL_TO_FIELD.get(problem_key, problem_key)
    if name in ("window_start", "window_end"):
        return "window"
    return name if name in BY_NAME else None


def understood_date(text: str, today: date) -> tuple[date | None, str]:
    """A typed date and what it was understood as ('' for nothing typed); ValueError when
    it makes no sense."""
    if not text.strip():
        return None, ""
    when = parse_date(text, today)
    return when, describe_date(when, today)


def understood_window(text: str) -> tuple[tuple[time, time] | None, str]:
    """A typed time window and how it was read."""
    if not text.strip():
        return None, ""
    start, end = parse_time_window(text)
    return (start, end), f"{start:%H:%M} to {end:%H:%M}"


def to_model(
    raw: dict[str, Any],
    today: date,
    *,
    new: bool,
    order_type: OrderType | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values → the data for `NewOrder`/`OrderFields` and the problems by field.

    Nothing is saved here: the caller saves only when the problems are empty."""
    data: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for f in FORM_FIELDS:
        if f.name not in raw:
            continue
        value = raw[f.name]
        if f.kind == "date":
            try:
                data[f.name] = understood_date(value, today)[0]
            except ValueError as exc:
                problems[f.name] = str(exc)
        elif f.kind == "window":
            try:
                window = understood_window(value)[0]
            except ValueError as exc:
                problems[f.name] = str(exc)
            else:
                data["window_start"], data["window_end"] = window or (None, None)
        elif f.kind in ("text", "block"):
            data[f.name] = value.strip() or None
        else:
            data[f.name] = value
    if new and not data.get("type_code"):
        problems["type_code"] = "choose the type of job"
        data.pop("type_code", None)
    if not new:
        data.pop("type_code", None)
        data.pop("assignee", None)
    model = NewOrder if new and "type_code" in data else OrderFields
    check = {k: v for k, v in data.items() if k not in problems}
    if model is OrderFields:
        check.pop("type_code", None)
        check.pop("assignee", None)
    try:
        validate_fields(model, check)
    except InvalidInput as exc:
        for key, message in exc.problems.items():
            problems.setdefault(field_of(key) or "form", message)
    if order_type is not None:
        for name in order_type.required_fields:
            target = field_of(name) or name
            if data.get(name) in (None, "") and target not in problems:
                problems[target] = f"required for a {order_type.name}"
    return data, problems
