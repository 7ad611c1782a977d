"""Kommun configurations in tests: a store whose process has given versions in force, stored in
the database as ``infra.bootstrap.open_store`` stores them at start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from infra.config.kommun import LoadedConfig, parse_kommun_config
from infra.persistence.kommun_config import store_versions, with_versions
from infra.persistence.schema import kommun_config_table
from infra.persistence.store import CaseStore
from projections.runner import conninfo_of


def kommun_config(kommun: str, **tables: Any) -> LoadedConfig:
    """A validated kommun file given as its tables (e.g. ``klagomal={"dagar": 7}``)."""
    return parse_kommun_config({"kommun": kommun, **tables}, f"test/{kommun}.toml")


def store_configs(env: dict[str, str], *configs: LoadedConfig) -> dict[str, str]:
    """Store ``configs`` as versions (creating the table as migration 2 does) and return ``env``
    naming them as the versions in force."""
    schema = env["POSTGRES_SCHEMA"]
    with psycopg.connect(conninfo_of(env), autocommit=True) as conn:
        for stmt in kommun_config_table(schema):
            conn.execute(stmt)
        store_versions(conn, schema, configs)
    return with_versions(env, {c.kommun: c.version for c in configs})


@contextmanager
def configured_store(store: CaseStore, *configs: LoadedConfig) -> Iterator[CaseStore]:
    """A second handle on ``store``'s database whose process has ``configs`` in force."""
    configured = CaseStore(env=store_configs(dict(store.env), *configs))
    try:
        yield configured
    finally:
        configured.close()
