"""`wo-tui worker`: the headless background jobs, run until SIGTERM or SIGINT.

Each job is one clearly separated function taking the shared stop event: today the event
poller (billing events → work orders); the email sender will join it here. A signal sets the
stop event, so the batch in hand is finished and committed before the command exits 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from wo_tui.cli.runtime import EXIT_OK, Runtime, explain


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the `worker` command."""
    p = commands.add_parser(
        "worker", parents=[common], help="run the background jobs (the event poller)"
    )
    p.add_argument("--once", action="store_true", help="process everything that is due, then exit")
    p.set_defaults(handler=cmd_worker)


def cmd_worker(runtime: Runtime, args: argparse.Namespace) -> int:
    """Run the worker's jobs until stopped (or, with --once, until nothing is due)."""
    stop = threading.Event()
    with _stop_on_signals(stop):
        run_event_poller(runtime, stop, once=args.once)
    return EXIT_OK


def run_event_poller(runtime: Runtime, stop: threading.Event, *, once: bool) -> None:
    """The event poller: one line on stdout per batch that had events."""
    from wo_tui.core.poller import POLLER_OPERATOR, PollResult, run_poller

    settings = runtime.settings.events
    ctx = replace(runtime.context(), operator=POLLER_OPERATOR)

    def report(result: PollResult) -> None:
        print(result.summary(), flush=True)

    def complain(exc: Exception) -> None:
        wait = settings.poll_interval_seconds
        print(f"wo-tui: worker: database error, retrying in {wait:g} s: {explain(exc)}",
              file=sys.stderr, flush=True)  # fmt: skip

    run_poller(ctx, settings, once=once, stop=stop, on_batch=report, on_error=complain)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set `stop` (the current batch finishes) instead of killing us."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
