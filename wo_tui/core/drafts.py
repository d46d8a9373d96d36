"""The validated shape of a work order's editable fields, shared by the forms, the command
line and the event poller. Text is cleaned of control characters on the way in."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from wo_tui.core.errors import InvalidInput
from wo_tui.core.nmi import check_site_id
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import Priority, ServiceTime

M = TypeVar("M", bound=BaseModel)


def _line(value: str) -> str:
    # Printable text has nothing clean_text removes or replaces (controls, bidi marks and
    # line breaks are all unprintable): the check is ~10x cheaper than the translation.
    return (value if value.isprintable() else clean_text(value)).strip()


def _block(value: str) -> str:
    return clean_text(value, multiline=True).strip()


Line = Annotated[str, AfterValidator(_line)]
"""One line of text: control characters removed, line breaks made spaces, stripped."""
Block = Annotated[str, AfterValidator(_block)]

TEXT_LIMITS = {
    "account_number": 60,
    "customer_name": 200,
    "site_address": 400,
    "site_id": 40,
    "meter_number": 60,
    "meter_location": 200,
    "instructions": 4000,
    "materials": 2000,
    "access_details": 2000,
    "hazards": 2000,
}


def within_limit(field: str, value: str) -> str | None:
    """The text of `field` as an order keeps it: None when empty; longer than its limit
    (`TEXT_LIMITS`) is refused with a ValueError that says so."""
    if value == "":
        return None
    limit = TEXT_LIMITS[field]
    if len(value) > limit:
        raise ValueError(f"at most {limit} characters (this has {len(value)})")
    return value


def line_field(field: str, value: str) -> str | None:
    """The text given for a one-line `field` as an order keeps it: what `OrderFields`
    makes of a str (`Line`, then `within_limit`). The event poller checks an event's
    customer fields with it (the event's columns are always text)."""
    return within_limit(field, _line(value))


def site_id_text(value: str) -> str:
    """A site id (NMI) as an order keeps it: upper case, without spaces (of any kind, as
    `wo_tui/core/nmi.py` reads it: people type NMIs in groups)."""
    return "".join(value.split()).upper()


FIELD_LABELS = {
    "type_code": "type",
    "account_number": "account number",
    "customer_name": "customer name",
    "site_address": "site address",
    "site_id": "site id (NMI)",
    "meter_number": "meter number",
    "meter_location": "meter location",
    "preferred_date": "preferred date",
    "scheduled_date": "scheduled date",
    "window_start": "window start",
    "window_end": "window end",
    "service_time": "service time",
    "due_date": "due date",
    "access_details": "access details",
    "life_support": "life support",
}


class OrderFields(BaseModel):
    """Every field a dispatcher can set on an order (all optional: used for edits too)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    priority: Priority | None = None
    account_number: Line | None = None
    customer_name: Line | None = None
    site_address: Line | None = None
    site_id: Line | None = None
    meter_number: Line | None = None
    meter_location: Line | None = None
    preferred_date: date | None = None
    scheduled_date: date | None = None
    window_start: time | None = None
    window_end: time | None = None
    service_time: ServiceTime | None = None
    due_date: date | None = None
    instructions: Block | None = None
    materials: Block | None = None
    access_details: Block | None = None
    hazards: Block | None = None
    life_support: bool | None = None

    @field_validator("priority", mode="before")
    @classmethod
    def _priority(cls, value: Any) -> Any:
        return Priority.parse(value) if isinstance(value, str) else value

    @field_validator(*TEXT_LIMITS, mode="after")
    @classmethod
    def _length(cls, value: str | None, info: Any) -> str | None:
        return None if value is None else within_limit(info.field_name, value)

    @field_validator("site_id", mode="after")
    @classmethod
    def _nmi(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = site_id_text(value)
        problem = check_site_id(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _window(self) -> OrderFields:
        if (self.window_start is None) != (self.window_end is None):
            raise ValueError("a time window needs both a start and an end")
        if self.window_start and self.window_end and self.window_end <= self.window_start:
            raise ValueError("the time window must end after it starts")
        return self


class NewOrder(OrderFields):
    """A new order: its type is required; the type gives the default priority and due date."""

    type_code: Line = Field(min_length=1)
    assignee: Line | None = None
    """Name of an active assignee; assigning queues the assignment email."""

    @field_validator("type_code", mode="after")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


def validate_fields(model: type[M], data: dict[str, Any]) -> M:
    """Validate `data` as `model`, turning pydantic's errors into one `InvalidInput` that
    names each field in the users' words."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors(include_input=False, include_url=False):
            field = str(error["loc"][0]) if error["loc"] else "order"
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "is not a field of a work order"
            problems.setdefault(field_label(field), message)
        raise InvalidInput(problems) from None


def field_label(field: str) -> str:
    """A field's name in the users' words, as errors name it."""
    return FIELD_LABELS.get(field, field.replace("_", " "))
