"""What a command needs, built on first use: settings, database, service context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wo_tui.config import Settings, load_settings
from wo_tui.core.context import Context
from wo_tui.core.db import Database, connect
from wo_tui.core.errors import InvalidInput, WorkOrderError

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2


def explain(exc: BaseException) -> str:
    """An exception as one short line for stderr: its type and the first line of its text."""
    lines = str(exc).splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


class CommandError(Exception):
    """A failure to report on stderr with an exit status."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status

    @classmethod
    def from_service(cls, exc: WorkOrderError) -> CommandError:
        """Map a service error: bad input → 2; missing, not allowed or conflict → 1."""
        if isinstance(exc, InvalidInput):
            lines = [f"{field}: {msg}" for field, msg in exc.problems.items()]
            return cls("invalid input\n  " + "\n  ".join(lines), EXIT_USAGE)
        return cls(str(exc), EXIT_PARTIAL)


class Runtime:
    """Lazily loads settings and connects, so `--help` and `config locate` stay instant."""

    def __init__(self, config_path: str | None, db_url: str | None) -> None:
        self.config_path = Path(config_path) if config_path else None
        self.db_url = db_url
        self._settings: Settings | None = None
        self._db: Database | None = None

    @property
    def settings(self) -> Settings:
        """The loaded settings (raises ConfigError)."""
        if self._settings is None:
            overrides: dict[str, Any] = {}
            if self.db_url:
                overrides["database"] = {"url": self.db_url}
            self._settings = load_settings(self.config_path, overrides=overrides)
        return self._settings

    def database(self, *, upgrade_embedded: bool = True, seen_current: bool = False) -> Database:
        """The connected database; an embedded SQLite one is brought to the newest schema,
        a server database must already be there (`wo-tui db upgrade`). `seen_current`: the
        caller has just read the database at the newest schema (the app's first window),
        so its engine, and SQLAlchemy with it, is left to be made on first use."""
        if self._db is not None:
            return self._db
        settings = self.settings.database
        if seen_current:
            self._db = Database(settings.resolved_url(), pool_size=settings.pool_size)
            return self._db
        from wo_tui.core import schema

        try:
            db = connect(settings.resolved_url(), pool_size=settings.pool_size)
        except Exception as exc:  # an unknown driver, an SQLite path that cannot be made
            raise CommandError(
                f"cannot open the database {settings.display_url()}: {explain(exc)}"
            ) from None
        self._db = db
        if upgrade_embedded:
            try:
                if db.is_sqlite:
                    schema.ensure_current(db)
                elif schema.current_revision(db) != schema.SCHEMA_HEAD:
                    raise CommandError(
                        f"the database {db.display_url} is not at the current "
                        "schema; run `wo-tui db upgrade` first"
                    )
            except CommandError:
                raise
            except Exception as exc:
                raise CommandError(
                    f"cannot open the database {db.display_url}: {explain(exc)}"
                ) from None
        return db

    def context(self, *, seen_current: bool = False) -> Context:
        """A service context acting as the configured operator, in the utility's time zone
        (`seen_current`: see `database`)."""
        address = self.settings.smtp.from_address
        domain = address.rsplit("@", 1)[-1] if "@" in address else "localhost"
        database = self.database(seen_current=seen_current)
        zone = self.settings.sla.zone()
        return Context(database, self.settings.operator.name, mail_domain=domain, zone=zone)

    def close(self) -> None:
        """Release the database connections."""
        if self._db is not None:
            self._db.dispose()
