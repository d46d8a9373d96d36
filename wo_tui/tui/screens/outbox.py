"""The Outbox screen: every email with its order, recipient, state and the server's last
reply; preview one; resend a failed one."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from wo_tui.core import outbox
from wo_tui.core.clock import Zone, local_time
from wo_tui.core.numbers import format_number
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import EmailStatus
from wo_tui.keys import OUTBOX_BINDINGS, PREVIEW_BINDINGS
from wo_tui.tui.bindings import bindings_for, styles_dir
from wo_tui.tui.screens.records import ROW_LIMIT, RecordsScreen

KIND_LABELS = {
    "assignment": "assignment",
    "reassignment_notice": "reassigned",
    "cancellation_notice": "cancelled",
}


def state_of(row: Any, zone: Zone = None) -> str:
    """The state as a dispatcher reads it: queued / sending / sent / retry at HH:MM /
    failed / superseded (times in the utility's zone)."""
    status = row["status"]
    if status == EmailStatus.RETRY.value and row["next_attempt_at"] is not None:
        return f"retry at {local_time(row['next_attempt_at'], zone):%H:%M}"
    if status == EmailStatus.SENT.value and row["sent_at"] is not None:
        return f"sent {local_time(row['sent_at'], zone):%d %b %H:%M}"
    return str(status)


class OutboxScreen(RecordsScreen):
    """Every email, newest first; `f` shows only the failed ones."""

    TITLE_TEXT = "Outbox — emails to technicians and partners"
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(OUTBOX_BINDINGS)
    COLUMNS = ("id", "order", "email", "to", "state", "tries", "last reply")

    def __init__(self, *, failed_only: bool = False) -> None:
        super().__init__()
        self.failed_only = failed_only
        self._rows: dict[str, Any] = {}

    def load(self) -> tuple[list[tuple[str, list[Any]]], str]:
        wanted = (EmailStatus.FAILED,) if self.failed_only else ()
        with self.ctx.db.read() as conn:
            found = outbox.list_outbox(conn, statuses=wanted, limit=ROW_LIMIT)
            counts = outbox.count_outbox(conn)
        self._rows = {str(row["id"]): row for row in found}
        rows = [
            (
                str(row["id"]),
                [
                    row["id"],
                    format_number(row["work_order_id"]),
                    KIND_LABELS.get(row["kind"], row["kind"]),
                    row["recipient"],
                    state_of(row, self.ctx.zone),
                    row["attempts"],
                    (row["last_reply"] or "").splitlines()[0] if row["last_reply"] else None,
                ],
            )
            for row in found
        ]
        summary = ", ".join(f"{counts.get(s.value, 0):,} {s.value}" for s in EmailStatus)
        shown = "failed only" if self.failed_only else f"newest {ROW_LIMIT:,} at most"
        return rows, f"{summary} · showing {shown}"

    def describe(self, key: str) -> str:
        row = self._rows.get(key)
        if row is None:
            return ""
        site = row["site_address"] or row["site_id"] or ""
        reply = row["last_reply"] or "no reply yet"
        return (
            f"{format_number(row['work_order_id'])} {row['type_code']} {site} → "
            f"{row['recipient']} · {row['message_id']}\nLast reply: {reply}"
        )

    def open_row(self) -> None:
        """Enter previews the email."""
        self.action_preview()

    def action_preview(self) -> None:
        """Show the email under the cursor as it is (or would be) sent."""
        from wo_tui.mail.preview import preview_email

        key = self.current_key
        if key is None:
            return
        text = preview_email(self.ctx, int(key), self.app.settings.smtp)  # type: ignore[attr-defined]
        self.app.push_screen(EmailPreviewScreen(f"Email {key}", text))

    def action_resend(self) -> None:
        """Put the failed email under the cursor back in the queue (same Message-ID)."""
        key = self.current_key
        row = self._rows.get(key) if key else None
        if row is None:
            return
        self.do_and_reload(
            lambda: outbox.resend(self.ctx, row["id"]),
            f"Email {row['id']} to {clean_text(row['recipient'])} will be sent again.",
        )

    def action_toggle_failed(self) -> None:
        """Show only the failed emails, or all of them."""
        self.failed_only = not self.failed_only
        self.action_reload()


class EmailPreviewScreen(ModalScreen[None]):
    """One email as text; Esc or q closes it."""

    CSS_PATH: ClassVar = [styles_dir() / "records.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(PREVIEW_BINDINGS)

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="preview"):
            yield Static(Text(self.title_text), id="records-title")
            yield Static(Text(clean_text(self.text, multiline=True)), id="preview-body")
