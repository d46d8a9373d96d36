"""The Events screen: billing events waiting to become orders, and the dead ones that could
not, with their errors; a dead event can be retried (after the billing system fixed it) or
discarded with a reason."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import BindingType

from wo_tui.core import events
from wo_tui.core.numbers import format_number
from wo_tui.core.statuses import EventStatus
from wo_tui.keys import EVENTS_BINDINGS
from wo_tui.tui.bindings import bindings_for
from wo_tui.tui.screens.records import ROW_LIMIT, RecordsScreen

SHOWN = (EventStatus.DEAD, EventStatus.PENDING)


class EventsScreen(RecordsScreen):
    """Pending and dead events, newest first; `a` shows every event."""

    TITLE_TEXT = "Billing events — pending and dead"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(EVENTS_BINDINGS)
    COLUMNS = (
        "id",
        "status",
        "event",
        "reference",
        "received",
        "tries",
        "next try",
        "order",
        "site",
        "customer",
        "error",
    )

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False
        self._rows: dict[str, Any] = {}

    def load(self) -> tuple[list[tuple[str, list[Any]]], str]:
        with self.ctx.db.read() as conn:
            counts = events.count_events(conn)
            if self.show_all:
                found = events.list_events(conn, limit=ROW_LIMIT)
            else:
                found = [
                    row
                    for status in SHOWN
                    for row in events.list_events(conn, status=status, limit=ROW_LIMIT)
                ]
        self._rows = {str(row["id"]): row for row in found}
        rows = [
            (
                str(row["id"]),
                [
                    row["id"],
                    row["status"],
                    row["event_type"],
                    row["external_ref"],
                    row["received_at"],
                    row["attempts"],
                    row["next_attempt_at"],
                    format_number(row["work_order_id"]) if row["work_order_id"] else None,
                    row["site_id"] or row["site_address"],
                    row["customer_name"],
                    (row["last_error"] or "").splitlines()[0] if row["last_error"] else None,
                ],
            )
            for row in found
        ]
        summary = ", ".join(f"{counts.get(s.value, 0):,} {s.value}" for s in EventStatus)
        shown = "every event" if self.show_all else "pending and dead"
        return rows, f"{summary} · showing {shown} (newest {ROW_LIMIT:,} at most)"

    def describe(self, key: str) -> str:
        row = self._rows.get(key)
        if row is None:
            return ""
        error = row["last_error"] or "no error"
        return f"Event {row['id']} ({row['event_type']}, {row['external_ref']}): {error}"

    def _dead_event(self) -> int | None:
        key = self.current_key
        row = self._rows.get(key) if key else None
        if row is None:
            return None
        if row["status"] != EventStatus.DEAD.value:
            self.notify(f"Event {row['id']} is {row['status']}, not dead.", markup=False)
            return None
        return int(row["id"])

    def action_retry(self) -> None:
        """Put the dead event under the cursor back in the queue for the poller."""
        event_id = self._dead_event()
        if event_id is not None:
            self.do_and_reload(
                lambda: events.retry_event(self.ctx, event_id),
                f"Event {event_id} will be tried again at the next poll.",
            )

    def action_discard(self) -> None:
        """Discard the dead event under the cursor, with a reason kept on the event."""
        from wo_tui.tui.screens.prompt import TextPromptScreen

        event_id = self._dead_event()
        if event_id is None:
            return

        def discard(reason: str | None) -> None:
            if reason:
                self.do_and_reload(
                    lambda: events.discard_event(self.ctx, event_id, reason),
                    f"Event {event_id} discarded.",
                )

        self.app.push_screen(
            TextPromptScreen(f"Discard event {event_id}: why?", placeholder="reason"), discard
        )

    def action_toggle_all(self) -> None:
        """Show every event, or only the pending and dead ones."""
        self.show_all = not self.show_all
        self.action_reload()
