"""Printing rows as a plain table, CSV or JSON. Every value is cleaned of control
characters first: this output lands in terminals and scripts."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from wo_tui.core.export import plain, write_csv, write_json

__all__ = ["FORMATS", "plain", "write_rows"]

FORMATS = ("table", "csv", "json")


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
    if fmt == "csv":
        return write_csv(headers, rows, out)
    if fmt == "json":
        return write_json(headers, rows, out)
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
    return len(materialised)
