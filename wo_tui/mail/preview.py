"""An outbox email as a person reads it before (or after) it goes out: its headers, its
plain-text part and the names of its attachments, read back from the very bytes the sender
would send."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy

from sqlalchemy import select

from wo_tui.config import SmtpSettings
from wo_tui.core.context import Context
from wo_tui.core.errors import NotFound
from wo_tui.core.models import outbox
from wo_tui.core.outbox import Claim
from wo_tui.mail.errors import MessageRefused, SendingPaused
from wo_tui.mail.messages import build_email
from wo_tui.mail.prepare import _orders, _people
from wo_tui.mail.templating import load_templates

SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID")


def preview_email(ctx: Context, outbox_id: int, settings: SmtpSettings) -> str:
    """The email of outbox row `outbox_id` as text; a message that cannot be built says why
    instead (the sender would fail it the same way)."""
    with ctx.db.read() as conn:
        row = conn.execute(select(outbox).where(outbox.c.id == outbox_id)).mappings().first()
        if row is None:
            raise NotFound(f"there is no email {outbox_id} in the outbox")
        # Built as the sender builds it; nothing is claimed (no token, no lease).
        claim = Claim.of_row(row, token="", lease_until=datetime.min, previous_status=row["status"])
        order = _orders(conn, [claim]).get(claim.work_order_id)
        person = _people(conn, [claim]).get(claim.assignee_id) if claim.assignee_id else None
    if order is None:
        return "The order of this email no longer exists."
    try:
        email = build_email(
            {
                **order,
                "recipient_name": person["name"] if person else None,
                "recipient_kind": person["kind"] if person else None,
            },
            kind=claim.kind,
            recipient=claim.recipient,
            message_id=claim.message_id,
            ical_sequence=claim.ical_sequence,
            templates=load_templates(settings.templates_dir),
            from_address=settings.from_address,
            now=ctx.now(),
        )
    except (MessageRefused, SendingPaused) as exc:
        return f"This email cannot be built: {exc}"
    message = message_from_bytes(email.data, policy=policy.default)
    lines = [f"{name}: {message[name]}" for name in SHOWN_HEADERS if message[name]]
    text = message.get_body(preferencelist=("plain",))
    body = text.get_content().replace("\r\n", "\n") if text is not None else None
    lines += ["", body if body is not None else "(no plain-text part)"]
    attached = [part.get_filename() for part in message.iter_attachments()]
    if attached:
        lines += ["", "Attachments: " + ", ".join(str(name) for name in attached)]
    return "\n".join(lines)
