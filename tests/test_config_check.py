"""What `config check` (and every command that reads the configuration) refuses beyond the
shape of the values: an event rule naming a work-order type the database does not have, a
keymap that gives one key to two actions of a screen, a WO_TUI_* variable that sets nothing
(a warning), a database made by a newer wo-tui, and options in an SQLite URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile.every_command import (
    COMMANDS,
    command_of,
    in_a_terminal,
    run_in_one_interpreter,
    wo_tui,
)
from sqlalchemy import text

from wo_tui.config import ConfigError, load_settings, unknown_variables
from wo_tui.core.db import Database

from conftest import PG_URL, terminal_env

KNOWN_TYPES = (
    "DISCONNECT, FINAL_READ, METER_EXCHANGE, METER_INVESTIGATION, MISC, NEW_CONNECTION, "
    "RECONNECT, SPECIAL_READ"
)


def config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


# --- event rules: work-order types ------------------------------------------------------------

NOPE = '[events.rules.move_in]\norder_type = "NOPE"\n'


def nope_line(path: Path) -> str:
    return (
        f"wo-tui: config: {path}: [events.rules.move_in] order_type: unknown work-order type "
        f"'NOPE'; known: {KNOWN_TYPES}\n"
    )


def test_config_check_refuses_an_unknown_order_type(tmp_path: Path, db_url: str) -> None:
    path = config(tmp_path, NOPE)
    done = wo_tui(tmp_path, "--config", str(path), "--db", db_url, "config", "check")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", nope_line(path))


def test_every_command_refuses_it_the_same_way(tmp_path: Path, db_url: str) -> None:
    path = config(tmp_path, NOPE)
    for argv in (["orders", "list"], ["worker", "--once"], ["events", "add", "move_in"]):
        done = wo_tui(tmp_path, "--config", str(path), "--db", db_url, *argv)
        assert (done.returncode, done.stderr) == (2, nope_line(path)), argv
    status, written = in_a_terminal(tmp_path, ["--config", str(path), "--db", db_url], opens=False)
    assert status == 2 and nope_line(path).strip() in written


def test_a_near_miss_gets_a_suggestion(tmp_path: Path, db_url: str) -> None:
    path = config(tmp_path, '[events.rules.move_in]\norder_type = "RECONECT"\n')
    done = wo_tui(tmp_path, "--config", str(path), "--db", db_url, "config", "check")
    assert done.returncode == 2
    assert "unknown work-order type 'RECONECT'; did you mean 'RECONNECT'? known: " in done.stderr


def test_the_types_come_from_the_database(tmp_path: Path, db: Database, db_url: str) -> None:
    """A type retired in the database's `work_order_types` is refused, though a new
    database would have it; a disabled rule is not checked."""
    with db.write() as conn:
        conn.execute(
            text("UPDATE work_order_types SET active = false WHERE code = 'METER_INVESTIGATION'")
        )
    db.dispose()
    done = wo_tui(tmp_path, "--db", db_url, "config", "check")
    assert done.returncode == 2
    assert "[events.rules.meter_investigation_request] order_type: unknown work-order type "
    assert "'METER_INVESTIGATION'; known: DISCONNECT, FINAL_READ, METER_EXCHANGE, MISC," in (
        done.stderr
    )
    path = config(tmp_path, "[events.rules.meter_investigation_request]\nenabled = false\n")
    done = wo_tui(tmp_path, "--config", str(path), "--db", db_url, "config", "check")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("configuration is valid\n")
    assert "work-order types checked against the database" in done.stdout


def test_without_a_database_the_types_of_a_new_one_apply(tmp_path: Path) -> None:
    """No database yet (the default file, not made by `config check`): the types the
    shipped migrations give a new database."""
    path = config(tmp_path, NOPE)
    done = wo_tui(tmp_path, "--config", str(path), "config", "check")
    assert (done.returncode, done.stderr) == (2, nope_line(path))
    done = wo_tui(tmp_path, "config", "check")
    assert done.returncode == 0, done.stderr
    assert "checked against the types a new database gets" in done.stdout
    assert not (tmp_path / "home" / ".local" / "share" / "wo-tui").exists()


# --- the keymap -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keymap", "problem"),
    [
        (
            '"queue.complete" = "q"',
            "[ui.keymap] \"queue.complete\": key 'q' is already bound to queue.close (Quit) "
            "on the queue screen",
        ),
        (  # an app key reaches every full screen: here it would shadow "hold"
            '"app.help" = "m"',
            "[ui.keymap] \"app.help\": key 'm' is already bound to detail.note (Note) on the "
            "order detail screen",
        ),
        (  # the same key twice in the keymap: `?` is Textual's `question_mark`
            '"detail.note" = "?"\n"detail.hold" = "question_mark"',
            "[ui.keymap] \"detail.note\": key 'question_mark' is already bound to detail.hold "
            "(Hold) on the order detail screen",
        ),
    ],
)
def test_a_key_bound_twice_on_one_screen_is_refused(
    tmp_path: Path, keymap: str, problem: str
) -> None:
    path = config(tmp_path, f"[ui.keymap]\n{keymap}\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert f"{path}: {problem}" in error.value.problems
    done = wo_tui(tmp_path, "--config", str(path), "config", "check")
    assert done.returncode == 2
    assert f"wo-tui: config: {path}: {problem}\n" in done.stderr


@pytest.mark.parametrize(
    "keymap",
    [
        '"queue.complete" = "x"\n"queue.cancel" = "c"',  # a swap
        '"confirm.yes" = "B"',  # a dialog: the app's keys do not reach it
        '"app.quit" = "Q,ctrl+q"',  # the example file's line: the default keys
    ],
)
def test_a_keymap_without_clashes_is_valid(tmp_path: Path, keymap: str) -> None:
    load_settings(config(tmp_path, f"[ui.keymap]\n{keymap}\n"), environ={})


# --- WO_TUI_* variables that set nothing ------------------------------------------------------


def test_a_mistyped_variable_is_warned_about_once_by_every_command(
    tmp_path: Path, db_url: str
) -> None:
    env = terminal_env(tmp_path, "config-tester", WO_TUI_SMTP_PASSWORD="Hunter2-value")
    argvs = [argv for argv in COMMANDS if argv not in ((), ("demo",))]
    results = run_in_one_interpreter([["--db", db_url, *argv] for argv in argvs], env, tmp_path)
    warning = (
        "wo-tui: warning: environment variable WO_TUI_SMTP_PASSWORD is not a setting and is "
        "ignored; did you mean WO_TUI_SMTP__PASSWORD?\n"
    )
    for argv, (_status, written) in zip(argvs, results, strict=True):
        assert written.count(warning) == 1, (argv, written)
        assert "Hunter2" not in written
    assert {command_of(argv) for argv in argvs} >= {("config", "locate"), ("orders", "list")}


def test_the_app_warns_too(tmp_path: Path, db_url: str) -> None:
    env = terminal_env(tmp_path, "config-tester", WO_TUI_DATABASE_URL="x")
    status, written = in_a_terminal(tmp_path, ["--db", db_url], env, opens=True)
    assert status == 0
    assert (
        "wo-tui: warning: environment variable WO_TUI_DATABASE_URL is not a setting and is "
        "ignored; did you mean WO_TUI_DATABASE__URL?"
    ) in written


def test_only_unknown_variables_are_named() -> None:
    environ = {
        "WO_TUI_SMTP__PASSWORD": "x",
        "wo_tui_smtp__port": "25",
        "WO_TUI_SMTP": "{}",
        "WO_TUI_CONFIG": "c.toml",
        "WO_TUI_TEST_DATABASE_URL": "u",
        "WO_TUI_EVENTS__RULES__MOVE_IN__PRIORITY": "High",
        "WO_TUI_UI__KEYMAP__APP.QUIT": "Q",
        "WO_TUI_OPERATOR_NAME": "Jo",
        "WO_TUI_COMPLETELY_ELSE": "secret-value",
        "PATH": "/bin",
    }
    assert unknown_variables(environ) == [
        "environment variable WO_TUI_COMPLETELY_ELSE is not a setting and is ignored",
        "environment variable WO_TUI_OPERATOR_NAME is not a setting and is ignored; "
        "did you mean WO_TUI_OPERATOR__NAME?",
    ]


# --- a database made by a newer release ----------------------------------------------------


NEWER = "this database was upgraded by a newer wo-tui (revision 0099); install that version"


def test_a_newer_database_is_refused_in_words_by_every_command(
    tmp_path: Path, db: Database, db_url: str
) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    db.dispose()
    argvs = [
        argv
        for argv in COMMANDS
        if argv and command_of(argv) not in {("demo",), ("config", "locate"), ("config", "check")}
    ]
    assert ("db", "upgrade") in argvs and ("db", "current") in argvs
    env = terminal_env(tmp_path, "config-tester")
    results = run_in_one_interpreter([["--db", db_url, *argv] for argv in argvs], env, tmp_path)
    said = dict(zip(argvs, results, strict=True))
    assert not [argv for argv in argvs if said[argv][0] != 2 or NEWER not in said[argv][1]], said
    assert all("Alembic" not in r[1] and "Can't locate revision" not in r[1] for r in results)
    status, written = in_a_terminal(tmp_path, ["--db", db_url], opens=False)
    assert status == 2 and NEWER in written
    checked = wo_tui(tmp_path, "--db", db_url, "config", "check")
    assert NEWER in checked.stdout  # the configuration itself is fine: said, not refused
    with db.read() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0099"
        assert conn.execute(text("SELECT count(*) FROM work_orders")).scalar() == 0


# --- options in an SQLite URL -------------------------------------------------------------------


@pytest.mark.parametrize("options", ["?mode=ro", "?timeout=5", "?uri=true&mode=ro"])
def test_an_sqlite_url_with_options_is_refused_clearly(tmp_path: Path, options: str) -> None:
    path = tmp_path / "wo.db"
    assert wo_tui(tmp_path, "--db", str(path), "db", "upgrade").returncode == 0
    done = wo_tui(tmp_path, "--db", f"sqlite:///{path}{options}", "orders", "list")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "wo-tui: config: command-line override [database] url: an SQLite URL takes no options "
        "(the part from '?'): wo-tui sets its own (WAL, a 15 s busy timeout); give the file "
        "alone, e.g. sqlite:////srv/wo-tui.db\n"
    )
    assert "Warning" not in done.stderr


@pytest.mark.skipif(not PG_URL, reason="a server URL: PostgreSQL")
def test_a_server_url_keeps_its_options(tmp_path: Path, db_url: str) -> None:
    done = wo_tui(tmp_path, "--db", f"{db_url}?connect_timeout=5", "orders", "list")
    assert done.returncode == 0, done.stderr
