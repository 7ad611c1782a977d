"""Beslut utan delegation: every decision recorded as taken by someone without the power to take
it (``utfall`` ``obehorig``), as of a legal date.

Over the API such a decision is refused (409 DELEG); it reaches the record only as history, when
a kommun's earlier decisions are imported: each is judged by the delegationsordning in force on
its own date, and one that breaks it is recorded, not refused (``domain.delegation_record``).
Each row names the configuration version and the ordning it was judged by and why it failed.
The decisions that could not be judged (no ordning in force then: ``ej_provad``) are counted.
"""

from __future__ import annotations

from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.delegation_record import EJ_PROVAD, OBEHORIG
from projections.periods import Period
from projections.source import table_ref
from projections.tables import DELEGATIONSBESLUT

COLUMNS = (
    "datum",
    "case_ref",
    "beslutstyp",
    "lagrum",
    "delegat_roll",
    "kravs",
    "punkt",
    "ordning_version",
    "kommun_config",
    "skal",
)


def utan_delegation(curs: Cursor[DictRow], schema: str, kommun: str, p: Period) -> dict[str, Any]:
    table = table_ref(schema, DELEGATIONSBESLUT.name)
    curs.execute(
        sql.SQL(
            "SELECT * FROM {} WHERE kommun = %s AND datum <= %s AND utfall = %s "
            "ORDER BY datum, case_ref, position"
        ).format(table),
        (kommun, p.end, OBEHORIG),
    )
    rows = [
        {
            "datum": r["datum"].isoformat(),
            "case_ref": r["case_ref"],
            "handelse": r["handelse"],
            "beslutstyp": r["beslutstyp"],
            "lagrum": r["lagrum"],
            "beslut_id": r["beslut_id"],
            "delegat_roll": r["delegat_roll"],
            "delegat_id": r["delegat_id"],
            "kravs": r["kravs"],
            "punkt": r["punkt"],
            "ordning_version": r["ordning_version"],
            "ordning_giltig_fran": None
            if r["ordning_giltig_fran"] is None
            else r["ordning_giltig_fran"].isoformat(),
            "kommun_config": r["kommun_config"],
            "skal": r["skal"],
        }
        for r in curs.fetchall()
    ]
    curs.execute(
        sql.SQL(
            "SELECT count(*) AS n FROM {} WHERE kommun = %s AND datum <= %s AND utfall = %s"
        ).format(table),
        (kommun, p.end, EJ_PROVAD),
    )
    counted = curs.fetchone()
    return {"rows": rows, "ej_provade": 0 if counted is None else int(counted["n"])}
