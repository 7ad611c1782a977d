"""Reading the access log for reports: every logged read of a kommun's cases in a period, and the
reads of one case as known at a time (the audit timeline). The log itself is written by
``infra.persistence.access_log``; it is not derived from events, so no projection writes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.calendar import STOCKHOLM, add_days, start_of_day
from infra.persistence.schema import ACCESS_LOG
from projections.periods import Period
from projections.source import table_ref
from projections.tables import CASES

TABLE = ACCESS_LOG
COLUMNS = ("at", "who", "role", "case_ref", "purpose")


def _rows(
    curs: Cursor[DictRow], where: sql.Composable, params: tuple[Any, ...], schema: str
) -> list[dict[str, Any]]:
    curs.execute("SELECT to_regclass(%s) AS t", (f'"{schema}"."{TABLE}"',))
    found = curs.fetchone()
    if found is None or found["t"] is None:
        return []  # nobody has read anything yet
    curs.execute(
        sql.SQL(
            "SELECT a.id, a.at, a.who, a.role, a.case_id::text AS case_id, c.case_ref, a.purpose "
            "FROM {} a LEFT JOIN {} c ON c.case_id = a.case_id WHERE {} ORDER BY a.at, a.id"
        ).format(table_ref(schema, TABLE), table_ref(schema, CASES.name), where),
        params,
    )
    return [
        {
            "at": r["at"].astimezone(STOCKHOLM).isoformat(),
            "who": r["who"],
            "role": r["role"],
            "case_id": r["case_id"],
            "case_ref": r["case_ref"],
            "purpose": r["purpose"],
        }
        for r in curs.fetchall()
    ]


def access_log_report(curs: Cursor[DictRow], schema: str, kommun: str, p: Period) -> dict[str, Any]:
    """Every logged read of the kommun's cases during the period (Stockholm calendar days)."""
    rows = _rows(
        curs,
        sql.SQL("a.kommun = %s AND a.at >= %s AND a.at < %s"),
        (kommun, start_of_day(p.start), start_of_day(add_days(p.end, 1))),
        schema,
    )
    return {"rows": rows}


def case_reads(
    curs: Cursor[DictRow], schema: str, case_id: str, known_at: datetime | None
) -> list[dict[str, Any]]:
    if known_at is None:
        return _rows(curs, sql.SQL("a.case_id = %s"), (case_id,), schema)
    return _rows(curs, sql.SQL("a.case_id = %s AND a.at <= %s"), (case_id, known_at), schema)
