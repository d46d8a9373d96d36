"""The `wo-tui` command line: what each command prints, its exit status, and that a refused
command changes nothing.

Exit status contract: 0 when everything asked was done; 1 when some orders were skipped or
conflicted, or something does not exist; 2 on bad usage, bad input or bad config.

Most tests call `wo_tui.cli.run` in-process with the clock fixed at the suite's NOW (Thursday
26 November 2026, 09:30 UTC); a few run the real `wo-tui` console script. Every run sees an
isolated HOME / XDG directories and no WO_TUI_* variable of the caller.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from wo_tui import cli
from wo_tui.cli.orders import LIST_HEADERS
from wo_tui.core.db import connect, sqlite_file
from wo_tui.core.models import metadata
from wo_tui.core.schema import SCHEMA_HEAD as HEAD
from wo_tui.core.statuses import CancelReason

from conftest import PG_URL, isolate_cli

OPERATOR = "cli-tester"
BAD_URL = "postgresql+psycopg://u:CANARY-db-9Z@127.0.0.1:1/x"
"""A server URL with a password that cannot be connected to (nothing listens on port 1)."""
SMTP_CANARY = "CANARY-pw-7Q"
DB_CANARY = "CANARY-db-9Z"
SCRIPT = Path(sys.executable).with_name("wo-tui")


# ---------------------------------------------------------------------------------------------
# Helpers


@dataclass
class Run:
    """The outcome of one command."""

    status: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        """Standard output, line by line."""
        return self.out.splitlines()


class WoTui:
    """Runs `wo-tui --db <db_url> ...` in-process and captures what it prints.

    The test database is made on first use: a test that passes `db=` (another URL, or None
    for no --db at all) never waits for one to be created."""

    def __init__(self, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> None:
        self.capsys = capsys
        self.request = request

    @property
    def db_url(self) -> str:
        """The URL of the test's fresh database (the `db_url` fixture)."""
        return str(self.request.getfixturevalue("db_url"))

    def __call__(self, *argv: str, db: str | None = "default") -> Run:
        url = self.db_url if db == "default" else db
        args = ["--db", url, *argv] if url else list(argv)
        self.capsys.readouterr()
        try:
            status = cli.run(args)
        except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
            status = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
        out, err = self.capsys.readouterr()
        return Run(status, out, err)

    def create(self, *argv: str) -> str:
        """Create an order; returns its number."""
        result = self("orders", "create", *argv)
        assert result.status == 0, result.err
        return result.out.strip()

    def listing(self, *argv: str) -> list[dict[str, Any]]:
        """`orders list --format json` (plus argv), parsed."""
        result = self("orders", "list", "--format", "json", *argv)
        assert result.status == 0, result.err
        return json.loads(result.out)

    def numbers(self, *argv: str) -> list[str]:
        """The numbers `orders list` prints, in its order."""
        return [row["number"] for row in self.listing(*argv)]

    def by_number(self) -> dict[str, dict[str, Any]]:
        """Every order (open and closed) by number."""
        return {row["number"]: row for row in self.listing("--all")}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user config, no WO_TUI_* variable of the caller, a fixed clock and operator."""
    isolate_cli(monkeypatch, tmp_path, OPERATOR)


@pytest.fixture
def wo(capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> WoTui:
    """The command line on the test database."""
    return WoTui(capsys, request)


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a refused command changed nothing."""
    db = connect(url)
    try:
        with db.read() as conn:
            return {
                table.name: [
                    tuple(row)
                    for row in conn.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in metadata.sorted_tables
            }
    finally:
        db.dispose()


def query(url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of a query on the test database, as dicts."""
    db = connect(url)
    try:
        with db.read() as conn:
            return [dict(row) for row in conn.execute(text(sql), params).mappings()]
    finally:
        db.dispose()


def shown(out: str, name: str) -> str | None:
    """The value `orders show` prints for a field, or None when it is not shown."""
    for line in out.splitlines():
        if line.startswith("  ") and line[2:22].rstrip() == name:
            return line[23:]
    return None


def command_line(*, module: bool = False) -> list[str]:
    """The installed `wo-tui` script, or `python -m wo_tui`."""
    if SCRIPT.exists() and not module:
        return [str(SCRIPT)]
    return [sys.executable, "-m", "wo_tui"]


def script(
    *argv: str, cwd: Path, module: bool = False, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the real command (the console script, or `python -m wo_tui`) in the (already
    isolated) environment."""
    command = command_line(module=module)
    return subprocess.run(
        [*command, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC"},
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def write_config(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


GOOD_CONFIG = f"""\
[smtp]
host = "mail.example"
from_address = "dispatch@utility.example"
password = "{SMTP_CANARY}"

[events.rules.move_in]
priority = "High"

[events.rules.meter_fault]
order_type = "METER_INVESTIGATION"

[ui]
color_mode = "none"
"""


# ---------------------------------------------------------------------------------------------
# Help and usage


@pytest.mark.parametrize(
    "group",
    [
        [],
        ["orders"],
        ["orders", "list"],
        ["orders", "create"],
        ["db"],
        ["config"],
        ["technicians"],
        ["events"],
        ["seed"],
        ["demo"],
    ],
    ids=lambda g: " ".join(g) or "wo-tui",
)
def test_help_of_every_command_group_exits_0(wo: WoTui, group: list[str]) -> None:
    result = wo(*group, "--help", db=None)
    assert result.status == 0
    assert result.out.startswith(f"usage: wo-tui {' '.join(group)}".rstrip())
    assert result.err == ""


def test_a_group_without_its_action_is_a_usage_error(wo: WoTui) -> None:
    result = wo("orders", db=None)
    assert result.status == 2
    assert "the following arguments are required: ACTION" in result.err
    assert result.out == ""


def test_db_given_after_the_command_works_too(wo: WoTui, db_url: str) -> None:
    assert wo.create("--type", "misc", "--address", "1 A St") == "WO-000001"
    result = wo("orders", "list", "--format", "csv", "--db", db_url, db=None)
    assert result.status == 0
    assert result.lines[1].startswith("WO-000001,MISC,NEW,Low")


# ---------------------------------------------------------------------------------------------
# db


def test_db_upgrade_creates_an_empty_sqlite_file(wo: WoTui, tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "wo.db"
    url = f"sqlite:///{path}"
    current = wo("db", "current", db=str(path))
    assert (current.status, current.out) == (2, "")  # a missing file is not made here
    assert f"no database at {path}" in current.err and not path.parent.exists()

    first = wo("db", "upgrade", db=str(path))
    assert (first.status, first.out, first.err) == (
        0,
        f"{url}: upgraded from empty to {HEAD}\n",
        "",
    )
    assert path.is_file()

    second = wo("db", "upgrade", db=str(path))
    assert (second.status, second.out) == (0, f"{url}: already at revision {HEAD}\n")

    current = wo("db", "current", db=str(path))
    assert (current.status, current.out, current.err) == (
        0,
        f"{url}: {HEAD} (newest: {HEAD})\n",
        "",
    )


def test_db_upgrade_and_current_on_an_empty_database(wo: WoTui, empty_db_url: str) -> None:
    if not PG_URL:  # an empty SQLite database: an empty file
        path = sqlite_file(empty_db_url)
        assert path is not None
        path.touch()
    assert wo("db", "current", db=empty_db_url).status == 1
    listed = wo("orders", "list", db=empty_db_url)
    if PG_URL:  # a server database is never upgraded behind the operator's back
        assert listed.status == 2
        assert "is not at the current schema; run `wo-tui db upgrade` first" in listed.err
        assert wo("db", "current", db=empty_db_url).status == 1
    else:  # the embedded database is brought up to date on first use
        assert listed.status == 0
    upgraded = wo("db", "upgrade", db=empty_db_url)
    assert upgraded.status == 0
    assert upgraded.out.rstrip().endswith(HEAD)
    current = wo("db", "current", db=empty_db_url)
    assert current.status == 0
    assert current.out.endswith(f": {HEAD} (newest: {HEAD})\n")


def test_an_unusable_database_url_is_a_clear_error(wo: WoTui, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    under_a_file = str(tmp_path / "a-file" / "wo.db")
    for url, command, why in [
        ("nosuchdriver://host/db", ["orders", "list"], "NoSuchModuleError"),
        ("nosuchdriver://host/db", ["db", "current"], "NoSuchModuleError"),
        ("nosuchdriver://host/db", ["db", "upgrade"], "NoSuchModuleError"),
        ("postgresql+pg8000://u@127.0.0.1:1/x", ["orders", "list"], "'pg8000' is not installed"),
        (under_a_file, ["orders", "list"], f"no database at {under_a_file}"),
        (under_a_file, ["db", "current"], f"no database at {under_a_file}"),
        (under_a_file, ["db", "upgrade"], "cannot open the database"),
    ]:
        result = wo(*command, db=url)
        assert result.status == 2, (url, command)
        assert result.err.startswith("wo-tui: ")
        assert why in result.err
        assert "Traceback" not in result.err


# ---------------------------------------------------------------------------------------------
# technicians


def test_technicians_add_and_list_in_every_format(wo: WoTui) -> None:
    added = wo("technicians", "add", "Sam Carter", "--email", "sam@utility.example")
    assert (added.status, added.out, added.err) == (0, "added internal Sam Carter\n", "")
    added = wo(
        "technicians", "add", "  Ann Lee ", "--kind", "partner",
        "--email", "ann@partner.example", "--phone", "0400 000 000",
    )  # fmt: skip
    assert (added.status, added.out) == (0, "added partner Ann Lee\n")

    table = wo("technicians", "list")
    assert table.status == 0
    assert table.lines[0].split() == ["name", "kind", "email", "phone", "active"]
    assert table.lines[1].split() == [
        "Ann", "Lee", "partner", "ann@partner.example", "0400", "000", "000", "yes"
    ]  # fmt: skip
    assert table.lines[2].split() == ["Sam", "Carter", "internal", "sam@utility.example", "yes"]

    rows = list(csv.DictReader(io.StringIO(wo("technicians", "list", "--format", "csv").out)))
    assert rows == [
        {
            "name": "Ann Lee",
            "kind": "partner",
            "email": "ann@partner.example",
            "phone": "0400 000 000",
            "active": "yes",
        },
        {
            "name": "Sam Carter",
            "kind": "internal",
            "email": "sam@utility.example",
            "phone": "",
            "active": "yes",
        },
    ]
    records = json.loads(wo("technicians", "list", "--format", "json").out)
    assert [(r["name"], r["phone"], r["active"]) for r in records] == [
        ("Ann Lee", "0400 000 000", True),
        ("Sam Carter", None, True),
    ]


TECHNICIAN_REFUSALS = [
    (["sam carter", "--email", "other@utility.example"], "name: there is already an assignee"),
    (["Bob", "--email", "bob at example"], "email: 'bob at example' is not an email address"),
    (["Bob", "--email", "bob@example.com\nBcc: x@y.z"], "email:"),
    (["   ", "--email", "x@example.com"], "name: a name is required"),
    (["Bob", "--email", "bob@example.com", "--kind", "robot"], "argument --kind: invalid"),
    (["Bob"], "the following arguments are required: --email"),
]


def test_technicians_add_refuses_bad_input(wo: WoTui, db_url: str) -> None:
    assert wo("technicians", "add", "Sam Carter", "--email", "sam@utility.example").status == 0
    before = snapshot(db_url)
    for argv, message in TECHNICIAN_REFUSALS:  # each refusal changes nothing: one database
        result = wo("technicians", "add", *argv)
        assert (result.status, result.out) == (2, ""), argv
        assert message in result.err, argv
    assert snapshot(db_url) == before


def test_technician_names_are_printed_cleaned(wo: WoTui) -> None:
    result = wo("technicians", "add", "Pat\x1b[31m Red", "--email", "pat@utility.example")
    assert result.status == 0
    assert "\x1b" not in result.out
    assert result.out == "added internal Pat[31m Red\n"


def test_a_deactivated_technician_cannot_be_given_orders(wo: WoTui, db_url: str) -> None:
    assert wo("technicians", "add", "Ann Lee", "--email", "ann@utility.example").status == 0
    number = wo.create("--type", "misc", "--address", "1 A St")

    off = wo("technicians", "deactivate", "ann lee")
    assert (off.status, off.out) == (0, "ann lee: deactivated\n")
    assert wo("technicians", "list", "--format", "json").out == "[]\n"
    everyone = json.loads(wo("technicians", "list", "--all", "--format", "json").out)
    assert [(r["name"], r["active"]) for r in everyone] == [("Ann Lee", False)]

    before = snapshot(db_url)
    assigned = wo("orders", "assign", number, "--to", "Ann Lee", "--date", "tomorrow")
    assert assigned.status == 1
    assert assigned.out == ""
    assert assigned.err == (
        "WO-000001  skipped: Ann Lee is deactivated and cannot be given new orders\n"
    )
    created = wo(
        "orders", "create", "--type", "misc", "--address", "2 B St", "--assignee", "Ann Lee"
    )
    assert created.status == 1
    assert "Ann Lee is deactivated" in created.err
    assert snapshot(db_url) == before

    missing = wo("technicians", "deactivate", "Nobody")
    assert (missing.status, missing.err) == (1, "wo-tui: no assignee named 'Nobody'\n")

    on = wo("technicians", "activate", "Ann Lee")
    assert (on.status, on.out) == (0, "Ann Lee: active\n")
    assert wo("orders", "assign", number, "--to", "Ann Lee").status == 0


# ---------------------------------------------------------------------------------------------
# orders create


def test_orders_create_prints_the_number(wo: WoTui, db_url: str) -> None:
    result = wo(
        "orders", "create", "--type", "special_read", "--address", "1 High St, Newtown",
        "--meter", "M100", "--customer", "Jo Bloggs", "--site-id", "4102500000 6",
        "--priority", "h", "--window", "8am-12pm", "--scheduled-date", "tomorrow",
        "--life-support",
    )  # fmt: skip
    assert (result.status, result.out, result.err) == (0, "WO-000001\n", "")
    assert wo.create("--type", "MISC", "--address", "2 Low St") == "WO-000002"

    show = wo("orders", "show", "WO-000001")
    assert show.lines[0] == "WO-000001  SPECIAL_READ  NEW"
    assert shown(show.out, "priority") == "High"
    assert shown(show.out, "site id") == "41025000006"
    assert shown(show.out, "window start") == "08:00"
    assert shown(show.out, "window end") == "12:00"
    assert shown(show.out, "scheduled date") == "2026-11-27"
    assert shown(show.out, "due date") == "2026-12-01"  # SPECIAL_READ: 3 business days
    assert shown(show.out, "life support") == "yes"
    assert shown(show.out, "created by") == OPERATOR
    assert query(db_url, "SELECT count(*) AS n FROM history")[0]["n"] == 2


DATE_FORMS = [
    ("tomorrow", "2026-11-27"),
    ("3/12/2026", "2026-12-03"),
    ("+2d", "2026-11-28"),
    ("2026-12-24", "2026-12-24"),
    ("mon", "2026-11-30"),
    ("+1bd", "2026-11-27"),
]


def test_orders_create_accepts_the_date_forms(wo: WoTui) -> None:
    for typed, _ in DATE_FORMS:
        wo.create("--type", "misc", "--address", "1 A St", "--scheduled-date", typed)
        wo.create("--type", "misc", "--address", "1 A St", "--due-date", typed)
    rows = wo.listing("--sort", "number")
    assert [r["scheduled"] for r in rows[::2]] == [expected for _, expected in DATE_FORMS]
    assert [r["due"] for r in rows[1::2]] == [expected for _, expected in DATE_FORMS]


CREATE_REFUSALS = [
    (["--type", "bogus"], "type: unknown type 'BOGUS'; use one of DISCONNECT, FINAL_READ"),
    (["--type", "special_read"], "meter number: required for a Special read"),
    (["--type", "reconnect"], "account number: required for a Reconnection"),
    (["--due-date", "31/2/2026"], "due date: '31/2/2026' is not a real date"),
    (["--scheduled-date", "someday"], "scheduled date: could not understand 'someday'"),
    (["--preferred-date", "+99999999d"], "preferred date:"),
    (["--window", "12-8"], "window: the window must end after it starts (12:00 to 08:00)"),
    (["--window", "soon"], "window: could not understand 'soon' as a time window"),
    (["--window", "25:00-26:00"], "window:"),
    (["--site-id", "41025000001"], "site id (NMI): NMI check digit should be 6, not 1"),
    (["--priority", "urgent"], "priority: unknown priority 'urgent'; use High, Medium or Low"),
    (["--address", ""], "site address: required for a Miscellaneous"),
    (["--customer", "x" * 201], "customer name: at most 200 characters"),
]


def test_orders_create_refuses_bad_input(wo: WoTui, db_url: str) -> None:
    before = snapshot(db_url)
    for argv, message in CREATE_REFUSALS:
        fields = {"--type": "misc", "--address": "1 A St"}
        fields.update(dict(zip(argv[::2], argv[1::2], strict=True)))
        result = wo("orders", "create", *[part for pair in fields.items() for part in pair])
        assert (result.status, result.out) == (2, ""), argv
        assert result.err.startswith("wo-tui: invalid input\n  "), argv
        assert message in result.err, argv
        assert "Traceback" not in result.err
    assert snapshot(db_url) == before


def test_orders_create_usage_errors(wo: WoTui, db_url: str) -> None:
    before = snapshot(db_url)
    for argv in (
        ["--address", "1 A St"],  # no --type
        ["--type", "misc", "--service-time", "weekends"],
        ["--type", "misc", "--bogus", "x"],
    ):
        result = wo("orders", "create", *argv)
        assert result.status == 2, argv
        assert result.err.startswith("usage: wo-tui")
    assert snapshot(db_url) == before


def test_orders_create_with_an_assignee_queues_one_email(wo: WoTui, db_url: str) -> None:
    assert wo("technicians", "add", "Sam Carter", "--email", "sam@utility.example").status == 0
    before = snapshot(db_url)
    missing = wo("orders", "create", "--type", "misc", "--address", "1 A", "--assignee", "Nobody")
    assert missing.status == 1
    assert "no assignee named 'Nobody'" in missing.err
    assert snapshot(db_url) == before

    number = wo.create("--type", "misc", "--address", "1 A St", "--assignee", "sam carter")
    row = wo.by_number()[number]
    assert (row["status"], row["assignee"]) == ("SETUP", "Sam Carter")
    mails = query(db_url, "SELECT kind, recipient, status FROM outbox")
    assert mails == [{"kind": "assignment", "recipient": "sam@utility.example", "status": "queued"}]


# ---------------------------------------------------------------------------------------------
# orders list


@pytest.fixture
def queue_of_five(wo: WoTui) -> WoTui:
    """WO-1 MISC (Low, due 10 Dec), WO-2 RECONNECT (High, due 27 Nov), WO-3 SPECIAL_READ
    (Medium, overdue), WO-4 MISC completed, WO-5 MISC on hold."""
    wo.create("--type", "misc", "--address", "1 A St", "--customer", "Alice Able")
    wo.create("--type", "reconnect", "--address", "2 B St", "--account", "1110001")
    wo.create("--type", "special_read", "--address", "3 C St", "--meter", "M3", "--due-date=-1d")
    wo.create("--type", "misc", "--address", "4 D St")
    wo.create("--type", "misc", "--address", "5 E St")
    assert wo("orders", "complete", "4").status == 0
    assert wo("orders", "hold", "5", "--note", "no access").status == 0
    return wo


def test_orders_list_table_shows_the_open_queue(queue_of_five: WoTui) -> None:
    result = queue_of_five("orders", "list")
    assert result.status == 0
    assert result.lines[0].split() == list(LIST_HEADERS)
    assert [line.split()[0] for line in result.lines[1:]] == [
        "WO-000002",
        "WO-000003",
        "WO-000001",
        "WO-000005",
    ]
    assert result.lines[1].split()[:4] == ["WO-000002", "RECONNECT", "NEW", "High"]
    assert result.lines[2].split()[-1] == "yes"  # overdue
    assert result.err == "4 orders\n"


def test_orders_list_options(queue_of_five: WoTui) -> None:
    wo = queue_of_five
    assert wo.numbers("--all") == ["WO-000002", "WO-000003", "WO-000001", "WO-000004", "WO-000005"]
    assert wo.numbers("--status", "on_hold") == ["WO-000005"]
    assert wo.numbers("--status", "hold", "--status", "new") == [
        "WO-000002",
        "WO-000003",
        "WO-000001",
        "WO-000005",
    ]
    assert wo.numbers("--status", "completed") == ["WO-000004"]  # closed ones asked for
    assert wo.numbers("--type", "special_read") == ["WO-000003"]
    assert wo.numbers("--type", "MISC", "--all") == ["WO-000001", "WO-000004", "WO-000005"]
    assert wo.numbers("--filter", "overdue") == ["WO-000003"]
    assert wo.numbers("--filter", "overdue", "--all") == ["WO-000003"]
    assert wo.numbers("--filter", "alice") == ["WO-000001"]
    assert wo.numbers("--filter", "1110001") == ["WO-000002"]
    assert wo.numbers("--filter", "pri:low") == ["WO-000001", "WO-000005"]
    assert wo.numbers("--filter", "99999999999") == []  # too big for an id: no error
    assert wo.numbers("--sort", "number") == ["WO-000001", "WO-000002", "WO-000003", "WO-000005"]
    assert wo.numbers("--sort", "number", "--reverse") == [
        "WO-000005",
        "WO-000003",
        "WO-000002",
        "WO-000001",
    ]
    assert wo.numbers("--sort", "due") == ["WO-000003", "WO-000002", "WO-000001", "WO-000005"]
    assert wo.numbers("--limit", "2") == ["WO-000002", "WO-000003"]
    assert wo.numbers("--limit", "1", "--sort", "address", "--reverse") == ["WO-000005"]


def test_orders_list_csv_and_json(queue_of_five: WoTui) -> None:
    result = queue_of_five("orders", "list", "--all", "--format", "csv")
    assert result.status == 0
    assert result.err == ""
    rows = list(csv.reader(io.StringIO(result.out)))
    assert tuple(rows[0]) == LIST_HEADERS
    records = {r[0]: dict(zip(LIST_HEADERS, r, strict=True)) for r in rows[1:]}
    assert len(records) == 5
    assert records["WO-000003"] == {
        "number": "WO-000003",
        "type": "SPECIAL_READ",
        "status": "NEW",
        "priority": "Medium",
        "customer": "",
        "address": "3 C St",
        "site_id": "",
        "meter": "M3",
        "scheduled": "",
        "assignee": "",
        "due": "2026-11-25",
        "overdue": "yes",
    }
    assert records["WO-000004"]["status"] == "COMPLETED"

    result = queue_of_five("orders", "list", "--format", "json", "--type", "misc")
    assert (result.status, result.err) == (0, "")
    data = json.loads(result.out)
    assert [tuple(r) for r in data] == [LIST_HEADERS] * 2
    assert data[0] | {"due": None} == {
        "number": "WO-000001",
        "type": "MISC",
        "status": "NEW",
        "priority": "Low",
        "customer": "Alice Able",
        "address": "1 A St",
        "site_id": None,
        "meter": None,
        "scheduled": None,
        "assignee": None,
        "due": None,
        "overdue": False,
    }
    empty = queue_of_five("orders", "list", "--format", "json", "--type", "FINAL_READ")
    assert (empty.status, json.loads(empty.out)) == (0, [])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--status", "bogus"], "unknown status 'bogus'; use one of new, setup, sent, on_hold"),
        (["--filter", "colour:red"], "unknown filter colour:red"),
        (["--filter", "pri:urgent"], "unknown priority 'urgent'"),
        (["--limit", "0"], "--limit must be a whole number from 1 to 1,000,000"),
        (["--limit", "many"], "argument --limit: invalid int value"),
        (["--sort", "colour"], "argument --sort: invalid choice"),
        (["--format", "xml"], "argument --format: invalid choice"),
    ],
)
def test_orders_list_refuses_bad_options(wo: WoTui, argv: list[str], message: str) -> None:
    result = wo("orders", "list", *argv, db=None)  # refused before any database is opened
    assert result.status == 2
    assert message in result.err
    assert result.out == ""


# ---------------------------------------------------------------------------------------------
# orders show


def test_orders_show(wo: WoTui) -> None:
    wo.create("--type", "misc", "--address", "1 A St", "--hazards", "Dog")
    assert wo("orders", "hold", "1", "--note", "gate locked").status == 0
    result = wo("orders", "show", "WO-000001")
    assert (result.status, result.err) == (0, "")
    assert result.lines[0] == "WO-000001  MISC  ON_HOLD"
    assert shown(result.out, "site address") == "1 A St"
    assert shown(result.out, "hazards") == "Dog"
    assert shown(result.out, "hold note") == "gate locked"
    assert shown(result.out, "due date") == "2026-12-10"
    assert shown(result.out, "version") == "2"
    history = result.out.split("\nHistory:\n")[1].splitlines()
    assert history == [
        f"  2026-11-26 09:30  {OPERATOR}  status: — → NEW  (created)",
        f"  2026-11-26 09:30  {OPERATOR}  status: NEW → ON_HOLD  (gate locked)",
    ]
    for same in ("1", "wo-1", "WO1", " 000001 "):
        assert wo("orders", "show", same).out == result.out


def test_orders_show_unknown_and_malformed_numbers(wo: WoTui) -> None:
    missing = wo("orders", "show", "WO-000042")
    assert (missing.status, missing.out) == (1, "")
    assert missing.err == "wo-tui: there is no work order WO-000042\n"

    for bad in ("abc", "WO-", "0", "-1", "1.5"):
        result = wo("orders", "show", "--", bad)
        assert result.status == 2, bad
        assert f"number: {bad!r} is not a work-order number (e.g. WO-000123)" in result.err
        assert result.out == ""

    huge = wo("orders", "show", "999999999999")
    assert huge.status == 2
    assert "beyond the largest work-order number WO-2147483647" in huge.err
    assert "Traceback" not in huge.err


# ---------------------------------------------------------------------------------------------
# orders complete


def test_orders_complete_one_and_many(wo: WoTui, db_url: str) -> None:
    for address in ("1 A St", "2 B St", "3 C St"):
        wo.create("--type", "misc", "--address", address)
    one = wo("orders", "complete", "WO-000001", "--note", "all good")
    assert (one.status, one.out) == (0, "WO-000001  done\n")
    assert one.err == "1 completed, 0 skipped, 0 conflicts\n"
    many = wo("orders", "complete", "2", "3")
    assert (many.status, many.out) == (0, "WO-000002  done\nWO-000003  done\n")
    assert many.err == "2 completed, 0 skipped, 0 conflicts\n"
    assert {r["status"] for r in wo.by_number().values()} == {"COMPLETED"}
    assert shown(wo("orders", "show", "1").out, "completion note") == "all good"
    billed = query(db_url, "SELECT order_number, action FROM billing_outbound ORDER BY id")
    assert [(r["order_number"], r["action"]) for r in billed] == [
        ("WO-000001", "COMPLETED"),
        ("WO-000002", "COMPLETED"),
        ("WO-000003", "COMPLETED"),
    ]


def test_orders_complete_with_an_unknown_number_does_the_rest(wo: WoTui) -> None:
    wo.create("--type", "misc", "--address", "1 A St")
    wo.create("--type", "misc", "--address", "2 B St")
    wo.create("--type", "misc", "--address", "3 C St")
    assert wo("orders", "complete", "3").status == 0
    result = wo("orders", "complete", "1", "WO-000099", "2", "3")
    assert result.status == 1
    assert result.out == "WO-000001  done\nWO-000002  done\n"
    assert result.err == (
        "WO-000099  skipped: no such order\n"
        "WO-000003  skipped: already COMPLETED\n"
        "2 completed, 2 skipped, 0 conflicts\n"
    )
    assert {n: r["status"] for n, r in wo.by_number().items()} == {
        "WO-000001": "COMPLETED",
        "WO-000002": "COMPLETED",
        "WO-000003": "COMPLETED",
    }


def test_orders_complete_with_a_reading(wo: WoTui, db_url: str) -> None:
    wo.create("--type", "special_read", "--address", "1 A St", "--meter", "M1")
    wo.create("--type", "special_read", "--address", "2 B St", "--meter", "M2")
    result = wo("orders", "complete", "1", "--reading", "123.4")
    assert (result.status, result.out) == (0, "WO-000001  done\n")
    assert shown(wo("orders", "show", "1").out, "reading") == "123.4"
    assert shown(wo("orders", "show", "1").out, "fee code") == "FEE_SPECIAL_READ"
    billed = query(db_url, "SELECT reading, reading_to_follow FROM billing_outbound")
    assert [(r["reading"], bool(r["reading_to_follow"])) for r in billed] == [("123.4", False)]

    no_reading = wo("orders", "complete", "2")
    assert no_reading.status == 0
    assert shown(wo("orders", "show", "2").out, "reading to follow") == "yes"


COMPLETE_REFUSALS = [
    (["1", "--reading", "abc"], "reading: 'abc' is not a plain number: type the digits 0-9"),
    (["1", "--reading", "-5"], "reading: a reading is zero or more: type it without a sign"),
    (["1", "--reading", "nan"], "reading: 'nan' is not a plain number"),
    (["1", "2", "--reading", "5"], "reading: a reading is given for one order at a time"),
    (["1", "--not-done", " "], "reason: a reason is required"),
    (["abc"], "number: 'abc' is not a work-order number"),
    (["1", "999999999999"], "beyond the largest work-order number"),
]


def test_orders_complete_refuses_bad_input(wo: WoTui, db_url: str) -> None:
    wo.create("--type", "special_read", "--address", "1 A St", "--meter", "M1")
    wo.create("--type", "special_read", "--address", "2 B St", "--meter", "M2")
    before = snapshot(db_url)
    for argv, message in COMPLETE_REFUSALS:
        result = wo("orders", "complete", *argv)
        assert (result.status, result.out) == (2, ""), argv
        assert message in result.err, argv
    assert snapshot(db_url) == before


def test_orders_complete_skips_a_reading_on_a_non_read_order(wo: WoTui, db_url: str) -> None:
    wo.create("--type", "misc", "--address", "1 A St")
    before = snapshot(db_url)
    result = wo("orders", "complete", "1", "--reading", "5")
    assert result.status == 1
    assert result.err == (
        "WO-000001  skipped: a MISC order takes no meter reading\n"
        "0 completed, 1 skipped, 0 conflicts\n"
    )
    assert snapshot(db_url) == before


# ---------------------------------------------------------------------------------------------
# orders cancel / reopen / hold


def test_orders_cancel(wo: WoTui) -> None:
    wo.create("--type", "misc", "--address", "1 A St")
    wo.create("--type", "misc", "--address", "2 B St")
    result = wo("orders", "cancel", "1", "--reason", "duplicate")
    assert (result.status, result.out) == (0, "WO-000001  done\n")
    assert result.err == "1 cancelled, 0 skipped, 0 conflicts\n"
    assert shown(wo("orders", "show", "1").out, "cancel reason") == "duplicate"

    other = wo("orders", "cancel", "2", "--reason", "other", "--note", "customer moved")
    assert other.status == 0
    show = wo("orders", "show", "2").out
    assert (shown(show, "cancel reason"), shown(show, "cancel note")) == ("other", "customer moved")

    again = wo("orders", "cancel", "1", "--reason", "Customer requested")
    assert (again.status, again.err.splitlines()[0]) == (1, "WO-000001  skipped: already CANCELLED")


def test_orders_cancel_refuses_bad_reasons(wo: WoTui, db_url: str) -> None:
    wo.create("--type", "misc", "--address", "1 A St")
    before = snapshot(db_url)
    unknown = wo("orders", "cancel", "1", "--reason", "changed-mind")
    assert (unknown.status, unknown.out) == (2, "")
    codes = ", ".join(code.value for code in CancelReason)
    assert unknown.err == (
        f"wo-tui: invalid input\n  reason: unknown reason code 'changed-mind'; use one of {codes}\n"
    )
    for argv, message in [
        (["--reason", "other"], "note: a note is required"),
        (["--reason", "other", "--note", "  "], "note: a note is required"),
        ([], "the following arguments are required: --reason"),
    ]:
        result = wo("orders", "cancel", "1", *argv)
        assert (result.status, result.out) == (2, ""), argv
        assert message in result.err, argv
    assert snapshot(db_url) == before


def test_orders_reopen(wo: WoTui, db_url: str) -> None:
    wo.create("--type", "misc", "--address", "1 A St")
    wo.create("--type", "misc", "--address", "2 B St")
    assert wo("orders", "cancel", "1", "--reason", "raised-in-error").status == 0
    result = wo("orders", "reopen", "1", "--reason", "cancelled by mistake")
    assert (result.status, result.out) == (0, "WO-000001  done\n")
    assert result.err == "1 reopened, 0 skipped, 0 conflicts\n"
    show = wo("orders", "show", "1").out
    assert show.splitlines()[0] == "WO-000001  MISC  NEW"
    assert shown(show, "cancel reason") is None
    assert "status: CANCELLED → NEW  (cancelled by mistake)" in show

    assert wo("orders", "hold", "2", "--note", "waiting").status == 0
    before = snapshot(db_url)
    open_one = wo("orders", "reopen", "1", "2", "--reason", "again")
    assert (open_one.status, open_one.out) == (1, "")
    assert open_one.err == (
        "WO-000001  skipped: already NEW\n"
        "WO-000002  skipped: is ON_HOLD, not closed\n"
        "0 reopened, 2 skipped, 0 conflicts\n"
    )
    blank = wo("orders", "reopen", "1", "--reason", " ")
    assert (blank.status, blank.err) == (
        2,
        "wo-tui: invalid input\n  reason: a reason is required\n",
    )
    assert snapshot(db_url) == before


def test_orders_hold(wo: WoTui, db_url: str) -> None:
    wo.create("--type", "misc", "--address", "1 A St")
    result = wo("orders", "hold", "WO-000001", "--note", "no access, dog")
    assert (result.status, result.out) == (0, "WO-000001  done\n")
    assert result.err == "1 put on hold, 0 skipped, 0 conflicts\n"
    assert wo.by_number()["WO-000001"]["status"] == "ON_HOLD"
    assert shown(wo("orders", "show", "1").out, "hold note") == "no access, dog"

    before = snapshot(db_url)
    again = wo("orders", "hold", "1", "--note", "still")
    assert (again.status, again.err.splitlines()[0]) == (1, "WO-000001  skipped: already ON_HOLD")
    blank = wo("orders", "hold", "1", "--note", "")
    assert (blank.status, blank.err) == (2, "wo-tui: invalid input\n  note: a note is required\n")
    assert wo("orders", "hold", "1").status == 2  # --note is required
    assert snapshot(db_url) == before


# ---------------------------------------------------------------------------------------------
# orders assign


def test_orders_assign(wo: WoTui, db_url: str) -> None:
    assert wo("technicians", "add", "Sam Carter", "--email", "sam@utility.example").status == 0
    wo.create("--type", "misc", "--address", "1 A St")
    result = wo("orders", "assign", "WO-000001", "--to", "Sam Carter", "--date", "tomorrow")
    assert (result.status, result.out, result.err) == (
        0,
        "WO-000001  assigned to Sam Carter\n",
        "",
    )
    row = wo.by_number()["WO-000001"]
    assert (row["status"], row["assignee"], row["scheduled"]) == (
        "SETUP",
        "Sam Carter",
        "2026-11-27",
    )
    mails = query(db_url, "SELECT work_order_id, kind, recipient, status, message_id FROM outbox")
    assert len(mails) == 1
    assert mails[0] | {"message_id": None} == {
        "work_order_id": 1,
        "kind": "assignment",
        "recipient": "sam@utility.example",
        "status": "queued",
        "message_id": None,
    }
    assert mails[0]["message_id"].startswith("<wo-000001.")
    show = wo("orders", "show", "1").out
    assert "scheduled_date: — → 2026-11-27" in show
    assert "assignee: — → Sam Carter" in show
    assert "status: NEW → SETUP" in show


ASSIGN_REFUSALS = [
    (["1", "--to", "Nobody"], 1, "WO-000001  skipped: no assignee named 'Nobody'"),
    (["1", "--to", "Sam Carter", "--date", "31/2/2026"], 2, "date: '31/2/2026' is not a real"),
    (["7", "--to", "Sam Carter"], 1, "WO-000007  skipped: there is no work order WO-000007"),
    (["1", "--date", "tomorrow"], 2, "the following arguments are required: --to"),
]


def test_orders_assign_refused(wo: WoTui, db_url: str) -> None:
    assert wo("technicians", "add", "Sam Carter", "--email", "sam@utility.example").status == 0
    wo.create("--type", "misc", "--address", "1 A St")
    before = snapshot(db_url)
    for argv, status, message in ASSIGN_REFUSALS:
        result = wo("orders", "assign", *argv)
        assert (result.status, result.out) == (status, ""), argv
        assert message in result.err, argv
    assert snapshot(db_url) == before


def test_orders_assign_many_with_one_unknown(wo: WoTui, db_url: str) -> None:
    assert wo("technicians", "add", "Sam Carter", "--email", "sam@utility.example").status == 0
    wo.create("--type", "misc", "--address", "1 A St")
    wo.create("--type", "misc", "--address", "2 B St")
    result = wo("orders", "assign", "1", "99", "2", "--to", "Sam Carter")
    assert result.status == 1
    assert result.out == "WO-000001  assigned to Sam Carter\nWO-000002  assigned to Sam Carter\n"
    assert result.err == "WO-000099  skipped: there is no work order WO-000099\n"
    assert len(query(db_url, "SELECT id FROM outbox")) == 2


# ---------------------------------------------------------------------------------------------
# events


def test_events_add_and_list(wo: WoTui) -> None:
    added = wo(
        "events", "add", "move_in", "--ref", "R1", "--account", "1234567",
        "--customer", "Jo Bloggs", "--address", "5 E St", "--site-id", "41025000006",
        "--meter", "M5", "--payload", '{"plan": "home"}',
    )  # fmt: skip
    assert (added.status, added.out, added.err) == (0, "event 1 added (move_in)\n", "")
    second = wo("events", "add", "MOVE_OUT", "--life-support")
    assert (second.status, second.out) == (0, "event 2 added (move_out)\n")

    table = wo("events", "list", "--status", "pending")
    assert table.status == 0
    assert table.lines[0].split()[:4] == ["id", "event_type", "external_ref", "status"]
    assert [line.split()[0] for line in table.lines[1:]] == ["2", "1"]  # newest first

    rows = list(csv.DictReader(io.StringIO(wo("events", "list", "--format", "csv").out)))
    assert rows[1] | {"external_ref": "R1"} == {
        "id": "1",
        "event_type": "move_in",
        "external_ref": "R1",
        "status": "pending",
        "attempts": "0",
        "occurred_at": "2026-11-26 09:30",
        "site_id": "41025000006",
        "customer_name": "Jo Bloggs",
        "work_order_id": "",
        "last_error": "",
    }
    records = json.loads(wo("events", "list", "--status", "pending", "--format", "json").out)
    assert [(r["id"], r["event_type"], r["occurred_at"]) for r in records] == [
        (2, "move_out", "2026-11-26T09:30:00"),
        (1, "move_in", "2026-11-26T09:30:00"),
    ]
    assert records[0]["external_ref"].startswith("cli-")
    assert json.loads(wo("events", "list", "--status", "dead", "--format", "json").out) == []
    assert [
        r["id"] for r in json.loads(wo("events", "list", "--limit", "1", "--format", "json").out)
    ] == [2]


EVENT_REFUSALS = [
    (["move_in", "--ref", "R1"], "external ref: an event with reference 'R1' already exists"),
    (["teleport"], "unknown event type 'teleport'; configured types: final_read_request"),
    (["move_in", "--payload", "{bad"], "payload: not valid JSON"),
    (["move_in", "--payload", ""], "payload: not valid JSON"),
]


def test_events_add_refuses_bad_input(wo: WoTui, db_url: str) -> None:
    assert wo("events", "add", "move_in", "--ref", "R1").status == 0
    before = snapshot(db_url)
    for argv, message in EVENT_REFUSALS:
        result = wo("events", "add", *argv)
        assert (result.status, result.out) == (2, ""), argv
        assert message in result.err, argv
    assert snapshot(db_url) == before


def test_events_list_refuses_bad_options(wo: WoTui) -> None:
    for argv, message in [
        (["--status", "bogus"], "argument --status: invalid choice"),
        (["--limit", "0"], "--limit must be a whole number from 1 to 1,000,000 (got 0)"),
        (["--limit", "-1"], "--limit must be a whole number from 1 to 1,000,000 (got -1)"),
        (["--format", "yaml"], "argument --format: invalid choice"),
    ]:
        result = wo("events", "list", *argv, db=None)
        assert result.status == 2, argv
        assert message in result.err
        assert "Traceback" not in result.err


def test_a_configured_event_type_can_be_added(wo: WoTui, tmp_path: Path) -> None:
    config = write_config(tmp_path / "wo.toml", GOOD_CONFIG)
    result = wo("events", "add", "meter_fault", "--config", str(config))
    assert (result.status, result.out) == (0, "event 1 added (meter_fault)\n")
    assert wo("events", "add", "meter_fault").status == 2  # not known without that config


# ---------------------------------------------------------------------------------------------
# seed


def test_seed_is_deterministic(wo: WoTui, db_url: str, empty_db_url: str) -> None:
    assert wo("db", "upgrade", db=empty_db_url).status == 0
    outputs = []
    for url in (db_url, empty_db_url):
        seeded = wo("seed", "--orders", "50", "--seed", "3", db=url)
        assert seeded.status == 0
        assert seeded.out.startswith("added 50 orders and 0 events to ")
        listed = wo("orders", "list", "--all", "--format", "json", db=url)
        assert listed.status == 0
        outputs.append(listed.out)
    assert outputs[0] == outputs[1]
    rows = json.loads(outputs[0])
    assert len(rows) == 50
    assert {r["number"] for r in rows} == {f"WO-{n:06d}" for n in range(1, 51)}
    assert len(json.loads(wo("technicians", "list", "--format", "json").out)) == 6

    other = wo("seed", "--orders", "50", "--seed", "4", db=empty_db_url)
    assert other.status == 0
    assert wo.create("--type", "misc", "--address", "after seeding") == "WO-000051"


def test_seed_refuses_negative_counts(wo: WoTui, db_url: str) -> None:
    before = snapshot(db_url)
    result = wo("seed", "--orders", "-1")
    assert (result.status, result.err) == (
        2,
        "wo-tui: --orders must be a whole number from 0 to 1,000,000 (got -1)\n",
    )
    assert snapshot(db_url) == before


# ---------------------------------------------------------------------------------------------
# config


def test_config_check_with_a_good_file(wo: WoTui, tmp_path: Path) -> None:
    config = write_config(tmp_path / "conf" / "wo.toml", GOOD_CONFIG)
    result = wo("config", "check", "--config", str(config), db=None)
    assert result.status == 0
    assert result.err == ""
    assert result.lines[0] == f"config file: {config} (--config)"
    assert 'host = "mail.example"' in result.lines
    assert "password = ********" in result.lines
    assert "[events.rules.meter_fault]" in result.lines
    assert f'name = "{OPERATOR}"' in result.lines  # the environment beats the file
    assert result.lines[-1] == "configuration is valid"


def test_config_check_without_a_file(wo: WoTui) -> None:
    result = wo("config", "check", db=None)
    assert result.status == 0
    assert result.lines[0] == "config file: (none) (none found; defaults apply)"
    assert result.lines[-1] == "configuration is valid"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            '[events.rules.move_in]\nprioritty = "High"\n',
            "[events.rules.move_in] prioritty: unknown key; did you mean 'priority'?",
        ),
        ("[smtp]\nprot = 2525\n", "[smtp] prot: unknown key; did you mean 'port'?"),
        ('[ui]\ncolor_mode = "sepia"\n', "[ui] color_mode: Input should be"),
        ("[smtp\nhost = 1\n", "invalid TOML at line 1"),
    ],
    ids=["nested-typo", "section-typo", "bad-value", "bad-toml"],
)
def test_config_check_names_the_file_and_key(
    wo: WoTui, tmp_path: Path, body: str, problem: str
) -> None:
    config = write_config(tmp_path / "wo.toml", body)
    result = wo("config", "check", "--config", str(config), db=None)
    assert result.status == 2
    assert result.out == ""
    assert result.err.startswith(f"wo-tui: config: {config}: ")
    assert problem in result.err
    assert "Traceback" not in result.err
    # Every command that loads the settings refuses the same way.
    listed = wo("orders", "list", "--config", str(config), db=None)
    assert (listed.status, listed.err) == (2, result.err)


def test_config_check_with_a_missing_file(wo: WoTui, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = wo("config", "check", "--config", str(missing), db=None)
    assert result.status == 2
    assert result.err == (
        f"wo-tui: config: {missing}: cannot read config file (from --config): "
        "No such file or directory\n"
    )


def test_config_check_reads_wo_tui_config(
    wo: WoTui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "env.toml", GOOD_CONFIG)
    monkeypatch.setenv("WO_TUI_CONFIG", str(config))
    result = wo("config", "check", db=None)
    assert result.status == 0
    assert result.lines[0] == f"config file: {config} ($WO_TUI_CONFIG)"


def test_config_locate(wo: WoTui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    none = wo("config", "locate", db=None)
    assert (none.status, none.out, none.err) == (0, "(none)\tnone found; defaults apply\n", "")

    default = write_config(
        Path(os.environ["XDG_CONFIG_HOME"]) / "wo-tui" / "config.toml", GOOD_CONFIG
    )
    found = wo("config", "locate", db=None)
    assert (found.status, found.out) == (0, f"{default}\tdefault location\n")

    env_file = write_config(tmp_path / "env.toml", GOOD_CONFIG)
    monkeypatch.setenv("WO_TUI_CONFIG", str(env_file))
    from_env = wo("config", "locate", db=None)
    assert (from_env.status, from_env.out) == (0, f"{env_file}\t$WO_TUI_CONFIG\n")

    given = write_config(tmp_path / "given.toml", GOOD_CONFIG)
    from_option = wo("config", "locate", "--config", str(given), db=None)
    assert (from_option.status, from_option.out) == (0, f"{given}\t--config\n")

    missing = tmp_path / "missing.toml"
    gone = wo("config", "locate", "--config", str(missing), db=None)
    assert (gone.status, gone.out) == (2, f"{missing}\t--config\n")
    assert gone.err == f"wo-tui: {missing} does not exist\n"

    monkeypatch.setenv("WO_TUI_CONFIG", str(missing))
    gone = wo("config", "locate", db=None)
    assert (gone.status, gone.out) == (2, f"{missing}\t$WO_TUI_CONFIG\n")


# ---------------------------------------------------------------------------------------------
# Secrets never reach the output


@pytest.fixture
def secret_config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "secret.toml", GOOD_CONFIG)


def _no_secret(result: Run | subprocess.CompletedProcess[str]) -> None:
    if isinstance(result, Run):
        streams = (result.out, result.err)
    else:
        streams = (result.stdout, result.stderr)
    for stream in streams:
        assert SMTP_CANARY not in stream
        assert DB_CANARY not in stream
        assert "Traceback" not in stream


def test_secrets_are_masked_in_config_check(wo: WoTui, secret_config: Path) -> None:
    result = wo("config", "check", "--config", str(secret_config), db=BAD_URL)
    assert result.status == 0
    _no_secret(result)
    assert 'url = "postgresql+psycopg://u:***@127.0.0.1:1/x"' in result.lines
    assert "password = ********" in result.lines


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["orders", "list"], "wo-tui: cannot open the database postgresql+psycopg://u:***@"),
        (["orders", "show", "1"], "wo-tui: cannot open the database"),
        (["orders", "complete", "1"], "wo-tui: cannot open the database"),
        (["technicians", "list"], "wo-tui: cannot open the database"),
        (["events", "add", "move_in"], "wo-tui: cannot open the database"),
        (["db", "upgrade"], "wo-tui: cannot upgrade postgresql+psycopg://u:***@127.0.0.1:1/x"),
        (["db", "current"], "wo-tui: cannot read postgresql+psycopg://u:***@127.0.0.1:1/x"),
    ],
)
def test_an_unreachable_server_is_a_clear_error_without_secrets(
    wo: WoTui, secret_config: Path, command: list[str], message: str
) -> None:
    result = wo(*command, "--config", str(secret_config), db=BAD_URL)
    assert result.status == 2
    assert result.out == ""
    assert result.err.startswith(message)
    assert "OperationalError" in result.err
    _no_secret(result)


