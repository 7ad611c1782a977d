"""Kommun configuration versions in PostgreSQL: stored at every start (append-only), read back by
version id by the case workflows' activity, the report views and auditors.

Why in the database and not only in each process: a workflow, a view or an auditor may need a
version that another process loaded (the API was restarted with a new file, the worker not yet),
or one that no process has loaded for years. The table keeps every version ever in force; the
version id is the document's own digest, so a row is verified when it is read.

The versions in force travel with the store's eventsourcing environment (``ENV_VERSIONS``, set
by ``infra.bootstrap.open_store``), so everything built from that environment (the projection
runner, rebuild workers, the API's report source) knows them without reading files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg import sql
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from domain.kommun import KommunConfig, config_version, kommun_config_from_document
from infra.config.kommun import LoadedConfig, known, remember
from infra.persistence.schema import KOMMUN_CONFIG

#: Key of the store's environment: JSON object kommun → version id in force in this process.
ENV_VERSIONS = "KOMMUN_CONFIG_VERSIONS"


class UnknownKommunConfig(LookupError):
    """No stored configuration has this version id (or the stored one does not match it)."""


@dataclass(frozen=True)
class StoredConfig:
    """One stored version: the document, where it was first loaded from and when."""

    version: str
    kommun: str
    document: dict[str, Any]
    source: str
    loaded_at: datetime


def _table(schema: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(KOMMUN_CONFIG))


def store_versions(
    conn: psycopg.Connection[Any], schema: str, configs: Iterable[LoadedConfig]
) -> list[str]:
    """Store each configuration's version unless it is stored already; the new version ids."""
    added = []
    with conn.cursor(row_factory=tuple_row) as curs:
        for c in configs:
            curs.execute(
                sql.SQL(
                    "INSERT INTO {} (version, kommun, document, source) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (version) DO NOTHING RETURNING version"
                ).format(_table(schema)),
                (c.version, c.kommun, Jsonb(c.document), c.source),
            )
            if curs.fetchone() is not None:
                added.append(c.version)
    return added


_COLUMNS = sql.SQL("version, kommun, document, source, loaded_at")


def _stored(row: tuple[Any, ...]) -> StoredConfig:
    return StoredConfig(str(row[0]), str(row[1]), dict(row[2]), str(row[3]), row[4])


def fetch(conn: psycopg.Connection[Any], schema: str, version: str) -> StoredConfig | None:
    """The stored version ``version``, or ``None``."""
    with conn.cursor(row_factory=tuple_row) as curs:
        curs.execute(
            sql.SQL("SELECT {} FROM {} WHERE version = %s").format(_COLUMNS, _table(schema)),
            (version,),
        )
        row = curs.fetchone()
    return None if row is None else _stored(row)


def stored_versions(
    conn: psycopg.Connection[Any], schema: str, kommun: str | None = None
) -> list[StoredConfig]:
    """Every stored version (of one kommun), oldest first."""
    where = sql.SQL("WHERE kommun = %s") if kommun is not None else sql.SQL("")
    with conn.cursor(row_factory=tuple_row) as curs:
        curs.execute(
            sql.SQL("SELECT {} FROM {} {} ORDER BY loaded_at, version").format(
                _COLUMNS, _table(schema), where
            ),
            (kommun,) if kommun is not None else (),
        )
        return [_stored(r) for r in curs.fetchall()]


def verified(stored: StoredConfig) -> KommunConfig:
    """The domain objects of a stored version, after checking that its content is the one its
    version id names (a changed row is refused, never computed with)."""
    if config_version(stored.document) != stored.version:
        raise UnknownKommunConfig(
            f"kommun configuration {stored.version}: the stored document does not match its "
            "version id (the row was changed)"
        )
    return kommun_config_from_document(stored.document, source=stored.source)


def resolve(conn: psycopg.Connection[Any], schema: str, version: str) -> KommunConfig:
    """The configuration ``version``: from this process's cache, else from the table."""
    cached = known(version)
    if cached is not None:
        return cached
    stored = fetch(conn, schema, version)
    if stored is None:
        raise UnknownKommunConfig(f"no stored kommun configuration {version!r}")
    return remember(verified(stored))


def versions_in(env: Mapping[str, str]) -> dict[str, str]:
    """kommun → version id in force, from a store's environment (empty: the defaults apply)."""
    raw = env.get(ENV_VERSIONS)
    return {str(k): str(v) for k, v in orjson.loads(raw).items()} if raw else {}


def with_versions(env: Mapping[str, str], versions: Mapping[str, str]) -> dict[str, str]:
    """``env`` carrying ``versions`` as the versions in force."""
    out = dict(env)
    out[ENV_VERSIONS] = orjson.dumps(dict(sorted(versions.items()))).decode()
    return out
