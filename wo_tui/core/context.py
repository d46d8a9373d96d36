"""What every service call needs: the database, who is acting, and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from wo_tui.core.clock import Clock, utc_now
from wo_tui.core.db import Database


@dataclass(frozen=True)
class Context:
    """The database, the operator recorded in history, and the source of "now"."""

    db: Database
    operator: str
    clock: Clock = field(default=utc_now)
    mail_domain: str = "localhost"
    """The right-hand side of Message-IDs of queued emails."""

    def now(self) -> datetime:
        """The current UTC time, as stored."""
        return self.clock()

    def today(self) -> date:
        """The dispatcher's local date (due dates and 'overdue' are local)."""
        return self.clock().replace(tzinfo=UTC).astimezone().date()
