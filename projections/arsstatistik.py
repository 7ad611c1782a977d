"""Socialstyrelsen's yearly return on children in care, as a report (``arsstatistik``; issue
#17 item 1; docs/reports.md "arsstatistik"): the year's records and the validator's findings.

Read from the ``arsstatistik_poster`` view (each case's runs, folded from its redacted events
when they arrived; no personnummer), cut to the year of its rule set (``domain.returns``). The
report identifies a record by case_ref only (masked for a protected case like every report,
POL-SKYDD-RAPPORT); the personnummer is added only when the file for Socialstyrelsen is written
(``infra.audit.arsstatistik``), which logs the disclosure. Both read ``year_records`` here, so
the report and the file never disagree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from itertools import groupby
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.placement import age_on
from domain.returns import Record, RuleSet, rule_set
from domain.returns.checks import validate
from domain.returns.collect import records_in_year
from projections.folded import runs_of
from projections.periods import Period
from projections.source import table_ref
from projections.stats import age_band, kon_of, split
from projections.tables import ARSSTATISTIK_POSTER

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

    Read from the ``arsstatistik_poster`` view: each case's runs (``case_runs``, folded when its
    events arrived, ``projections.folded``), cut to the year here (``records_in_year``, the same
    cut ``case_records`` makes). Only the runs that began by the year's last day and did not
    end before its first are read (the cut's own test, so the others would give no record).
    """
    curs.execute(
        sql.SQL(
            "SELECT case_id::text AS case_id, case_ref, ivo_id, post, kon, fodelsedatum, "
            "ensamkommande, insatstyp, lagrum_form, lagrum, beslut_id, beslutsdatum, start, "
            "slut, placeringsform, moves, vistelsekommun, lvu_beslut FROM {} "
            "WHERE kommun = %s AND start <= %s AND (slut IS NULL OR slut >= %s OR slut < start) "
            "ORDER BY case_ref, case_id, seq"
        ).format(table_ref(schema, ARSSTATISTIK_POSTER.name)),
        (kommun, date(rules.year, 12, 31), date(rules.year, 1, 1)),
    )
    out: list[Record] = []
    for (case_id, case_ref), rows in groupby(
        curs.fetchall(), key=lambda r: (r["case_id"], str(r["case_ref"]))
    ):
        some = list(rows)
        runs = runs_of(kommun, case_ref, some)
        out.extend(
            records_in_year(runs, year=rules.year, case_id=case_id, ivo_id=some[0]["ivo_id"])
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
