"""The new-order and edit-order form: keyboard only, Tab in reading order, each problem
beside its field, nothing saved until the whole form is valid; `ctrl+s` saves, Esc asks
before throwing changes away. An edit that someone else beat shows the conflict view."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea

from wo_tui.core.assignees import list_assignees
from wo_tui.core.context import Context
from wo_tui.core.detail import changes_since, last_history_id
from wo_tui.core.errors import Conflict, InvalidInput, WorkOrderError
from wo_tui.core.numbers import format_number
from wo_tui.core.orders import OrderType, create_order, edit_order, get_order, order_types
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import Priority, ServiceTime
from wo_tui.keys import FORM_BINDINGS
from wo_tui.tui.bindings import bindings_for, styles_dir
from wo_tui.tui.screens.leaving import KeepsTyping
from wo_tui.tui.screens.order_form_fields import (
    BY_NAME,
    FORM_FIELDS,
    FormField,
    field_of,
    to_model,
    understood_date,
    understood_window,
)
from wo_tui.tui.widgets.key_bar import KeyBar

SERVICE_TIMES = [("any time", "any"), ("business hours", "business_hours")]
SERVICE_TIMES.append(("after hours", "after_hours"))


def life_support_label(on: bool) -> str:
    """The life-support box's label, saying its state in words."""
    return "YES, life-support customer at this site" if on else "no (space marks the site)"


