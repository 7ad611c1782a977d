"""Överklaganden (docs/domain.md §5.9): the appeals of the kommun's beslut that are pending on a
legal date, where each stands, and whether the kommun handed it to the court in time.

Read from the ``overklaganden`` view: each row holds the dates of an appeal's steps, so the report
as of any day counts only what had happened by then. An appeal is pending from the day it came
in until it is avvisat by the kommun (rättidsprövning, FL 45 §), återkallat, or decided by the
court; after a dom that changed or sent back the beslut (bifall, återförvisat) it stays listed
until the kommun has ended the beslut (POL-OVERKLAGANDE-VERKSTALLIGHET). The forwarding's last
day is O2 with the kommun's days (POL-OVERKLAGANDE-OVERLAMNANDE); the appellant's three weeks
come from ``domain.appeals`` through the view.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.appeals import overlamnande_due
from domain.calendar import days_between
from domain.case_appeals import CHANGED_BY_COURT
from domain.rules import KommunPolicy
from projections.periods import Period
from projections.source import table_ref
from projections.stats import age_band, kon_of, split
from projections.tables import OVERKLAGANDEN

COLUMNS = (
    "case_ref",
    "overklagande_id",
    "beslut_id",
    "beslutsdatum",
    "mottaget",
    "status",
    "overlamnas_senast",
    "forsenat",
    "inkom_i_tid",
    "enhet",
)
#: Where a pending appeal stands, in the order it moves (the summary counts each).
STATUSES = (
    "mottaget",
    "rattidsprovat",
    "omprovat",
    "vid_domstol",
    "inhibition",
    "dom_att_genomfora",
)


def _on(day: date | None, as_of: date) -> date | None:
    """``day`` if it had happened by ``as_of``, else ``None`` (not yet known on that date)."""
    return day if day is not None and day <= as_of else None


def status(r: dict[str, Any], as_of: date) -> str | None:
    """The appeal's status on ``as_of``, ``None`` when it is not pending then."""
    if r["mottaget"] > as_of or _on(r["aterkallat"], as_of):
        return None
    if _on(r["rattidsprovad"], as_of) and r["i_tid"] is False:
        return None  # avvisat by the kommun
    if _on(r["avgjort"], as_of):
        if r["utfall"] in CHANGED_BY_COURT and not _on(r["beslut_avslutat"], as_of):
            return "dom_att_genomfora"
        return None
    if _on(r["inhibition"], as_of):
        return "inhibition"
    if _on(r["overlamnat"], as_of):
        return "vid_domstol"
    if _on(r["omprovad"], as_of):
        return "omprovat"
    return "rattidsprovat" if _on(r["rattidsprovad"], as_of) else "mottaget"


def overklaganden(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period, policy: KommunPolicy
) -> dict[str, Any]:
    """The appeals pending on ``p.end``, oldest first, with the forwarding's last day (O2) and
    whether it was missed, and a summary per status split by kön and age band."""
    as_of = p.end
    curs.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE kommun = %s AND mottaget <= %s "
            "ORDER BY mottaget, case_ref, overklagande_id"
        ).format(table_ref(schema, OVERKLAGANDEN.name)),
        (kommun, as_of),
    )
    days = policy.overklagande_overlamnande_dagar
    rows = []
    for r in curs.fetchall():
        now = status(r, as_of)
        if now is None:
            continue
        due = overlamnande_due(r["mottaget"], policy)
        sent = _on(r["overlamnat"], as_of)
        given = _on(r["delgiven"], as_of)
        end: date | None = r["overklagandetid_slut"] if given else None
        rows.append(
            {
                "case_ref": r["case_ref"],
                "overklagande_id": r["overklagande_id"],
                "beslut_id": r["beslut_id"],
                "beslutsdatum": r["beslutsdatum"].isoformat() if r["beslutsdatum"] else None,
                "lagrum": r["lagrum"],
                "forvaltningsbesvar": r["forvaltningsbesvar"],
                "delgiven": given.isoformat() if given else None,
                "overklagandetid_slut": end.isoformat() if end else None,
                # on the record: no delgivning yet means the period has not begun (FL 44 §)
                "inkom_i_tid": end is None or r["mottaget"] <= end,
                "mottaget": r["mottaget"].isoformat(),
                "dagar_sedan_mottaget": days_between(r["mottaget"], as_of),
                "status": now,
                "i_tid": r["i_tid"] if _on(r["rattidsprovad"], as_of) else None,
                "omprovning": r["omprovning"] if _on(r["omprovad"], as_of) else None,
                "overlamnas_senast": due.isoformat(),
                "overlamnat": sent.isoformat() if sent else None,
                "forsenat": (sent or as_of) > due,
                "utfall": r["utfall"] if _on(r["avgjort"], as_of) else None,
                "enhet": r["enhet"],
                "kon": kon_of(r["kon"]),
                "aldersgrupp": age_band(r["fodelsedatum"], as_of),
            }
        )

    def measure(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "antal": len(items),
            **{s: sum(1 for i in items if i["status"] == s) for s in STATUSES},
            "forsenade": sum(1 for i in items if i["forsenat"]),
        }

    return {
        "overlamnande_dagar": days,
        "rows": rows,
        "summary": split(rows, lambda i: i["kon"], lambda i: i["aldersgrupp"], measure),
    }
