"""The outbox seen from a sender: claim due emails with a lease, then record what happened.

A sender claims rows by giving them a fresh random `lease_token` and a `lease_until`; only the
holder of the current token may record the outcome (every write below is a guarded `UPDATE
... WHERE id = :id AND lease_token = :token AND status = 'sending'`). A sender whose lease
expired and was taken over by another therefore changes nothing (reliability.md §8).
Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL and `BEGIN IMMEDIATE` on SQLite (where
SKIP LOCKED is silently dropped). An accepted assignment email moves its order SETUP → SENT
in the same transaction, with a history row.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    and_,
    bindparam,
    case,
    or_,
    select,
    tuple_,
    update,
)

from wo_tui.core.context import Context
from wo_tui.core.errors import NotAllowed, NotFound
from wo_tui.core.models import outbox
from wo_tui.core.outbox_orders import orders_sent
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


class Verdict(StrEnum):
    """What a send attempt means for its outbox row."""

    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    RELEASED = "released"
    """Not attempted (sending paused, or the lease ran short): back as it was."""


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
    ceiling = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return ceiling / 2 + (rng or random).random() * ceiling / 2


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
            Claim(
                outbox_id=r["id"],
                token=token,
                lease_until=lease_until,
                work_order_id=r["work_order_id"],
                kind=r["kind"],
                assignee_id=r["assignee_id"],
                recipient=r["recipient"],
                message_id=r["message_id"],
                attempts=r["attempts"],
                ical_sequence=r["ical_sequence"],
                previous_status=before[r["id"]],
            )
            for r in rows
        ]
    return sorted(claims, key=lambda c: c.outbox_id)


def _held(outbox_id: int, token: str) -> list[ColumnElement[bool]]:
    """The guard of every write: the row is still sending under this token."""
    return [outbox.c.id == outbox_id, outbox.c.lease_token == token, outbox.c.status == _SENDING]


_LET_GO = {"lease_token": None, "lease_until": None}


def mark_sent(ctx: Context, outbox_id: int, token: str, reply: str) -> bool:
    """Record that the server accepted the email, if `token` still holds it; an assignment
    email moves its order SETUP → SENT in the same transaction. Returns whether it did."""
    with ctx.db.write() as conn:
        return bool(_mark_sent(conn, ctx, [(outbox_id, token, reply)]))


_SENT = (
    update(outbox)
    .where(
        outbox.c.id == bindparam("b_id"),
        outbox.c.lease_token == bindparam("b_token"),
        outbox.c.status == _SENDING,
    )
    .values(
        status=EmailStatus.SENT.value,
        sent_at=bindparam("b_now"),
        last_reply=bindparam("b_reply"),
        lease_until=None,
    )
)


def _mark_sent(conn: Connection, ctx: Context, items: Sequence[tuple[int, str, str]]) -> list[int]:
    """One guarded UPDATE run for many rows (executemany); the rows that now say sent under
    their own token are the ones this call changed (a token belongs to one claim only)."""
    now = ctx.now()
    conn.execute(
        _SENT,
        [
            {"b_id": i, "b_token": token, "b_now": now, "b_reply": reply}
            for i, token, reply in items
        ],
    )
    pairs = [(i, token) for i, token, _ in items]
    done = list(
        conn.execute(
            select(outbox.c.id, outbox.c.work_order_id, outbox.c.kind, outbox.c.assignee_id).where(
                outbox.c.id.in_([i for i, _ in pairs]),
                tuple_(outbox.c.id, outbox.c.lease_token).in_(pairs),
                outbox.c.status == EmailStatus.SENT.value,
            )
        ).mappings()
    )
    ids = [r["id"] for r in done]
    if ids:
        conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(lease_token=None))
    orders_sent(conn, ctx, [r for r in done if r["kind"] == "assignment"])
    return ids


def mark_retry(
    ctx: Context, outbox_id: int, token: str, reply: str, delay: float, *, max_attempts: int
) -> bool:
    """Try again after `delay` seconds, or mark failed when the attempts are used up."""
    with ctx.db.write() as conn:
        return _mark_retry(conn, ctx, outbox_id, token, reply, delay, max_attempts)


def _mark_retry(
    conn: Connection,
    ctx: Context,
    outbox_id: int,
    token: str,
    reply: str,
    delay: float,
    max_attempts: int,
) -> bool:
    now = ctx.now()
    used_up = outbox.c.attempts >= max_attempts
    result = conn.execute(
        update(outbox)
        .where(*_held(outbox_id, token))
        .values(
            status=case((used_up, EmailStatus.FAILED.value), else_=EmailStatus.RETRY.value),
            next_attempt_at=case((used_up, None), else_=now + timedelta(seconds=delay)),
            failed_at=case((used_up, now), else_=None),
            last_reply=case(
                (used_up, f"gave up after {max_attempts} attempts; last reply: {reply}"),
                else_=reply,
            ),
            **_LET_GO,
        )
    )
    return result.rowcount == 1


def mark_failed(ctx: Context, outbox_id: int, token: str, reply: str) -> bool:
    """A permanent failure (5xx, or an email that cannot be built): shown on the order."""
    return _set_final(ctx, outbox_id, token, EmailStatus.FAILED, reply)


def mark_superseded(ctx: Context, outbox_id: int, token: str, reason: str) -> bool:
    """Not sent because the order was closed or given to someone else meanwhile."""
    return _set_final(ctx, outbox_id, token, EmailStatus.SUPERSEDED, reason)


def _set_final(ctx: Context, outbox_id: int, token: str, status: EmailStatus, reply: str) -> bool:
    with ctx.db.write() as conn:
        return _final(conn, ctx, outbox_id, token, status, reply)


def _final(
    conn: Connection, ctx: Context, outbox_id: int, token: str, status: EmailStatus, reply: str
) -> bool:
    failed_at = ctx.now() if status is EmailStatus.FAILED else None
    result = conn.execute(
        update(outbox)
        .where(*_held(outbox_id, token))
        .values(status=status.value, last_reply=reply, failed_at=failed_at, **_LET_GO)
    )
    return result.rowcount == 1


def release(ctx: Context, claims: Iterable[Claim]) -> int:
    """Give claims back untouched (sending paused): status as before, attempt not counted."""
    with ctx.db.write() as conn:
        return _release(conn, claims)


def _release(conn: Connection, claims: Iterable[Claim]) -> int:
    count = 0
    for claim in claims:
        result = conn.execute(
            update(outbox)
            .where(*_held(claim.outbox_id, claim.token))
            .values(status=claim.previous_status, attempts=outbox.c.attempts - 1, **_LET_GO)
        )
        count += result.rowcount
    return count


def record_outcomes(
    ctx: Context, outcomes: Sequence[SendOutcome], *, max_attempts: int
) -> list[bool]:
    """Record many outcomes in one transaction (what the sender does); says for each
    whether its row was still held by its token and so changed."""
    if not outcomes:
        return []
    changed: list[bool] = []
    with ctx.db.write() as conn:
        sent = [
            (o.claim.outbox_id, o.claim.token, o.reply)
            for o in outcomes
            if o.verdict is Verdict.SENT
        ]
        marked = set(_mark_sent(conn, ctx, sent)) if sent else set()
        for o in outcomes:
            c = o.claim
            if o.verdict is Verdict.SENT:
                changed.append(c.outbox_id in marked)
            elif o.verdict is Verdict.RETRY:
                delay = o.delay_seconds if o.delay_seconds is not None else retry_delay(c.attempts)
                changed.append(
                    _mark_retry(conn, ctx, c.outbox_id, c.token, o.reply, delay, max_attempts)
                )
            elif o.verdict is Verdict.RELEASED:
                changed.append(_release(conn, [c]) == 1)
            else:
                status = EmailStatus(o.verdict.value)
                changed.append(_final(conn, ctx, c.outbox_id, c.token, status, o.reply))
    return changed


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
                **_LET_GO,
            )
        )


def order_emails(conn: Connection, order_id: int) -> list[RowMapping]:
    """Every email of an order, oldest first: what the order screen lists."""
    query = select(outbox).where(outbox.c.work_order_id == order_id).order_by(outbox.c.id)
    return list(conn.execute(query).mappings())
