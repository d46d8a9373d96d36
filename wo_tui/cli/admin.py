"""`wo-tui` (the app), `demo`, `db`, `config`, `seed`, `technicians` and `events`."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from wo_tui.cli.counts import check_count, count_help
from wo_tui.cli.output import FORMATS, plain, write_rows
from wo_tui.cli.runtime import (
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    CommandError,
    Runtime,
    database_error,
    explain,
)
from wo_tui.core.errors import NotFound, WorkOrderError
from wo_tui.core.numbers import MAX_ORDER_ID
from wo_tui.core.queue_types import QueueFilter, SortOrder
from wo_tui.core.statuses import AssigneeKind, EventStatus


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add every command that is not about orders."""
    p = commands.add_parser("demo", parents=[common], help="the app on a throw-away demo database")
    p.add_argument(
        "--orders",
        type=int,
        default=300,
        help=count_help("how many demo orders", least=1, default=300),
    )
    p.add_argument("--keep", metavar="PATH", help="keep the demo database at PATH")
    p.set_defaults(handler=cmd_demo)

    db = commands.add_parser("db", help="create or upgrade the database")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    p = db_sub.add_parser("upgrade", parents=[common], help="create or upgrade the schema")
    p.set_defaults(handler=cmd_db_upgrade)
    p = db_sub.add_parser("current", parents=[common], help="print the schema revision")
    p.set_defaults(handler=cmd_db_current)

    config = commands.add_parser("config", help="check or locate the configuration")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    p = config_sub.add_parser("check", parents=[common], help="validate and print the settings")
    p.set_defaults(handler=cmd_config_check)
    p = config_sub.add_parser("locate", parents=[common], help="which config file is used")
    p.set_defaults(handler=cmd_config_locate)

    p = commands.add_parser("seed", parents=[common], help="add realistic synthetic data")
    p.add_argument(
        "--orders",
        type=int,
        default=1000,
        help=count_help("how many orders", least=0, default=1000),
    )
    p.add_argument(
        "--events",
        type=int,
        default=0,
        help=count_help("also add this many pending billing events", least=0, default=0),
    )
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    p.set_defaults(handler=cmd_seed)

    tech = commands.add_parser("technicians", help="who orders can be assigned to")
    tech_sub = tech.add_subparsers(dest="tech_command", metavar="ACTION", required=True)
    p = tech_sub.add_parser("add", parents=[common], help="add a technician or partner")
    p.add_argument("name")
    p.add_argument("--kind", choices=[k.value for k in AssigneeKind], default="internal")
    p.add_argument("--email", required=True)
    p.add_argument("--phone")
    p.set_defaults(handler=cmd_tech_add)
    p = tech_sub.add_parser("list", parents=[common], help="list technicians and partners")
    p.add_argument("--all", action="store_true", help="include deactivated ones")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(handler=cmd_tech_list)
    p = tech_sub.add_parser("edit", parents=[common], help="change a name, email, phone or kind")
    p.add_argument("name")
    p.add_argument("--name", dest="new_name", metavar="NEW_NAME", help="a new name")
    p.add_argument("--email", help="a new email (unsent emails follow it)")
    p.add_argument("--phone", help="a new phone number ('' clears it)")
    p.add_argument("--kind", choices=[k.value for k in AssigneeKind])
    p.set_defaults(handler=cmd_tech_edit)
    for verb, active in (("deactivate", False), ("activate", True)):
        p = tech_sub.add_parser(verb, parents=[common], help=f"{verb} an assignee")
        p.add_argument("name")
        p.set_defaults(handler=cmd_tech_active, active=active)

    events = commands.add_parser("events", help="billing events")
    events_sub = events.add_subparsers(dest="events_command", metavar="ACTION", required=True)
    p = events_sub.add_parser("add", parents=[common], help="append an event (as billing does)")
    p.add_argument("event_type", metavar="TYPE", help="e.g. move_in, move_out")
    p.add_argument("--ref", help="the billing system's id (unique; default: generated)")
    p.add_argument("--account")
    p.add_argument("--customer")
    p.add_argument("--address")
    p.add_argument("--site-id")
    p.add_argument("--meter")
    p.add_argument("--life-support", action="store_true")
    p.add_argument("--payload", help="JSON text")
    p.set_defaults(handler=cmd_events_add)
    p = events_sub.add_parser("list", parents=[common], help="list events")
    p.add_argument("--status", choices=[s.value for s in EventStatus])
    p.add_argument("--limit", type=int, default=None, help=count_help("at most this many", least=1))
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(handler=cmd_events_list)
    p = events_sub.add_parser("retry", parents=[common], help="put dead events back in the queue")
    p.add_argument("event_ids", metavar="ID", type=int, nargs="+")
    p.set_defaults(handler=cmd_events_retry)
    p = events_sub.add_parser("discard", parents=[common], help="give up on dead events")
    p.add_argument("event_ids", metavar="ID", type=int, nargs="+")
    p.add_argument("--reason", required=True, help="why (kept with the event)")
    p.set_defaults(handler=cmd_events_discard)


