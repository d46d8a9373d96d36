"""From claimed outbox rows to emails ready for the wire (a blocking step: database reads
and CPU work, run in a thread so an event loop never waits on it).

An assignment email is superseded, not sent, when its order was closed or given to someone
else since it was queued, or when a newer assignment email of the same order exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, exists, select

from wo_tui.core.context import Context
from wo_tui.core.models import assignees, outbox, work_order_types, work_orders
from wo_tui.core.outbox import Claim, SendOutcome, Verdict
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import WorkOrderStatus
from wo_tui.mail.errors import MessageRefused
from wo_tui.mail.messages import Envelope, build_email
from wo_tui.mail.templating import Templates


@dataclass(frozen=True)
class ReadyEmail:
    """A claimed email and its bytes."""

    claim: Claim
    envelope: Envelope


def _orders(conn: Connection, claims: Sequence[Claim]) -> dict[int, RowMapping]:
    holder = assignees.alias("holder")
    query = (
        select(
            work_orders,
            work_order_types.c.name.label("type_name"),
            holder.c.name.label("assignee_name"),
        )
        .join(work_order_types, work_order_types.c.code == work_orders.c.type_code)
        .outerjoin(holder, holder.c.id == work_orders.c.assignee_id)
        .where(work_orders.c.id.in_({c.work_order_id for c in claims}))
    )
    return {row["id"]: row for row in conn.execute(query).mappings()}


def _people(conn: Connection, claims: Sequence[Claim]) -> dict[int, RowMapping]:
    wanted = {c.assignee_id for c in claims if c.assignee_id is not None}
    query = select(assignees.c.id, assignees.c.name, assignees.c.kind).where(
        assignees.c.id.in_(wanted)
    )
    return {row["id"]: row for row in conn.execute(query).mappings()}


def _superseded_ids(conn: Connection, claims: Sequence[Claim]) -> set[int]:
    """Assignment emails with a newer assignment email for the same order."""
    newer = outbox.alias("newer")
    ids = [c.outbox_id for c in claims if c.kind == "assignment"]
    if not ids:
        return set()
    query = select(outbox.c.id).where(
        outbox.c.id.in_(ids),
        exists().where(
            and_(
                newer.c.work_order_id == outbox.c.work_order_id,
                newer.c.kind == "assignment",
                newer.c.id > outbox.c.id,
            )
        ),
    )
    return set(conn.execute(query).scalars())


def why_superseded(claim: Claim, order: RowMapping, newer_exists: bool) -> str | None:
    """Why an assignment email should no longer go out, or None."""
    if claim.kind != "assignment":
        return None
    status = WorkOrderStatus(order["status"])
    if not status.is_open:
        return f"not sent: the order is {status.value}"
    if order["assignee_id"] != claim.assignee_id:
        return "not sent: the order was assigned to someone else"
    if newer_exists:
        return "not sent: a newer assignment email replaces it"
    return None


def prepare(
    ctx: Context, claims: Sequence[Claim], *, templates: Templates, from_address: str
) -> tuple[list[ReadyEmail], list[SendOutcome]]:
    """Build the email of every claim: the ready ones, and the outcomes of those that will
    not be sent (superseded, or refused because a value cannot go into a header)."""
    if not claims:
        return [], []
    with ctx.db.read() as conn:
        orders = _orders(conn, claims)
        people = _people(conn, claims)
        newer = _superseded_ids(conn, claims)
    now = ctx.now()
    ready: list[ReadyEmail] = []
    done: list[SendOutcome] = []
    for claim in claims:
        order = orders.get(claim.work_order_id)
        if order is None:
            done.append(SendOutcome(claim, Verdict.FAILED, "the order no longer exists"))
            continue
        why = why_superseded(claim, order, claim.outbox_id in newer)
        if why:
            done.append(SendOutcome(claim, Verdict.SUPERSEDED, why))
            continue
        person = people.get(claim.assignee_id) if claim.assignee_id is not None else None
        row: dict[str, Any] = {
            **order,
            "recipient_name": person["name"] if person else None,
            "recipient_kind": person["kind"] if person else None,
        }
        try:
            email = build_email(
                row,
                kind=claim.kind,
                recipient=claim.recipient,
                message_id=claim.message_id,
                ical_sequence=claim.ical_sequence,
                templates=templates,
                from_address=from_address,
                now=now,
            )
            ready.append(ReadyEmail(claim, email))
        except MessageRefused as exc:
            done.append(SendOutcome(claim, Verdict.FAILED, str(exc)))
        except Exception as exc:
            # The email package refuses some values itself, and stored data may surprise:
            # this email fails visibly, the others go on (never a crashed sender).
            reason = f"{type(exc).__name__}: {clean_text(str(exc))[:300]}"
            done.append(SendOutcome(claim, Verdict.FAILED, f"the email cannot be built: {reason}"))
    return ready, done
