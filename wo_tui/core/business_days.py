"""The utility's business days: Monday to Friday, less its public holidays.

A due date is its type's SLA in business days from the utility's today (docs/cli.md, "Dates
and the time zone"). Without `[sla] holidays` every Monday to Friday is a business day; with
it, a country code and maybe a subdivision as the `holidays` package knows them (`AU-NSW`,
`GB-SCT`, `US`), that region's public holidays are not business days either.

The package's tables take a tenth of a second or more to load: a process loads them only
when the setting is there (to check it, and for its first due date), never without it.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Container
from datetime import date, timedelta
from typing import Any

from wo_tui.core.dates import add_business_days, describe_date

REGION_EXAMPLE = "AU-NSW"
_WHAT = "a country code and maybe a subdivision, such as 'AU-NSW'"


class BusinessDays:
    """Which days count as business days, and the n-th one after a date. `region` is a
    checked region code (`check_region`); None means Monday to Friday, no holidays. One
    instance is shared by the threads of a process (the app's jobs): it is safe to."""

    def __init__(self, region: str | None = None) -> None:
        self.region = region
        self._lock = threading.Lock()
        self._table: Container[date] | None = None
        self._after: dict[tuple[date, int], date] = {}
        """(start, days) -> the answer: a process asks for a handful of them, often."""

    def is_business_day(self, day: date) -> bool:
        """Monday to Friday and not a public holiday of the region."""
        return day.weekday() < 5 and (self.region is None or not self._is_holiday(day))

    def add_business_days(self, start: date, days: int) -> date:
        """The `days`-th business day after `start` (counting from a day that is not one is
        counting from the business day before it); 0 is `start` itself, or the next business
        day when `start` is not one."""
        if self.region is None:
            return add_business_days(start, days)
        if days < 0:
            raise ValueError(f"business days must not be negative, got {days}")
        key = (start, days)
        found = self._after.get(key)
        if found is None:
            found = start
            while days == 0 and not self.is_business_day(found):
                found += timedelta(days=1)
            for _ in range(days):
                found += timedelta(days=1)
                while not self.is_business_day(found):
                    found += timedelta(days=1)
            self._after[key] = found
        return found

    def describe(self, today: date) -> str:
        """What `config check` says of the setting: whose holidays, and the next one that
        falls on a weekday, e.g. 'New South Wales, Australia; next: Fri 25 Dec 2026 (in 29
        days), Christmas Day'."""
        if self.region is None:
            return "every Monday to Friday is a business day"
        ahead = (today + timedelta(days=n) for n in range(2 * 366))
        day = next((d for d in ahead if d.weekday() < 5 and self._is_holiday(d)), None)
        with self._lock:
            table: Any = self._holidays()
            name = _region_name(table)
            if day is None:
                return f"{name}; no public holiday on a weekday in the next two years"
            return f"{name}; next: {describe_date(day, today)}, {table.get(day)}"

    def _is_holiday(self, day: date) -> bool:
        # Under the lock: the table fills in each year on its first look-up.
        with self._lock:
            return day in self._holidays()

    def _holidays(self) -> Container[date]:
        if self._table is None:
            self._table = _table(self.region)
        return self._table

    def __repr__(self) -> str:
        return f"BusinessDays({self.region!r})"


def _table(region: str | None) -> Any:
    """The holidays of `region` (a checked code), as the `holidays` package gives them."""
    import holidays

    country, _, subdivision = (region or "").partition("-")
    return holidays.country_holidays(country, subdiv=subdivision or None)


def _region_name(table: Any) -> str:
    """'New South Wales, Australia' for AU-NSW's table."""
    from holidays.registry import COUNTRIES

    country = next(
        name.replace("_", " ").title()
        for name, (_, code, *_others) in COUNTRIES.items()
        if code == table.country
    )
    if not table.subdiv:
        return country
    names = {code: name for name, code in getattr(table, "subdivisions_aliases", {}).items()}
    return f"{names.get(table.subdiv, table.subdiv)}, {country}"


def check_region(text: str | None) -> str | None:
    """A `[sla] holidays` setting as its code ('au-nsw' -> 'AU-NSW'; blank -> None), or a
    ValueError that says what is wrong and the nearest valid code."""
    if text is None or not text.strip():
        return None
    import holidays
    from holidays.registry import COUNTRIES

    country_text, dash, subdivision_text = text.strip().partition("-")
    if dash and not subdivision_text.strip():
        raise ValueError(f"no subdivision after '-'; use {_WHAT}")
    codes = _country_codes(COUNTRIES)
    country = codes.get(_key(country_text))
    if country is None or country != country_text.strip().upper():
        hint = f"did you mean {country!r}?" if country else _nearest(country_text, codes)
        raise ValueError(f"unknown country code {country_text.strip()!r}; {hint}")
    table = holidays.country_holidays(country)
    if not dash:
        return country
    subdivisions: tuple[str, ...] = table.subdivisions
    aliases: dict[str, str] = getattr(table, "subdivisions_aliases", {})
    by_key = {_key(name): code for name, code in aliases.items()}
    by_key.update({_key(code): code for code in subdivisions})
    subdivision = by_key.get(_key(subdivision_text))
    if subdivision is None:
        if not subdivisions:
            raise ValueError(f"{country} has no subdivisions; use {country!r}")
        found = difflib.get_close_matches(_key(subdivision_text), list(by_key), n=1)
        near = by_key[found[0]] if found else subdivisions[0]
        raise ValueError(
            f"{country} has no subdivision {subdivision_text.strip()!r}; "
            f"did you mean '{country}-{near}'?"
        )
    return f"{country}-{subdivision}"


def _key(text: str) -> str:
    return "_".join(text.split()).lower()


def _country_codes(countries: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Every way the package names a country (its code, three-letter code, other codes and
    name), lowered, to its two-letter code."""
    codes: dict[str, str] = {}
    for name, (_, code, *others) in countries.items():
        codes[name] = code
        for other in (code, *others):
            if len(other) <= 3:
                codes[other.lower()] = code
    return codes


def _nearest(text: str, codes: dict[str, str]) -> str:
    found = difflib.get_close_matches(_key(text), list(codes), n=1)
    return f"did you mean {codes[found[0]]!r}?" if found else f"use {_WHAT}"
