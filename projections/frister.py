"""The frister report (DOMAIN.md §5.1): every open or overdue frist of a kommun on a legal date.

Rows come from the ``frister`` view (``domain.frister.compute_frister`` per case); the status on
the date is derived from the dates alone, so a past date needs no recomputation.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.calendar import days_between
from domain.frister import MET, MISSED, status_on
from projections.source import table_ref
from projections.tables import FRISTER

COLUMNS = (
    "case_ref",
    "rule",
    "frist",
    "trigger_date",
    "due",
    "days_left",
    "status",
    "law",
    "paragraph",
    "enhet",
)


def frister_rows(
    curs: Cursor[DictRow], schema: str, kommun: str, as_of: date, *, include_closed: bool = False
) -> list[dict[str, Any]]:
    """Frister of ``kommun`` on ``as_of``: open/overdue (met/missed too with ``include_closed``).

    Ordered by due date, case and key, so the same record always gives the same list.
    """
    query = sql.SQL(
        "SELECT * FROM {} WHERE kommun = %s AND trigger_date <= %s{} ORDER BY due, case_ref, key"
    ).format(
        table_ref(schema, FRISTER.name),
        sql.SQL("")
        if include_closed
        else sql.SQL(" AND (fulfilled_date IS NULL OR fulfilled_date > %s)"),
    )
    params: tuple[Any, ...] = (kommun, as_of) if include_closed else (kommun, as_of, as_of)
    curs.execute(query, params)
    out = []
    for r in curs.fetchall():
        status = status_on(r["due"], r["fulfilled_date"], as_of)
        fulfilled = r["fulfilled_date"] if status in (MET, MISSED) else None
        out.append(
            {
                "case_ref": r["case_ref"],
                "rule": r["rule"],
                "frist": r["name"],
                "key": r["key"],
                "trigger_date": r["trigger_date"].isoformat(),
                "due": r["due"].isoformat(),
                "shifted_due": r["shifted_due"].isoformat() if r["shifted_due"] else None,
                "days_left": days_between(as_of, r["due"]),
                "status": status,
                "fulfilled_date": fulfilled.isoformat() if fulfilled else None,
                "law": r["law"],
                "paragraph": r["paragraph"],
                "enhet": r["enhet"],
                "handlaggare": r["handlaggare"],
            }
        )
    return out
