"""The event poller's settings and the rules that say what each billing event creates
(`[events]` and `[events.rules.<event_type>]` in the config file; docs/events.md). They live in
the core, which reads them, and `wo_tui/config.py` puts them in the settings it loads."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from wo_tui.core.errors import did_you_mean

_SECTION = ConfigDict(extra="forbid", hide_input_in_errors=True)
Priority = Literal["High", "Medium", "Low"]


class EventRule(BaseModel):
    """How one kind of billing event becomes a work order."""

    model_config = _SECTION
    order_type: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$", description="Work-order type code.")
    priority: Priority | None = Field(None, description="Priority; unset = the type's default.")
    due_in_business_days: int | None = Field(None, ge=0, description="Unset = the type's SLA.")
    default_assignee: str | None = Field(None, description="Assignee name; unset = none.")
    also_final_read: bool = Field(False, description="Also create a FINAL_READ order.")
    reason: str | None = Field(None, description="Reason recorded on the order.")
    link_to_non_payment_disconnection: bool = Field(False, description="Link to the disconnection.")
    enabled: bool = Field(True, description="Create orders for this event at all.")


DEFAULT_RULES: dict[str, dict[str, Any]] = {
    "move_in": {"order_type": "RECONNECT"},
    "move_out": {"order_type": "DISCONNECT", "also_final_read": True},
    "special_read_request": {"order_type": "SPECIAL_READ"},
    "final_read_request": {"order_type": "FINAL_READ"},
    "non_payment": {"order_type": "DISCONNECT", "reason": "non-payment", "priority": "High"},
    "payment_received": {
        "order_type": "RECONNECT",
        "link_to_non_payment_disconnection": True,
        "priority": "High",
    },
    "meter_investigation_request": {"order_type": "METER_INVESTIGATION"},
}


class EventsSettings(BaseModel):
    """The poller that turns billing events into work orders."""

    model_config = _SECTION
    poll_interval_seconds: float = Field(5.0, gt=0, description="Seconds between polls.")
    batch_size: int = Field(500, ge=1, description="Events read per poll.")
    max_attempts: int = Field(5, ge=1, description="Attempts before an event is parked.")
    poll_in_app: bool = Field(True, description="The app polls too (not only `wo-tui worker`).")
    rules: dict[str, EventRule] = Field(
        default_factory=lambda: {k: EventRule(**v) for k, v in DEFAULT_RULES.items()},
        description="Rule per event type; a rule given here is merged over its default.",
    )

    @field_validator("rules", mode="before")
    @classmethod
    def _merge_over_defaults(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        merged: dict[str, Any] = {k: dict(v) for k, v in DEFAULT_RULES.items()}
        for event, rule in value.items():
            if isinstance(rule, dict) and event in merged:
                merged[event] = {**merged[event], **rule}
            elif isinstance(rule, dict) and "order_type" not in rule:
                also = did_you_mean(str(event), DEFAULT_RULES)
                raise ValueError(f"unknown event {event!r} (a new event needs order_type){also}")
            else:
                merged[event] = rule
        return merged
