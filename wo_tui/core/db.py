"""Connecting to the database: SQLite (embedded, the default) or PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
`BEGIN IMMEDIATE` (SQLAlchemy's documented begin-event recipe): a plain deferred `BEGIN`
upgrades its lock late and fails with "database is locked" under concurrent writers. Reads use
a deferred `BEGIN`, which in WAL mode never blocks a writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

_READ_ONLY = "wo_tui_read_only"
BUSY_TIMEOUT_MS = 15_000
CACHE_KIB = 64 * 1024
MMAP_BYTES = 256 * 1024 * 1024


@dataclass
class Database:
    """An engine plus the two ways the services use it: `read()` and `write()`."""

    engine: Engine

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite database."""
        return self.engine.dialect.name == "sqlite"

    @property
    def display_url(self) -> str:
        """The URL with any password masked, fit to print."""
        return self.engine.url.render_as_string(hide_password=True)

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

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def sqlite_url_for(path: Path | str) -> str:
    """The SQLAlchemy URL of an SQLite file."""
    return f"sqlite:///{Path(path).expanduser().resolve()}"


def normalise_url(url: str) -> str:
    """Treat a bare path as an SQLite file; pick psycopg 3 for a plain postgresql URL."""
    if "://" not in url:
        return sqlite_url_for(url)
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def connect(url: str, *, pool_size: int = 5, echo: bool = False) -> Database:
    """Create the engine for `url` with the settings this product relies on."""
    url = normalise_url(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
    else:
        kwargs.update(pool_size=pool_size, pool_pre_ping=True)
        if parsed.get_backend_name() == "postgresql":
            # Times are stored in UTC without a zone: make the session agree.
            kwargs["connect_args"] = {"options": "-c timezone=UTC"}
        engine = create_engine(url, **kwargs)
    return Database(engine)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (the pysqlite driver's own
        # transaction handling would start a deferred transaction behind our back).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # A bulk action touches the table and several partial indexes at random places:
        # SQLite's default 2 MB page cache thrashes on a 100k-order queue.
        cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
