"""Exporting a queue view (filter + sort) to CSV or JSON: one column set and one encoder
for the screen's export and `wo-tui orders list --format csv|json`.

Files are written atomically (a temporary file in the same directory, then a rename), so
a reader never sees half a file; every value is cleaned of control characters, and a CSV
cell that a spreadsheet would run as a formula is made text (docs/cli.md, "CSV and JSON").
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import stat
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from wo_tui.core.errors import InvalidInput
from wo_tui.core.queue_types import QueueFilter, QueueRow, SortOrder
from wo_tui.core.sanitize import clean_text
from wo_tui.core.statuses import Priority

if TYPE_CHECKING:
    from sqlalchemy import Connection

EXPORT_HEADERS = (
    "number",
    "type",
    "status",
    "priority",
    "customer",
    "address",
    "site_id",
    "meter",
    "scheduled",
    "assignee",
    "due",
    "overdue",
)
"""The columns of an export (and of `orders list`), in order."""

EXPORT_FORMATS = ("csv", "json")


def record(row: QueueRow, today: date) -> tuple[Any, ...]:
    """One queue row as the values of EXPORT_HEADERS."""
    return (
        row.number,
        row.type_code,
        row.status,
        Priority(row.priority).label,
        row.customer_name,
        row.site_address,
        row.site_id,
        row.meter_number,
        row.scheduled_date,
        row.assignee_name,
        row.due_date,
        row.is_overdue(today),
    )


def matching_rows(
    conn: Connection,
    flt: QueueFilter,
    sort: SortOrder,
    today: date,
    limit: int | None = None,
    *,
    window: int = 500,
) -> Iterator[QueueRow]:
    """Every row the filter matches, in the sort order, read in keyset windows (never all
    in memory at once)."""
    from wo_tui.core import queue

    after = None
    sent = 0
    while limit is None or sent < limit:
        size = window if limit is None else min(window, limit - sent)
        found = queue.fetch_window(conn, flt, sort, today, after=after, limit=size)
        yield from found.rows
        sent += len(found.rows)
        if not found.has_after or not found.rows:
            return
        after = sort.key_of(found.rows[-1])


def plain(value: Any) -> str:
    """A value as one line of safe text (the CSV cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return clean_text(str(value))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet takes a cell beginning with for a formula (OWASP, "CSV Injection")."""


def csv_cell(value: Any) -> str:
    """A value as a CSV cell: `plain`, with a `'` in front of a cell that begins (after
    any spaces) with one of FORMULA_STARTS, so that a spreadsheet shows it as text instead
    of running it (`=cmd|' /C calc'!A0`, `+1+1`, `-2`, `@SUM(A1)`)."""
    cell = plain(value)
    return "'" + cell if cell.lstrip(" ").startswith(FORMULA_STARTS) else cell


def json_value(value: Any) -> Any:
    """A value as JSON takes it (dates as ISO text, text cleaned)."""
    if isinstance(value, date | time | datetime):
        return value.isoformat()
    if isinstance(value, str):
        return clean_text(value, multiline=True)
    return value


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO) -> int:
    """Write a header and the rows as CSV (every cell through `csv_cell`); returns how many
    rows. Every CSV wo-tui writes is written here."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_cell(h) for h in headers])
    count = 0
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        count += 1
    return count


def write_json(headers: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO) -> int:
    """Write the rows as a JSON array of objects, one per line; returns how many rows."""
    count = 0
    out.write("[")
    for row in rows:
        item = {h: json_value(v) for h, v in zip(headers, row, strict=True)}
        out.write(("\n  " if count == 0 else ",\n  ") + json.dumps(item, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def format_for(path: str | Path) -> str:
    """The export format named by a file's extension (.csv or .json)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in EXPORT_FORMATS:
        raise InvalidInput({"path": f"end the file name in .csv or .json (got {str(path)!r})"})
    return suffix


EXPORT_MODE = 0o644
"""A new export file's permissions, less the umask: the owner may change it, others (as
the umask allows) may read it, e.g. a colleague it is shared with; nobody else may change
it. A file written over keeps its own permissions (docs/cli.md, "CSV and JSON")."""


def export_file(
    path: str | Path, rows: Iterable[Sequence[Any]], fmt: str | None = None
) -> tuple[Path, int]:
    """Write the rows (values of EXPORT_HEADERS) to `path` atomically; returns the full
    path and the row count. InvalidInput names a missing or unwritable directory."""
    target = Path(path).expanduser()
    fmt = fmt or format_for(target)
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput({"format": f"unknown format {fmt!r}; use csv or json"})
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidInput({"path": f"the folder {str(folder)!r} does not exist"})
    if target.is_dir():
        raise InvalidInput({"path": f"{str(target)!r} is a folder; give a file name"})
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput({"path": f"cannot write in the folder {str(folder)!r}"})
    temp = folder / f".{target.name}.{secrets.token_hex(8)}.tmp"
    try:
        # The kernel takes the umask off EXPORT_MODE: the process's umask, shared by every
        # thread, is never read or changed.
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, EXPORT_MODE)
    except OSError as exc:
        raise InvalidInput({"path": f"cannot write in {str(folder)!r}: {exc.strerror}"}) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            _keep_permissions(target, out.fileno())
            writer = write_csv if fmt == "csv" else write_json
            count = writer(EXPORT_HEADERS, rows, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target.resolve(), count


def _keep_permissions(target: Path, handle: int) -> None:
    """Give the new file the permissions of the file it replaces, if there is one (a
    re-export never opens up a file someone made private)."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return
    os.fchmod(handle, mode & 0o777)
