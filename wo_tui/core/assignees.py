"""Technicians and partner providers who receive work orders."""

from __future__ import annotations

import re

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from wo_tui.core.context import Context
from wo_tui.core.errors import InvalidInput, NotFound
from wo_tui.core.models import assignees
from wo_tui.core.sanitize import clean_text, has_line_break
from wo_tui.core.statuses import AssigneeKind

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def check_email(address: str) -> str:
    """A single plain address (no display name, no line breaks), or InvalidInput."""
    value = address.strip()
    if len(value) > 254 or has_line_break(address) or not _EMAIL.match(value) or ".." in value:
        raise InvalidInput({"email": f"{clean_text(value)!r} is not an email address"})
    return value


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
        taken = conn.execute(
            select(assignees.c.id).where(func.lower(assignees.c.name) == clean_name.lower())
        ).first()
        if taken:
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
        result = conn.execute(
            update(assignees)
            .where(func.lower(assignees.c.name) == name.strip().lower())
            .values(active=active)
        )
        if result.rowcount == 0:
            raise NotFound(f"no assignee named {name!r}")
