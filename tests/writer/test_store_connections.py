"""Closing a cases' store closes the homes' store opened next to it (``homes_of``).

Each store holds a pool of PostgreSQL connections; the homes' store was closed only when the
garbage collector found the cases' store, so a process (the test run, an API serving many
requests) that opened stores kept their homes' pools and ran the server out of connections
("sorry, too many clients already": a runner that never took the writer lock).
"""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from infra.persistence.homes import homes_of
from infra.persistence.store import CaseStore, eventsourcing_env
from tests.conftest import CIPHER_KEY

#: The application name of the connection that counts the others.
OBSERVER = "barnflow-test-observer"


def _connections(pg_url: str, app: str) -> list[str]:
    """The server's connections of one application name, described (pid, state, since, query),
    so a failure says which connection stayed open.

    The check's own connection names itself otherwise: under ``PGAPPNAME`` it carried the
    test's name, and the backend of the previous check, closed a moment before, was sometimes
    still listed (3 of 500 checks in a row while a suite ran beside them): the "1 == 0" this
    test failed with once."""
    with psycopg.connect(pg_url, autocommit=True, application_name=OBSERVER) as conn:
        rows = conn.execute(
            "SELECT pid, state, backend_start, left(query, 80) FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()",
            (app,),
        ).fetchall()
    return [f"pid {r[0]} {r[1]} since {r[2]:%H:%M:%S.%f}: {r[3]}" for r in rows]


def _closed_within(pg_url: str, app: str, *, seconds: float) -> list[str]:
    """The connections of ``app`` still open after waiting up to ``seconds`` for them to go."""
    deadline = time.monotonic() + seconds
    still = _connections(pg_url, app)
    while still and time.monotonic() < deadline:
        time.sleep(0.1)
        still = _connections(pg_url, app)
    return still


def test_closing_a_store_releases_its_homes_connections(
    pg_url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = f"conn-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", app)
    stores = [CaseStore(env=eventsourcing_env(pg_url, schema, CIPHER_KEY)) for _ in range(2)]
    for store in stores:
        homes_of(store).state("1280", "FH-1")
        store.max_position()
    assert len(_connections(pg_url, app)) > 0
    for store in stores:
        store.close()
    assert _closed_within(pg_url, app, seconds=10) == []


def test_closing_a_store_releases_its_complaints_connections(
    pg_url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The complaints' and lex Sarah store (``kvalitet_of``) is closed with its cases' store too."""
    from infra.persistence.kvalitet import kvalitet_of

    app = f"conn-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", app)
    stores = [CaseStore(env=eventsourcing_env(pg_url, schema, CIPHER_KEY)) for _ in range(2)]
    for store in stores:
        assert kvalitet_of(store).kommun_events("1280") == []
        assert kvalitet_of(store) is kvalitet_of(store)
    assert len(_connections(pg_url, app)) > 0
    for store in stores:
        store.close()
    assert _closed_within(pg_url, app, seconds=10) == []
