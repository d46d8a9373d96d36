"""Benchmark of the email sender: 1,000 assignment emails end to end.

Run from the repository root:

    .venv/bin/python bench/bench_mail.py [--emails 1000] [--runs 3] [--connections 4]

An aiosmtpd sink (accepts everything, keeps nothing) runs in a SEPARATE process (in-process it
would share the interpreter lock and cap the figure). One SQLite file is prepared
once with 1,000 assigned orders (1,000 queued assignment emails, each with its calendar
invitation); every run works on a fresh copy of it and includes all outbox bookkeeping:
claim, build the message, send, mark sent and move the order SETUP → SENT with history.

- **sender**: `wo_tui.mail.sender.drain_outbox(ctx, settings)` - batches of 100 claimed and
  built in a thread while the previous batch is being sent, over up to `--connections`
  connections each opened once and reused, outcomes gathered for 0.1 s and recorded in one
  transaction from a thread.
- **naive**: one email at a time: claim it, build it, open a new connection, send, quit,
  mark it sent - the same bookkeeping, one email per transaction and per connection.

Each sender run also logs where its CPU went, per thread (`time.thread_time`): claiming,
reading the orders and building the messages, recording the outcomes (each in a worker
thread), and the event loop's thread (SMTP with aiosmtplib, the feed).

Each figure is the median of --runs runs (messages per second, wall time); the runs of the
two senders are interleaved so noise from other jobs spreads over both. The sink's count is
checked after every run: exactly --emails messages arrived. The target is at least 100
messages per second from one sender (docs/email.md). On a busy machine the wall figure says
more about the other jobs than about the sender: 1000 / (CPU ms/message) is what the sender
would do with a core to itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import aiosmtplib
from sqlalchemy import func, select

import wo_tui.mail.recorder
import wo_tui.mail.sender
from wo_tui.config import SmtpSettings
from wo_tui.core import schema
from wo_tui.core.assignees import add_assignee
from wo_tui.core.context import Context
from wo_tui.core.db import connect, sqlite_url_for
from wo_tui.core.models import outbox, work_orders
from wo_tui.core.orders import assign, create_order
from wo_tui.core.outbox import claim_due
from wo_tui.core.outbox_marks import mark_sent
from wo_tui.mail.prepare import prepare
from wo_tui.mail.sender import BATCH_SIZE, drain_outbox
from wo_tui.mail.templating import load_templates

TARGET = 100
"""Messages per second from one sender (docs/email.md, "How a message is built")."""

SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller

class Counting:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Counting.count += 1
        return "250 OK"
    async def handle_RSET(self, server, session, envelope):
        return "250 OK"

handler = Counting()
controller = Controller(handler, hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
for line in sys.stdin:
    if line.strip() == "count":
        print(Counting.count, flush=True)
    elif line.strip() == "reset":
        Counting.count = 0
        print("ok", flush=True)
controller.stop()
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Sink:
    """The SMTP sink in its own process; asks it how many messages arrived."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.process = subprocess.Popen(
            [sys.executable, "-c", SINK, str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the SMTP sink did not start")

    def ask(self, command: str) -> str:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def stop(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=10)


def prepare_database(path: Path, emails: int) -> None:
    """A migrated SQLite file with `emails` assigned orders (one queued email each)."""
    db = connect(str(path))
    schema.upgrade(db)
    ctx = Context(db, "bench")
    add_assignee(ctx, "Sam Carter", "internal", "sam@field.example")
    for n in range(emails):
        order_id = create_order(
            ctx,
            {
                "type_code": "RECONNECT",
                "account_number": f"4{n:07d}",
                "customer_name": f"Customer {n}",
                "site_address": f"{n + 1} Smith St, Springfield",
                "meter_number": f"M{n:07d}",
                "scheduled_date": date(2026, 12, 1),
                "window_start": clock_time(8),
                "window_end": clock_time(12),
                "instructions": "Reconnect supply; read the meter.\nCall ahead.",
                "access_details": "Gate code 1234",
                "hazards": "Dog in the yard",
            },
        )
        assign(ctx, order_id, "Sam Carter")
    db.dispose()


def settings_for(port: int, connections: int) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1",
        port=port,
        tls="none",
        from_address="Dispatch <dispatch@wo.example>",
        connections=connections,
    )


def naive(ctx: Context, settings: SmtpSettings) -> None:
    """One email at a time, a new connection each, the same bookkeeping (one event loop;
    the database calls block it, as a naive sender would)."""
    templates = load_templates(None)

    async def run() -> None:
        while claims := claim_due(ctx, limit=1):
            ready, _ = prepare(ctx, claims, templates=templates, from_address=settings.from_address)
            for email in ready:
                env = email.envelope
                await aiosmtplib.send(
                    env.data,
                    sender=env.sender,
                    recipients=[env.recipient],
                    hostname=settings.host,
                    port=settings.effective_port(),
                    start_tls=False,
                    local_hostname="bench.local",
                )
                mark_sent(ctx, email.claim.outbox_id, email.claim.token, "250 OK")

    asyncio.run(run())