class OrderFormScreen(KeepsTyping, Screen[int | None]):
    """New order (`order_id` None) or edit of an open order; dismisses with the order id
    when saved, None when left without saving (after asking, when something was typed)."""

    CSS_PATH: ClassVar = [styles_dir() / "detail.tcss", styles_dir() / "form.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(FORM_BINDINGS)

    def __init__(self, order_id: int | None) -> None:
        super().__init__()
        self.ctx: Context = self.app.ctx  # type: ignore[attr-defined]
        self.order_id = order_id
        self.today: date = self.ctx.today()
        with self.ctx.db.read() as conn:
            self.types: dict[str, OrderType] = order_types(conn, include_inactive=bool(order_id))
            self.assignees = [str(p["name"]) for p in list_assignees(conn)]
            self.original: dict[str, Any] = (
                dict(get_order(conn, order_id)) if order_id is not None else {}
            )
            self.seen_history = last_history_id(conn, order_id) if order_id is not None else 0
        self.version: int = int(self.original.get("version", 0))

    @property
    def is_new(self) -> bool:
        """True for a new order."""
        return self.order_id is None

    # -- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        heading = (
            "New work order"
            if self.is_new
            else f"Edit {format_number(self.order_id or 0)} (version {self.version})"
        )
        yield Static(Content(heading), id="detail-title")
        yield Static("", id="form-error", classes="hidden")
        with VerticalScroll(id="form"):
            for f in FORM_FIELDS:
                with Horizontal(classes="form-row", id=f"row-{f.name}"):
                    yield Label(f.label, id=f"label-{f.name}", classes="form-label")
                    yield self._widget(f)
                yield Static("", id=f"hint-{f.name}", classes="form-hint", expand=False)
        yield KeyBar()

    def _widget(self, f: FormField) -> Widget:
        value = self._start_value(f)
        wid = f"field-{f.name}"
        if f.kind == "select":
            options = self._options(f.name)
            disabled = not self.is_new and f.name in ("type_code", "assignee")
            return Select(
                options,
                value=value,
                id=wid,
                disabled=disabled,
                prompt="choose" if f.name != "priority" else "the type's default",
                allow_blank=f.name != "service_time",
                compact=True,
            )
        if f.kind == "block":
            return TextArea(value or "", id=wid, classes="form-block", soft_wrap=True, compact=True)
        if f.kind == "check":
            return Checkbox(life_support_label(bool(value)), bool(value), id=wid, compact=True)
        return Input(value=value or "", placeholder=f.placeholder, id=wid, compact=True)

    def _options(self, name: str) -> list[tuple[Text, Any]]:
        if name == "type_code":
            ordered = sorted(self.types.values(), key=lambda t: t.code)
            return [(Text(f"{t.code} · {t.name}"), t.code) for t in ordered]
        if name == "priority":
            return [(Text(p.label), p) for p in Priority]
        if name == "service_time":
            return [(Text(label), value) for label, value in SERVICE_TIMES]
        return [(Text(clean_text(n)), n) for n in self.assignees]

    def _start_value(self, f: FormField) -> Any:
        o = self.original
        if f.name == "window":
            start, end = o.get("window_start"), o.get("window_end")
            return f"{start:%H:%M}-{end:%H:%M}" if start and end else ""
        if f.name == "assignee":
            name = o.get("assignee_name")
            return name if name in self.assignees else Select.NULL
        value = o.get(f.name)
        if f.name == "priority" and value is not None:
            return Priority(value)
        if f.name == "service_time":
            return value or ServiceTime.ANY.value
        if f.kind == "select":
            return value if value is not None else Select.NULL
        if f.kind == "date":
            return value.isoformat() if value else ""
        if f.kind in ("text", "block"):
            return clean_text(value, multiline=f.kind == "block") if value else ""
        return value

    def on_mount(self) -> None:
        code = self.original.get("type_code")
        self._mark_required(self.types.get(code) if code else None)
        for f in FORM_FIELDS:
            if f.kind in ("date", "window"):
                self._explain(f.name)
        first = "#field-type_code" if self.is_new else "#field-account_number"
        self.query_one(first).focus()

    # -- reading the widgets ----------------------------------------------------------------
    def raw(self) -> dict[str, Any]:
        """What is typed in every field, as the widgets hold it."""
        values: dict[str, Any] = {}
        for f in FORM_FIELDS:
            widget = self.query_one(f"#field-{f.name}")
            if isinstance(widget, Select):
                values[f.name] = None if widget.is_blank() else widget.value
            elif isinstance(widget, TextArea):
                values[f.name] = widget.text
            elif isinstance(widget, Checkbox | Input):
                values[f.name] = widget.value
        return values

    def what_is_typed(self) -> str:
        """What leaving the changed form would lose."""
        if self.order_id is None:
            return "discard the new order"
        return f"discard your changes to {format_number(self.order_id)}"

    def _hint(self, name: str, content: Content | str) -> None:
        hint = self.query_one(f"#hint-{name}", Static)
        hint.update(content)
        hint.display = bool(content)

    def _explain(self, name: str) -> None:
        """Show beside a date or window what was understood (or why it was not)."""
        value = self.query_one(f"#field-{name}", Input).value
        try:
            shown = (
                understood_window(value)[1]
                if name == "window"
                else understood_date(value, self.today)[1]
            )
        except ValueError as exc:
            self._hint(name, Content.styled(f"✗ {exc}", "$error"))
        else:
            self._hint(name, Content(f"→ {shown}") if shown else "")

    def on_input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("field-")
        if BY_NAME.get(name) and BY_NAME[name].kind in ("date", "window"):
            self._explain(name)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        # Said in words too: the box's mark alone is a colour change in some themes.
        event.checkbox.label = life_support_label(event.value)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "field-type_code" or not self.is_new or event.select.is_blank():
            return
        order_type = self.types[str(event.value)]
        self.query_one("#field-priority", Select).value = order_type.default_priority
        due = self.ctx.calendar.add_business_days(self.today, order_type.sla_business_days)
        self.query_one("#field-due_date", Input).value = due.isoformat()
        self._mark_required(order_type)

    def _mark_required(self, order_type: OrderType | None) -> None:
        required = set(order_type.required_fields) if order_type else set()
        if self.is_new:
            required.add("type_code")
        for f in FORM_FIELDS:
            label = f"{f.label} *" if f.name in required else f.label
            self.query_one(f"#label-{f.name}", Label).update(label)

    # -- saving -----------------------------------------------------------------------------
    def _order_type(self, raw: dict[str, Any]) -> OrderType | None:
        code = raw.get("type_code") if self.is_new else self.original.get("type_code")
        return self.types.get(str(code)) if code else None

    def show_problems(self, problems: dict[str, str]) -> None:
        """Each problem beside its field; the first bad field gets the focus."""
        for f in FORM_FIELDS:
            widget = self.query_one(f"#field-{f.name}")
            widget.set_class(f.name in problems, "-invalid")
            if f.name in problems:
                self._hint(f.name, Content.styled(f"✗ {clean_text(problems[f.name])}", "$error"))
            elif f.kind in ("date", "window"):
                self._explain(f.name)
            else:
                self._hint(f.name, "")
        general = problems.get("form")
        count = len(problems)
        summary = f"Not saved: {count} field{'s' if count != 1 else ''} to fix"
        error = self.query_one("#form-error", Static)
        error.display = bool(problems)
        error.update(
            Content.styled(summary + (f" ({clean_text(general)})" if general else ""), "$error")
        )
        for f in FORM_FIELDS:
            if f.name in problems:
                self.query_one(f"#field-{f.name}").focus()
                break

    def changes(self, data: dict[str, Any]) -> dict[str, Any]:
        """For an edit: only the fields the dispatcher changed (stored-value comparison)."""
        return {k: v for k, v in data.items() if self.original.get(k) != v}

    def action_save(self) -> None:
        """Check the whole form; save it only when every field is valid."""
        raw = self.raw()
        data, problems = to_model(
            raw, self.today, new=self.is_new, order_type=self._order_type(raw)
        )
        if problems:
            self.show_problems(problems)
            return
        try:
            if self.order_id is None:
                saved = create_order(self.ctx, data)
            else:
                wanted = self.changes(data)
                if not wanted:
                    self.dismiss(self.order_id)
                    return
                self._save_edit(wanted)
                return
        except InvalidInput as exc:
            self.show_problems(self._by_field(exc))
            return
        except WorkOrderError as exc:
            self.notify(str(exc), severity="error", markup=False, timeout=8)
            return
        self.notify(f"{format_number(saved)} created", markup=False)
        self.dismiss(saved)

    def _by_field(self, exc: InvalidInput) -> dict[str, str]:
        return {field_of(k) or "form": v for k, v in exc.problems.items()}

    def _save_edit(self, wanted: dict[str, Any], version: int | None = None) -> None:
        assert self.order_id is not None
        try:
            new_version = edit_order(self.ctx, self.order_id, version or self.version, wanted)
        except Conflict:
            self._show_conflict(wanted)
            return
        except InvalidInput as exc:
            self.show_problems(self._by_field(exc))
            return
        except WorkOrderError as exc:
            self.notify(str(exc), severity="error", markup=False, timeout=8)
            return
        self.notify(f"{format_number(self.order_id)} saved (version {new_version})", markup=False)
        self.dismiss(self.order_id)

    def _show_conflict(self, wanted: dict[str, Any]) -> None:
        from wo_tui.tui.screens.conflict import ConflictScreen

        assert self.order_id is not None
        with self.ctx.db.read() as conn:
            theirs = changes_since(conn, self.order_id, self.seen_history)
            current = dict(get_order(conn, self.order_id))
        mine = [(k, self.original.get(k), v) for k, v in wanted.items()]

        def decided(answer: str | None) -> None:
            if answer == "reapply":
                self._save_edit(wanted, version=int(current["version"]))
            elif answer == "reload":
                self.reload_from_database()

        self.app.push_screen(
            ConflictScreen(format_number(self.order_id), theirs, mine, current), decided
        )

    def reload_from_database(self) -> None:
        """Throw away what was typed and show the order as it is now (their changes)."""
        assert self.order_id is not None
        with self.ctx.db.read() as conn:
            self.original = dict(get_order(conn, self.order_id))
            self.seen_history = last_history_id(conn, self.order_id)
        self.version = int(self.original["version"])
        for f in FORM_FIELDS:
            widget = self.query_one(f"#field-{f.name}")
            value = self._start_value(f)
            if isinstance(widget, Select):
                if value is Select.NULL:
                    widget.clear()
                else:
                    widget.value = value
            elif isinstance(widget, TextArea):
                widget.text = value or ""
            elif isinstance(widget, Checkbox):
                widget.value = bool(value)
            elif isinstance(widget, Input):
                widget.value = value or ""
        self.query_one("#detail-title", Static).update(
            Content(f"Edit {format_number(self.order_id)} (version {self.version}, reloaded)")
        )
        self.show_problems({})
        self.take_as_unchanged()

    def action_back(self) -> None:
        """Leave the form; asks first when something was changed."""
        self.leave(None)
