"""Editing a technician or partner (service and `wo-tui technicians edit`), and assigning
with a date from the command line: the queued email follows."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from wo_tui import cli
from wo_tui.core.assignees import add_assignee, edit_assignee, list_assignees
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.errors import InvalidInput, NotFound
from wo_tui.core.models import outbox
from wo_tui.core.orders import assign, get_order

from conftest import NOW
from mailserver import new_order

Runner = Callable[..., tuple[int, str, str]]


def people(ctx: Context) -> list[tuple[str, str, str, str | None]]:
    with ctx.db.read() as conn:
        rows = list_assignees(conn, include_inactive=True)
    return [(r["name"], r["kind"], r["email"], r["phone"]) for r in rows]


def test_edit_changes_only_what_is_given(ctx: Context) -> None:
    add_assignee(ctx, "Sam Carter", "internal", "sam@field.example", "0400 000 000")
    assert edit_assignee(ctx, "sam carter", email="s.carter@field.example", kind="external") == [
        "email",
        "kind",
    ]
    assert people(ctx) == [("Sam Carter", "external", "s.carter@field.example", "0400 000 000")]
    assert edit_assignee(ctx, "Sam Carter", new_name="Samuel Carter", phone="") == [
        "name",
        "phone",
    ]
    assert people(ctx) == [("Samuel Carter", "external", "s.carter@field.example", None)]
    assert edit_assignee(ctx, "Samuel Carter", kind="external") == []


def test_edit_refuses_bad_input_and_changes_nothing(ctx: Context) -> None:
    add_assignee(ctx, "Sam Carter", "internal", "sam@field.example")
    add_assignee(ctx, "Ann Lee", "partner", "ann@partner.example")
    before = people(ctx)
    with pytest.raises(InvalidInput) as refused:
        edit_assignee(ctx, "Sam Carter", email="sam@field.example\r\nBcc: x@y.example", kind="boss")
    assert set(refused.value.problems) == {"email", "kind"}
    with pytest.raises(InvalidInput, match="already an assignee named 'ann lee'"):
        edit_assignee(ctx, "Sam Carter", new_name="ann lee")
    with pytest.raises(InvalidInput, match="nothing to change"):
        edit_assignee(ctx, "Sam Carter")
    with pytest.raises(NotFound):
        edit_assignee(ctx, "Nobody", phone="1")
    assert people(ctx) == before


def test_a_new_email_readdresses_the_emails_not_sent_yet(ctx: Context) -> None:
    add_assignee(ctx, "Sam Carter", "internal", "sam@field.example")
    first, second = new_order(ctx), new_order(ctx)
    assign(ctx, first, "Sam Carter")
    assign(ctx, second, "Sam Carter")
    with ctx.db.write() as conn:  # the first went out already
        conn.execute(outbox.update().where(outbox.c.work_order_id == first).values(status="sent"))
    edit_assignee(ctx, "Sam Carter", email="sam.c@field.example")
    with ctx.db.read() as conn:
        rows = conn.execute(select(outbox.c.recipient).order_by(outbox.c.id)).scalars().all()
    assert rows == ["sam@field.example", "sam.c@field.example"]


@pytest.fixture
def wo_tui(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Runner:
    """Run `wo-tui --db <test db> ...` in-process; returns (status, out, err)."""
    for name in list(os.environ):
        if name.upper().startswith("WO_TUI_"):
            monkeypatch.delenv(name)
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        (tmp_path / name).mkdir()
        monkeypatch.setenv(name, str(tmp_path / name))
    monkeypatch.setenv("WO_TUI_OPERATOR__NAME", "cli-tester")
    monkeypatch.setattr(
        "wo_tui.cli.runtime.Context", functools.partial(Context, clock=fixed_clock(NOW))
    )

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            status = cli.run(["--db", db_url, *argv])
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 2
        out, err = capsys.readouterr()
        return status, out, err

    return run


def test_technicians_edit_on_the_command_line(wo_tui: Runner, ctx: Context) -> None:
    add_assignee(ctx, "Sam Carter", "internal", "sam@field.example")
    status, out, _ = wo_tui(
        "technicians", "edit", "Sam Carter", "--name", "Sam C", "--email", "samc@field.example"
    )
    assert (status, out) == (0, "Sam C: changed email, name\n")
    assert people(ctx) == [("Sam C", "internal", "samc@field.example", None)]
    status, _, err = wo_tui("technicians", "edit", "Sam C", "--email", "not an address")
    assert status == 2 and "is not an email address" in err
    status, _, err = wo_tui("technicians", "edit", "Nobody", "--phone", "1")
    assert status == 1 and "no assignee named" in err


def test_orders_assign_takes_a_date(wo_tui: Runner, ctx: Context) -> None:
    add_assignee(ctx, "Sam Carter", "internal", "sam@field.example")
    order_id = new_order(ctx, scheduled_date=None)
    status, out, _ = wo_tui(
        "orders", "assign", "WO-000001", "--to", "Sam Carter", "--date", "2026-12-01"
    )
    assert status == 0 and "assigned to Sam Carter" in out
    with ctx.db.read() as conn:
        order = get_order(conn, order_id)
        queued = conn.execute(select(outbox.c.recipient, outbox.c.status)).all()
    assert (order["status"], order["scheduled_date"].isoformat()) == ("SETUP", "2026-12-01")
    assert queued == [("sam@field.example", "queued")]


def test_a_named_from_gives_message_ids_of_its_domain(
    wo_tui: Runner, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command line once took everything after the last @ as the domain: "wo.example>".
    monkeypatch.setenv("WO_TUI_SMTP__FROM_ADDRESS", '"Dispatch, Field Ops" <dispatch@Wo.Example>')
    add_assignee(ctx, "Sam Carter", "internal", "sam@field.example")
    new_order(ctx)
    status, out, _ = wo_tui("orders", "assign", "WO-000001", "--to", "Sam Carter")
    assert status == 0 and "assigned to Sam Carter" in out
    with ctx.db.read() as conn:
        message_id = conn.execute(select(outbox.c.message_id)).scalar_one()
    assert re.fullmatch(r"<wo-000001\.[0-9a-f]+@wo\.example>", message_id), message_id


def test_names_match_in_any_case_beyond_ascii(ctx: Context) -> None:
    """SQLite's lower() knows only ASCII: 'ZOË ÅNGSTRÖM' must still name 'Zoë Ångström'."""
    from wo_tui.core.assignees import set_active
    from wo_tui.core.errors import NotAllowed

    add_assignee(ctx, "Zoë Ångström", "internal", "zoe@field.example")
    with pytest.raises(InvalidInput) as caught:
        add_assignee(ctx, "ZOË ÅNGSTRÖM", "external", "other@field.example")
    assert "already" in caught.value.problems["name"]
    first, second = new_order(ctx), new_order(ctx)
    assign(ctx, first, "Zoë Ångström")
    assign(ctx, second, "zoë ångström")
    with ctx.db.read() as conn:
        assert get_order(conn, first)["assignee_id"] == get_order(conn, second)["assignee_id"]
    assert edit_assignee(ctx, "ZOË ångström", phone="0400 111 222") == ["phone"]
    set_active(ctx, "zoë ÅNGSTRÖM", False)
    with pytest.raises(NotAllowed):
        assign(ctx, new_order(ctx), "Zoë Ångström")
    with pytest.raises(NotFound):
        assign(ctx, new_order(ctx), "Zoe Angstrom")
