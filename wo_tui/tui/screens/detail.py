"""One order in full: field warnings first, every field by group, history, notes, emails,
source event and linked orders; the single-order actions; `]`/`[` step through the queue.

The page is built once per read (`detail_text`) as plain rows for a line-API `Document`
that draws only the visible lines: nothing is mounted per history row or note, so an order
with a thousand changes opens about as fast as a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from wo_tui.core import status_changes
from wo_tui.core.context import Context
from wo_tui.core.detail import (
    OrderDetail,
    load_detail,
    load_order,
    load_trail,
    previous_reading,
)
from wo_tui.core.errors import WorkOrderError
from wo_tui.core.life_support import needs_life_support_override
from wo_tui.core.orders import add_note, assign
from wo_tui.core.outcomes import BatchResult, Result
from wo_tui.core.statuses import CancelReason
from wo_tui.keys import DETAIL_BINDINGS
from wo_tui.tui.bindings import bindings_for, styles_dir
from wo_tui.tui.screens import detail_text
from wo_tui.tui.screens.status_dialogs import (
    AssignAnswer,
    AssignScreen,
    CompleteAnswer,
    CompleteScreen,
    TextPromptScreen,
)
from wo_tui.tui.widgets.document import Document, Row
from wo_tui.tui.widgets.key_bar import KeyBar

SYNC_TRAIL_ROWS = 200
"""Up to this many history rows and notes are read with the order; more in a worker."""

Stepper = Callable[[int, int], int | None]
"""From an order, moves the list underneath by ±1 and returns the order now under its
cursor (None at an end, or when the list does not show that order)."""


class DetailScreen(Screen[None]):
    """The detail of one order."""

    CSS_PATH = styles_dir() / "detail.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(DETAIL_BINDINGS)

    def __init__(self, order_id: int, *, stepper: Stepper | None = None) -> None:
        super().__init__()
        self.ctx: Context = self.app.ctx  # type: ignore[attr-defined]
        self.order_id = order_id
        self.stepper = stepper
        self.detail: OrderDetail | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="detail-title")
        yield Static("", id="detail-warnings")
        yield Document(id="detail-body")
        yield KeyBar()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#detail-body").focus()

    def reload(self) -> None:
        """Read the order again and redraw it. A long trail (history and notes) is read in
        a worker thread: the fields are drawn at once, the trail when it arrives."""
        try:
            with self.ctx.db.read() as conn:
                detail = load_order(conn, self.order_id)
                if detail.trail_rows <= SYNC_TRAIL_ROWS:
                    load_trail(conn, detail)
        except WorkOrderError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.show(detail)
        if not detail.trail_loaded:
            # After the top of the page is painted: the thread would slow that first frame.
            self.call_after_refresh(self.read_trail, detail.id)

    @work(thread=True, exclusive=True, group="detail", name="read the order's history")
    def read_trail(self, order_id: int) -> None:
        with self.ctx.db.read() as conn:
            detail = load_detail(conn, order_id)
        # The page's rows are plain tuples: built here too, off the screen's thread.
        self.post_message(
            self.TrailRead(detail, detail_text.page(detail, self.ctx.today(), self.ctx.zone))
        )

    @dataclass
    class TrailRead(Message):
        """The whole order was read in a worker (posted from its thread)."""

        detail: OrderDetail
        rows: list[Row]

    def on_detail_screen_trail_read(self, message: TrailRead) -> None:
        if message.detail.id == self.order_id:
            self.show(message.detail, message.rows)

    def show(self, detail: OrderDetail, rows: list[Row] | None = None) -> None:
        """Draw an order (the page keeps its scroll position when it is the same one)."""
        same = self.detail is not None and self.detail.id == detail.id
        self.detail = detail
        today = self.ctx.today()
        self.sub_title = detail.number
        self.query_one("#detail-title", Static).update(detail_text.title(detail))
        warnings = self.query_one("#detail-warnings", Static)
        warnings.update(detail_text.warnings(detail, today))
        warnings.display = bool(detail.warnings(today))
        self.page.update(
            rows if rows is not None else detail_text.page(detail, today, self.ctx.zone)
        )
        if not same:
            self.page.scroll_to(y=0, animate=False, immediate=True)

    @property
    def page(self) -> Document:
        """The scrolling page under the warnings."""
        return self.query_one("#detail-body", Document)

    # -- moving -----------------------------------------------------------------------------
    def action_back(self) -> None:
        """Back to the list."""
        self.dismiss()

    def action_scroll(self, lines: int) -> None:
        """Scroll the page by lines."""
        self.page.scroll_relative(y=lines, animate=False)

    def action_scroll_page(self, pages: int) -> None:
        """Scroll the page by screens."""
        body = self.page
        body.scroll_relative(y=pages * max(body.size.height - 1, 1), animate=False)

    def action_scroll_to_end(self, bottom: bool) -> None:
        """Jump to the top or the bottom of the page."""
        body = self.page
        body.scroll_to(y=body.max_scroll_y if bottom else 0, animate=False, immediate=True)

    def action_step(self, delta: int) -> None:
        """Show the next (or previous) order of the list underneath, in its order."""
        if self.stepper is None:
            self.notify("No list to step through from here.", severity="warning")
            return
        order_id = self.stepper(self.order_id, delta)
        if order_id is None:
            self.notify(
                "No more orders that way in the list (or the list's filter hides this one).",
                severity="warning",
            )
            return
        self.order_id = order_id
        self.reload()

    # -- actions ----------------------------------------------------------------------------
    def _result(self, call: Callable[[], BatchResult]) -> None:
        """Run a one-order status change and say what happened."""
        try:
            batch = call()
        except WorkOrderError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        outcome = batch.outcomes[0]
        if outcome.result is Result.DONE:
            self.notify(f"{outcome.number} {batch.action}", markup=False)
        else:
            self.notify(
                f"{outcome.number} {outcome.result.value}: {outcome.detail}",
                severity="warning" if outcome.result is Result.SKIPPED else "error",
                markup=False,
                timeout=8,
            )
        self.reload()

    def _versions(self) -> dict[int, int]:
        assert self.detail is not None
        return {self.detail.id: self.detail.version}

    def action_edit(self) -> None:
        """Edit the order's fields."""
        from wo_tui.tui.screens.order_form import OrderFormScreen

        if self.detail is None:
            return
        if not self.detail.is_open:
            self.notify(
                f"{self.detail.number} is closed; r reopens it before editing", severity="warning"
            )
            return
        self.app.push_screen(OrderFormScreen(self.order_id), lambda _saved: self.reload())

    def action_new_order(self) -> None:
        """Create a new order (the detail of the new one opens after saving)."""
        from wo_tui.tui.screens.order_form import OrderFormScreen

        def saved(order_id: int | None) -> None:
            if order_id is not None:
                self.order_id = order_id
                self.reload()

        self.app.push_screen(OrderFormScreen(None), saved)

    def action_assign(self) -> None:
        """Assign (or reassign) the order, with an optional scheduled date."""
        detail = self.detail
        if detail is None:
            return

        def chosen(answer: AssignAnswer | None) -> None:
            if answer is None:
                return
            try:
                assign(
                    self.ctx,
                    detail.id,
                    answer.assignee,
                    scheduled_date=answer.scheduled_date,
                    note=answer.note or None,
                    life_support_override=answer.override,
                )
            except WorkOrderError as exc:
                self.notify(str(exc), severity="error", markup=False, timeout=8)
            else:
                self.notify(f"{detail.number} assigned to {answer.assignee}", markup=False)
            self.reload()

        order = detail.order
        needs_override = needs_life_support_override(order)
        self.app.push_screen(
            AssignScreen(detail.number, self.ctx.today(), needs_override=needs_override), chosen
        )

    def action_complete(self) -> None:
        """Complete the order: outcome, reading for read types, override for life support."""
        detail = self.detail
        if detail is None:
            return
        with self.ctx.db.read() as conn:
            previous = previous_reading(
                conn, detail.order["site_id"], detail.order["meter_number"], exclude=detail.id
            )

        def chosen(answer: CompleteAnswer | None) -> None:
            if answer is not None:
                self._result(
                    lambda: status_changes.bulk_complete(
                        self.ctx,
                        [detail.id],
                        note=answer.note,
                        reading=answer.reading,
                        outcome=answer.outcome,
                        outcome_reason=answer.outcome_reason,
                        life_support_override=answer.override,
                        expected_versions=self._versions(),
                    )
                )

        self.app.push_screen(CompleteScreen(detail, previous), chosen)

    def action_cancel_order(self) -> None:
        """Cancel the order with a reason code (and an override for life support)."""
        from wo_tui.tui.screens.cancel_reason import CancelReasonScreen

        detail = self.detail
        if detail is None:
            return

        def run(reason: CancelReason, note: str, override: str | None) -> None:
            self._result(
                lambda: status_changes.bulk_cancel(
                    self.ctx,
                    [detail.id],
                    reason,
                    note=note or None,
                    life_support_override=override,
                    expected_versions=self._versions(),
                )
            )

        def chosen(answer: tuple[CancelReason, str] | None) -> None:
            if answer is None:
                return
            reason, note = answer
            if needs_override(detail):
                self.app.push_screen(
                    override_prompt(detail, "cancelling"),
                    lambda why: run(reason, note, why) if why else None,
                )
            else:
                run(reason, note, None)

        self.app.push_screen(CancelReasonScreen(1), chosen)

    def action_hold(self) -> None:
        """Put the order on hold (a note is required); on a held order, take it off hold."""
        detail = self.detail
        if detail is None:
            return
        if detail.order["status"] == "ON_HOLD":
            release = TextPromptScreen(
                f"Take {detail.number} off hold (back to NEW)", "note (optional)", required=False
            )
            self.app.push_screen(
                release,
                lambda note: (
                    self._result(
                        lambda: status_changes.release_hold(
                            self.ctx, [detail.id], note or None, expected_versions=self._versions()
                        )
                    )
                    if note is not None
                    else None
                ),
            )
            return
        prompt = TextPromptScreen(
            f"Put {detail.number} on hold: why?", "note (required), e.g. no access"
        )
        self.app.push_screen(
            prompt,
            lambda note: (
                self._result(
                    lambda: status_changes.hold(
                        self.ctx, [detail.id], note, expected_versions=self._versions()
                    )
                )
                if note
                else None
            ),
        )

    def action_reopen(self) -> None:
        """Reopen a completed or cancelled order (a reason is required)."""
        detail = self.detail
        if detail is None:
            return
        if detail.is_open:
            self.notify(f"{detail.number} is open already", severity="warning")
            return
        prompt = TextPromptScreen(f"Reopen {detail.number}: why?", "reason (required)")
        self.app.push_screen(
            prompt,
            lambda why: (
                self._result(
                    lambda: status_changes.reopen(
                        self.ctx, [detail.id], why, expected_versions=self._versions()
                    )
                )
                if why
                else None
            ),
        )

    def action_note(self) -> None:
        """Add a note to the order."""
        detail = self.detail
        if detail is None:
            return

        def add(text: str | None) -> None:
            if not text:
                return
            try:
                add_note(self.ctx, detail.id, text)
            except WorkOrderError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            self.reload()
            self.action_scroll_to_end(True)

        self.app.push_screen(TextPromptScreen(f"Note on {detail.number}", "the note"), add)


def needs_override(detail: OrderDetail) -> bool:
    """A disconnection at a life-support site: closing it needs a person's stated reason."""
    return needs_life_support_override(detail.order)


def override_prompt(detail: OrderDetail, doing: str) -> TextPromptScreen:
    """Asks for the life-support override reason (recorded in the history)."""
    return TextPromptScreen(
        f"LIFE SUPPORT: {detail.number} is a disconnection at a life-support site",
        "override reason (required), e.g. customer deregistered, confirmed by phone",
        intro=f"Give the reason for {doing} it anyway; it is recorded in the history.",
    )