def cmd_app(runtime: Runtime, args: argparse.Namespace) -> int:
    """Open the full-screen app. Its first rows are read here, before Textual is loaded,
    with the sqlite3 module (`first_window`): the first frame does not wait for SQLAlchemy,
    which the first read after it loads. Any other database, or an SQLite one that needs
    an upgrade, is opened the usual way first."""
    from wo_tui.core.first_window import read_first_window
    from wo_tui.tui.queue_view import Snapshot, first_read_size
    from wo_tui.tui.terminal import apply_color_mode

    settings = runtime.settings
    limit = first_read_size(shutil.get_terminal_size().lines)
    window = read_first_window(settings.database.resolved_url(), limit)
    ctx = runtime.context(seen_current=window is not None)
    first = None
    if window is not None:
        first = Snapshot(QueueFilter(), SortOrder(), False, None, limit, window, total=-1)
    apply_color_mode(settings.ui.color_mode)
    from wo_tui.tui.app import make_app

    make_app(settings, ctx, first_read=first).run()
    return EXIT_OK


def cmd_demo(runtime: Runtime, args: argparse.Namespace) -> int:
    """Create a demo database (orders, technicians, pending events) and open the app."""
    from wo_tui.core.seed import seed_events, seed_orders

    check_count("--orders", args.orders, least=1)
    if getattr(args, "db", None):
        raise CommandError(
            "the demo makes its own SQLite database; leave out --db (--keep PATH keeps it)"
        )
    with tempfile.TemporaryDirectory(prefix="wo-tui-demo-") as scratch:
        path = Path(args.keep).expanduser() if args.keep else Path(scratch) / "demo.db"
        if args.keep and path.exists():
            raise CommandError(f"{path} already exists; choose another --keep path")
        runtime.db_url = str(path)
        runtime._settings = None
        ctx = runtime.context(create=True)
        seed_orders(ctx, args.orders, seed=7)
        seed_events(ctx, 12, seed=7)
        cmd_app(runtime, args)
        runtime.close()
    return EXIT_OK


def cmd_db_upgrade(runtime: Runtime, args: argparse.Namespace) -> int:
    """Create or upgrade the schema (and the SQLite file and its folders if need be)."""
    from wo_tui.core import schema

    db = runtime.database(upgrade_embedded=False, create=True)
    try:
        before, after = schema.upgrade(db)
    except schema.NewerSchema as exc:
        raise database_error(db, exc) from None
    except Exception as exc:
        raise CommandError(f"cannot upgrade {db.display_url}: {explain(exc)}") from None
    if before == after:
        print(f"{db.display_url}: already at revision {after}")
    else:
        print(f"{db.display_url}: upgraded from {before or 'empty'} to {after}")
    return EXIT_OK


