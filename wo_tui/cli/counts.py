"""How many of something a command may be asked for: every count option (`seed --orders`,
`seed --events`, `demo --orders`, `--limit`) has the same documented maximum (docs/cli.md,
"Common rules")."""

from __future__ import annotations

from wo_tui.cli.runtime import CommandError

MAX_COUNT = 1_000_000
"""The most any count option takes: ten times the largest queue the app is measured with."""


def check_count(option: str, value: int | None, *, least: int) -> None:
    """Refuse (exit status 2, one line) a count below `least` or above MAX_COUNT; None
    (not given) passes."""
    if value is None or least <= value <= MAX_COUNT:
        return
    got = str(value) if len(str(value)) <= 24 else f"a number of {len(str(value))} digits"
    raise CommandError(f"{option} must be a whole number from {least} to {MAX_COUNT:,} (got {got})")


def count_help(what: str, *, least: int, default: int | None = None) -> str:
    """The --help text of a count option, with its range."""
    given = f"; default {default:,}" if default is not None else ""
    return f"{what} ({least} to {MAX_COUNT:,}{given})"
