"""Ej verkställda beslut (docs/domain.md §5.2, §5.3, §5.5): the IVO individrapport, the statistics
to kommunfullmäktige and the verkställighetstider, all from the ``beslut`` view.

The report duties (SoL 34:1–2 / 2025:400 equivalents), their status per quarter, the waiting
bands and whether a quarter was reported come from ``domain.evb``; this module only selects the
view rows and shapes the reports. Everything is judged with the events dated up to the quarter's
last day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.calendar import days_between
from domain.evb import (
    ATERRAPPORT,
    AVSLUTAT,
    NY,
    VERKSTALLD,
    WAIT_BANDS,
    EvbBeslut,
    EvbDuty,
    evb_duties,
    quarter_status,
    reported_for,
    wait_band,
)
from domain.events import INSATSTYPER, KON
from domain.rules import KommunPolicy
from projections.periods import Period, ivo_window
from projections.source import table_ref
from projections.stats import age_band, kon_of, median, percentile, share, split
from projections.tables import BESLUT

EVB_COLUMNS = (
    "ivo_id",
    "kon",
    "beslutsdatum",
    "insatstyp",
    "avbrottsdatum",
    "dagar_vantat",
    "status",
    "verkstalld_datum",
    "skal",
    "erbjudet",
    "case_ref",
)


@dataclass(frozen=True)
class Duty:
    """One report duty of a ``beslut`` view row (``domain.evb.evb_duties``)."""

    row: dict[str, Any]
    duty: EvbDuty

    @property
    def since(self) -> date:
        return self.duty.since

    @property
    def end(self) -> date | None:
        return self.duty.end

    @property
    def avbrott(self) -> date | None:
        return self.duty.avbrott


def duties(row: dict[str, Any], end: date) -> list[Duty]:
    """The report duties of one beslut row, judged with what had happened by ``end``."""
    detail = orjson.loads(row["detail"])
    beslut = EvbBeslut(
        row["fattat"],
        row["gynnande"],
        row["insats"],
        row["verkstalld"],
        row["avslutat"],
        tuple(
            (date.fromisoformat(a), date.fromisoformat(b) if b else None)
            for a, b in detail.get("avbrott", [])
        ),
    )
    found = evb_duties(beslut, end)
    return [Duty(row, d) for d in found]


def _quarter_duties(
    curs: Cursor[DictRow], schema: str, kommun: str, q: Period
) -> list[tuple[Duty, str]]:
    """Duties running in quarter ``q`` with their status relative to the previous quarter."""
    curs.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE kommun = %s AND evb_from IS NOT NULL AND evb_from <= %s "
            "AND (avslutat IS NULL OR avslutat >= %s) ORDER BY fattat, case_ref, beslut_id"
        ).format(table_ref(schema, BESLUT.name)),
        (kommun, q.end, q.start),
    )
    out = []
    for row in curs.fetchall():
        for d in duties(row, q.end):
            status = quarter_status(d.duty, q.start, q.end)
            if status is not None:
                out.append((d, status))
    return out


def _latest(entries: list[list[Any]], end: date) -> list[Any] | None:
    dated = [e for e in entries if date.fromisoformat(e[0]) <= end]
    return dated[-1] if dated else None


def evb_report(
    curs: Cursor[DictRow],
    schema: str,
    kommun: str,
    q: Period,
    unseal: Callable[[bytes], bytes],
) -> dict[str, Any]:
    """IVO's individrapporter for quarter ``q`` (one row per running duty), with status.

    The reasons (``skal``, ``erbjudet``) are the only sealed text a row shows; they are
    decrypted here, for the rows reported, and nowhere else.
    """
    rows = []
    for d, status in _quarter_duties(curs, schema, kommun, q):
        r = d.row
        detail = orjson.loads(r["detail"])
        reasons = orjson.loads(unseal(r["sealed"])) if r["sealed"] is not None else []
        reason = _latest(reasons, q.end)
        waited_to = d.end if d.end is not None else q.end
        rows.append(
            {
                "kvartal": q.label,
                "forvaltning": kommun,
                "enhet": r["enhet"],
                "ivo_id": r["ivo_id"],
                "kon": kon_of(r["kon"]),
                # the age on the report date: IVO and the board ask who is waiting now
                "aldersgrupp": age_band(r["fodelsedatum"], q.end),
                "case_ref": r["case_ref"],
                "beslut_id": r["beslut_id"],
                "beslutsdatum": r["fattat"].isoformat(),
                "lagrum": r["lagrum"],
                "insatstyp": r["insats"],
                "avbrottsdatum": d.avbrott.isoformat() if d.avbrott else None,
                "dagar_vantat": days_between(d.since, waited_to),
                "skal": reason[1] if reason else None,
                "erbjudet": reason[2] if reason else None,
                # the evb_skal_angivet's date: when the reason and offer were recorded
                "skal_datum": reason[0] if reason else None,
                "status": status,
                "verkstalld_datum": d.end.isoformat() if status == VERKSTALLD and d.end else None,
                "avslutat_datum": d.end.isoformat() if status == AVSLUTAT and d.end else None,
                "rapporterad": reported_for(
                    q.label, (k for _, k, _ in detail.get("rapporter", []))
                ),
            }
        )
    rows.sort(
        key=lambda x: (x["beslutsdatum"], x["case_ref"], x["beslut_id"], x["avbrottsdatum"] or "")
    )

    def measure(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "antal": len(items),
            **{
                s: sum(1 for i in items if i["status"] == s)
                for s in (NY, ATERRAPPORT, VERKSTALLD, AVSLUTAT)
            },
        }

    return {
        "rapportfonster": ivo_window(q),
        "rows": rows,
        "summary": split(rows, lambda i: i["kon"], lambda i: i["aldersgrupp"], measure),
    }


def kf_statistik(curs: Cursor[DictRow], schema: str, kommun: str, q: Period) -> dict[str, Any]:
    """The anonymous statistics report: not verkställda beslut by insatstyp × kön, waiting bands."""
    items = []
    for d, status in _quarter_duties(curs, schema, kommun, q):
        if status in (VERKSTALLD, AVSLUTAT):
            continue  # the statistics count what is still not verkställt at the quarter's end
        items.append(
            {
                "insatstyp": d.row["insats"],
                "kon": kon_of(d.row["kon"]),
                "aldersgrupp": age_band(d.row["fodelsedatum"], q.end),
                "vantetid": wait_band(d.since, q.end),
                "avbrott": d.avbrott is not None,
            }
        )
    return kf_tally(items)


def kf_tally(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The KF statistikrapport's counts from its items (insatstyp, kon, aldersgrupp, vantetid,
    avbrott): one function, so the report from the views and the report from a frozen snapshot
    (projections/evb_snapshot.py) can never count differently."""
    rows = [
        {
            "insatstyp": t,
            "kon": k,
            "antal": sum(1 for i in items if i["insatstyp"] == t and i["kon"] == k),
        }
        for t in INSATSTYPER
        for k in KON
    ]

    def measure(group: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "antal": len(group),
            **{f"vantat_{b}_man": sum(1 for i in group if i["vantetid"] == b) for b in WAIT_BANDS},
            "varav_avbrott": sum(1 for i in group if i["avbrott"]),
        }

    return {
        "rows": rows,
        "summary": split(items, lambda i: i["kon"], lambda i: i["aldersgrupp"], measure),
    }


