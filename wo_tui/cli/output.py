"""Printing rows as a plain table, CSV or JSON. Every value is cleaned of control
characters first: this output lands in terminals and scripts."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any, TextIO

from wo_tui.core.sanitize import clean_text

FORMATS = ("table", "csv", "json")


def plain(value: Any) -> str:
    """A value as one line of safe text."""
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


def _json_value(value: Any) -> Any:
    if isinstance(value, date | time | datetime):
        return value.isoformat()
    if isinstance(value, str):
        return clean_text(value, multiline=True)
    return value


def write_rows(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    fmt: str,
    out: TextIO | None = None,
    *,
    widths: dict[str, int] | None = None,
) -> int:
    """Write rows in `fmt`; returns how many were written. Tables truncate long cells to
    the given widths; CSV and JSON never truncate."""
    out = out or sys.stdout
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(headers)
        for row in rows:
            writer.writerow([plain(v) for v in row])
            count += 1
    elif fmt == "json":
        out.write("[")
        for row in rows:
            record = {h: _json_value(v) for h, v in zip(headers, row, strict=True)}
            out.write(("\n  " if count == 0 else ",\n  ") + json.dumps(record, ensure_ascii=False))
            count += 1
        out.write("\n]\n" if count else "]\n")
    else:
        materialised = [[plain(v) for v in row] for row in rows]
        limits = widths or {}
        sizes = [
            min(max([len(h), *(len(r[i]) for r in materialised)]), limits.get(h, 60))
            for i, h in enumerate(headers)
        ]

        def line(cells: Sequence[str]) -> str:
            parts = [
                (c if len(c) <= w else c[: w - 1] + "…").ljust(w)
                for c, w in zip(cells, sizes, strict=True)
            ]
            return "  ".join(parts).rstrip()

        out.write(line(headers) + "\n")
        for row in materialised:
            out.write(line(row) + "\n")
        count = len(materialised)
    return count
