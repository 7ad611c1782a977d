"""Delegationsbeslut (docs/domain.md §5.7): the month's decisions taken under delegation, grouped by
delegat level, for the anmälan to the nämnd. Ordförande's urgent LVU decisions are listed too:
they must appear on the next meeting's list.
"""

from __future__ import annotations

from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.delegation import BODIES, OFFICIALS, ORDFORANDE
from projections.periods import Period
from projections.source import table_ref
from projections.tables import BESLUT

LEVELS = (*OFFICIALS, *BODIES, ORDFORANDE)
COLUMNS = ("delegat_roll", "delegat_id", "datum", "beslutstyp", "lagrum", "insats", "case_ref")


def delegationsbeslut(curs: Cursor[DictRow], schema: str, kommun: str, p: Period) -> dict[str, Any]:
    curs.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE kommun = %s AND fattat BETWEEN %s AND %s "
            "AND delegat_roll IS NOT NULL"
        ).format(table_ref(schema, BESLUT.name)),
        (kommun, p.start, p.end),
    )
    rank = {lvl: i for i, lvl in enumerate(LEVELS)}
    rows = sorted(
        (
            {
                "delegat_roll": r["delegat_roll"],
                "delegat_id": r["delegat_id"],
                "datum": r["fattat"].isoformat(),
                "beslutstyp": r["beslutstyp"],
                "lagrum": r["lagrum"],
                "insats": r["insats"],
                "gynnande": r["gynnande"],
                "case_ref": r["case_ref"],
                "beslut_id": r["beslut_id"],
            }
            for r in curs.fetchall()
        ),
        key=lambda x: (
            rank.get(x["delegat_roll"], len(rank)),
            x["delegat_roll"],
            x["datum"],
            x["case_ref"],
            x["beslut_id"],
        ),
    )
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["delegat_roll"], []).append(row)
    return {
        "rows": rows,
        "grupper": [{"delegat_roll": k, "antal": len(v), "beslut": v} for k, v in groups.items()],
    }
