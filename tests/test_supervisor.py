"""One supervisor runs the event poller and the email sender, in the app and in `wo-tui worker`
alike: a job that fails (any exception) is reported with its cause, backs off and starts again,
and the other job keeps working all the while.

The fault used end to end is a real one: the `events` table renamed away under the running
jobs (as a botched manual change on the database would), then put back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from test_app_background import billing_inserts

from wo_tui.config import load_settings
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database, connect
from wo_tui.core.models import outbox, work_orders
from wo_tui.core.orders import assign
from wo_tui.core.supervisor import BACKOFF_MAX_SECONDS, Job, Supervisor, backoff
from wo_tui.tui.app import make_app

from conftest import NOW, record_notices, wait_until
from mailserver import Recording, new_order, settings_for, smtp_server, technician

SCRIPT = Path(sys.executable).with_name("wo-tui")


def eventually(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


# -- the supervisor itself ---------------------------------------------------------------


class Rounds:
    """A job's round that counts its runs and raises `fail` on the runs listed in `failing`."""

    def __init__(self, failing: set[int] | None = None, fail: Exception | None = None) -> None:
        self.runs = 0
        self.failing = failing or set()
        self.fail = fail or TypeError("unsupported operand type(s) for +: 'int' and 'str'")

    def __call__(self, stop: threading.Event) -> float:
        self.runs += 1
        if self.runs in self.failing:
            raise self.fail
        return 0.01


@pytest.fixture
def reports() -> list[tuple[str, str]]:
    return []


def supervise(jobs: list[Job], reports: list[tuple[str, str]]) -> Supervisor:
    def failed(name: str, exc: BaseException, wait: float) -> None:
        reports.append((name, f"failed: {type(exc).__name__}: {exc}"))

    def recovered(name: str) -> None:
        reports.append((name, "recovered"))

    return Supervisor(jobs, on_failure=failed, on_recovery=recovered, backoff_first=0.01)


@pytest.fixture
def running(reports: list[tuple[str, str]]) -> Iterator[Callable[[list[Job]], Supervisor]]:
    started: list[Supervisor] = []

    def start(jobs: list[Job]) -> Supervisor:
        supervisor = supervise(jobs, reports)
        supervisor.start()
        started.append(supervisor)
        return supervisor

    yield start
    for supervisor in started:
        supervisor.stop()
        assert supervisor.join(10), "a job did not stop"


def test_a_failing_job_is_reported_backs_off_and_restarts_while_the_other_goes_on(
    running: Callable[[list[Job]], Supervisor], reports: list[tuple[str, str]]
) -> None:
    poller = Rounds(failing={2, 3, 4})
    sender = Rounds()
    supervisor = running([Job("event poller", poller), Job("email sender", sender)])
    eventually(lambda: poller.runs >= 8 and sender.runs >= 8)
    failure = "failed: TypeError: unsupported operand type(s) for +: 'int' and 'str'"
    assert reports == [("event poller", failure)] * 3 + [("event poller", "recovered")]
    assert not supervisor.failing("event poller")


def test_any_exception_is_the_jobs_not_the_threads(
    running: Callable[[list[Job]], Supervisor], reports: list[tuple[str, str]]
) -> None:
    for exc in (ValueError("month must be in 1..12"), KeyError("id"), RuntimeError("boom")):
        job = Rounds(failing={1}, fail=exc)
        running([Job("event poller", job)])
        eventually(lambda job=job: job.runs >= 3)  # type: ignore[misc]
    assert [kind for _, kind in reports if kind != "recovered"] == [
        "failed: ValueError: month must be in 1..12",
        "failed: KeyError: 'id'",
        "failed: RuntimeError: boom",
    ]


