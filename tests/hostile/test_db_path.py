"""A mistyped database path is refused, never made into an empty database: a file named
with `--db`, `[database] url` or `WO_TUI_DATABASE__URL` (a bare path or an `sqlite:///`
URL) must exist for every command but `db upgrade`, `seed` and `demo`, which create it.
The default file (no URL configured) is still made on first use.

A file path is an SQLite database whatever database the rest of the suite uses (wo-tui
never creates a server database), so these tests run the same on both.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from wo_tui.core.db import sqlite_url
from wo_tui.core.schema import SCHEMA_HEAD

from .every_command import (
    COMMANDS,
    CREATING,
    command_of,
    in_a_terminal,
    run_in_one_interpreter,
    wo_tui,
)
from conftest import terminal_env


def refusal(path: Path) -> str:
    return (
        f"wo-tui: no database at {path} (is the path right?); to create one, run: "
        f"wo-tui --db {path} db upgrade\n"
    )


def test_a_mistyped_path_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    """The issue's reproduction: `wo-tui --db /nonexistent/dir/x.db orders list`."""
    path = tmp_path / "nonexistent" / "dir" / "x.db"
    done = wo_tui(tmp_path, "--db", str(path), "orders", "list")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", refusal(path))
    assert not (tmp_path / "nonexistent").exists()


@pytest.mark.parametrize("given_by", ["--db URL", "config file", "environment"])
def test_every_way_of_naming_the_file_is_checked(tmp_path: Path, given_by: str) -> None:
    path = tmp_path / "typo.db"
    url = sqlite_url(path)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n' if given_by == "config file" else "")
    argv = ["--config", str(config)]
    env = {"WO_TUI_DATABASE__URL": str(path)} if given_by == "environment" else {}
    if given_by == "--db URL":
        argv += ["--db", url]
    done = wo_tui(tmp_path, *argv, "technicians", "list", **env)
    assert (done.returncode, done.stderr) == (2, refusal(path))
    assert not path.exists()


def test_every_command_but_the_creating_ones_refuses_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "wo.db"
    refusing = [argv for argv in COMMANDS if command_of(argv) not in CREATING]
    refusing.remove(("config", "locate"))  # reads no settings: says which file, no database
    results = run_in_one_interpreter(
        [["--db", str(path), *argv] for argv in refusing],
        terminal_env(tmp_path, "wo-tui-tester"),
        tmp_path,
    )
    said = dict(zip(refusing, results, strict=True))
    assert not [argv for argv in refusing if said[argv] != (2, refusal(path))], said
    assert not path.parent.exists()


def test_the_app_refuses_a_missing_file_before_it_opens(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    status, written = in_a_terminal(tmp_path, ["--db", str(path)], opens=False)
    assert status == 2
    assert refusal(path).strip() in written
    assert not path.exists()


@pytest.mark.parametrize("command", [("db", "upgrade"), ("seed", "--orders", "3")])
def test_the_creating_commands_make_the_file_and_its_folders(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    path = tmp_path / "new" / "dir" / "wo.db"
    done = wo_tui(tmp_path, "--db", str(path), *command)
    assert done.returncode == 0, done.stderr
    assert path.is_file()
    assert wo_tui(tmp_path, "--db", str(path), "orders", "list").returncode == 0


def test_demo_makes_the_file_it_keeps(tmp_path: Path) -> None:
    path = tmp_path / "new" / "demo.db"
    status, _ = in_a_terminal(tmp_path, ["demo", "--orders", "3", "--keep", str(path)], opens=True)
    assert status == 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (SCHEMA_HEAD,)
        ]


def test_the_default_file_is_still_made_on_first_use(tmp_path: Path) -> None:
    done = wo_tui(tmp_path, "orders", "list")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "home" / ".local" / "share" / "wo-tui" / "wo-tui.db").is_file()
