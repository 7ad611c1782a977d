"""Socialstyrelsen's yearly return on children in care, as a report (``arsstatistik``; issue
#17 item 1; docs/reports.md "arsstatistik"): the year's records and the validator's findings.

Read from the views' record of each case (``report_cases.events``, redacted: no personnummer),
folded by the year's rule set (``domain.returns``). The report identifies a record by case_ref
only (masked for a protected case like every report, POL-SKYDD-RAPPORT); the personnummer is
added only when the file for Socialstyrelsen is written (``infra.audit.arsstatistik``), which
logs the disclosure. Both read ``year_records`` here, so the report and the file never disagree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import orjson
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.events import event_from_json
from domain.placement import age_on
from domain.returns import Record, RuleSet, rule_set
from domain.returns.checks import validate
from domain.returns.collect import RECORD_READS, RECORD_STARTS, case_records
from projections.periods import Period
from projections.source import table_ref
from projections.stats import age_band, kon_of, split
from projections.tables import CASES

Unseal = Callable[[bytes], bytes]

#: Columns of the report's rows (the table and CSV); the document's ``columns`` adds the year's
#: own variables (``vistelsekommun`` from 2026).
COLUMNS = (
    "case_ref",
    "post",
    "kon",
    "alder",
    "insatstyp",
    "lagrum_form",
    "lagrum",
    "beslutsdatum",
    "start",
    "slut",
    "placeringsform",
    "omplaceringar",
    "ensamkommande",
    "fel",
)
#: Every column some year's rows have (the registry's, the API schema's): ``COLUMNS`` and the
#: variables a later rule set adds.
ALL_COLUMNS = (*COLUMNS, "vistelsekommun")
#: The columns of the validator's findings (``--validate``).
FEL_COLUMNS = ("kod", "allvar", "case_ref", "post", "meddelande")


def year_records(
    curs: Cursor[DictRow], schema: str, kommun: str, rules: RuleSet, unseal: Unseal
) -> list[Record]:
    """Every record of ``kommun``'s cases in the rule set's year, by case_ref then start.

    Only the cases with an event that begins a record (``RECORD_STARTS``, on
    ``report_cases.event_types``; NULL, a row written before the column, is read) and whose
    first event is not after the year are read, and only the events ``case_records`` reads are
    built: reading every case of a kommun took 3-5 s at a million events.
    """
    curs.execute(
        sql.SQL(
            "SELECT case_id::text AS case_id, ivo_id, events FROM {} WHERE kommun = %s "
            "AND (event_types IS NULL OR event_types && %s::text[]) "
            "AND (first_day IS NULL OR first_day <= %s) ORDER BY case_ref"
        ).format(table_ref(schema, CASES.name)),
        (kommun, sorted(RECORD_STARTS), date(rules.year, 12, 31)),
    )
    out: list[Record] = []
    for row in curs.fetchall():
        events = [
            event_from_json(e)
            for e in orjson.loads(unseal(row["events"]))
            if e["type"] in RECORD_READS
        ]
        out.extend(
            case_records(events, year=rules.year, case_id=row["case_id"], ivo_id=row["ivo_id"])
        )
    return out


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def report_row(rules: RuleSet, r: Record, fel: int) -> dict[str, Any]:
    """One record as a report row (no identifier: case_ref and the record's post)."""
    first = date(rules.year, 1, 1)
    row: dict[str, Any] = {
        "case_ref": r.case_ref,
        "post": r.post,
        "kon": r.kon,
        "alder": age_on(r.fodelsedatum, max(r.start or first, first)),
        "insatstyp": r.insatstyp,
        "lagrum_form": r.lagrum_form,
        "lagrum": r.lagrum,
        "beslutsdatum": _iso(r.beslutsdatum),
        "start": _iso(r.start),
        "slut": _iso(r.slut),
        "placeringsform": r.placeringsform,
        "omplaceringar": r.omplaceringar,
        "ensamkommande": r.ensamkommande,
        "fel": fel,
    }
    if "vistelsekommun" in rules.variables:
        row["vistelsekommun"] = r.vistelsekommun
    return row


def arsstatistik(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period, unseal: Unseal
) -> dict[str, Any]:
    """The year's records, the validator's findings and a summary split by kön and age band."""
    rules = rule_set(p.start.year)
    records = year_records(curs, schema, kommun, rules, unseal)
    findings = validate(rules, records)
    errors = Counter((f.case_ref, f.post) for f in findings if f.allvar == "fel")
    rows = [report_row(rules, r, errors[(r.case_ref, r.post)]) for r in records]
    extra = ("vistelsekommun",) if "vistelsekommun" in rules.variables else ()
    end = date(rules.year, 12, 31)

    def measure(items: list[Record]) -> dict[str, Any]:
        return {
            "poster": len(items),
            "barn": len({r.case_id for r in items}),
            "placeringar": sum(1 for r in items if r.is_placement),
            "SoL": sum(1 for r in items if r.lagrum_form == "SoL"),
            "LVU": sum(1 for r in items if r.lagrum_form == "LVU"),
            "omplaceringar": sum(r.omplaceringar for r in items),
        }

    n_fel = sum(1 for f in findings if f.allvar == "fel")
    return {
        "columns": [*COLUMNS, *extra],
        "rows": rows,
        "fel": [f.to_json() for f in findings],
        "regelverk": rules.to_json(),
        "summa": {
            **split(
                records,
                lambda r: kon_of(r.kon),
                lambda r: age_band(r.fodelsedatum, min(r.slut or end, end)),
                measure,
            ),
            "fel": n_fel,
            "varningar": len(findings) - n_fel,
            "klar_for_inlamning": n_fel == 0,
        },
    }