def cmd_db_current(runtime: Runtime, args: argparse.Namespace) -> int:
    """Print the schema revision."""
    from wo_tui.core import schema

    db = runtime.database(upgrade_embedded=False)
    try:
        current = schema.current_revision(db)
        schema.require_known(current)
    except schema.NewerSchema as exc:
        raise database_error(db, exc) from None
    except Exception as exc:  # e.g. the server cannot be reached
        raise CommandError(f"cannot read {db.display_url}: {explain(exc)}") from None
    print(f"{db.display_url}: {current or 'empty'} (newest: {schema.SCHEMA_HEAD})")
    return EXIT_OK if current == schema.SCHEMA_HEAD else EXIT_PARTIAL


def cmd_config_check(runtime: Runtime, args: argparse.Namespace) -> int:
    """Load the settings, report every problem or print them (secrets masked). The event
    rules' work-order types are checked against the database when it can be opened, else
    against the types a new database gets."""
    from wo_tui.config import ConfigError, describe, locate_config, order_type_problems

    settings = runtime.settings
    runtime.refuse_missing_file()
    known, source = _known_order_types(runtime)
    if problems := order_type_problems(settings, known):
        raise ConfigError(problems)
    path, why = locate_config(runtime.config_path)
    print(f"config file: {path or '(none)'} ({why})")
    print(describe(settings))
    print(f"event rules: work-order types checked against {source}")
    print("configuration is valid")
    return EXIT_OK


def _known_order_types(runtime: Runtime) -> tuple[set[str], str]:
    """The active work-order types and where they were read: the configured database if
    it can be read at the newest schema (never creating it), else the shipped migrations."""
    from wo_tui.core import schema
    from wo_tui.core.db import Database, sqlite_file

    url = runtime.settings.database.resolved_url()
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        reason = f"there is no file {path}"
    else:
        db = Database(url, pool_size=1)
        try:
            schema.require_current(db)
            return schema.active_type_codes(db), f"the database {db.display_url}"
        except Exception as exc:
            known = (schema.NewerSchema, schema.NotCurrent)
            reason = str(exc) if isinstance(exc, known) else explain(exc)
        finally:
            db.dispose()
    note = f"the database cannot be read: {reason}"
    return schema.new_database_type_codes(), f"the types a new database gets ({note})"


