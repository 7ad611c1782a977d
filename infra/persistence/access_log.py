"""The access log: who read which case's content, when and why (ARCHITECTURE.md "Sensitive data").

It is not derived from events — reading is not a change to the personakt — so it is its own
append-only table: rows are only inserted, and a trigger refuses UPDATE and DELETE so that a
read cannot be erased after the fact through barnflow's database user.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import psycopg
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor, sql

from infra.persistence.schema import ACCESS_LOG, access_log_table, is_current
from infra.persistence.store import CaseStore

TABLE = ACCESS_LOG
_created: set[tuple[str, str]] = set()


class WithDatastore(Protocol):
    """Anything that holds barnflow's PostgreSQL datastore (the report views do)."""

    @property
    def datastore(self) -> PostgresDatastore: ...


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
    elif hasattr(target, "datastore"):
        datastore = target.datastore
    else:
        raise TypeError(f"cannot log access through {type(target).__name__}")
    with datastore.transaction(commit=True) as curs:
        yield curs, schema or str(datastore.schema)


def ensure_table(curs: Cursor[Any], schema: str) -> None:
    """Create the table and its append-only trigger once per process and schema, unless the
    schema is migrated (``infra.persistence.schema.is_current``)."""
    db = curs.connection.info.dbname
    if (db, schema) in _created:
        return
    if is_current(curs.connection, schema):
        _created.add((db, schema))
        return
    for stmt in access_log_table(schema):
        curs.execute(stmt)
    _created.add((db, schema))


def record_access(  # noqa: PLR0917 - the shared signature other modules call
    target: psycopg.Connection[Any] | CaseStore | WithDatastore,
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
