"""`wo-tui orders ...`: list, show, create, complete, cancel, reopen, hold, assign."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from wo_tui.cli.counts import check_count, count_help
from wo_tui.cli.output import FORMATS, plain, write_rows
from wo_tui.cli.runtime import EXIT_OK, EXIT_PARTIAL, CommandError, Runtime
from wo_tui.core import dates
from wo_tui.core.errors import InvalidInput, WorkOrderError
from wo_tui.core.export import EXPORT_HEADERS, matching_rows, record
from wo_tui.core.numbers import format_number, parse_number
from wo_tui.core.outcomes import BatchResult, Result
from wo_tui.core.queue_types import SORT_COLUMNS, QueueFilter, SortOrder, parse_filter
from wo_tui.core.statuses import CancelReason, Outcome, Priority

LIST_HEADERS = EXPORT_HEADERS
TABLE_WIDTHS = {"customer": 22, "address": 34, "assignee": 18, "type": 19}


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `orders` and its sub-commands."""
    group = commands.add_parser("orders", help="list, show and change work orders")
    sub = group.add_subparsers(dest="orders_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", parents=[common], help="the open queue (or all orders)")
    p.add_argument("--all", action="store_true", help="include completed and cancelled")
    p.add_argument("--status", action="append", default=[], help="e.g. new, sent, on_hold")
    p.add_argument("--type", action="append", default=[], help="e.g. RECONNECT")
    p.add_argument("--filter", default="", help='filter language, e.g. "overdue tech:sam"')
    p.add_argument("--sort", default="priority", choices=sorted(SORT_COLUMNS))
    p.add_argument("--reverse", action="store_true", help="sort descending")
    p.add_argument("--limit", type=int, default=None, help=count_help("at most this many", least=1))
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("show", parents=[common], help="every field, history and notes")
    p.add_argument("number")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("create", parents=[common], help="create an order")
    p.add_argument("--type", required=True, dest="type_code")
    p.add_argument("--priority", help="High, Medium or Low (default: the type's)")
    for name in (
        "account",
        "customer",
        "address",
        "site-id",
        "meter",
        "meter-location",
        "instructions",
        "materials",
        "access",
        "hazards",
    ):
        p.add_argument(f"--{name}")
    p.add_argument("--preferred-date", metavar="DATE")
    p.add_argument("--scheduled-date", metavar="DATE")
    p.add_argument("--due-date", metavar="DATE", help="default: from the type's SLA")
    p.add_argument("--window", metavar="HH:MM-HH:MM", help="scheduled time window")
    p.add_argument("--service-time", choices=("any", "business_hours", "after_hours"))
    p.add_argument("--life-support", action="store_true")
    p.add_argument("--assignee", metavar="NAME", help="assign now (queues the email)")
    p.set_defaults(handler=cmd_create)

    p = sub.add_parser("complete", parents=[common], help="complete orders")
    p.add_argument("numbers", nargs="+", metavar="WO")
    p.add_argument("--note")
    p.add_argument("--reading", help="the meter reading (one read-type order)")
    p.add_argument("--not-done", metavar="REASON", help="the job was not done, and why")
    p.add_argument("--life-support-override", metavar="REASON")
    p.set_defaults(handler=cmd_complete)

    p = sub.add_parser("cancel", parents=[common], help="cancel orders")
    p.add_argument("numbers", nargs="+", metavar="WO")
    p.add_argument(
        "--reason", required=True, help="one of: " + ", ".join(c.value for c in CancelReason)
    )
    p.add_argument("--note")
    p.add_argument("--life-support-override", metavar="REASON")
    p.set_defaults(handler=cmd_cancel)

    p = sub.add_parser("reopen", parents=[common], help="reopen closed orders")
    p.add_argument("numbers", nargs="+", metavar="WO")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_reopen)

    p = sub.add_parser("hold", parents=[common], help="put orders on hold")
    p.add_argument("numbers", nargs="+", metavar="WO")
    p.add_argument("--note", required=True)
    p.set_defaults(handler=cmd_hold)

    p = sub.add_parser("assign", parents=[common], help="assign an order and queue its email")
    p.add_argument("numbers", nargs="+", metavar="WO")
    p.add_argument("--to", required=True, metavar="NAME")
    p.add_argument("--date", metavar="DATE", help="scheduled date")
    p.add_argument("--note", help="needed when reassigning a SENT order")
    p.add_argument(
        "--life-support-override",
        metavar="REASON",
        help="send a disconnection at a life-support site anyway (one order; kept in history)",
    )
    p.set_defaults(handler=cmd_assign)


