"""The file handed in to Socialstyrelsen: swappable writers (docs/reports.md "arsstatistik").

Socialstyrelsen's technical layout of the file (field order, codes, widths) is not public to us,
so the writer is a documented class behind one small interface (``ReturnLayout``), chosen by
name (``LAYOUTS``): ``csv`` (one header line with the rule set's variable names, ``;``-separated,
UTF-8, ISO dates) and ``fast`` (fixed width, the widths in ``FIXED_WIDTHS``, dates ``ÅÅÅÅMMDD``,
no header). A kommun that receives the real layout adds a class here and registers it; the
records, the validator and the rule sets stay as they are.

Values: a boolean is ``1``/``0``, an empty value is empty (csv) or blanks (fast); codes are the
rule set's (``RuleSet.insatstyper``, ``placeringsformer``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Protocol

from domain.returns.model import Record, RuleSet

#: One line of the file: variable -> value (``None``: empty).
Line = Mapping[str, object]


class LayoutError(ValueError):
    """A value the layout cannot carry (too long for its fixed width); names the variable."""


def file_line(rules: RuleSet, r: Record, barn_id: str, id_typ: str) -> dict[str, object]:
    """The record as the rule set's variables (codes mapped, identifier added)."""
    values: dict[str, object] = {
        "kommun": r.kommun,
        "barn_id": barn_id,
        "id_typ": id_typ,
        "kon": r.kon,
        "fodelsedatum": r.fodelsedatum,
        "insatstyp": rules.insatstyper.get(r.insatstyp or "", r.insatstyp),
        "lagrum_form": r.lagrum_form,
        "lagrum": r.lagrum,
        "beslutsdatum": r.beslutsdatum,
        "start": r.start,
        "slut": r.slut,
        "placeringsform": rules.placeringsformer.get(r.placeringsform or "", r.placeringsform),
        "omplaceringar": r.omplaceringar,
        "ensamkommande": r.ensamkommande,
        "vardnadshavare": None,  # not in barnflow's event contract (RuleSet.ej_i_kontraktet)
        "fodelseland": None,
        "vistelsekommun": r.vistelsekommun,
    }
    return {v: values.get(v) for v in rules.variables}


def _text(value: object, *, compact_dates: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.strftime("%Y%m%d") if compact_dates else value.isoformat()
    return str(value)


class ReturnLayout(Protocol):
    """A file layout: its name, file suffix, and the bytes of a year's lines."""

    name: str
    suffix: str

    def write(self, rules: RuleSet, lines: Sequence[Line]) -> bytes: ...


class CsvLayout:
    """``;``-separated, one header line of variable names, UTF-8 without BOM, CRLF, ISO dates."""

    name = "csv"
    suffix = ".csv"

    def write(self, rules: RuleSet, lines: Sequence[Line]) -> bytes:
        buf = io.StringIO()
        out = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        out.writerow(rules.variables)
        for line in lines:
            out.writerow([_text(line.get(v), compact_dates=False) for v in rules.variables])
        return buf.getvalue().encode("utf-8")


#: Widths of the fixed layout, in characters (a variable not listed: 20).
FIXED_WIDTHS: Mapping[str, int] = {
    "kommun": 4,
    "barn_id": 13,
    "id_typ": 1,
    "kon": 6,
    "fodelsedatum": 8,
    "insatstyp": 20,
    "lagrum_form": 3,
    "lagrum": 40,
    "beslutsdatum": 8,
    "start": 8,
    "slut": 8,
    "placeringsform": 20,
    "omplaceringar": 3,
    "ensamkommande": 1,
    "vardnadshavare": 2,
    "fodelseland": 3,
    "vistelsekommun": 4,
}


class FixedLayout:
    """Fixed width: each variable left-aligned in its ``FIXED_WIDTHS`` columns (numbers
    right-aligned), dates ``ÅÅÅÅMMDD``, no header, CRLF; a value too long is ``LayoutError``."""

    name = "fast"
    suffix = ".txt"

    def write(self, rules: RuleSet, lines: Sequence[Line]) -> bytes:
        rows = []
        for n, line in enumerate(lines, start=1):
            cells = []
            for v in rules.variables:
                width = FIXED_WIDTHS.get(v, 20)
                raw = line.get(v)
                text = _text(raw, compact_dates=True)
                if len(text) > width:
                    raise LayoutError(
                        f"line {n}: {v} {text!r} is longer than its {width} characters"
                    )
                is_number = isinstance(raw, int) and not isinstance(raw, bool)
                cells.append(text.rjust(width) if is_number else text.ljust(width))
            rows.append("".join(cells))
        return "".join(f"{r}\r\n" for r in rows).encode("utf-8")


LAYOUTS: Mapping[str, ReturnLayout] = {"csv": CsvLayout(), "fast": FixedLayout()}