class ThreadCpu:
    """CPU time (of the calling thread) spent in the sender's blocking steps, which run in
    worker threads: the sender's modules are given timed versions of them."""

    def __init__(self) -> None:
        self.seconds = {"claim": 0.0, "build": 0.0, "record": 0.0}
        wo_tui.mail.sender.claim_due = self.timed("claim", wo_tui.mail.sender.claim_due)
        wo_tui.mail.sender.prepare = self.timed("build", wo_tui.mail.sender.prepare)
        wo_tui.mail.recorder.record_outcomes = self.timed(
            "record", wo_tui.mail.recorder.record_outcomes
        )

    def timed(self, name: str, func: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[name] += time.thread_time() - started

        return run

    def report(self, loop_seconds: float, emails: int) -> str:
        parts = {**self.seconds, "event loop (SMTP)": loop_seconds}
        text = ", ".join(f"{name} {s / emails * 1000:.2f}" for name, s in parts.items())
        self.seconds = dict.fromkeys(self.seconds, 0.0)
        return f"  ms CPU/msg by thread: {text}"


def check(path: Path, sink: Sink, emails: int) -> None:
    db = connect(str(path))
    with db.read() as conn:
        sent = conn.execute(
            select(func.count()).select_from(outbox).where(outbox.c.status == "sent")
        ).scalar_one()
        orders = conn.execute(
            select(func.count()).select_from(work_orders).where(work_orders.c.status == "SENT")
        ).scalar_one()
    db.dispose()
    arrived = int(sink.ask("count"))
    sink.ask("reset")
    if not sent == orders == arrived == emails:
        raise RuntimeError(f"expected {emails}: sent {sent}, orders {orders}, arrived {arrived}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    sink = Sink()
    try:
        template = work / "template.db"
        log(f"preparing {args.emails} assigned orders ...")
        prepare_database(template, args.emails)
        settings = settings_for(sink.port, args.connections)
        figures: dict[str, list[float]] = {"sender": [], "naive": []}
        cpu: dict[str, list[float]] = {"sender": [], "naive": []}
        threads = ThreadCpu()
        for run in range(args.runs):
            for name in ("sender", "naive"):
                path = work / f"{name}-{run}.db"
                shutil.copyfile(template, path)
                db = connect(sqlite_url_for(path))
                ctx = Context(db, "mail-sender")
                started, cpu_started = time.perf_counter(), time.process_time()
                loop_started = time.thread_time()
                if name == "sender":
                    result = drain_outbox(ctx, settings)
                    assert result.sent == args.emails, result.summary()
                    loop_seconds = time.thread_time() - loop_started
                else:
                    naive(ctx, settings)
                elapsed = time.perf_counter() - started
                cpu[name].append((time.process_time() - cpu_started) / args.emails * 1000)
                db.dispose()
                check(path, sink, args.emails)
                figures[name].append(args.emails / elapsed)
                log(
                    f"run {run + 1} {name}: {args.emails / elapsed:,.0f} msg/s, "
                    f"{cpu[name][-1]:.2f} ms CPU/msg (this process), load {os.getloadavg()[0]:.1f}"
                )
                if name == "sender":
                    log(threads.report(loop_seconds, args.emails))
        sender = statistics.median(figures["sender"])
        baseline = statistics.median(figures["naive"])
        print(f"\nEmail sender, {args.emails} assignment emails, SQLite, median of {args.runs}")
        print(
            f"(runs: {datetime.now():%Y-%m-%d %H:%M}, Python {sys.version.split()[0]}, "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n"
        )
        print("| sender | messages/s | vs naive | CPU ms/message (sender process) |")
        print("|---|---:|---:|---:|")
        print(
            f"| naive (connection per message, one by one) | {baseline:,.0f} | 1.0x "
            f"| {statistics.median(cpu['naive']):.2f} |"
        )
        sender_cpu = statistics.median(cpu["sender"])
        print(
            f"| wo-tui sender ({args.connections} connections, batches of {BATCH_SIZE}) "
            f"| {sender:,.0f} | {sender / baseline:.1f}x | {sender_cpu:.2f} |"
        )
        verdict = "met" if sender >= TARGET else "MISSED"
        print(
            f"\nTarget >= {TARGET} messages/s: {verdict} ({sender:,.0f}/s; with a core to itself "
            f"about {1000 / sender_cpu:,.0f}/s, from {sender_cpu:.2f} ms CPU/message)"
        )
    finally:
        sink.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