def cmd_config_locate(runtime: Runtime, args: argparse.Namespace) -> int:
    """Print the config file that would be used, and why."""
    from wo_tui.config import locate_config

    runtime.warn_environment()
    path, why = locate_config(runtime.config_path)
    print(f"{path or '(none)'}\t{why}")
    if path is not None and not path.exists():
        print(f"wo-tui: {path} does not exist", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def cmd_seed(runtime: Runtime, args: argparse.Namespace) -> int:
    """Add synthetic technicians, orders and events."""
    from wo_tui.core.seed import seed_events, seed_orders

    check_count("--orders", args.orders, least=0)
    check_count("--events", args.events, least=0)
    ctx = runtime.context(create=True)
    made = seed_orders(ctx, args.orders, seed=args.seed)
    events = seed_events(ctx, args.events, seed=args.seed) if args.events else 0
    print(f"added {made} orders and {events} events to {ctx.db.display_url}")
    return EXIT_OK


def cmd_tech_add(runtime: Runtime, args: argparse.Namespace) -> int:
    """Add a technician or partner provider."""
    from wo_tui.core.assignees import add_assignee

    try:
        add_assignee(runtime.context(), args.name, args.kind, args.email, args.phone)
    except WorkOrderError as exc:
        raise CommandError.from_service(exc) from None
    print(f"added {args.kind} {plain(args.name).strip()}")
    return EXIT_OK


def cmd_tech_list(runtime: Runtime, args: argparse.Namespace) -> int:
    """List technicians and partners."""
    from wo_tui.core.assignees import list_assignees

    with runtime.database().read() as conn:
        rows = list_assignees(conn, include_inactive=args.all)
    write_rows(
        ("name", "kind", "email", "phone", "active"),
        ((r["name"], r["kind"], r["email"], r["phone"], r["active"]) for r in rows),
        args.format,
    )
    return EXIT_OK


def cmd_tech_edit(runtime: Runtime, args: argparse.Namespace) -> int:
    """Change a technician's or partner's details."""
    from wo_tui.core.assignees import edit_assignee

    try:
        changed = edit_assignee(
            runtime.context(),
            args.name,
            new_name=args.new_name,
            email=args.email,
            phone=args.phone,
            kind=args.kind,
        )
    except WorkOrderError as exc:
        raise CommandError.from_service(exc) from None
    shown = plain(args.new_name or args.name).strip()
    print(f"{shown}: {'changed ' + ', '.join(changed) if changed else 'nothing changed'}")
    return EXIT_OK


def cmd_tech_active(runtime: Runtime, args: argparse.Namespace) -> int:
    """Deactivate or reactivate an assignee."""
    from wo_tui.core.assignees import set_active

    try:
        set_active(runtime.context(), args.name, args.active)
    except WorkOrderError as exc:
        raise CommandError.from_service(exc) from None
    print(f"{plain(args.name).strip()}: {'active' if args.active else 'deactivated'}")
    return EXIT_OK


def cmd_events_add(runtime: Runtime, args: argparse.Namespace) -> int:
    """Append a billing event; refuses an event type no rule knows."""
    from wo_tui.core.events import add_event

    rules = runtime.settings.events.rules
    kind = args.event_type.strip().lower()
    if kind not in rules:
        raise CommandError(
            f"unknown event type {args.event_type!r}; configured types: {', '.join(sorted(rules))}"
        )
    try:
        event_id = add_event(
            runtime.context(),
            kind,
            external_ref=args.ref,
            life_support=args.life_support,
            payload=args.payload,
            account_number=args.account,
            customer_name=args.customer,
            site_address=args.address,
            site_id=args.site_id,
            meter_number=args.meter,
        )
    except WorkOrderError as exc:
        raise CommandError.from_service(exc) from None
    print(f"event {event_id} added ({kind})")
    return EXIT_OK


def cmd_events_list(runtime: Runtime, args: argparse.Namespace) -> int:
    """List events, newest first."""
    from wo_tui.core.events import list_events

    check_count("--limit", args.limit, least=1)
    status = EventStatus(args.status) if args.status else None
    with runtime.database().read() as conn:
        rows = list_events(conn, status=status, limit=args.limit)
    headers = (
        "id",
        "event_type",
        "external_ref",
        "status",
        "attempts",
        "occurred_at",
        "site_id",
        "customer_name",
        "work_order_id",
        "last_error",
    )
    # The error is what a person reads a dead event's row for: give it room.
    rows_out = ([r[h] for h in headers] for r in rows)
    write_rows(headers, rows_out, args.format, widths={"last_error": 200})
    return EXIT_OK


def cmd_events_retry(runtime: Runtime, args: argparse.Namespace) -> int:
    """Put dead events back in the queue (the poller takes them on its next round)."""
    from wo_tui.core.events import retry_event

    ctx = runtime.context()
    return _each_event(args.event_ids, "retried", lambda event_id: retry_event(ctx, event_id))


def cmd_events_discard(runtime: Runtime, args: argparse.Namespace) -> int:
    """Give up on dead events, keeping the reason."""
    from wo_tui.core.events import discard_event

    if not plain(args.reason).strip():
        raise CommandError("invalid input\n  reason: say why the event is discarded")
    ctx = runtime.context()
    return _each_event(
        args.event_ids, "discarded", lambda event_id: discard_event(ctx, event_id, args.reason)
    )


def _each_event(event_ids: list[int], done: str, action: Any) -> int:
    """Run `action` on each id: "event N  <done>" on stdout, "event N  skipped: why" on
    stderr; exit 1 if any was skipped."""
    status = EXIT_OK
    for event_id in dict.fromkeys(event_ids):
        try:
            if not 0 < event_id <= MAX_ORDER_ID:  # no database could hold it: no such event
                raise NotFound(f"there is no event {event_id} (see `wo-tui events list`)")
            action(event_id)
        except WorkOrderError as exc:
            print(f"event {event_id}  skipped: {exc}", file=sys.stderr)
            status = EXIT_PARTIAL
        else:
            print(f"event {event_id}  {done}")
    return status
