"""`wo-tui worker`: the headless background jobs, run until SIGTERM or SIGINT.

The event poller (billing events → work orders) and the email sender (the outbox → the mail
server) run under the core's supervisor (`wo_tui/core/supervisor.py`), each in a thread of its
own, as in the app: a job that fails is logged on stderr with its cause, backs off and starts
again, and the other job goes on. A signal stops both: the poller commits the batch in hand,
the sender stops claiming at once, gives the sends in progress `[smtp]
shutdown_grace_seconds`, hands back the rest, and the command exits 0. With `--once` each job
does what is due, one after the other; the status is 1 when sending was paused or a job failed.
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
from wo_tui.core.backoff import PAUSED_BACKOFF
from wo_tui.core.supervisor import Job, Round, Supervisor

STOP_MARGIN_SECONDS = 4.0
"""After a signal, how long beyond the sender's grace the worker waits for its jobs."""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the `worker` command."""
    p = commands.add_parser(
        "worker", parents=[common], help="run the background jobs (event poller, email sender)"
    )
    p.add_argument("--once", action="store_true", help="process everything that is due, then exit")
    p.set_defaults(handler=cmd_worker)


def cmd_worker(runtime: Runtime, args: argparse.Namespace) -> int:
    """Run the worker's jobs until stopped (or, with --once, until nothing is due)."""
    runtime.context()  # the settings and the database, checked before any job starts
    sender = EmailSender(runtime)
    supervisor = Supervisor(
        [Job("event poller", event_poller(runtime)), Job("email sender", sender.send)],
        on_failure=_log_failure,
        on_recovery=_log_recovery,
    )
    with _stop_on_signals(supervisor.stop):
        if args.once:
            failed = [name for name, exc in supervisor.run_once().items() if exc is not None]
            return EXIT_PARTIAL if failed or sender.paused else EXIT_OK
        supervisor.start()
        while not supervisor.stopping.wait(1.0):
            pass
        grace = runtime.settings.smtp.shutdown_grace_seconds
        if not supervisor.join(grace + STOP_MARGIN_SECONDS):
            print("wo-tui: worker: a job did not stop in time; exiting all the same",
                  file=sys.stderr, flush=True)  # fmt: skip
    return EXIT_OK


def event_poller(runtime: Runtime) -> Round:
    """The poller's round: drain the due events, one line on stdout per batch."""
    from wo_tui.core.poller import POLLER_OPERATOR, PollResult, drain_events

    settings = runtime.settings.events
    ctx = replace(runtime.context(), operator=POLLER_OPERATOR)

    def report(result: PollResult) -> None:
        print(result.summary(), flush=True)

    def poll(stop: threading.Event) -> float:
        drain_events(ctx, settings, stop=stop, on_batch=report)
        return settings.poll_interval_seconds

    return poll


class EmailSender:
    """The sender's round: one line on stdout per run that did something; a pause (login
    refused, no TLS) is said once on stderr and tried again after a long wait."""

    def __init__(self, runtime: Runtime) -> None:
        from wo_tui.mail.headers import mail_domain

        self.smtp = runtime.settings.smtp
        self.ctx = replace(
            runtime.context(),
            operator="mail-sender",
            mail_domain=mail_domain(self.smtp.from_address),
        )
        self.paused = False
        """Whether sending was paused at the end of the last round."""

    def send(self, stop: threading.Event) -> float:
        from wo_tui.mail.sender import drain_outbox

        result = drain_outbox(self.ctx, self.smtp, once=True, stop=stop)
        if result.sent or result.failed or result.retried or result.superseded:
            print(f"emails: {result.summary()}", flush=True)
        if result.paused is not None and not self.paused:
            print(f"wo-tui: worker: sending paused: {result.paused.reason}",
                  file=sys.stderr, flush=True)  # fmt: skip
        self.paused = result.paused is not None
        return self.smtp.poll_interval_seconds * (PAUSED_BACKOFF if self.paused else 1)


def _log_failure(job: str, exc: BaseException, wait: float) -> None:
    cause = exc.__cause__ or exc.__context__
    because = f" (caused by {explain(cause)})" if cause is not None else ""
    print(f"wo-tui: worker: {job} failed, restarting in {wait:g} s: {explain(exc)}{because}",
          file=sys.stderr, flush=True)  # fmt: skip


def _log_recovery(job: str) -> None:
    print(f"wo-tui: worker: {job} is working again", file=sys.stderr, flush=True)


@contextmanager
def _stop_on_signals(stop: Any) -> Iterator[None]:
    """SIGTERM and SIGINT call `stop` (the jobs finish what is in hand) instead of killing
    us."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        stop()

    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