def _ids(numbers: list[str]) -> list[int]:
    try:
        return [parse_number(n) for n in numbers]
    except InvalidInput as exc:
        raise CommandError.from_service(exc) from None


def _date(runtime: Runtime, text: str | None, field: str) -> Any:
    if not text:
        return None
    try:
        return dates.parse_date(text, runtime.context().today())
    except ValueError as exc:
        raise CommandError(f"invalid input\n  {field}: {exc}") from None


def _report(batch: BatchResult) -> int:
    for outcome in batch.outcomes:
        detail = f": {outcome.detail}" if outcome.detail else ""
        stream = sys.stdout if outcome.result is Result.DONE else sys.stderr
        print(f"{outcome.number}  {outcome.result.value}{detail}", file=stream)
    print(batch.summary(), file=sys.stderr)
    return EXIT_OK if batch.all_done else EXIT_PARTIAL


def _rows(runtime: Runtime, flt: QueueFilter, sort: SortOrder, limit: int | None):
    """Stream the matching rows in keyset windows (never all in memory at once)."""
    ctx = runtime.context()
    with ctx.db.read() as conn:
        yield from matching_rows(conn, flt, sort, ctx.today(), limit)


def cmd_list(runtime: Runtime, args: argparse.Namespace) -> int:
    """Print the open queue (or every order with --all)."""
    words = [args.filter] + [f"status:{s}" for s in args.status] + [f"type:{t}" for t in args.type]
    try:
        flt = parse_filter(" ".join(words), include_closed=args.all)
        sort = SortOrder(args.sort, args.reverse)
    except InvalidInput as exc:
        raise CommandError.from_service(exc) from None
    check_count("--limit", args.limit, least=1)
    today = runtime.context().today()

    def records() -> Iterator[tuple[Any, ...]]:
        for r in _rows(runtime, flt, sort, args.limit):
            yield record(r, today)

    count = write_rows(LIST_HEADERS, records(), args.format, widths=TABLE_WIDTHS)
    if args.format == "table":
        print(f"{count} order{'s' if count != 1 else ''}", file=sys.stderr)
    return EXIT_OK


def cmd_show(runtime: Runtime, args: argparse.Namespace) -> int:
    """Print one order: every field, then its history, notes and emails."""
    from wo_tui.core.orders import get_order, order_history, order_notes

    (order_id,) = _ids([args.number])
    ctx = runtime.context()
    with ctx.db.read() as conn:
        try:
            order = get_order(conn, order_id)
        except WorkOrderError as exc:
            raise CommandError.from_service(exc) from None
        trail = order_history(conn, order_id)
        notes = order_notes(conn, order_id)
    print(f"{format_number(order_id)}  {order['type_code']}  {order['status']}")
    skip = {"id", "type_code", "status", "assignee_id"}
    for key, value in order.items():
        if key not in skip and value not in (None, ""):
            local = ctx.local(value) if isinstance(value, datetime) else value
            shown = Priority(value).label if key == "priority" else plain(local)
            print(f"  {key.replace('_', ' '):<20} {shown}")
    print("\nHistory:")
    for h in trail:
        why = f"  ({plain(h['reason'])})" if h["reason"] else ""
        change = f"{plain(h['old_value']) or '—'} → {plain(h['new_value'])}"
        print(f"  {plain(ctx.local(h['at']))}  {plain(h['actor'])}  {h['field']}: {change}{why}")
    if notes:
        print("\nNotes:")
        for n in notes:
            print(f"  {plain(ctx.local(n['at']))}  {plain(n['author'])}: {plain(n['body'])}")
    return EXIT_OK


