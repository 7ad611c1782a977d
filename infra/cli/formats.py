"""Rendering report rows for people (table), machines (json) and spreadsheets (csv, csv-excel:
``projections.report_csv`` writes both, the API uses it too).

A report states what it is (docs/reports.md, "What every report says about itself"): given the
report's metadata the table has header lines above it and both CSV variants lead every row with
the metadata columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from projections.report_csv import to_csv

FORMATS = ("table", "json", "csv", "csv-excel")
#: The metadata lines above a table: (label, key).
_TABLE_META = (
    ("Rapport", "title"),
    ("Kommun", "kommun"),
    ("Period", "period"),
    ("Per datum", "per_datum"),
    ("Känt per", "kant_per"),
)


def render(
    rows: Sequence[dict[str, Any]],
    fmt: str,
    columns: Sequence[str],
    meta: Mapping[str, str] | None = None,
) -> str:
    """``rows`` in ``fmt``; with ``meta`` (``report_meta``) the table and the CSVs state it."""
    if fmt == "json":
        return orjson.dumps(list(rows), option=orjson.OPT_INDENT_2).decode()
    if fmt in ("csv", "csv-excel"):
        return to_csv(rows, columns, meta, excel=fmt == "csv-excel")
    if meta is None:
        return table(rows, columns)
    head = [f"{label}: {meta[key]}" for label, key in _TABLE_META if meta.get(key)]
    return "\n".join([*head, "", table(rows, columns)])


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    if not rows:
        lines.append("(no rows)")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "ja" if value else "nej"
    return str(value)
