"""Recording what a send attempt did, guarded by the attempt's token.

Every write here is `UPDATE outbox ... WHERE id = :id AND lease_token = :token AND status =
'sending'`: only the holder of the current claim changes a row, so a sender whose lease
expired and was taken over by another records nothing. An accepted
assignment email moves its order SETUP → SENT in the same transaction (`outbox_orders`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

from sqlalchemy import ColumnElement, Connection, bindparam, case, select, tuple_, update

from wo_tui.core.context import Context
from wo_tui.core.models import outbox
from wo_tui.core.outbox import Claim, SendOutcome, Verdict, retry_delay
from wo_tui.core.outbox_orders import orders_sent
from wo_tui.core.statuses import EmailStatus

_SENDING = EmailStatus.SENDING.value


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


def _interrupted(conn: Connection, ctx: Context, claim: Claim, reply: str) -> bool:
    """Cut off mid-send: due again at once, the attempt not counted."""
    result = conn.execute(
        update(outbox)
        .where(*_held(claim.outbox_id, claim.token))
        .values(
            status=EmailStatus.RETRY.value,
            attempts=outbox.c.attempts - 1,
            next_attempt_at=ctx.now(),
            last_reply=reply,
            **_LET_GO,
        )
    )
    return result.rowcount == 1


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
            elif o.verdict is Verdict.INTERRUPTED:
                changed.append(_interrupted(conn, ctx, c, o.reply))
            else:
                status = EmailStatus(o.verdict.value)
                changed.append(_final(conn, ctx, c.outbox_id, c.token, status, o.reply))
    return changed
