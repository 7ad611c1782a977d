"""The three outputs of one frozen EVB quarter (issue 17 item 3): IVO's individrapport, the
KF statistikrapport and the evb table, all computed from the same stored ``evb`` rows so they
can never disagree (docs/reports.md, "Frozen quarterly snapshots").

Pure functions over the rows ``projections.evb.evb_report`` returned when the quarter was
frozen; storing and reading the snapshot is ``infra.persistence.snapshots``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.evb import AVSLUTAT, VERKSTALLD, wait_band
from projections.evb import kf_tally
from projections.periods import Period

#: The flat columns of the individrapport (table and CSV); the document keeps IVO's sections.
INDIVIDRAPPORT_COLUMNS = (
    "kommun",
    "kvartal",
    "enhet",
    "ivo_id",
    "kon",
    "fodelsear",
    "beslutsdatum",
    "insatstyp",
    "lagrum",
    "gynnande",
    "avbrottsdatum",
    "status",
    "skal",
    "erbjudet",
    "erbjudet_datum",
    "kvar_for_aterrapport",
)


def still_open(row: dict[str, Any]) -> bool:
    """Whether the duty is still running at the quarter's end, so the next quarter carries it as
    an återrapport. An offer made (``erbjudet``) and declined leaves the beslut not verkställt:
    only ``verkstalld`` or ``avslutat`` closes it."""
    return row["status"] not in (VERKSTALLD, AVSLUTAT)


def individrapport(kommun: str, q: Period, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """IVO's individrapport, one per evb row, in IVO's sections; ``rows`` the flat table.

    ``gynnande`` is always true: only a gynnande beslut has a report duty (``domain.evb``). The
    record names no nämnd, so ``rapportuppgifter`` carries the unit (``enhet``) beside the kommun.
    ``fodelsear`` is read from the pseudo-id (its first four digits are the birth year)."""
    reports = []
    flat = []
    for r in rows:
        report = {
            "rapportuppgifter": {"kommun": kommun, "kvartal": q.label, "enhet": r["enhet"]},
            "uppgifter_om_individen": {
                "ivo_id": r["ivo_id"],
                "kon": r["kon"],
                "fodelsear": int(r["ivo_id"][:4]) if r["ivo_id"] else None,
            },
            "uppgifter_om_beslutet": {
                "beslutsdatum": r["beslutsdatum"],
                "insatstyp": r["insatstyp"],
                "lagrum": r["lagrum"],
                "gynnande": True,
                "avbrottsdatum": r["avbrottsdatum"],
            },
            "skal": {
                "skal": r["skal"],
                "erbjudet": r["erbjudet"],
                "erbjudet_datum": r["skal_datum"],
            },
            "status": r["status"],
            "kvar_for_aterrapport": still_open(r),
        }
        reports.append(report)
        flat.append(
            {
                "kommun": kommun,
                "kvartal": q.label,
                "enhet": r["enhet"],
                "ivo_id": r["ivo_id"],
                "kon": r["kon"],
                "fodelsear": report["uppgifter_om_individen"]["fodelsear"],
                "beslutsdatum": r["beslutsdatum"],
                "insatstyp": r["insatstyp"],
                "lagrum": r["lagrum"],
                "gynnande": True,
                "avbrottsdatum": r["avbrottsdatum"],
                "status": r["status"],
                "skal": r["skal"],
                "erbjudet": r["erbjudet"],
                "erbjudet_datum": r["skal_datum"],
                "kvar_for_aterrapport": still_open(r),
            }
        )
    return {"individrapporter": reports, "rows": flat}


def kf_from_rows(q: Period, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The KF statistikrapport from evb rows: the same counts as ``evb.kf_statistik`` computes
    from the views (the duties still running at the quarter's end, per insatstyp × kön)."""
    items = [
        {
            "insatstyp": r["insatstyp"],
            "kon": r["kon"],
            "aldersgrupp": r["aldersgrupp"],
            # the waiting runs from the avbrott, or from the beslut (domain.evb.EvbDuty.since)
            "vantetid": wait_band(
                date.fromisoformat(r["avbrottsdatum"] or r["beslutsdatum"]), q.end
            ),
            "avbrott": r["avbrottsdatum"] is not None,
        }
        for r in rows
        if still_open(r)
    ]
    return kf_tally(items)
