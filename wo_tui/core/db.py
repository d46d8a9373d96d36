"""Connecting to the database: SQLite (embedded, the default) or PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
`BEGIN IMMEDIATE` (SQLAlchemy's documented begin-event recipe): a plain deferred `BEGIN`
upgrades its lock late and fails with "database is locked" under concurrent writers. Reads use
a deferred `BEGIN`, which in WAL mode never blocks a writer.

WAL checkpoints (copying committed pages from the WAL back into the database file) run in a
background thread after writes, not inside the commit of whoever happens to cross SQLite's
threshold: a 10,000-order bulk action dirties ~9,000 pages, and checkpointing them in its
commit doubled the time a dispatcher waited. `wal_autocheckpoint` stays on at a higher
threshold as a safety net, and closing the last connection checkpoints as SQLite always does.
"""

from __future__ import annotations

import atexit
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from wo_tui.core.redact import printable_url, remember, url_secrets

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

_READ_ONLY = "wo_tui_read_only"
BUSY_TIMEOUT_MS = 15_000
CACHE_KIB = 64 * 1024
MMAP_BYTES = 256 * 1024 * 1024
AUTOCHECKPOINT_PAGES = 20_000
"""SQLite's own checkpoint-on-commit threshold (~80 MB of WAL): only a safety net, for when
the background checkpoints cannot keep up."""
STOP_TIMEOUT_S = 5.0
"""At exit, how long to wait for a checkpoint in progress."""
CHECKPOINT_DELAY_S = 1.0
"""How long the checkpointer waits after a write before it checkpoints: long enough for the
re-reads and repaints that follow a dispatcher's action to be done first."""


_RUNNING: weakref.WeakSet[Checkpointer] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    """At exit, stop the checkpointers and close their databases' connections: closing the
    last connection checkpoints the rest of the WAL and removes it, as SQLite does for any
    process that closes its database (a checkpointer thread would otherwise keep the
    connections open until the process is gone, leaving the WAL file behind)."""
    for checkpointer in list(_RUNNING):
        if checkpointer.stop(timeout=STOP_TIMEOUT_S):
            checkpointer.engine.dispose()


