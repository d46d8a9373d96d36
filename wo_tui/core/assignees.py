"""Technicians and partner providers who receive work orders."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from wo_tui.core.addresses import NotAnAddress, plain_address
from wo_tui.core.context import Context
from wo_tui.core.errors import InvalidInput, NotFound
from wo_tui.core.models import assignees, outbox
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import AssigneeKind, EmailStatus


def assignee_named(conn: Connection, name: str) -> RowMapping | None:
    """The assignee called `name` in any case. Compared here with Unicode case folding:
    SQLite's lower() only knows ASCII ('Zoë Ångström' would not find itself). A utility has
    tens of assignees, so reading them all costs nothing."""
    wanted = name.strip().casefold()
    for row in conn.execute(select(assignees)).mappings():
        if row["name"].casefold() == wanted:
            return row
    return None


def check_email(address: str) -> str:
    """A single plain address (`wo_tui.core.addresses`; spaces around it dropped), or
    InvalidInput saying what is wrong with it."""
    value = address.strip()
    try:
        return plain_address(value)
    except NotAnAddress as exc:
        problem = f"{clean_text(value)!r} is not an email address: {exc}"
        raise InvalidInput({"email": problem}) from None


def add_assignee(
    ctx: Context, name: str, kind: AssigneeKind | str, email: str, phone: str | None = None
) -> int:
    """Add an active assignee; names are unique regardless of case."""
    clean_name = clean_text(name).strip()
    problems: dict[str, str] = {}
    if not clean_name:
        problems["name"] = "a name is required"
    elif len(clean_name) > 120:
        problems["name"] = f"at most 120 characters (this has {len(clean_name)})"
    if phone and len(phone.strip()) > 40:
        problems["phone"] = "at most 40 characters"
    try:
        kind = AssigneeKind(str(kind).lower())
    except ValueError:
        problems["kind"] = f"unknown kind {kind!r}; use internal, external or partner"
    try:
        email = check_email(email)
    except InvalidInput as exc:
        problems.update(exc.problems)
    if problems:
        raise InvalidInput(problems)
    with ctx.db.write() as conn:
        if assignee_named(conn, clean_name) is not None:
            raise InvalidInput({"name": f"there is already an assignee named {clean_name!r}"})
        new_id = conn.execute(
            insert(assignees).returning(assignees.c.id),
            {
                "name": clean_name,
                "kind": AssigneeKind(kind).value,
                "email": email,
                "phone": clean_text(phone).strip() or None if phone else None,
                "active": True,
            },
        ).scalar_one()
        return int(new_id)


def list_assignees(conn: Connection, *, include_inactive: bool = False) -> list[RowMapping]:
    """Assignees by name (active ones only unless asked)."""
    query = select(assignees).order_by(func.lower(assignees.c.name))
    if not include_inactive:
        query = query.where(assignees.c.active)
    return list(conn.execute(query).mappings())


def set_active(ctx: Context, name: str, active: bool) -> None:
    """Deactivate (or reactivate) an assignee; history and past orders are kept."""
    with ctx.db.write() as conn:
        row = assignee_named(conn, name)
        if row is None:
            raise NotFound(f"no assignee named {name!r}")
        conn.execute(update(assignees).where(assignees.c.id == row["id"]).values(active=active))


def edit_assignee(
    ctx: Context,
    name: str,
    *,
    new_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    kind: AssigneeKind | str | None = None,
) -> list[str]:
    """Change an assignee's name, email, phone ('' clears it) or kind; returns the fields
    that changed. A new email also readdresses the assignee's emails not sent yet (queued,
    to retry, or failed and waiting for a resend); each keeps its Message-ID."""
    wanted: dict[str, object] = {}
    problems: dict[str, str] = {}
    if new_name is not None:
        clean_name = clean_text(new_name).strip()
        if not clean_name:
            problems["name"] = "a name is required"
        elif len(clean_name) > 120:
            problems["name"] = f"at most 120 characters (this has {len(clean_name)})"
        else:
            wanted["name"] = clean_name
    if email is not None:
        try:
            wanted["email"] = check_email(email)
        except InvalidInput as exc:
            problems.update(exc.problems)
    if phone is not None:
        clean_phone = clean_text(phone).strip()
        if len(clean_phone) > 40:
            problems["phone"] = "at most 40 characters"
        wanted["phone"] = clean_phone or None
    if kind is not None:
        try:
            wanted["kind"] = AssigneeKind(str(kind).lower()).value
        except ValueError:
            problems["kind"] = f"unknown kind {kind!r}; use internal, external or partner"
    if problems:
        raise InvalidInput(problems)
    if not wanted:
        raise InvalidInput({"edit": "nothing to change: give a new name, email, phone or kind"})
    with ctx.db.write() as conn:
        current = assignee_named(conn, name)
        if current is None:
            raise NotFound(f"no assignee named {name!r}")
        if "name" in wanted:
            other = assignee_named(conn, str(wanted["name"]))
            if other is not None and other["id"] != current["id"]:
                raise InvalidInput(
                    {"name": f"there is already an assignee named {wanted['name']!r}"}
                )
        changed = {k: v for k, v in wanted.items() if current[k] != v}
        if not changed:
            return []
        conn.execute(update(assignees).where(assignees.c.id == current["id"]).values(changed))
        if "email" in changed:
            conn.execute(
                update(outbox)
                .where(
                    outbox.c.assignee_id == current["id"],
                    outbox.c.status.in_(
                        [
                            EmailStatus.QUEUED.value,
                            EmailStatus.RETRY.value,
                            EmailStatus.FAILED.value,
                        ]
                    ),
                )
                .values(recipient=changed["email"])
            )
        return sorted(changed)
