"""What every service call needs: the database, who is acting, the clock and the calendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from wo_tui.core.business_days import BusinessDays
from wo_tui.core.clock import Clock, Zone, local_time, utc_now
from wo_tui.core.db import Database


@dataclass(frozen=True)
class Context:
    """The database, the operator recorded in history, the source of "now", and the
    utility's time zone and business days."""

    db: Database
    operator: str
    clock: Clock = field(default=utc_now)
    mail_domain: str = "localhost"
    """The right-hand side of Message-IDs of queued emails."""
    zone: Zone = None
    """The utility's time zone (`[sla] timezone`): 'today', due dates, overdue and every time
    shown follow it, whatever the zone of the process; None is the machine's own."""
    calendar: BusinessDays = field(default_factory=BusinessDays)
    """The utility's business days (`[sla] holidays`): every due date counts them."""

    def now(self) -> datetime:
        """The current UTC time, as stored."""
        return self.clock()

    def today(self) -> date:
        """The utility's date now (due dates, 'overdue' and 'tomorrow' are the utility's)."""
        return self.local(self.clock()).date()

    def due_date(self, business_days: int) -> date:
        """The due date of an order made now whose SLA is `business_days`: that many
        business days after the utility's today."""
        return self.calendar.add_business_days(self.today(), business_days)

    def local(self, moment: datetime) -> datetime:
        """A stored UTC time as the utility's wall-clock time (to show it)."""
        return local_time(moment, self.zone)
