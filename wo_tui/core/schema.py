"""Creating and upgrading the schema with the Alembic migrations shipped in the package.

Alembic is imported only when a migration has to run: on start-up the app compares the
database's revision with `SCHEMA_HEAD` (a test keeps the two in step) and goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wo_tui.core.db import Database

SCHEMA_HEAD = "0006"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


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


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the database to `revision`; returns (before, after)."""
    from alembic import command

    before = current_revision(db)
    with db.engine.begin() as conn:
        command.upgrade(_alembic_config(db, conn), revision)  # type: ignore[arg-type]
    return before, current_revision(db)


def ensure_current(db: Database) -> None:
    """Bring the database to the head revision unless it is there already (cheap check)."""
    if current_revision(db) != SCHEMA_HEAD:
        upgrade(db)


def head_revision() -> str:
    """The newest revision among the shipped migrations (what SCHEMA_HEAD must equal)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    assert head is not None
    return head
