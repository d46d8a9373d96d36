"""Creating and upgrading the schema with the Alembic migrations shipped in the package.

Alembic is imported only when a migration has to run: on start-up the app compares the
database's revision with `SCHEMA_HEAD` (a test keeps the two in step) and goes on. A
database at a revision this release does not ship was upgraded by a newer wo-tui: it is
refused in words (`NewerSchema`), never handed to Alembic, which knows nothing of it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from wo_tui.core.db import BUSY_TIMEOUT_MS, Database, sqlite_file

SCHEMA_HEAD = "0006"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
ACTIVE_TYPES_SQL = "SELECT code FROM work_order_types WHERE active"
"""The codes of the work-order types new orders may have (an event rule's `order_type`)."""


class NewerSchema(Exception):
    """The database is at a revision this release does not ship: a newer wo-tui made it."""

    def __init__(self, revision: str) -> None:
        super().__init__(
            f"this database was upgraded by a newer wo-tui (revision {revision}); install "
            f"that version (this one knows revisions up to {SCHEMA_HEAD})"
        )
        self.revision = revision


class NotCurrent(Exception):
    """A database below the newest schema (`wo-tui db upgrade` brings it there; an SQLite
    file is also upgraded by the first command that opens it)."""

    def __init__(self, revision: str | None) -> None:
        super().__init__(
            f"the database is at schema revision {revision or '(none)'}, not the newest "
            f"{SCHEMA_HEAD}; run `wo-tui db upgrade`"
        )
        self.revision = revision


def _alembic_config(db: Database, connection: object) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with db.read() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            return None


def require_known(revision: str | None) -> None:
    """Raise `NewerSchema` for a revision that none of the shipped migrations has."""
    if revision is None or revision == SCHEMA_HEAD:
        return
    from alembic.script import ScriptDirectory

    shipped = {script.revision for script in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}
    if revision not in shipped:
        raise NewerSchema(revision)


def require_current(db: Database) -> None:
    """Raise unless the database is at the newest schema: `NewerSchema`, or `NotCurrent`."""
    revision = current_revision(db)
    if revision != SCHEMA_HEAD:
        require_known(revision)
        raise NotCurrent(revision)


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the database to `revision`; returns (before, after). Raises `NewerSchema`
    (and changes nothing) for a database made by a newer release."""
    from alembic import command

    before = current_revision(db)
    require_known(before)
    with db.engine.begin() as conn:
        command.upgrade(_alembic_config(db, conn), revision)  # type: ignore[arg-type]
    return before, current_revision(db)


def ensure_current(db: Database) -> None:
    """Bring the database to the head revision unless it is there already (cheap check);
    `NewerSchema` for a database made by a newer release."""
    if current_revision(db) != SCHEMA_HEAD:
        upgrade(db)


def active_type_codes(db: Database, *, without_sqlalchemy: bool = False) -> set[str]:
    """The work-order types new orders may have. `without_sqlalchemy`: read an SQLite file
    with the `sqlite3` module (the app's start, before SQLAlchemy is loaded)."""
    path = sqlite_file(db.url) if without_sqlalchemy else None
    if path is not None:
        plain = sqlite3.connect(
            f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
        )
        try:
            return {code for (code,) in plain.execute(ACTIVE_TYPES_SQL)}
        finally:
            plain.close()
    from sqlalchemy import text

    with db.read() as conn:
        return set(conn.execute(text(ACTIVE_TYPES_SQL)).scalars())


def new_database_type_codes() -> set[str]:
    """The work-order types a new database gets from the shipped migrations (made in
    memory: for checking a configuration whose database cannot be opened)."""
    db = Database("sqlite://")
    try:
        upgrade(db)
        return active_type_codes(db)
    finally:
        db.dispose()


def head_revision() -> str:
    """The newest revision among the shipped migrations (what SCHEMA_HEAD must equal)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    assert head is not None
    return head
