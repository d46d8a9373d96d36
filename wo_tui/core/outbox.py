"""The outbox seen from a sender: claim due emails with a lease, then record what happened.

A sender claims rows by giving them a fresh random `lease_token` and a `lease_until`; only the
holder of the current token may record the outcome (`outbox_marks`), so a sender whose lease
expired and was taken over by another changes nothing.
Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL and `BEGIN IMMEDIATE` on SQLite (where
SKIP LOCKED is silently dropped).
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    Connection,
    RowMapping,
    and_,
    or_,
    select,
    update,
)

from wo_tui.core.backoff import backoff_seconds
from wo_tui.core.context import Context
from wo_tui.core.errors import NotAllowed, NotFound
from wo_tui.core.models import outbox
from wo_tui.core.statuses import EmailStatus

RETRY_BASE_SECONDS = 60.0
"""The first retry waits about a minute; each further one twice as long..."""
RETRY_CAP_SECONDS = 3600.0
"""... up to an hour."""
DEFAULT_LEASE_SECONDS = 300.0
"""How long a claim is held before another sender may take the email over."""

_DUE_STATUSES = (EmailStatus.QUEUED.value, EmailStatus.RETRY.value)
_SENDING = EmailStatus.SENDING.value


@dataclass(frozen=True)
class Claim:
    """One outbox email a sender holds until `lease_until` (token-guarded)."""

    outbox_id: int
    token: str
    lease_until: datetime
    work_order_id: int
    kind: str
    assignee_id: int | None
    recipient: str
    message_id: str
    attempts: int
    """Attempts including this one."""
    ical_sequence: int
    previous_status: str
    """The status before the claim, restored by `release`."""

    @classmethod
    def of_row(
        cls, row: RowMapping, *, token: str, lease_until: datetime, previous_status: str
    ) -> Claim:
        """A claim on the outbox row `row` (its id, order, kind, recipient, ...)."""
        return cls(
            outbox_id=row["id"],
            token=token,
            lease_until=lease_until,
            work_order_id=row["work_order_id"],
            kind=row["kind"],
            assignee_id=row["assignee_id"],
            recipient=row["recipient"],
            message_id=row["message_id"],
            attempts=row["attempts"],
            ical_sequence=row["ical_sequence"],
            previous_status=previous_status,
        )


class Verdict(StrEnum):
    """What a send attempt means for its outbox row."""

    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    RELEASED = "released"
    """Not attempted (sending paused, the sender stopping, or the lease ran short): back as
    it was."""
    INTERRUPTED = "interrupted"
    """Cut off while the server had not answered (the sender was stopping): `retry`, due at
    once, the attempt not counted (the server may have the email: same Message-ID)."""


@dataclass(frozen=True)
class SendOutcome:
    """The verdict on one claimed email and the server's reply (or our reason)."""

    claim: Claim
    verdict: Verdict
    reply: str
    delay_seconds: float | None = None
    """For RETRY: how long to wait (None = the backoff for the attempt number)."""


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: about 1, 2, 4 ... minutes, capped at an hour; the
    wait is drawn between half and all of that, so senders do not retry in lockstep."""
    return backoff_seconds(
        attempt,
        first=RETRY_BASE_SECONDS,
        cap=RETRY_CAP_SECONDS,
        spread=(0.5, 1.0),
        rand=(rng or random).random,
    )


def claim_due(
    ctx: Context, lease_seconds: float = DEFAULT_LEASE_SECONDS, limit: int = 100
) -> list[Claim]:
    """Claim up to `limit` due emails (queued, or retry whose time has come, or sending with
    an expired lease), oldest first, under one fresh token; each claim counts an attempt."""
    now = ctx.now()
    token = secrets.token_hex(16)
    lease_until = now + timedelta(seconds=lease_seconds)
    due = or_(
        and_(
            outbox.c.status.in_(_DUE_STATUSES),
            or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
        ),
        and_(outbox.c.status == _SENDING, outbox.c.lease_until < now),
    )
    query = select(outbox.c.id, outbox.c.status).where(due).order_by(outbox.c.id).limit(limit)
    with ctx.db.write() as conn:
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        before = {row.id: row.status for row in conn.execute(query)}
        if not before:
            return []
        rows = conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(list(before)))
            .values(
                status=_SENDING,
                lease_token=token,
                lease_until=lease_until,
                attempts=outbox.c.attempts + 1,
                last_attempt_at=now,
            )
            .returning(
                outbox.c.id,
                outbox.c.work_order_id,
                outbox.c.kind,
                outbox.c.assignee_id,
                outbox.c.recipient,
                outbox.c.message_id,
                outbox.c.attempts,
                outbox.c.ical_sequence,
            )
        ).mappings()
        claims = [
            Claim.of_row(r, token=token, lease_until=lease_until, previous_status=before[r["id"]])
            for r in rows
        ]
    return sorted(claims, key=lambda c: c.outbox_id)


def resend(ctx: Context, outbox_id: int) -> None:
    """Put a failed (or superseded) email back in the queue for a fresh round of attempts;
    it keeps its Message-ID, so a receiver can tell it is the same email."""
    with ctx.db.write() as conn:
        status = conn.execute(select(outbox.c.status).where(outbox.c.id == outbox_id)).scalar()
        if status is None:
            raise NotFound(f"there is no queued email {outbox_id}")
        if status not in (EmailStatus.FAILED.value, EmailStatus.SUPERSEDED.value):
            raise NotAllowed(f"email {outbox_id} is {status}; only a failed email can be resent")
        conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id, outbox.c.status == status)
            .values(
                status=EmailStatus.QUEUED.value,
                attempts=0,
                next_attempt_at=None,
                failed_at=None,
                lease_token=None,
                lease_until=None,
            )
        )


def order_emails(conn: Connection, order_id: int) -> list[RowMapping]:
    """Every email of an order, oldest first: what the order screen lists."""
    query = select(outbox).where(outbox.c.work_order_id == order_id).order_by(outbox.c.id)
    return list(conn.execute(query).mappings())


def list_outbox(
    conn: Connection, *, statuses: tuple[EmailStatus, ...] = (), limit: int = 500
) -> list[RowMapping]:
    """Emails newest first (of the given statuses), with their order's type and site: what
    the Outbox screen lists."""
    from wo_tui.core.models import work_orders

    query = (
        select(
            outbox,
            work_orders.c.type_code,
            work_orders.c.site_address,
            work_orders.c.site_id,
        )
        .join(work_orders, work_orders.c.id == outbox.c.work_order_id)
        .order_by(outbox.c.id.desc())
        .limit(limit)
    )
    if statuses:
        query = query.where(outbox.c.status.in_([s.value for s in statuses]))
    return list(conn.execute(query).mappings())


def count_outbox(conn: Connection) -> dict[str, int]:
    """How many emails are in each status (the dashboard shows the failed ones)."""
    from sqlalchemy import func

    query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
    return {status: int(n) for status, n in conn.execute(query).all()}


def count_failed(conn: Connection) -> int:
    """Emails refused for good and waiting for a person (resend or fix the address)."""
    from sqlalchemy import func

    query = select(func.count()).where(outbox.c.status == EmailStatus.FAILED.value)
    return int(conn.execute(query).scalar_one())
