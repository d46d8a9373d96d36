"""`wo-tui worker`: the headless background jobs, run until SIGTERM or SIGINT.

Each job is one clearly separated function taking the shared stop event: the event poller
(billing events → work orders) and the email sender (the outbox → the mail server), each in
its own thread. A signal sets the stop event, so the batch in hand is finished and committed
before the command exits 0. With `--once` each job drains what is due, one after the other.
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

from wo_tui.cli.runtime import EXIT_OK, EXIT_PARTIAL, Runtime, explain

PAUSED_BACKOFF = 12
"""After a pause the sender waits this many intervals, so a wrong password does not hammer
the mail server."""


SENDER_JOIN_MARGIN = 4.0
"""On stop, wait for the sender this long past `smtp.shutdown_grace_seconds`."""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the `worker` command."""
    p = commands.add_parser(
        "worker", parents=[common], help="run the background jobs (event poller, email sender)"
    )
    p.add_argument("--once", action="store_true", help="process everything that is due, then exit")
    p.set_defaults(handler=cmd_worker)


def cmd_worker(runtime: Runtime, args: argparse.Namespace) -> int:
    """Run the worker's jobs until stopped (or, with --once, until nothing is due)."""
    stop = threading.Event()
    with _stop_on_signals(stop):
        if args.once:
            run_event_poller(runtime, stop, once=True)
            paused = run_email_sender(runtime, stop, once=True)
            return EXIT_PARTIAL if paused else EXIT_OK
        sender = threading.Thread(
            target=run_email_sender, args=(runtime, stop), kwargs={"once": False}, daemon=True
        )
        sender.start()
        try:
            run_event_poller(runtime, stop, once=False)
        finally:
            stop.set()
            # The sender hands its emails back within its grace; never wait much longer.
            sender.join(runtime.settings.smtp.shutdown_grace_seconds + SENDER_JOIN_MARGIN)
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


def run_email_sender(runtime: Runtime, stop: threading.Event, *, once: bool) -> bool:
    """The email sender: one line on stdout per run that did something; a pause (login
    refused, no TLS) is said on stderr and retried after a long wait. Returns whether
    sending was paused when it stopped."""
    from wo_tui.mail.headers import mail_domain
    from wo_tui.mail.sender import drain_outbox

    smtp = runtime.settings.smtp
    ctx = replace(
        runtime.context(), operator="mail-sender", mail_domain=mail_domain(smtp.from_address)
    )
    paused_before = False
    while not stop.is_set():
        try:
            result = drain_outbox(ctx, smtp, once=True, stop=stop)
        except Exception as exc:  # the database; mail problems come back as results
            if once:
                raise
            print(f"wo-tui: worker: email sender: {explain(exc)}", file=sys.stderr, flush=True)
            stop.wait(smtp.poll_interval_seconds)
            continue
        if result.sent or result.failed or result.retried or result.superseded:
            print(f"emails: {result.summary()}", flush=True)
        if result.paused is not None and not paused_before:
            print(f"wo-tui: worker: sending paused: {result.paused.reason}",
                  file=sys.stderr, flush=True)  # fmt: skip
        paused_before = result.paused is not None
        if once:
            return paused_before
        stop.wait(smtp.poll_interval_seconds * (PAUSED_BACKOFF if paused_before else 1))
    return paused_before
