"""Aggregate extracts for national follow-ups (issue #17 item 2, docs/reports.md): counts without
a case reference, one row per combination that occurs, ready for a survey upload as CSV.

``aktualiseringar``: every way a child's situation came to the nämnd's knowledge in the year —
an anmälan (``anmalan_mottagen``), an ansökan (``ansokan_mottagen``) or an utredning opened on
the nämnd's own initiative (``utredning_inledd`` with ``grund`` ``eget_initiativ``) — by the
outcome of the förhandsbedömning known at the year's end, kön, age band on the day and the
anmälare's category (lower case; empty for an ansökan or an eget initiativ: no anmälare). Read
from the ``aktualiseringar`` view (one row per aktualisering, folded from the case's events when
they arrived: ``projections.folded.aktualiseringar_of``) and the ``anmalningar`` view (whether an
anmälan needed a förhandsbedömning at all: not when it joined an utredning already going on).

``avslutade-utredningar``: every utredning closed in the year (the ``utredningar`` view, as
``utredningstider`` reads it) by outcome, kön and age band on the closing day, with the lengths
in calendar days (inledd → avslutad) and how many closed after the four-month date (B1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.calendar import days_between
from projections.periods import Period
from projections.source import table_ref
from projections.stats import age_band, kon_of, median, percentile
from projections.tables import AKTUALISERINGAR, ANMALNINGAR, UTREDNINGAR

Unseal = Callable[[bytes], bytes]

AKTUALISERING_COLUMNS = (
    "typ",
    "forhandsbedomning",
    "kon",
    "aldersgrupp",
    "anmalare_kategori",
    "antal",
)
AVSLUTADE_COLUMNS = (
    "utfall",
    "kon",
    "aldersgrupp",
    "antal",
    "summa_dagar",
    "median_dagar",
    "p90_dagar",
    "max_dagar",
    "over_4_man",
)
#: The length bands of the document's distribution (calendar days, inclusive): four months is
#: 120–123 days, so 91–120 is "within" and 121+ is at or past the line.
LANGD_BAND = ((0, 30), (31, 60), (61, 90), (91, 120), (121, 180), (181, None))
#: ``forhandsbedomning`` of an ansökan or an eget initiativ: the utredning starts without one.
EJ_AKTUELL = "ej_aktuell"
#: An anmälan whose förhandsbedömning was not decided by the period's last day.
EJ_BESLUTAD = "ej_beslutad"
#: An anmälan that needed no förhandsbedömning (it joined an utredning already going on).
INGEN = "ingen_forhandsbedomning"


def aktualiseringar(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period, unseal: Unseal
) -> dict[str, Any]:
    """Counts of the aktualiseringar of the period (see the module doc), with totals per typ.

    The aktualiseringar are the ``aktualiseringar`` view's rows of the period (folded when the
    case's events arrived, ``projections.folded.aktualiseringar_of``); the outcome is the
    anmälan's last förhandsbedömning by the period's last day."""
    curs.execute(
        sql.SQL(
            "SELECT case_ref, typ, anmalan_id, datum, kon, fodelsedatum, anmalare_kategori, "
            "beslut FROM {} WHERE kommun = %s AND datum BETWEEN %s AND %s"
        ).format(table_ref(schema, AKTUALISERINGAR.name)),
        (kommun, p.start, p.end),
    )
    found = curs.fetchall()
    end = p.end.isoformat()
    undecided: list[tuple[str, str]] = []
    outcomes: list[str | None] = []
    for r in found:
        outcome: str | None = EJ_AKTUELL
        if r["anmalan_id"] is not None:
            taken = [b for day, b in orjson.loads(r["beslut"]) if day <= end]
            outcome = taken[-1] if taken else None
            if outcome is None:
                undecided.append((str(r["case_ref"]), str(r["anmalan_id"])))
        outcomes.append(outcome)
    behover: dict[tuple[str, str], bool] = {}
    if undecided:
        curs.execute(
            sql.SQL(
                "SELECT case_ref, anmalan_id, behover_forhandsbedomning FROM {} "
                "WHERE kommun = %s AND (case_ref, anmalan_id) IN "
                "(SELECT * FROM unnest(%s::text[], %s::text[]))"
            ).format(table_ref(schema, ANMALNINGAR.name)),
            (kommun, [c for c, _ in undecided], [a for _, a in undecided]),
        )
        behover = {
            (str(r["case_ref"]), str(r["anmalan_id"])): bool(r["behover_forhandsbedomning"])
            for r in curs.fetchall()
        }
    counts: Counter[tuple[str, str, str, str, str | None]] = Counter()
    for r, decided in zip(found, outcomes, strict=True):
        pair = (str(r["case_ref"]), str(r["anmalan_id"]))
        outcome = (
            decided if decided is not None else (EJ_BESLUTAD if behover.get(pair, True) else INGEN)
        )
        band = age_band(r["fodelsedatum"], r["datum"])
        counts[(str(r["typ"]), outcome, kon_of(r["kon"]), band, r["anmalare_kategori"])] += 1
    rows = [
        dict(zip(AKTUALISERING_COLUMNS, (*key, n), strict=True))
        for key, n in sorted(counts.items(), key=lambda kv: (*kv[0][:4], kv[0][4] or ""))
    ]
    per_typ = Counter[str]()
    for key, n in counts.items():
        per_typ[key[0]] += n
    return {
        "rows": rows,
        "summa": {
            "antal": sum(counts.values()),
            "typ": {t: per_typ[t] for t in ("anmalan", "ansokan", "eget_initiativ")},
        },
    }


def avslutade_utredningar(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period
) -> dict[str, Any]:
    """The utredningar closed in the period by outcome, kön and age band, with their lengths."""
    curs.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE kommun = %s AND avslutad BETWEEN %s AND %s "
            "ORDER BY avslutad, case_ref, utredning_id"
        ).format(table_ref(schema, UTREDNINGAR.name)),
        (kommun, p.start, p.end),
    )
    groups: dict[tuple[str, str, str], list[tuple[int, bool]]] = {}
    for r in curs.fetchall():
        key = (
            str(r["utfall"] or "okant"),
            kon_of(r["kon"]),
            age_band(r["fodelsedatum"], r["avslutad"]),
        )
        length = days_between(r["inledd"], r["avslutad"])
        groups.setdefault(key, []).append((length, r["avslutad"] > r["original_due"]))
    rows = []
    every: list[int] = []
    for key in sorted(groups):
        days = [d for d, _ in groups[key]]
        every += days
        rows.append(
            dict(
                zip(
                    AVSLUTADE_COLUMNS,
                    (
                        *key,
                        len(days),
                        sum(days),
                        median(days),
                        percentile(days, 90),
                        max(days),
                        sum(1 for _, over in groups[key] if over),
                    ),
                    strict=True,
                )
            )
        )
    return {
        "rows": rows,
        "summa": {
            "antal": len(every),
            "median_dagar": median(every),
            "over_4_man": sum(r["over_4_man"] for r in rows),
            "langd": {_band_label(lo, hi): _in_band(every, lo, hi) for lo, hi in LANGD_BAND},
        },
    }


def _band_label(lo: int, hi: int | None) -> str:
    return f"{lo}-{hi}" if hi is not None else f"{lo}-"


def _in_band(days: list[int], lo: int, hi: int | None) -> int:
    return sum(1 for d in days if d >= lo and (hi is None or d <= hi))