class Checkpointer:
    """A daemon thread that runs `PRAGMA wal_checkpoint(PASSIVE)` shortly after writes.
    PASSIVE never waits for readers or writers: it copies what it can and leaves the rest
    for the next round."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.rounds = 0
        """Checkpoints run so far (for tests and benchmarks)."""

    def poke(self) -> None:
        """A write committed: checkpoint soon (starts the thread on first use)."""
        with self._lock:
            if self._stopping.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="wo-tui-checkpoint", daemon=True
                )
                self._thread.start()
                _RUNNING.add(self)
        self._wanted.set()

    def stop(self, timeout: float | None = None) -> bool:
        """End the thread (after the checkpoint in progress, if any); False when it was
        still busy after `timeout` seconds (it is a daemon: it cannot hold up an exit)."""
        with self._lock:
            self._stopping.set()
            thread = self._thread
        self._wanted.set()
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def checkpoint(self) -> None:
        """One PASSIVE checkpoint, on a pooled connection outside any transaction."""
        raw = self.engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # type: ignore[union-attr]
        finally:
            raw.close()
        self.rounds += 1

    def _run(self) -> None:
        # Stopping is checked on every round, not only during the delay: a stop() that lands
        # after the delay but before `clear()` has its wake-up cleared with the request.
        while not self._stopping.is_set():
            self._wanted.wait()
            if self._stopping.wait(CHECKPOINT_DELAY_S):
                break
            self._wanted.clear()
            self.checkpoint()
        # closing the pool's connections checkpoints the rest


class Database:
    """An engine plus the two ways the services use it: `read()` and `write()`.

    The engine (and with it SQLAlchemy, ~0.3 s to import) is made on first use, by whichever
    thread needs it first: the app paints its first frame from `first_window` and makes the
    engine afterwards. `connect` makes it at once."""

    def __init__(self, url: str, *, pool_size: int = 5, echo: bool = False) -> None:
        self.url = normalise_url(url)
        remember(url_secrets(self.url))  # before any connection can fail and say them
        self.pool_size = pool_size
        self.echo = echo
        self.checkpointer: Checkpointer | None = None
        """For an SQLite file: the background WAL checkpoints."""
        self._engine: Engine | None = None
        self._making = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, made on first use."""
        engine = self._engine
        if engine is None:
            with self._making:
                if self._engine is None:
                    made, self.checkpointer = _make_engine(
                        self.url, pool_size=self.pool_size, echo=self.echo
                    )
                    self._engine = made  # last: a thread that sees it sees the checkpointer
                engine = self._engine
        return engine

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite database."""
        return self.url.split(":", 1)[0].split("+", 1)[0] == "sqlite"

    @property
    def display_url(self) -> str:
        """The URL with its secrets masked, fit to print (`printable_url`)."""
        return printable_url(self.url)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads (a deferred transaction, rolled back at the end)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{_READ_ONLY: True})
            try:
                yield conn
            finally:
                conn.rollback()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: `BEGIN IMMEDIATE` on SQLite; commits on success."""
        with self.engine.begin() as conn:
            yield conn
        if self.checkpointer is not None:
            self.checkpointer.poke()

    def dispose(self) -> None:
        """Stop the checkpointer and close every pooled connection (closing the last one
        checkpoints the rest of the WAL). Nothing to do when the engine was never made."""
        with self._making:
            engine = self._engine
        if engine is None:
            return
        if self.checkpointer is not None:
            self.checkpointer.stop()
        engine.dispose()


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite file at `path`, taken as it is. SQLAlchemy decodes
    `%XX` in a URL's path and starts its options at `?`, so those two are escaped: the file
    opened is the one named, whatever its name."""
    return "sqlite:///" + str(path).replace("%", "%25").replace("?", "%3F")


def sqlite_url_for(path: Path | str) -> str:
    """The SQLAlchemy URL of an SQLite file (its full path)."""
    return sqlite_url(Path(path).expanduser().resolve())


_PLAIN_SQLITE_URL = re.compile(r"sqlite(\+pysqlite)?:///(?P<path>[^?]+)")


def sqlite_file(url: str) -> Path | None:
    """The file of a plain SQLite URL (`sqlite:///PATH`, no query options), decoded as
    SQLAlchemy decodes it; else None."""
    found = _PLAIN_SQLITE_URL.fullmatch(url)
    return Path(unquote(found.group("path"))) if found else None


def normalise_url(url: str) -> str:
    """Treat a bare path as an SQLite file; pick psycopg 3 for a plain postgresql URL."""
    if "://" not in url:
        return sqlite_url_for(url)
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def connect(url: str, *, pool_size: int = 5, echo: bool = False) -> Database:
    """The database at `url`, its engine made now (an unknown driver fails here)."""
    db = Database(url, pool_size=pool_size, echo=echo)
    db.engine  # noqa: B018 - made now, so that a bad URL is reported by the caller
    return db


def _make_engine(url: str, *, pool_size: int, echo: bool) -> tuple[Engine, Checkpointer | None]:
    """The engine for `url` with the settings this product relies on, and for an SQLite
    file its checkpointer."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # Hand out the connection used last: each SQLite connection has its own page
            # cache, which another connection's write makes stale. Right after a bulk
            # action the connection that wrote has the changed pages; a first-in-first-out
            # pool gave the next read an idle one, which read them all back (a window of
            # the queue: 63 ms instead of 20).
            kwargs["pool_use_lifo"] = True
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        if parsed.database and parsed.database != ":memory:":
            return engine, Checkpointer(engine)
        return engine, None
    kwargs.update(pool_size=pool_size, pool_pre_ping=True)
    if parsed.get_backend_name() == "postgresql":
        # Times are stored in UTC without a zone: make the session agree.
        kwargs["connect_args"] = {"options": "-c timezone=UTC"}
    return create_engine(url, **kwargs), None


def _configure_sqlite(engine: Engine) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (the pysqlite driver's own
        # transaction handling would start a deferred transaction behind our back).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # A bulk action touches the table and several partial indexes at random places:
        # SQLite's default 2 MB page cache thrashes on a 100k-order queue.
        cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        # Statement journals (the pages a statement changes, kept until it ends so that it
        # can be undone alone inside a longer transaction) and temporary tables stay in
        # memory: in a file they were written with one `pwrite` per page (40,000 calls for
        # a 10,000-order bulk action, more than the WAL itself).
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
