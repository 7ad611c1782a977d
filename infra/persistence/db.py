"""The API's own tables (API keys, webhook subscriptions, delivery log) in the store's schema.

They share the store's connection pool, so the API opens no second pool per process. These are
not events: a key or a subscription is configuration, and the delivery log is operational
evidence; none of them is part of the personakt.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, cast

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from infra.persistence.schema import api_tables, is_current
from infra.persistence.store import CaseStore


def schema_of(store: CaseStore) -> str:
    return str(store.env.get("POSTGRES_SCHEMA") or "public")


def connection(store: CaseStore) -> AbstractContextManager[psycopg.Connection[Any]]:
    """A pooled connection from the store's recorder (dict rows, committed on exit)."""
    recorder = cast(PostgresApplicationRecorder, store.recorder)
    return recorder.datastore.get_connection()


def q(store: CaseStore, text: str) -> sql.Composed:
    """``text`` with ``{s}`` bound to the store's schema identifier."""
    return sql.SQL(text).format(s=sql.Identifier(schema_of(store)))


def ensure_tables(store: CaseStore) -> None:
    """The API's tables (DDL in ``infra.persistence.schema``; a migrated store already has them)."""
    with connection(store) as conn:
        # migrated: they exist, and DDL again only collides with other processes
        if not is_current(conn, schema_of(store)):
            for stmt in api_tables(schema_of(store)):
                conn.execute(stmt)
        conn.commit()
