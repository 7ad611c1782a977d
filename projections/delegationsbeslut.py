"""Delegationsbeslut (docs/domain.md §5.7): the month's decisions taken under delegation, grouped
by the nämnd's sammanträde they must be reported to (KL 7:8), then by delegat level. The
ordförande's urgent decisions are listed apart in each meeting: they must be on its list.

The meeting is the first sammanträde of the kommun's calendar after the decision date (policy
POL-DELEG-SAMMANTRADE, ``KommunPolicy.nasta_sammantrade``), in the configuration version the
views were computed with; without a calendar, or past its last date, ``sammantrade`` is null.
Each row names the configuration version and the ordning that judged the decision, as stored
with the event when it was recorded (``domain.delegation_record``).
"""

from __future__ import annotations

from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.delegation import ORDFORANDE_STEGE, STEGAR
from domain.rules import KommunPolicy
from projections.periods import Period
from projections.source import table_ref
from projections.tables import DELEGATIONSBESLUT

COLUMNS = (
    "sammantrade",
    "delegat_roll",
    "delegat_id",
    "datum",
    "beslutstyp",
    "lagrum",
    "punkt",
    "insats",
    "case_ref",
    "kommun_config",
)


def _row(r: DictRow, policy: KommunPolicy) -> dict[str, Any]:
    meeting = policy.nasta_sammantrade(r["datum"])
    giltig = r["ordning_giltig_fran"]
    return {
        "sammantrade": None if meeting is None else meeting.isoformat(),
        "delegat_roll": r["delegat_roll"],
        "delegat_id": r["delegat_id"],
        "stege": r["stege"],
        "datum": r["datum"].isoformat(),
        "handelse": r["handelse"],
        "beslutstyp": r["beslutstyp"],
        "lagrum": r["lagrum"],
        "punkt": r["punkt"],
        "insats": r["insats"],
        "gynnande": r["gynnande"],
        "case_ref": r["case_ref"],
        "beslut_id": r["beslut_id"],
        "utfall": r["utfall"],
        "ordforandebeslut": r["ordforandebeslut"],
        "kommun_config": r["kommun_config"],
        "ordning": None
        if r["ordning_version"] is None and giltig is None
        else {
            "version": r["ordning_version"],
            "giltig_fran": None if giltig is None else giltig.isoformat(),
        },
        "_order": (
            STEGAR.index(r["stege"]) if r["stege"] in STEGAR else len(STEGAR),
            -1 if r["rang"] is None else r["rang"],
            r["position"],
        ),
    }


def delegationsbeslut(
    curs: Cursor[DictRow], schema: str, kommun: str, p: Period, policy: KommunPolicy
) -> dict[str, Any]:
    curs.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE kommun = %s AND datum BETWEEN %s AND %s AND anmalan"
        ).format(table_ref(schema, DELEGATIONSBESLUT.name)),
        (kommun, p.start, p.end),
    )
    rows = sorted(
        (_row(r, policy) for r in curs.fetchall()),
        key=lambda x: (
            x["sammantrade"] or "9999-12-31",
            x["_order"][:2],
            x["delegat_roll"] or "",
            x["datum"],
            x["case_ref"],
            x["_order"][2],
        ),
    )
    meetings: dict[str | None, dict[str, Any]] = {}
    for row in rows:
        row.pop("_order")
        meeting = meetings.setdefault(
            row["sammantrade"],
            {"sammantrade": row["sammantrade"], "antal": 0, "grupper": [], "ordforandebeslut": []},
        )
        meeting["antal"] += 1
        if row["ordforandebeslut"] or row["stege"] == ORDFORANDE_STEGE:
            meeting["ordforandebeslut"].append(row)
            continue
        groups: list[dict[str, Any]] = meeting["grupper"]
        if not groups or groups[-1]["delegat_roll"] != row["delegat_roll"]:
            groups.append({"delegat_roll": row["delegat_roll"], "antal": 0, "beslut": []})
        groups[-1]["antal"] += 1
        groups[-1]["beslut"].append(row)
    return {"rows": rows, "sammantraden": list(meetings.values())}
