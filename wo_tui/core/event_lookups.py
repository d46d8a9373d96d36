"""The look-ups the poller makes once per batch (never once per event): the open orders
that would make an event a duplicate, the non-payment disconnections that payments undo, and
the rules' default assignees. IN lists are chunked and go to the site-id index
(`EXPLAIN QUERY PLAN`: SEARCH work_orders USING INDEX ix_work_orders_site_id)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    RowMapping,
    any_,
    bindparam,
    func,
    select,
    text,
)

from wo_tui.core.models import assignees, open_status_clause, work_orders

NON_PAYMENT = "non_payment"
LOOKUP_CHUNK = 500
"""Values per IN list (well under every driver's parameter limit)."""

SiteKey = tuple[str, ...]


def site_key(values: Mapping[str, Any]) -> SiteKey | None:
    """Which site an order is for: its site id, else its account number and address."""
    if values.get("site_id"):
        return ("site", values["site_id"])
    if values.get("account_number") and values.get("site_address"):
        return ("account", values["account_number"], values["site_address"])
    return None


def payer(values: Mapping[str, Any]) -> list[SiteKey]:
    """The keys a payment is matched to its disconnection by: site id, else account."""
    if values.get("site_id"):
        return [("site", values["site_id"])]
    return [("account", values["account_number"])] if values.get("account_number") else []


def site_and_account(values: Mapping[str, Any]) -> list[SiteKey]:
    """Every key a later payment may find this disconnection by."""
    keys: list[SiteKey] = [("site", values["site_id"])] if values.get("site_id") else []
    if values.get("account_number"):
        keys.append(("account", values["account_number"]))
    return keys


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(set(values))
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start : start + LOOKUP_CHUNK]


def one_of(conn: Connection, column: Any, values: list[Any]) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)`: one parameter, so the
    statement text (and psycopg's parse of it) is the same whatever the batch holds."""
    if conn.dialect.name == "postgresql":
        array = bindparam(None, list(values), type_=ARRAY(column.type))
        return column == any_(array)
    return column.in_(values)


def lock_sites(conn: Connection, plans_values: Iterable[Mapping[str, Any]]) -> None:
    """PostgreSQL: take a transaction-scoped advisory lock per site id and per account of the
    batch, in one sorted order (no deadlock), before looking for duplicates and links. Two
    pollers working on the same site at the same moment then take turns, and the second sees
    the first's committed order. SQLite needs none: BEGIN IMMEDIATE lets one writer at a
    time."""
    if conn.dialect.name != "postgresql":
        return
    keys = sorted(
        {f"site:{v['site_id']}" for v in plans_values if v.get("site_id")}
        | {f"account:{v['account_number']}" for v in plans_values if v.get("account_number")}
    )
    if keys:
        conn.execute(
            text(
                "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtext(k) AS h "
                "FROM unnest(CAST(:keys AS text[])) AS k ORDER BY h) AS sites"
            ),
            {"keys": keys},
        )


def assignees_named(conn: Connection, names: set[str]) -> dict[str, RowMapping]:
    """The assignees with these names (case-folded), by case-folded name. Folded here, not
    with SQLite's lower(), which only knows ASCII; there are tens of assignees."""
    return {
        row["name"].casefold(): row
        for row in conn.execute(select(assignees)).mappings()
        if row["name"].casefold() in names
    }


def open_orders(conn: Connection, keys: set[tuple[SiteKey, str]]) -> dict[tuple[SiteKey, str], int]:
    """The oldest open order of each (site, type) asked for; one query per 500 sites (by the
    site-id index; sites known only by account and address need a scan of open orders)."""
    c = work_orders.c
    type_codes = sorted({t for _, t in keys})
    found: dict[tuple[SiteKey, str], int] = {}
    columns = (c.id, c.type_code, c.site_id, c.account_number, c.site_address)
    site_ids = [site[1] for site, _ in keys if site[0] == "site"]
    accounts = [site[1] for site, _ in keys if site[0] == "account"]
    queries = [
        select(*columns).where(one_of(conn, c.site_id, chunk), c.type_code.in_(type_codes))
        for chunk in _chunks(site_ids)
    ] + [
        select(*columns).where(
            c.site_id.is_(None),
            one_of(conn, c.account_number, chunk),
            c.type_code.in_(type_codes),
        )
        for chunk in _chunks(accounts)
    ]
    for query in queries:
        rows = conn.execute(query.where(open_status_clause()).order_by(c.id.desc())).mappings()
        for row in rows:  # newest first: the oldest open order of a key wins
            site = site_key(dict(row))
            if site is not None and (site, row["type_code"]) in keys:
                found[(site, row["type_code"])] = int(row["id"])
    return found


def non_payment_disconnections(conn: Connection, payers: list[list[SiteKey]]) -> dict[SiteKey, int]:
    """The newest DISCONNECT made from a non-payment event, by site id and by account."""
    c = work_orders.c
    wanted = {key for keys in payers for key in keys}
    found: dict[SiteKey, int] = {}
    for kind, column in (("site", c.site_id), ("account", c.account_number)):
        for chunk in _chunks(k[1] for k in wanted if k[0] == kind):
            query = (
                select(column, func.max(c.id))
                .where(
                    one_of(conn, column, chunk),
                    c.type_code == "DISCONNECT",
                    c.source == NON_PAYMENT,
                )
                .group_by(column)
            )
            found.update({(kind, value): int(top) for value, top in conn.execute(query)})
    return found