def cmd_create(runtime: Runtime, args: argparse.Namespace) -> int:
    """Create one order and print its number."""
    from wo_tui.core.orders import create_order

    data: dict[str, Any] = {
        "type_code": args.type_code,
        "priority": args.priority,
        "account_number": args.account,
        "customer_name": args.customer,
        "site_address": args.address,
        "site_id": args.site_id,
        "meter_number": args.meter,
        "meter_location": args.meter_location,
        "instructions": args.instructions,
        "materials": args.materials,
        "access_details": args.access,
        "hazards": args.hazards,
        "preferred_date": _date(runtime, args.preferred_date, "preferred date"),
        "scheduled_date": _date(runtime, args.scheduled_date, "scheduled date"),
        "due_date": _date(runtime, args.due_date, "due date"),
        "service_time": args.service_time,
        "life_support": args.life_support or None,
        "assignee": args.assignee,
    }
    if args.window:
        try:
            data["window_start"], data["window_end"] = dates.parse_time_window(args.window)
        except ValueError as exc:
            raise CommandError(f"invalid input\n  window: {exc}") from None
    try:
        order_id = create_order(runtime.context(), {k: v for k, v in data.items() if v is not None})
    except WorkOrderError as exc:
        raise CommandError.from_service(exc) from None
    print(format_number(order_id))
    return EXIT_OK


def _batch(call: Any) -> int:
    try:
        return _report(call())
    except WorkOrderError as exc:
        raise CommandError.from_service(exc) from None


def cmd_complete(runtime: Runtime, args: argparse.Namespace) -> int:
    """Complete orders (reading for one read-type order; else 'reading to follow')."""
    from wo_tui.core.status_changes import bulk_complete

    ids = _ids(args.numbers)
    outcome = Outcome.NOT_DONE if args.not_done else Outcome.DONE
    return _batch(
        lambda: bulk_complete(
            runtime.context(),
            ids,
            note=args.note,
            reading=args.reading,
            outcome=outcome,
            outcome_reason=args.not_done,
            life_support_override=args.life_support_override,
        )
    )


def cmd_cancel(runtime: Runtime, args: argparse.Namespace) -> int:
    """Cancel orders with a reason code."""
    from wo_tui.core.status_changes import bulk_cancel

    ids = _ids(args.numbers)
    return _batch(
        lambda: bulk_cancel(
            runtime.context(),
            ids,
            args.reason,
            note=args.note,
            life_support_override=args.life_support_override,
        )
    )


def cmd_reopen(runtime: Runtime, args: argparse.Namespace) -> int:
    """Reopen closed orders with a reason."""
    from wo_tui.core.status_changes import reopen

    ids = _ids(args.numbers)
    return _batch(lambda: reopen(runtime.context(), ids, args.reason))


def cmd_hold(runtime: Runtime, args: argparse.Namespace) -> int:
    """Put orders on hold with a note."""
    from wo_tui.core.status_changes import hold

    ids = _ids(args.numbers)
    return _batch(lambda: hold(runtime.context(), ids, args.note))


def cmd_assign(runtime: Runtime, args: argparse.Namespace) -> int:
    """Assign orders to a technician or partner (each queues its email)."""
    from wo_tui.core.orders import assign

    ids = _ids(args.numbers)
    ctx = runtime.context()
    scheduled = _date(runtime, args.date, "date")
    override = args.life_support_override
    if override and len(ids) != 1:
        raise CommandError("--life-support-override is given for one order at a time", 2)
    status = EXIT_OK
    for order_id in ids:
        try:
            assign(
                ctx,
                order_id,
                args.to,
                scheduled_date=scheduled,
                note=args.note,
                life_support_override=override,
            )
            print(f"{format_number(order_id)}  assigned to {plain(args.to)}")
        except WorkOrderError as exc:
            print(f"{format_number(order_id)}  skipped: {exc}", file=sys.stderr)
            status = EXIT_PARTIAL
    return status
