"""What a command needs, built on first use: settings, database, service context."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

from wo_tui.config import (
    ConfigError,
    Settings,
    load_settings,
    order_type_problems,
    unknown_variables,
)
from wo_tui.core.context import Context
from wo_tui.core.db import Database, connect
from wo_tui.core.errors import InvalidInput, WorkOrderError
from wo_tui.core.redact import explain, remember

POSTGRES_EXTRA = "install wo-tui with PostgreSQL support: pip install 'wo-tui[postgres]'"
EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2


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


def database_error(db: Database, exc: Exception) -> CommandError:
    """The error to report when `db` cannot be read: a database made by a newer release
    says so in words; anything else gives the exception's first line."""
    from wo_tui.core.schema import NewerSchema

    if isinstance(exc, NewerSchema):
        return CommandError(f"{db.display_url}: {exc}")
    return CommandError(f"cannot open the database {db.display_url}: {explain(exc)}")


class Runtime:
    """Lazily loads settings and connects, so `--help` and `config locate` stay instant."""

    def __init__(self, config_path: str | None, db_url: str | None) -> None:
        self.config_path = Path(config_path) if config_path else None
        self.db_url = db_url
        self._settings: Settings | None = None
        self._db: Database | None = None
        self._warned = False

    @property
    def settings(self) -> Settings:
        """The loaded settings (raises ConfigError)."""
        if self._settings is None:
            self.warn_environment()
            overrides: dict[str, Any] = {}
            if self.db_url:
                overrides["database"] = {"url": self.db_url}
            self._settings = load_settings(self.config_path, overrides=overrides)
            remember(self._settings.database.secrets())
        return self._settings

    def warn_environment(self) -> None:
        """Say on stderr, once, which WO_TUI_* variables set nothing (never their values)."""
        if not self._warned:
            self._warned = True
            for warning in unknown_variables(os.environ):
                print(f"wo-tui: warning: {warning}", file=sys.stderr)

    def database(
        self, *, upgrade_embedded: bool = True, seen_current: bool = False, create: bool = False
    ) -> Database:
        """The connected database; an embedded SQLite one is brought to the newest schema,
        a server database must already be there (`wo-tui db upgrade`), and the event rules'
        work-order types must be among its active ones. `seen_current`: the caller has just
        read the database at the newest schema (the app's first window), so its engine, and
        SQLAlchemy with it, is left to be made on first use. `create`: a database file named
        in the settings may be made (`db upgrade`, `seed`, `demo`); any other command refuses
        a missing one, so that a mistyped path does not become an empty database."""
        if self._db is not None:
            return self._db
        if not create:
            self.refuse_missing_file()
        settings = self.settings.database
        if seen_current:
            self._db = Database(settings.resolved_url(), pool_size=settings.pool_size)
            self._check_order_types(self._db, without_sqlalchemy=True)
            return self._db
        from wo_tui.core import schema

        try:
            db = connect(settings.resolved_url(), pool_size=settings.pool_size)
        except ModuleNotFoundError as exc:  # the server's driver is an extra
            hint = POSTGRES_EXTRA if exc.name == "psycopg" else f"install {exc.name}"
            raise CommandError(
                f"cannot open the database {settings.display_url()}: its driver "
                f"{exc.name!r} is not installed; {hint}"
            ) from None
        except Exception as exc:  # an unknown driver, an SQLite path that cannot be made
            raise CommandError(
                f"cannot open the database {settings.display_url()}: {explain(exc)}"
            ) from None
        self._db = db
        if upgrade_embedded:
            try:
                if db.is_sqlite:
                    schema.ensure_current(db)
                else:
                    schema.require_current(db)
            except schema.NotCurrent:
                raise CommandError(
                    f"the database {db.display_url} is not at the current "
                    "schema; run `wo-tui db upgrade` first"
                ) from None
            except Exception as exc:
                raise database_error(db, exc) from None
            self._check_order_types(db)
        return db

    def refuse_missing_file(self) -> None:
        """CommandError when the settings name an SQLite file that does not exist."""
        missing = self.settings.database.missing_file()
        if missing is not None:
            raise CommandError(
                f"no database at {missing} (is the path right?); to create one, run: "
                f"wo-tui --db {shlex.quote(str(missing))} db upgrade"
            )

    def _check_order_types(self, db: Database, *, without_sqlalchemy: bool = False) -> None:
        """ConfigError when an event rule names a work-order type the database does not
        have (or has retired): said by every command, not first by a dead event."""
        from wo_tui.core import schema

        try:
            known = schema.active_type_codes(db, without_sqlalchemy=without_sqlalchemy)
        except Exception as exc:
            raise database_error(db, exc) from None
        if problems := order_type_problems(self.settings, known):
            raise ConfigError(problems)

    def context(self, *, seen_current: bool = False, create: bool = False) -> Context:
        """A service context acting as the configured operator, in the utility's time zone
        and business days (`seen_current`, `create`: see `database`)."""
        from wo_tui.mail.headers import mail_domain  # the From's domain, names and all

        domain = mail_domain(self.settings.smtp.from_address)
        database = self.database(seen_current=seen_current, create=create)
        sla = self.settings.sla
        return Context(
            database,
            self.settings.operator.name,
            mail_domain=domain,
            zone=sla.zone(),
            calendar=sla.calendar(),
        )

    def close(self) -> None:
        """Release the database connections."""
        if self._db is not None:
            self._db.dispose()
