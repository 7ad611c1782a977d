"""Where a report reads its rows: the live views, or copies rebuilt "as known at" a past time.

A report never has two code paths for time travel. For ``known_at`` the same tables are created
as temporary tables (``pg_temp``) and filled by ``facts.case_rows`` from the events barnflow had
recorded by then; the report's SQL then runs unchanged against that schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import orjson
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from projections.tables import ALL_TABLES, CASES
from projections.view import ReportsView, allow_idle, write_cases

TEMP_SCHEMA = "pg_temp"
#: How long a report's read transaction may sit between two statements while the report
#: computes (the store's connections end one idle for 5 s, eventsourcing's
#: ``POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT``, a guard against leaked transactions). At
#: 1,000,000 events the placement reports fold every case for several seconds after one read and
#: failed with ``IdleInTransactionSessionTimeout`` (docs/operations.md "Rebuild"); a leaked
#: report transaction still ends, after this.
REPORT_IDLE = "2min"


@contextmanager
def report_cursor(
    view: ReportsView, kommun: str, known_at: datetime | None
) -> Iterator[tuple[Cursor[DictRow], str]]:
    """A read-only cursor and the schema to query: the views, or what was known at ``known_at``."""
    with view.cursor(commit=False) as curs:
        allow_idle(curs, REPORT_IDLE)
        if known_at is None:
            yield curs, view.schema
            return
        if known_at.tzinfo is None:
            raise ValueError("known_at needs a UTC offset")
        curs.execute(
            sql.SQL(
                "SELECT case_id::text AS case_id, ivo_id, events FROM {}.{} WHERE kommun = %s "
                "ORDER BY case_id"
            ).format(sql.Identifier(view.schema), sql.Identifier(CASES.name)),
            (kommun,),
        )
        cases = []
        for row in curs.fetchall():
            envs: list[dict[str, Any]] = [
                e
                for e in orjson.loads(view.unseal(row["events"]))
                if datetime.fromisoformat(e["recorded_at"]) <= known_at
            ]
            cases.append((row["case_id"], envs, row["ivo_id"]))
        for table in ALL_TABLES:
            curs.execute(table.create(view.schema, temporary=True))
        write_cases(curs, TEMP_SCHEMA, cases, view.seal, view.policies(curs))
        yield curs, TEMP_SCHEMA


def table_ref(schema: str, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))
