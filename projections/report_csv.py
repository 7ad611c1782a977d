"""Reports as CSV files: ``csv`` for programs, ``csv-excel`` for a Swedish office (the CLI's
``--format`` and the API's ``?format=`` both write through here; docs/reports.md).

``csv`` is RFC 4180 for programs (comma, decimal point, UTF-8 without BOM). ``csv-excel`` is
what a Swedish Excel opens with a double click without the import wizard: UTF-8 with a byte
order mark (otherwise å, ä, ö come out garbled), ``;`` as separator and a decimal comma
(Swedish Excel's list separator is ``;`` because ``,`` is its decimal sign), CRLF line ends,
dates kept ISO 8601 (Excel recognises ``2026-03-31`` in a Swedish locale), booleans
``ja``/``nej``, and a text cell that starts like a formula (``=``, ``+``, ``-``, ``@``) quoted
with ``'`` so a name or free text can never run as one.

Both variants lead every row with the metadata columns of ``META_COLUMNS``: one sheet and no
comment lines a spreadsheet or an upload would trip over, and each row still says which report,
kommun and period it belongs to after sorting, filtering or pasting into another sheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

CSV_FORMATS = ("csv", "csv-excel")
#: The byte order mark Excel needs to read a CSV file as UTF-8.
BOM = "\ufeff"
#: The metadata columns both CSV variants lead with (``kant_per`` only when ``--known-at``).
META_COLUMNS = ("rapport", "kommun", "period", "per_datum", "kant_per")
#: The first characters Excel reads as a formula: a text cell starting with one is quoted.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def report_meta(doc: Mapping[str, Any]) -> dict[str, str]:
    """The metadata a report document states about itself: name, title, kommun, period label,
    the legal date it is reckoned to (the period's last day) and the known-at time (or "")."""
    period = doc.get("period") or {}
    return {
        "rapport": str(doc.get("report", "")),
        "title": str(doc.get("title", "")),
        "kommun": str(doc.get("kommun", "")),
        "period": str(period.get("label", "")),
        "per_datum": str(period.get("end", "")),
        "kant_per": str(doc.get("known_at") or ""),
    }


def to_csv(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    meta: Mapping[str, str] | None = None,
    *,
    excel: bool = False,
) -> str:
    """The rows as CSV (``excel``: the Swedish Excel variant, BOM first); with ``meta``
    (``report_meta``) every row leads with the metadata columns."""
    if excel:
        return BOM + _csv(rows, columns, meta, delimiter=";", cell=_excel)
    return _csv(rows, columns, meta, delimiter=",", cell=_plain)


def _meta_columns(meta: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(c for c in META_COLUMNS if c != "kant_per" or meta.get("kant_per"))


def _csv(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    meta: Mapping[str, str] | None,
    *,
    delimiter: str,
    cell: Callable[[object], object],
) -> str:
    lead = _meta_columns(meta) if meta is not None else ()
    buf = io.StringIO()
    writer = csv.writer(
        buf, delimiter=delimiter, lineterminator="\r\n" if delimiter == ";" else "\n"
    )
    writer.writerow([*lead, *columns])
    lead_cells = [meta[c] for c in lead] if meta is not None else []
    for row in rows:
        writer.writerow([*lead_cells, *(cell(row.get(c)) for c in columns)])
    return buf.getvalue().rstrip("\r\n")


def _plain(value: object) -> object:
    """As ``csv.DictWriter`` wrote it before: ``None`` empty, the rest ``str()``."""
    return "" if value is None else value


def _excel(value: object) -> str:
    """A cell as Swedish Excel reads it: decimal comma, ja/nej, formula characters quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    if isinstance(value, int):
        return str(value)
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    if text.startswith(_FORMULA) and text not in ("-", "+"):
        return "'" + text
    return text
