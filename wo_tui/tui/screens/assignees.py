"""The Assignees screen: internal technicians, external technicians and partner providers;
add, edit, deactivate and reactivate. A deactivated assignee keeps its history and past
orders but cannot be given new ones."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from wo_tui.core import assignees
from wo_tui.core.errors import InvalidInput, WorkOrderError
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import AssigneeKind
from wo_tui.keys import ASSIGNEE_FORM_BINDINGS, ASSIGNEES_BINDINGS
from wo_tui.tui.bindings import bindings_for, styles_dir
from wo_tui.tui.screens.leaving import KeepsTyping
from wo_tui.tui.screens.records import RecordsScreen

KIND_LABELS = {
    AssigneeKind.INTERNAL: "Internal technician",
    AssigneeKind.EXTERNAL: "External technician",
    AssigneeKind.PARTNER: "Partner service provider",
}
FIELDS = ("name", "kind", "email", "phone")


class AssigneesScreen(RecordsScreen):
    """Every assignee by name, active or not."""

    TITLE_TEXT = "Assignees — technicians and partner providers"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(ASSIGNEES_BINDINGS)
    COLUMNS = ("name", "kind", "email", "phone", "active")

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[str, Any] = {}

    def load(self) -> tuple[list[tuple[str, list[Any]]], str]:
        with self.ctx.db.read() as conn:
            found = assignees.list_assignees(conn, include_inactive=True)
        self._rows = {str(row["id"]): row for row in found}
        rows = [
            (
                str(row["id"]),
                [
                    row["name"],
                    KIND_LABELS.get(AssigneeKind(row["kind"]), row["kind"]),
                    row["email"],
                    row["phone"],
                    "active" if row["active"] else "deactivated",
                ],
            )
            for row in found
        ]
        active = sum(1 for row in found if row["active"])
        return rows, f"{active} active, {len(found) - active} deactivated"

    def _current(self) -> Any:
        key = self.current_key
        return self._rows.get(key) if key else None

    def action_add(self) -> None:
        """Add an assignee through the form."""
        self.app.push_screen(AssigneeFormScreen(None), self._saved)

    def open_row(self) -> None:
        """Enter edits the assignee."""
        self.action_edit()

    def action_edit(self) -> None:
        """Edit the assignee under the cursor."""
        row = self._current()
        if row is not None:
            self.app.push_screen(AssigneeFormScreen(dict(row)), self._saved)

    def _saved(self, name: str | None) -> None:
        if name:
            self.notify(f"Saved {name}.", markup=False)
            self.action_reload()

    def action_toggle_active(self) -> None:
        """Deactivate the assignee under the cursor, or reactivate a deactivated one."""
        row = self._current()
        if row is None:
            return
        becomes = not row["active"]
        verb = "reactivated" if becomes else "deactivated (keeps its orders and history)"
        self.do_and_reload(
            lambda: assignees.set_active(self.ctx, row["name"], becomes), f"{row['name']} {verb}."
        )


class AssigneeFormScreen(KeepsTyping, ModalScreen[str | None]):
    """Name, kind, email and phone; each problem is shown beside its field; nothing is
    saved until all are right; Esc asks before throwing changes away."""

    CSS_PATH: ClassVar = [styles_dir() / "dialogs.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(ASSIGNEE_FORM_BINDINGS)

    def __init__(self, existing: dict[str, Any] | None) -> None:
        super().__init__()
        self.existing = existing

    def compose(self) -> ComposeResult:
        old = self.existing or {}
        title = f"Edit {old['name']}" if old else "Add an assignee"
        kinds = [(label, kind.value) for kind, label in KIND_LABELS.items()]
        with Vertical(id="dialog"):
            yield Static(title, id="dialog-title", markup=False)
            yield Label("Name")
            yield Input(old.get("name") or "", id="name")
            yield Static("", id="name-error", classes="field-error")
            yield Label("Kind")
            yield Select(kinds, value=old.get("kind") or AssigneeKind.INTERNAL.value, id="kind")
            yield Static("", id="kind-error", classes="field-error")
            yield Label("Email")
            yield Input(old.get("email") or "", id="email")
            yield Static("", id="email-error", classes="field-error")
            yield Label("Phone")
            yield Input(old.get("phone") or "", id="phone")
            yield Static("", id="phone-error", classes="field-error")
            yield Static("ctrl+s or Enter saves, Esc goes back", id="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        """Validate and save; show each problem beside its field."""
        values = {name: self.query_one(f"#{name}", Input).value for name in ("name", "email")}
        phone = self.query_one("#phone", Input).value.strip() or None
        kind = str(self.query_one("#kind", Select).value)
        for name in FIELDS:
            self.query_one(f"#{name}-error", Static).update("")
        try:
            if self.existing is None:
                assignees.add_assignee(self.ctx, values["name"], kind, values["email"], phone)
            else:
                assignees.edit_assignee(
                    self.ctx,
                    self.existing["name"],
                    new_name=values["name"],
                    email=values["email"],
                    phone=phone or "",
                    kind=kind,
                )
        except InvalidInput as exc:
            for name, problem in exc.problems.items():
                target = name if name in FIELDS else "name"
                self.query_one(f"#{target}-error", Static).update(problem)
            return
        except WorkOrderError as exc:
            self.query_one("#name-error", Static).update(str(exc))
            return
        self.dismiss(values["name"].strip())

    @property
    def ctx(self) -> Any:
        """The app's service context."""
        return self.app.ctx  # type: ignore[attr-defined]

    def what_is_typed(self) -> str:
        """What leaving the changed form would lose."""
        if self.existing is None:
            return "discard the new assignee"
        return f"discard your changes to {clean_text(self.existing['name'])}"

    def action_dismiss_none(self) -> None:
        """Go back without saving (asks first when something was changed)."""
        self.leave(None)
