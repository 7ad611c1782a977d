"""The access log: who read which case's content, when and why (ARCHITECTURE.md "Sensitive data").

It is not derived from events — reading is not a change to the personakt — so it is its own
append-only table: rows are only inserted, and a trigger refuses UPDATE and DELETE so that a
read cannot be erased after the fact through barnflow's database user.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.calendar import STOCKHOLM, add_days, start_of_day
from infra.schema import ACCESS_LOG, access_log_table
from infra.store import CaseStore
from projections.periods import Period
from projections.source import table_ref
from projections.tables import CASES
from projections.view import ReportsView

TABLE = ACCESS_LOG
COLUMNS = ("at", "who", "role", "case_ref", "purpose")
_created: set[tuple[str, str]] = set()


@contextmanager
def _cursor(target: Any, schema: str | None) -> Iterator[tuple[Cursor[Any], str]]:
    if isinstance(target, psycopg.Connection):
        if schema is None:
            raise ValueError("record_access on a bare connection needs schema=")
        with target.transaction(), target.cursor() as curs:
            yield curs, schema
        return
    if isinstance(target, CaseStore):
        datastore: Any = getattr(target.recorder, "datastore")  # noqa: B009 - Postgres only
    elif isinstance(target, ReportsView):
        datastore = target.datastore
    else:
        raise TypeError(f"cannot log access through {type(target).__name__}")
    with datastore.transaction(commit=True) as curs:
        yield curs, schema or str(datastore.schema)


def ensure_table(curs: Cursor[Any], schema: str) -> None:
    """Create the table and its append-only trigger once per process and schema."""
    db = curs.connection.info.dbname
    if (db, schema) in _created:
        return
    for stmt in access_log_table(schema):
        curs.execute(stmt)
    _created.add((db, schema))


def record_access(  # noqa: PLR0917 - the shared signature other modules call
    target: psycopg.Connection[Any] | CaseStore | ReportsView,
    who: str,
    role: str,
    kommun: str,
    case_id: str | UUID,
    purpose: str,
    at: datetime,
    *,
    schema: str | None = None,
) -> None:
    """Append one read of a case's content to the access log (committed before returning)."""
    if at.tzinfo is None:
        raise ValueError("at needs a UTC offset")
    for name, value in (("who", who), ("role", role), ("purpose", purpose)):
        if not value or not value.strip():
            raise ValueError(f"{name} must be a non-empty string")
    with _cursor(target, schema) as (curs, sch):
        ensure_table(curs, sch)
        curs.execute(
            sql.SQL(
                "INSERT INTO {}.{} (at, who, role, kommun, case_id, purpose) "
                "VALUES (%s, %s, %s, %s, %s, %s)"
            ).format(sql.Identifier(sch), sql.Identifier(TABLE)),
            (at, who, role, kommun, str(case_id), purpose),
        )


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