def test_a_job_that_keeps_failing_waits_longer_each_time_up_to_a_cap() -> None:
    assert [backoff(n, 2.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff(40, 2.0) == BACKOFF_MAX_SECONDS


def test_run_once_runs_each_job_once_and_a_failure_does_not_stop_the_next(
    reports: list[tuple[str, str]],
) -> None:
    poller, sender = Rounds(failing={1}), Rounds()
    supervisor = supervise([Job("event poller", poller), Job("email sender", sender)], reports)
    raised = supervisor.run_once()
    assert isinstance(raised["event poller"], TypeError)
    assert raised["email sender"] is None
    assert (poller.runs, sender.runs) == (1, 1)


def test_wake_starts_the_next_round_now_and_stop_ends_every_loop(
    reports: list[tuple[str, str]],
) -> None:
    runs: list[float] = []

    def slow(stop: threading.Event) -> float:
        runs.append(time.monotonic())
        return 3600.0  # without a wake-up, the next round would be an hour away

    supervisor = supervise([Job("email sender", slow)], reports)
    supervisor.start()
    eventually(lambda: len(runs) == 1)
    supervisor.wake("email sender")
    eventually(lambda: len(runs) == 2)
    supervisor.stop()
    assert supervisor.join(5)
    assert len(runs) == 2


# -- from `wo-tui worker` and from the app: the events table goes away and comes back --------


def rename_events(url: str, *, away: bool) -> None:
    old, new = ("events", "events_away") if away else ("events_away", "events")
    db = connect(url)
    with db.write() as conn:
        conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
    db.dispose()


def count(db: Database, query: object) -> int:
    with db.read() as conn:
        return int(conn.execute(query).scalar_one())  # type: ignore[call-overload]


def sent_emails(db: Database) -> int:
    return count(db, select(func.count()).select_from(outbox).where(outbox.c.status == "sent"))


def orders_from_events(db: Database) -> int:
    query = select(func.count()).where(work_orders.c.source_event_id.is_not(None))
    return count(db, query)


def test_the_worker_keeps_sending_while_its_poller_fails_and_the_poller_comes_back(
    db_url: str, ctx: Context, tmp_path: Path
) -> None:
    server = Recording()
    with smtp_server(server) as port:
        config = tmp_path / "wo-tui.toml"
        config.write_text(
            f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
            "poll_interval_seconds = 0.1\n[events]\npoll_interval_seconds = 0.1\n"
        )
        rename_events(db_url, away=True)
        command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "wo_tui"]
        worker = subprocess.Popen(
            [*command, "worker", "--config", str(config), "--db", db_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "TZ": "UTC"},
        )
        try:
            # The poller fails (no events table); the sender goes on sending.
            assign(ctx, new_order(ctx), technician(ctx))
            eventually(lambda: sent_emails(ctx.db) == 1)
            assert [r.rcpt_tos for r in server.received] == [["sam@field.example"]]
            rename_events(db_url, away=False)
            billing_inserts(db_url, "BILL-1")
            eventually(lambda: orders_from_events(ctx.db) == 1)
            worker.send_signal(signal.SIGTERM)
            out, err = worker.communicate(timeout=30)
        finally:
            worker.kill()
    assert worker.returncode == 0, err
    failures = [line for line in err.splitlines() if "event poller failed" in line]
    assert failures, err
    assert "restarting in 2 s" in failures[0] and "events" in failures[0], failures[0]
    assert "wo-tui: worker: event poller is working again" in err
    assert "Traceback" not in err
    assert "emails: 1 sent" in out
    assert "created 1 orders from 1 events" in out


async def test_the_app_keeps_sending_while_its_poller_fails_and_says_so_once(
    db_url: str, ctx: Context
) -> None:
    server = Recording()
    with smtp_server(server) as port:
        smtp = {
            **settings_for(port).model_dump(mode="json", exclude_none=True),
            "poll_interval_seconds": 0.1,
        }
        settings = load_settings(
            None,
            environ={},
            overrides={
                "ui": {"refresh_interval_seconds": 600},
                "events": {"poll_interval_seconds": 0.1},
                "smtp": smtp,
            },
        )
        app = make_app(settings, Context(ctx.db, "dispatcher-a", clock=fixed_clock(NOW)))
        rename_events(db_url, away=True)
        said = record_notices(app)
        async with app.run_test(size=(120, 30)) as pilot:
            assign(ctx, new_order(ctx), technician(ctx))
            await wait_until(pilot, lambda: sent_emails(ctx.db) == 1)
            await wait_until(pilot, lambda: any("event poller failed" in m for m in said))
            rename_events(db_url, away=False)
            billing_inserts(db_url, "BILL-1")
            await wait_until(pilot, lambda: orders_from_events(ctx.db) == 1)
            await wait_until(pilot, lambda: any("new order from billing" in m for m in said))
    failed = [m for m in said if m.startswith("The event poller failed and will try again")]
    assert len(failed) == 1, said
    assert "events" in failed[0]
