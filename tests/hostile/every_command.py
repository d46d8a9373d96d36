"""Every `wo-tui` command (each action of each, and the full-screen app) with minimal valid
arguments, and ways to run them: the console script (`wo_tui`), the app in a
pseudo-terminal (`in_a_terminal`), and many command lines quickly in one interpreter, each
as `wo-tui` itself runs it (`wo_tui.cli.run`), with everything it writes to its file
descriptors 1 and 2 (prints, warnings, tracebacks) and its exit status.

Run as a script, this file is that interpreter: a JSON list of argument lists on stdin, a
JSON list of [status, written] on stdout. (So the helpers import the suite's own modules,
which a script does not see, when they are called.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import traceback
import warnings
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("wo-tui")
TECH = "Canary Tech"

COMMANDS: list[tuple[str, ...]] = [
    ("seed", "--orders", "20", "--events", "2"),
    ("db", "upgrade"),
    ("db", "current"),
    ("config", "check"),
    ("config", "locate"),
    ("orders", "list"),
    ("orders", "show", "1"),
    ("orders", "create", "--type", "MISC", "--address", "1 Canary St"),
    ("technicians", "add", TECH, "--email", "tech@example.com"),
    ("technicians", "list"),
    ("technicians", "edit", TECH, "--phone", "0400 000 000"),
    ("orders", "assign", "21", "--to", TECH),
    ("orders", "hold", "21", "--note", "no access"),
    ("orders", "complete", "21"),
    ("orders", "cancel", "21", "--reason", "duplicate"),
    ("orders", "reopen", "21", "--reason", "by mistake"),
    ("technicians", "deactivate", TECH),
    ("technicians", "activate", TECH),
    ("events", "add", "move_in", "--ref", "CANARY-REF-1"),
    ("events", "list"),
    ("events", "retry", "1"),
    ("events", "discard", "1", "--reason", "sent twice"),
    ("worker", "--once"),
    ("demo",),  # refuses --db: the demo makes its own database
    (),  # the full-screen app
]
"""In an order that works on a fresh database: seed first (20 orders, 2 events), so that
there are orders and events to act on; the order created is number 21."""

CREATING = {("seed",), ("db", "upgrade"), ("demo",)}
"""The commands that may create the database file they are given."""


def command_of(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The command (and action) of a command line, e.g. ("orders", "list")."""
    with_actions = ("db", "config", "orders", "technicians", "events")
    return argv[: 2 if argv and argv[0] in with_actions else 1]


def parser_commands() -> set[tuple[str, ...]]:
    """Every command and action `wo-tui --help` lists, and () for the app."""
    from wo_tui.cli import build_parser

    def leaves(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> set[tuple[str, ...]]:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            return {prefix}
        found = {prefix} if not prefix else set()
        for name, sub in subs[0].choices.items():
            found |= leaves(sub, (*prefix, name))
        return found

    return leaves(build_parser(), ())


def wo_tui(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the console script in a clean environment (`terminal_env` plus `env`)."""
    from conftest import terminal_env

    return subprocess.run(
        [str(SCRIPT), *argv],
        capture_output=True,
        text=True,
        env=terminal_env(tmp_path, "wo-tui-tester", **env),
        cwd=str(tmp_path),
        timeout=120,
    )


def in_a_terminal(
    tmp_path: Path, argv: list[str], env: dict[str, str] | None = None, *, opens: bool
) -> tuple[int | None, str]:
    """Run `wo-tui ARGV` in a pseudo-terminal: when it `opens` the app, wait for its queue
    and quit with ctrl+q, else wait for it to end. Its exit status and all it wrote."""
    import pexpect

    from conftest import PtyRun, terminal_env

    child = pexpect.spawn(
        str(SCRIPT),
        argv,
        env=env or terminal_env(tmp_path, "wo-tui-tester"),
        cwd=str(tmp_path),
        dimensions=(30, 120),
        timeout=60,
    )
    with PtyRun(child) as pty:
        if opens:
            pty.expect("shown")
            pty.send("\x11")  # ctrl+q
        written = pty.finish()
    return pty.exitstatus, written.decode("utf-8", "replace")


def run_in_one_interpreter(
    argvs: list[list[str]], env: dict[str, str], cwd: Path
) -> list[tuple[int, str]]:
    """(exit status, everything written) of each command line, run one after the other."""
    done = subprocess.run(
        [sys.executable, __file__],
        input=json.dumps(argvs),
        capture_output=True,
        text=True,
        env=env,
        cwd=str(cwd),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return [(status, written) for status, written in json.loads(done.stdout)]


def _run_one(argv: list[str]) -> tuple[int, str]:
    from wo_tui.cli import run

    with tempfile.TemporaryFile() as written:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(written.fileno(), 1)
        os.dup2(written.fileno(), 2)
        try:
            status = run(argv)
        except SystemExit as exc:  # argparse
            status = exc.code if isinstance(exc.code, int) else 2
        except BaseException:
            traceback.print_exc()
            status = 99
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        written.seek(0)
        return status, written.read().decode("utf-8", "replace")


if __name__ == "__main__":
    warnings.simplefilter("always")  # a warning is said by every command, not only the first
    print(json.dumps([_run_one(argv) for argv in json.load(sys.stdin)]))
