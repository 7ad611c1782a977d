"""Aggregate extracts for national follow-ups (issue #17 item 2, docs/reports.md): counts without
a case reference, one row per combination that occurs, ready for a survey upload as CSV.

``aktualiseringar``: every way a child's situation came to the nämnd's knowledge in the year —
an anmälan (``anmalan_mottagen``), an ansökan (``ansokan_mottagen``) or an utredning opened on
the nämnd's own initiative (``utredning_inledd`` with ``grund`` ``eget_initiativ``) — by the
outcome of the förhandsbedömning known at the year's end, kön, age band on the day and the
anmälare's category (lower case; empty for an ansökan or an eget initiativ: no anmälare). Read
from the views' record of each case whose events reach into the year (``report_cases.events``,
the only view that keeps the anmälare's category, the ansökan and the utredning's grund) and the
``anmalningar`` view (whether an anmälan needed a förhandsbedömning at all: not when it joined an
utredning already going on).

``avslutade-utredningar``: every utredning closed in the year (the ``utredningar`` view, as
``utredningstider`` reads it) by outcome, kön and age band on the closing day, with the lengths
in calendar days (inledd → avslutad) and how many closed after the four-month date (B1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import orjson
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.calendar import days_between, legal_date
from projections.periods import Period
from projections.source import table_ref
from projections.stats import age_band, kon_of, median, percentile
from projections.tables import ANMALNINGAR, CASES, UTREDNINGAR

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


def _category(value: object) -> str:
    """The anmälare's category as one label (lower case, trimmed): ``okand`` when absent."""
    text = str(value).strip().lower() if value is not None else ""
    return text or "okand"


def aktualiseringar(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period, unseal: Unseal
) -> dict[str, Any]:
    """Counts of the aktualiseringar of the period (see the module doc), with totals per typ."""
    curs.execute(
        sql.SQL(
            "SELECT case_ref, anmalan_id, behover_forhandsbedomning FROM {} WHERE kommun = %s"
        ).format(table_ref(schema, ANMALNINGAR.name)),
        (kommun,),
    )
    behover = {
        (str(r["case_ref"]), str(r["anmalan_id"])): bool(r["behover_forhandsbedomning"])
        for r in curs.fetchall()
    }
    # A case has an aktualisering in the period only if its events reach into it: at a million
    # events this reads a quarter of the kommun's cases, not all (``report_cases.first_day``,
    # ``last_day``; NULL, a row written before the columns, is read).
    curs.execute(
        sql.SQL(
            "SELECT case_ref, events FROM {} WHERE kommun = %s "
            "AND (first_day IS NULL OR first_day <= %s) AND (last_day IS NULL OR last_day >= %s) "
            "ORDER BY case_ref"
        ).format(table_ref(schema, CASES.name)),
        (kommun, p.end, p.start),
    )
    counts: Counter[tuple[str, str, str, str, str | None]] = Counter()
    for row in curs.fetchall():
        case_ref = str(row["case_ref"])
        events = [
            (legal_date(datetime.fromisoformat(env["occurred_at"])), env)
            for env in orjson.loads(unseal(row["events"]))
        ]
        events.sort(key=lambda x: (x[0], x[1].get("position") or 0))
        kon: object = None
        born: date | None = None
        decided: dict[str, str] = {}
        found: list[tuple[str, str | None, date, object, date | None, str | None]] = []
        for day, env in events:
            if day > p.end:
                break
            data = env.get("data") or {}
            barn = data.get("barn")
            if isinstance(barn, dict):
                kon = barn.get("kon", kon)
                if barn.get("fodelsedatum"):
                    born = date.fromisoformat(str(barn["fodelsedatum"]))
            etype = env["type"]
            if etype == "forhandsbedomning_beslutad":
                decided[str(data["anmalan_id"])] = str(data["beslut"])
            if day < p.start:
                continue
            if etype == "anmalan_mottagen":
                category = _category(data.get("anmalare_kategori"))
                found.append(("anmalan", str(data["anmalan_id"]), day, kon, born, category))
            elif etype == "ansokan_mottagen":
                found.append(("ansokan", None, day, kon, born, None))
            elif etype == "utredning_inledd" and data.get("grund") == "eget_initiativ":
                found.append(("eget_initiativ", None, day, kon, born, None))
        for typ, anmalan_id, day, k, b, cat in found:
            if anmalan_id is None:
                outcome = EJ_AKTUELL
            elif anmalan_id in decided:
                outcome = decided[anmalan_id]
            elif not behover.get((case_ref, anmalan_id), True):
                outcome = INGEN
            else:
                outcome = EJ_BESLUTAD
            counts[(typ, outcome, kon_of(k), age_band(b, day), cat)] += 1
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
