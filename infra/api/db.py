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

from infra.store import CaseStore

_TABLES = (
    "CREATE TABLE IF NOT EXISTS {s}.api_keys ("
    " key_hash text PRIMARY KEY, subject text NOT NULL, role text NOT NULL,"
    " kommun text NOT NULL, units text[] NOT NULL DEFAULT '{{}}',"
    " created_at timestamptz NOT NULL DEFAULT now(), revoked_at timestamptz)",
    "CREATE TABLE IF NOT EXISTS {s}.webhook_subscriptions ("
    " id uuid PRIMARY KEY, kommun text NOT NULL, url text NOT NULL,"
    " event_types text[] NOT NULL, secret text NOT NULL, created_by text NOT NULL,"
    " after_position bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
    " active boolean NOT NULL DEFAULT true, units text[] NOT NULL DEFAULT '{{}}')",
    # subscriptions created before unit scoping: every unit of the kommun, as they were
    "ALTER TABLE {s}.webhook_subscriptions ADD COLUMN IF NOT EXISTS"
    " units text[] NOT NULL DEFAULT '{{}}'",
    "CREATE TABLE IF NOT EXISTS {s}.webhook_deliveries ("
    " id bigserial PRIMARY KEY, subscription_id uuid NOT NULL, position bigint NOT NULL,"
    " event_type text NOT NULL, attempt integer NOT NULL, status_code integer,"
    " error text, delivered boolean NOT NULL, at timestamptz NOT NULL DEFAULT now())",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_sub"
    " ON {s}.webhook_deliveries (subscription_id, position)",
)


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
    with connection(store) as conn:
        for stmt in _TABLES:
            conn.execute(q(store, stmt))
        conn.commit()
