"""`wo-tui`: the full-screen app, and its plain command-line twin for scripts and on-call.

Exit status: 0 when everything asked was done; 1 when some orders were skipped or
conflicted, or something asked for does not exist; 2 on bad usage, bad input or bad config.
Textual is imported only by the commands that open the screen.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from wo_tui.cli import admin, orders, worker
from wo_tui.cli.runtime import EXIT_USAGE, CommandError, Runtime, explain
from wo_tui.config import ConfigError
from wo_tui.core.sanitize import clean_text


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and a one-line hint on bad usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS, help="the config file to use"
    )
    common.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL or SQLite file path (overrides [database] url)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    common = _common()
    parser = _Parser(
        prog="wo-tui",
        description="Dispatch utility work orders: run with no command for the full screen.",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    orders.register(commands, common)
    admin.register(commands, common)
    worker.register(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `wo-tui` console script."""
    try:
        status = run(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`wo-tui orders list | head`): stop quietly, as SIGPIPE would.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 141
    sys.exit(status)


def undecodable_argument(argv: Sequence[str]) -> str | None:
    """One line naming the first argument that is not valid text in the locale's encoding
    (UTF-8), or None. Python hands such bytes over as lone surrogates, which no database,
    file or terminal takes: they are refused here, once, for every command."""
    for index, arg in enumerate(argv):
        if not _is_text(arg):
            option, equals, value = arg.partition("=")
            if arg.startswith("--") and equals and _is_text(option):
                what, raw = f"the value of {_shown(option)}", os.fsencode(value)
            else:
                after = f" (after {_shown(argv[index - 1])})" if index else ""
                what, raw = f"argument {index + 1}{after}", os.fsencode(arg)
            encoding = sys.getfilesystemencoding().upper()
            return f"{what} is not valid {encoding} text: {_shown(raw)}; give it as {encoding} text"
    return None


def _shown(arg: str | bytes) -> str:
    """An argument quoted in a message: bytes as Python writes them, text cleaned of
    control characters; cut short after 40 characters."""
    text = repr(arg) if isinstance(arg, bytes) else clean_text(arg)
    return text if len(text) <= 40 else text[:39] + "…"


def _is_text(arg: str) -> bool:
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def run(argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, run the command, and return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    problem = undecodable_argument(argv)
    if problem:
        print(f"wo-tui: {problem}", file=sys.stderr)
        return EXIT_USAGE
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None) or admin.cmd_app
    runtime = Runtime(getattr(args, "config", None), getattr(args, "db", None))
    try:
        return int(handler(runtime, args) or 0)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"wo-tui: config: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except CommandError as exc:
        print(f"wo-tui: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # SQLAlchemy is imported here, not at the top: the full screen paints its first
        # frame before loading it. Only a database can have raised this kind of error.
        from sqlalchemy.exc import DBAPIError

        if not isinstance(exc, DBAPIError):
            raise
        # e.g. a value too long for its column on PostgreSQL
        print(f"wo-tui: database error: {explain(exc.orig or exc)}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        runtime.close()
