"""Shared fixtures: a fresh, migrated database per test on SQLite (default) or on the
PostgreSQL server named by $WO_TUI_TEST_DATABASE_URL (what `.ci/run` starts)."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pexpect
import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from wo_tui.core import schema
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database, connect, sqlite_url_for

PG_URL = os.environ.get("WO_TUI_TEST_DATABASE_URL", "")
NOW = datetime(2026, 11, 26, 9, 30, 0)
"""The fixed clock of the tests: Thursday 26 November 2026, 09:30 UTC."""


@contextmanager
def statements_sent(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every (statement, parameters) the engine sends while the block runs."""
    sent: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def terminal_env(tmp_path: Path, user: str, **extra: str) -> dict[str, str]:
    """The environment of `wo-tui` run in a pseudo-terminal: no WO_TUI_* settings, a private
    home and XDG directories (created), a known terminal and clock; `extra` adds to it."""
    home = tmp_path / "home"
    dirs = {
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_STATE_HOME": home / ".local" / "state",
        "XDG_CACHE_HOME": home / ".cache",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        **{name: str(path) for name, path in dirs.items()},
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "USER": user,
        "LOGNAME": user,
        **extra,
    }


class PtyRun:
    """A process in a pseudo-terminal and everything it has written so far (for the
    assertions and their messages). Leaving the `with` block kills it if it still runs."""

    def __init__(self, child: pexpect.spawn[Any]) -> None:
        self.child = child
        self.chunks: list[bytes] = []

    def __enter__(self) -> PtyRun:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)

    def expect(self, text: str) -> None:
        """Wait until `text` has been written."""
        self.child.expect_exact(text.encode())
        self.chunks += [self.child.before or b"", self.child.after or b""]

    def send(self, keys: str) -> None:
        self.child.send(keys)

    def finish(self) -> bytes:
        """Wait for the process to end; returns everything it wrote."""
        self.child.expect(pexpect.EOF)
        self.chunks.append(self.child.before or b"")
        self.child.close()
        return self.written

    @property
    def written(self) -> bytes:
        return b"".join(self.chunks)

    @property
    def exitstatus(self) -> int | None:
        return self.child.exitstatus


def record_notices(app: Any) -> list[str]:
    """Every notice the app shows from now on, in order: its public `notify`, wrapped."""
    said: list[str] = []
    notify = app.notify

    def recording(message: Any, *args: Any, **kwargs: Any) -> None:
        said.append(str(message))
        notify(message, *args, **kwargs)

    app.notify = recording
    return said


async def wait_until(pilot: Any, condition: Any, seconds: float = 30.0) -> None:
    """Let the app run until `condition()` is true (checked every 50 ms); fail after
    `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g} s waiting for {condition}")
        await pilot.pause(0.05)


def pytest_report_header() -> str:
    """Say which database the suite runs on."""
    return (
        f"database: {'PostgreSQL ' + make_url(PG_URL).render_as_string() if PG_URL else 'SQLite'}"
    )


@pytest.fixture(autouse=True)
def _utc_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local time is UTC in tests, so 'today' follows the fixed clock exactly."""
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = connect(str(path))
    schema.upgrade(db)
    db.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


def new_postgres_database() -> str:
    """Create an empty PostgreSQL database on the test server; returns its URL."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"wo_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop a database made by `new_postgres_database`."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    url = new_postgres_database()
    db = connect(url)
    schema.upgrade(db)
    db.dispose()
    yield url
    drop_postgres_database(url)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh database at the newest schema (types seeded, nothing else)."""
    if PG_URL:
        template = request.getfixturevalue("_postgres_template")
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        name = f"wo_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"'))
        admin.dispose()
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        yield url
        drop_postgres_database(url)
    else:
        template = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "wo-tui.db"
        shutil.copyfile(template, path)
        yield sqlite_url_for(path)


@pytest.fixture
def empty_db_url(tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (no tables), for migration tests."""
    if PG_URL:
        url = new_postgres_database()
        yield url
        drop_postgres_database(url)
    else:
        yield sqlite_url_for(tmp_path / "empty.db")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A connected, migrated database."""
    database = connect(db_url)
    yield database
    database.dispose()


@pytest.fixture
def ctx(db: Database) -> Context:
    """A service context acting as 'dispatcher-a' at the fixed test time."""
    return Context(db, "dispatcher-a", clock=fixed_clock(NOW))


def isolate_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, operator: str) -> None:
    """For in-process CLI tests: no user config, no WO_TUI_* variable of the caller, a
    fixed clock and the given operator."""
    import functools

    for name in list(os.environ):
        if name.upper().startswith("WO_TUI_"):
            monkeypatch.delenv(name)
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        path = tmp_path / "env" / name.lower()
        path.mkdir(parents=True)
        monkeypatch.setenv(name, str(path))
    monkeypatch.setenv("WO_TUI_OPERATOR__NAME", operator)
    monkeypatch.setattr(
        "wo_tui.cli.runtime.Context", functools.partial(Context, clock=fixed_clock(NOW))
    )