def verkstallighetstider(
    curs: Cursor[DictRow], schema: str, kommun: str, q: Period, policy: KommunPolicy
) -> dict[str, Any]:
    """Days from gynnande beslut to verkställighet per insatstyp, and the decisions waiting."""
    beslut = table_ref(schema, BESLUT.name)
    curs.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE kommun = %s AND gynnande AND insats IS NOT NULL "
            "AND verkstalld BETWEEN %s AND %s ORDER BY fattat, case_ref, beslut_id"
        ).format(beslut),
        (kommun, q.start, q.end),
    )
    done = [
        {
            "insatstyp": r["insats"],
            "kon": kon_of(r["kon"]),
            "aldersgrupp": age_band(r["fodelsedatum"], r["fattat"]),
            "dagar": days_between(r["fattat"], r["verkstalld"]),
        }
        for r in curs.fetchall()
    ]
    per_insats: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for t in INSATSTYPER:
        target = policy.verkstallighet_mal_dagar.get(t)
        group = [d for d in done if d["insatstyp"] == t]

        def measure(items: list[dict[str, Any]], target: int | None = target) -> dict[str, Any]:
            days = [i["dagar"] for i in items]
            return {
                "antal": len(days),
                "median_dagar": median(days),
                "p90_dagar": percentile(days, 90),
                "mal_dagar": target,
                "andel_inom_mal": None
                if target is None
                else share(sum(1 for x in days if x <= target), len(days)),
            }

        per_insats[t] = split(group, lambda i: i["kon"], lambda i: i["aldersgrupp"], measure)
        rows.append({"insatstyp": t, **per_insats[t]["alla"]})
    curs.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE kommun = %s AND gynnande AND insats IS NOT NULL "
            "AND fattat <= %s AND (verkstalld IS NULL OR verkstalld > %s) "
            "AND (avslutat IS NULL OR avslutat > %s) ORDER BY fattat, case_ref, beslut_id"
        ).format(beslut),
        (kommun, q.end, q.end, q.end),
    )
    waiting = [
        {
            "case_ref": r["case_ref"],
            "beslut_id": r["beslut_id"],
            "insatstyp": r["insats"],
            "beslutsdatum": r["fattat"].isoformat(),
            "dagar_vantat": days_between(r["fattat"], q.end),
            "kon": kon_of(r["kon"]),
            "aldersgrupp": age_band(r["fodelsedatum"], r["fattat"]),
        }
        for r in curs.fetchall()
    ]
    return {"rows": rows, "per_insatstyp": per_insats, "vantande": waiting}
