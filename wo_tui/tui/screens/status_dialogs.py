"""Small dialogs the detail screen opens: a required line of text (hold note, reopen
reason, note, life-support override), completing one order, and assigning it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from wo_tui.core.assignees import list_assignees
from wo_tui.core.dates import describe_date, parse_date
from wo_tui.core.detail import OrderDetail, PreviousReading
from wo_tui.core.errors import InvalidInput
from wo_tui.core.life_support import needs_life_support_override
from wo_tui.core.sanitize import clean_text
from wo_tui.core.status_changes import parse_reading
from wo_tui.core.statuses import Outcome
from wo_tui.keys import DIALOG_BINDINGS
from wo_tui.tui.bindings import bindings_for, styles_dir
from wo_tui.tui.screens.leaving import KeepsTyping

BACK: list[BindingType] = bindings_for(DIALOG_BINDINGS)


class TextPromptScreen(KeepsTyping, ModalScreen[str | None]):
    """One line of text (required unless said otherwise); Enter accepts, Esc goes back
    (None; asks first when something was typed)."""

    CSS_PATH: ClassVar = [styles_dir() / "dialogs.tcss", styles_dir() / "detail.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = BACK

    def __init__(
        self, title: str, placeholder: str, *, intro: str = "", required: bool = True
    ) -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.intro = intro
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Content(self.title_text), id="dialog-title")
            if self.intro:
                yield Static(Content(self.intro))
            yield Input(placeholder=self.placeholder, id="text", compact=True)
            yield Static("", id="dialog-error")
            yield Static("Enter accepts · Esc goes back", id="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = clean_text(event.value).strip()
        if not text and self.required:
            self.query_one("#dialog-error", Static).update("This is required.")
            return
        self.dismiss(text)

    def action_back(self) -> None:
        """Go back without doing anything (asks first when something was typed)."""
        self.leave(None)


@dataclass(frozen=True)
class CompleteAnswer:
    """What the dispatcher said about a completed job."""

    outcome: Outcome
    outcome_reason: str | None
    reading: str | None
    """None means 'reading to follow' for a read type (and no reading for others)."""
    note: str | None
    override: str | None


class CompleteScreen(KeepsTyping, ModalScreen[CompleteAnswer | None]):
    """Complete one order: done or not done (with a reason); the reading for read types,
    checked against the meter's previous reading; the override for a life-support
    disconnection. Enter in any box accepts the whole dialog."""

    CSS_PATH: ClassVar = [styles_dir() / "dialogs.tcss", styles_dir() / "detail.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = BACK

    def __init__(self, detail: OrderDetail, previous: PreviousReading | None) -> None:
        super().__init__()
        self.detail = detail
        self.previous = previous
        self.confirmed_low: str | None = None
        """A reading below the previous one that the dispatcher already confirmed."""

    @property
    def needs_override(self) -> bool:
        """Life-support disconnection: an explicit override reason is required."""
        return needs_life_support_override(self.detail.order)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Content(f"Complete {self.detail.number}"), id="dialog-title")
            if self.needs_override:
                yield Static(
                    Content.styled(
                        "⚠ LIFE SUPPORT site: completing this disconnection needs an override "
                        "reason (recorded in the history).",
                        "bold $error",
                    )
                )
                yield Input(
                    placeholder="life-support override reason (required)",
                    id="override",
                    compact=True,
                )
            yield OptionList(
                Option("Done", id=Outcome.DONE.value),
                Option("Not done (give a reason)", id=Outcome.NOT_DONE.value),
                id="outcome",
            )
            yield Input(placeholder="reason it was not done", id="reason", compact=True)
            if self.detail.needs_reading:
                hint = "meter reading (leave empty: reading to follow)"
                if self.previous is not None:
                    hint = f"meter reading; previous {clean_text(self.previous.reading)}"
                yield Input(placeholder=hint, id="reading", compact=True)
            yield Input(placeholder="completion note (optional)", id="note", compact=True)
            yield Static("", id="dialog-error")
            yield Static("Enter accepts · Tab moves · Esc goes back", id="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#outcome", OptionList).highlighted = 0
        first = "#override" if self.needs_override else "#outcome"
        self.query_one(first).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.focus_next()

    def _error(self, text: str) -> None:
        self.query_one("#dialog-error", Static).update(Content(text))

    def _value(self, selector: str) -> str:
        found = self.query(selector)
        return clean_text(found.first(Input).value).strip() if found else ""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.accept()

    def accept(self) -> None:
        """Check the answers and close with them (or show what is wrong)."""
        index = self.query_one("#outcome", OptionList).highlighted or 0
        outcome = Outcome.NOT_DONE if index == 1 else Outcome.DONE
        reason = self._value("#reason") or None
        override = self._value("#override") or None
        if self.needs_override and not override:
            self._error("A life-support disconnection needs an override reason.")
            self.query_one("#override").focus()
            return
        if outcome is Outcome.NOT_DONE and not reason:
            self._error("Say why the job was not done.")
            self.query_one("#reason").focus()
            return
        reading: str | None = None
        typed = self._value("#reading")
        if typed and outcome is Outcome.DONE:
            try:
                reading = parse_reading(typed)
            except InvalidInput as exc:
                self._error(f"Reading: {exc.problems['reading']}")
                self.query_one("#reading").focus()
                return
            low = self.previous.value if self.previous else None
            if low is not None and Decimal(reading) < low and self.confirmed_low != reading:
                self.confirmed_low = reading
                assert self.previous is not None
                self._error(
                    f"⚠ {reading} is lower than the previous reading {self.previous.reading} "
                    f"(WO-{self.previous.order_id:06d}). Enter again to record it anyway."
                )
                return
        self.dismiss(
            CompleteAnswer(outcome, reason, reading, self._value("#note") or None, override)
        )

    def action_back(self) -> None:
        """Go back without completing (asks first when something was typed)."""
        self.leave(None)


@dataclass(frozen=True)
class AssignAnswer:
    """Who gets the order, and when (optional)."""

    assignee: str
    scheduled_date: date | None
    note: str
    override: str | None = None
    """The reason to send a disconnection at a life-support site anyway."""


class AssignScreen(KeepsTyping, ModalScreen[AssignAnswer | None]):
    """Pick an active assignee, optionally a scheduled date (what was understood is shown
    beside it) and a note (needed to reassign a SENT order)."""

    CSS_PATH: ClassVar = [styles_dir() / "dialogs.tcss", styles_dir() / "detail.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = BACK

    def __init__(self, what: str, today: date, *, needs_override: bool = False) -> None:
        super().__init__()
        self.what = what
        """The order's number, or "12 orders"."""
        self.today = today
        self.needs_override = needs_override
        self.names: list[str] = []

    def compose(self) -> ComposeResult:
        ctx = self.app.ctx  # type: ignore[attr-defined]
        with ctx.db.read() as conn:
            people = list_assignees(conn)
        self.names = [p["name"] for p in people]
        with Vertical(id="dialog"):
            yield Static(Content(f"Assign {self.what} to"), id="dialog-title")
            yield OptionList(
                *(Option(Content(f"{clean_text(p['name'])} ({p['kind']})")) for p in people),
                id="reasons",
            )
            yield Input(
                placeholder="scheduled date (optional): 3/12, tomorrow, +2d",
                id="date",
                compact=True,
            )
            yield Static("", id="date-shown")
            yield Input(
                placeholder="note (needed to reassign a SENT order)", id="note", compact=True
            )
            if self.needs_override:
                yield Static(
                    Content.styled("LIFE SUPPORT: a disconnection here is only sent with", "$error")
                    + Content(" a reason")
                )
                yield Input(placeholder="override reason (required)", id="override", compact=True)
            yield Static("", id="dialog-error")
            yield Static("Enter accepts · Esc goes back", id="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.names:
            options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#date", Input).focus()

    def _date(self) -> date | None:
        text = self.query_one("#date", Input).value.strip()
        return parse_date(text, self.today) if text else None

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "date":
            return
        shown = self.query_one("#date-shown", Static)
        try:
            when = self._date()
        except ValueError as exc:
            shown.update(Content.styled(str(exc), "$error"))
        else:
            shown.update(Content(describe_date(when, self.today) if when else ""))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None or not self.names:
            self.query_one("#dialog-error", Static).update("Choose an assignee first.")
            return
        try:
            when = self._date()
        except ValueError as exc:
            self.query_one("#dialog-error", Static).update(Content(f"Date: {exc}"))
            return
        note = clean_text(self.query_one("#note", Input).value).strip()
        override = None
        if self.needs_override:
            override = clean_text(self.query_one("#override", Input).value).strip()
            if not override:
                self.query_one("#dialog-error", Static).update(
                    "Life-support site: give the override reason to send this disconnection."
                )
                return
        self.dismiss(AssignAnswer(self.names[index], when, note, override))

    def action_back(self) -> None:
        """Go back without assigning (asks first when something was typed)."""
        self.leave(None)
