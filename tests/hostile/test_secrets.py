"""The database password never shows: every command (each action of each, and the
full-screen app) is run with a canary password in the URL's user-info, in its query string
and in the `[database] password` setting, against a server that cannot be reached and
against the real test database, and everything it writes is searched for the canary, plain,
%-encoded or base64.

The test PostgreSQL server trusts its clients, so a URL with the canary still connects; on
SQLite only the setting applies (a file has no password), and it must not show either.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from .every_command import (
    COMMANDS,
    SCRIPT,
    command_of,
    in_a_terminal,
    parser_commands,
    run_in_one_interpreter,
)
from conftest import PG_URL, terminal_env

CANARY = "Can@ry S3cret/7q+x"
CORE = "S3cret"
"""Part of the canary that stays as it is in any URL encoding (and in any piece of it)."""
UNREACHABLE = "postgresql+psycopg://u@127.0.0.1:1/x"
"""A server URL that cannot be connected to (nothing listens on port 1)."""


def test_the_canary_run_covers_every_command() -> None:
    """A new command or action must be added to COMMANDS (and so to the canary run)."""
    assert {command_of(argv) for argv in COMMANDS} == parser_commands()


def leaks(text: str) -> list[str]:
    forms = {CORE, base64.b64encode(CANARY.encode()).decode()}
    return sorted(form for form in forms if form in text)


def with_password(url: str, form: str) -> str:
    """`url` with the canary as its password in the given form ("setting": not in it)."""
    parsed = make_url(url)
    if form == "user-info":
        parsed = parsed.set(password=CANARY)
    elif form == "query":
        parsed = parsed.update_query_dict({"password": CANARY})
    return parsed.render_as_string(hide_password=False)


def environment(tmp_path: Path) -> dict[str, str]:
    # A mail server that refuses at once: the worker's sender fails fast.
    return terminal_env(
        tmp_path, "canary-tester", WO_TUI_SMTP__HOST="127.0.0.1", WO_TUI_SMTP__PORT="1"
    )


def config_file(tmp_path: Path, form: str) -> Path:
    """A config file; for the "setting" form it holds the canary as `[database] password`."""
    path = tmp_path / "config.toml"
    body = '[database]\npassword = "' + CANARY + '"\n' if form == "setting" else ""
    path.write_text(body, encoding="utf-8")
    path.chmod(0o600)
    return path


def run_all(url: str, form: str, tmp_path: Path, *, reachable: bool) -> list[tuple[Any, ...]]:
    """Run every command; (argv, status, everything written) for each. The commands run in
    one interpreter, the app (when it can open) in a pseudo-terminal of its own."""
    env = environment(tmp_path)
    common = ["--config", str(config_file(tmp_path, form)), "--db", url]
    plain = [argv for argv in COMMANDS if argv or not reachable]
    results = run_in_one_interpreter([[*common, *argv] for argv in plain], env, tmp_path)
    runs: list[tuple[Any, ...]] = [(a, *r) for a, r in zip(plain, results, strict=True)]
    if reachable:
        runs.append(((), *in_a_terminal(tmp_path, common, env, opens=True)))
    return runs


def assert_nothing_leaks(runs: list[tuple[Any, ...]]) -> None:
    leaked = [(argv, leaks(said)) for argv, _status, said in runs if leaks(said)]
    assert not leaked, f"the password shows in the output of {leaked}"


FORMS = ["user-info", "query", "setting"]


@pytest.mark.parametrize("form", FORMS)
def test_no_command_shows_the_password_of_a_server_it_cannot_reach(
    tmp_path: Path, form: str
) -> None:
    runs = run_all(with_password(UNREACHABLE, form), form, tmp_path, reachable=False)
    assert_nothing_leaks(runs)
    for argv, status, said in runs:
        if argv in (("config", "check"), ("config", "locate")):
            assert status == 0, (argv, said)
        elif argv == ("demo",):
            assert (status, "leave out --db" in said) == (2, True), said
        else:  # each one tried the server and said so, with the URL masked
            assert status == 2, (argv, said)
            assert "postgresql+psycopg://u" in said, (argv, said)
            assert "Connection refused" in said, (argv, said)
    checked = dict((argv, said) for argv, _status, said in runs)[("config", "check")]
    assert "url = " in checked and "***" in checked  # the URL is shown, its password masked


@pytest.mark.parametrize("form", FORMS if PG_URL else ["setting"])
def test_no_command_shows_the_password_of_the_real_database(
    tmp_path: Path, db_url: str, form: str
) -> None:
    runs = run_all(with_password(db_url, form), form, tmp_path, reachable=True)
    assert_nothing_leaks(runs)
    statuses = {argv: status for argv, status, _said in runs}
    assert statuses.pop(("demo",)) == 2  # --db refused
    # Everything else ran against the database: done (0), or some orders or events
    # skipped (1); never bad usage or configuration (2).
    assert all(status in (0, 1) for status in statuses.values()), runs
    said = {argv: text for argv, _status, text in runs}
    assert "added 20 orders and 2 events to" in said[COMMANDS[0]]
    if PG_URL and form != "setting":
        assert "***" in said[("db", "current")]


# --- the redaction itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://u:pw@h/db", "postgresql+psycopg://u:***@h/db"),
        ("postgresql://u:p%40ss@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://u:a/b?c@h/db", "postgresql://u:***@h/db"),  # as SQLAlchemy reads it
        ("postgresql://:pw@h/db", "postgresql://:***@h/db"),
        ("postgresql://u@h/db?password=pw", "postgresql://u@h/db?password=***"),
        (
            "postgresql://u@h/db?sslmode=require&sslpassword=x&passfile=%2Fp&Auth_Token=t&sslkey=k",
            "postgresql://u@h/db?sslmode=require&sslpassword=***&passfile=***&Auth_Token=***"
            "&sslkey=***",
        ),
        ("postgresql://u@h/db?pass%77ord=pw", "postgresql://u@h/db?pass%77ord=***"),
        ("postgresql://u@h/db?application_name=a@b", "postgresql://u@h/db?application_name=a@b"),
        ("sqlite:////srv/wo.db", "sqlite:////srv/wo.db"),
        ("/srv/p:w@x.db", "/srv/p:w@x.db"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    from wo_tui.core.redact import redact_url

    assert redact_url(url) == shown


def test_scrub_removes_every_form_of_a_known_secret() -> None:
    from wo_tui.core.redact import remember, scrub, url_secrets

    url = with_password(UNREACHABLE, "user-info")
    assert url_secrets(url) >= {CANARY}

    remember(url_secrets(url))
    text = f"a {CANARY} b {make_url(url).render_as_string(hide_password=False)} c " + (
        base64.b64encode(CANARY.encode()).decode()
    )
    assert leaks(scrub(text)) == []


def test_an_error_that_quotes_the_password_is_scrubbed(tmp_path: Path) -> None:
    """A driver error that says part of the connection string (here libpq naming the
    `host` it could not resolve, which is the canary) is printed without it."""
    url = f"postgresql+psycopg://u@127.0.0.1:1/x?password={CORE}&host={CORE}"
    done = subprocess.run(
        [str(SCRIPT), "--db", url, "orders", "list"],
        capture_output=True,
        text=True,
        env=environment(tmp_path),
        timeout=60,
    )
    assert done.returncode == 2
    assert "failed to resolve host '***'" in done.stderr, done.stderr
    assert CORE not in done.stdout + done.stderr