@pytest.mark.parametrize(
    "body",
    [
        f'[smtp]\npassword = "{SMTP_CANARY}\n',  # unterminated string
        f'[smtp]\nport = "{SMTP_CANARY}"\n',  # wrong type
        f'[smtp]\npasword = "{SMTP_CANARY}"\n',  # unknown key
        f'[smtp]\nfrom_address = "{SMTP_CANARY}"\n',  # invalid value
        f'[database]\nurl = "postgresql://u:{DB_CANARY}@h:port/x"\n',  # unparsable URL
    ],
    ids=["bad-toml", "wrong-type", "unknown-key", "invalid-value", "bad-url"],
)
def test_config_errors_never_echo_values(wo: WoTui, tmp_path: Path, body: str) -> None:
    config = write_config(tmp_path / "leaky.toml", body)
    result = wo("config", "check", "--config", str(config), db=None)
    assert result.status == 2
    assert result.err.startswith(f"wo-tui: config: {config}: ")
    _no_secret(result)


def test_environment_secrets_are_not_echoed(wo: WoTui, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WO_TUI_SMTP__PASSWORD", SMTP_CANARY)
    monkeypatch.setenv("WO_TUI_SMTP__PORT", DB_CANARY)
    result = wo("config", "check", db=None)
    assert result.status == 2
    assert result.err.startswith("wo-tui: config: environment variable WO_TUI_SMTP__PORT: ")
    _no_secret(result)


# ---------------------------------------------------------------------------------------------
# Values the database cannot hold


def test_a_name_too_long_for_its_column_is_refused(wo: WoTui, db_url: str) -> None:
    before = snapshot(db_url)
    result = wo("technicians", "add", "x" * 200, "--email", "long@utility.example")
    assert "Traceback" not in result.err
    assert result.status == 2
    assert "at most 120 characters" in result.err
    assert snapshot(db_url) == before


def test_values_too_long_for_their_columns_are_refused(wo: WoTui, db_url: str) -> None:
    wo.create("--type", "special_read", "--address", "1 A St", "--meter", "M1")
    before = snapshot(db_url)
    for argv in (
        ["events", "add", "move_in", "--ref", "R" * 200],
        ["orders", "complete", "1", "--reading", "1" * 60],
    ):
        result = wo(*argv)
        assert result.status == 2, argv
        assert result.err.startswith("wo-tui: invalid input")
        assert "at most" in result.err
        assert "Traceback" not in result.err
    assert snapshot(db_url) == before


# ---------------------------------------------------------------------------------------------
# The real console script


def test_script_end_to_end(wo: WoTui, db_url: str, tmp_path: Path) -> None:
    created = script(
        "orders", "create", "--type", "misc", "--address", "1 A St", "--db", db_url, cwd=tmp_path
    )
    assert (created.returncode, created.stdout, created.stderr) == (0, "WO-000001\n", "")

    done = script("orders", "complete", "1", "2", "--db", db_url, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "WO-000001  done\n")
    assert done.stderr == "WO-000002  skipped: no such order\n1 completed, 1 skipped, 0 conflicts\n"

    before = snapshot(db_url)
    bad = script(
        "orders", "create", "--type", "misc", "--address", "x", "--due-date", "31/2/2026",
        "--db", db_url, cwd=tmp_path,
    )  # fmt: skip
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == (
        "wo-tui: invalid input\n"
        "  due date: '31/2/2026' is not a real date (day is out of range for month)\n"
    )
    assert snapshot(db_url) == before
    rows = wo.listing("--all")
    assert [(r["number"], r["status"], r["address"]) for r in rows] == [
        ("WO-000001", "COMPLETED", "1 A St")
    ]


def test_script_config_typo_and_secrets(tmp_path: Path) -> None:
    typo = write_config(
        tmp_path / "typo.toml", GOOD_CONFIG + "[events.rules.move_out]\nalso_final_reed = true\n"
    )
    result = script(
        "config", "check", "--config", str(typo), "--db", BAD_URL, cwd=tmp_path, module=True
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"wo-tui: config: {typo}: [events.rules.move_out] also_final_reed: unknown key; "
        "did you mean 'also_final_read'?\n"
    )
    _no_secret(result)

    good = write_config(tmp_path / "good.toml", GOOD_CONFIG)
    result = script("orders", "list", "--config", str(good), "--db", BAD_URL, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(
        "wo-tui: cannot open the database postgresql+psycopg://u:***@127.0.0.1:1/x: "
        "OperationalError: "
    )
    _no_secret(result)


def test_script_stops_quietly_when_the_reader_goes_away(
    wo: WoTui, db_url: str, tmp_path: Path
) -> None:
    assert wo("seed", "--orders", "1500").status == 0
    proc = subprocess.Popen(
        [*command_line(), "orders", "list", "--all", "--db", db_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TZ": "UTC"},
        cwd=tmp_path,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith("number")
    proc.stdout.close()  # like `wo-tui orders list | head -1`
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err
