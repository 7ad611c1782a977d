"""The start-up lock (``infra.bootstrap.startup_lock``): held while a service creates its tables,
one per schema, and never while a service waits for something else.

A worker that waited for an unreachable Temporal used to hold the lock, for the whole database,
for its 15 s of connection attempts, and every API, runner and ``projections status`` started
meanwhile on that database waited with it (a systemd unit restarting such a worker kept the
others waiting most of the time).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from infra.bootstrap import STARTUP_LOCK_CLASS, startup_lock
from infra.persistence import access_log
from infra.persistence.schema import migrate
from infra.persistence.store import CaseStore, eventsourcing_env
from tests.conftest import CIPHER_KEY
from tests.projections.test_kill import _cli_env
from tests.writer.test_one_writer import _running

BARNFLOW = [sys.executable, "-m", "infra.cli"]


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BARNFLOW, "projections", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _has_table(pg_url: str, schema: str, table: str) -> bool:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass(%s)", [f"{schema}.{table}"]).fetchone()
    return row is not None and row[0] is not None


def _waits_for_startup_lock(pg_url: str, schema: str) -> bool:
    """Whether a session waits for ``schema``'s start-up lock (asked, not granted)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND classid = %s::oid AND objid = hashtext(%s)::oid AND objsubid = 2",
            [STARTUP_LOCK_CLASS, schema],
        ).fetchone()
    return row is not None and row[0] > 0


def test_a_worker_waiting_for_an_unreachable_temporal_does_not_hold_up_other_services(
    pg_url: str, schema: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path / "home", pg_url, schema)
    env["BARNFLOW_TEMPORAL_ADDRESS"] = f"127.0.0.1:{_closed_port()}"
    with _running("worker", env=env) as worker:
        deadline = time.monotonic() + 60
        # the worker's tables and views exist: its set-up is done, its Temporal wait begins
        while not _has_table(pg_url, schema, "report_cases"):
            assert worker.poll() is None, worker.communicate(timeout=10)
            assert time.monotonic() < deadline, "the worker created no views within 60 s"
            time.sleep(0.1)
        status = _status(env)
        # answered while the worker is still trying Temporal (it gives up after 15 s): the
        # status (which migrates under the start-up lock) did not wait for that
        still_waiting = worker.poll() is None
        assert status.returncode == 0, status.stderr[-2000:]
        assert still_waiting, (
            "`projections status` answered only after the worker gave up on Temporal: "
            f"{worker.communicate(timeout=10)[1][-1500:]!r}"
        )


def test_the_start_up_lock_of_one_schema_holds_up_that_schema_only(
    pg_url: str, schema: str, tmp_path: Path
) -> None:
    other = f"{schema}_b"
    env = _cli_env(tmp_path / "home", pg_url, schema)
    other_env = {**env, "BARNFLOW_DATABASE_SCHEMA": other}
    answered: list[subprocess.CompletedProcess[str]] = []
    try:
        with startup_lock(pg_url, schema):
            # another schema of the same database starts at once ...
            run = _status(other_env)
            assert run.returncode == 0, run.stderr[-2000:]
            # ... this one waits for the lock's holder: seen in PostgreSQL as a lock request
            # of this schema's start-up lock that is not granted
            waiting = threading.Thread(target=lambda: answered.append(_status(env)))
            waiting.start()
            deadline = time.monotonic() + 60
            while not _waits_for_startup_lock(pg_url, schema):
                assert not answered, f"status did not wait for the lock: {answered}"
                assert time.monotonic() < deadline, "status never asked for the lock"
                time.sleep(0.05)
            assert waiting.is_alive() and not answered
        waiting.join(timeout=60)
        assert answered and answered[0].returncode == 0, answered
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(other)))


def test_processes_opening_a_store_at_once_run_no_ddl_that_collides(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    """What only the start-up lock's holder may create is created; everyone else opening the
    store outside it (``projections status`` and every one-shot command after ``open_store``)
    runs only ``IF NOT EXISTS`` statements on what exists. CI on b7a7b29 failed a runner that
    opened its store while a ``projections status`` opened the same one: eventsourcing's
    ``CREATE OR REPLACE FUNCTION es_insert_events_uuid`` (a function barnflow never calls) ran in
    both and PostgreSQL refused one with "tuple concurrently updated"."""
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    errors = _at_once(lambda n, i: CaseStore(env=env).close())
    assert errors == [], errors[:3]


def _at_once(
    step: Callable[[int, int], object], *, threads: int = 4, each: int = 25
) -> list[BaseException]:
    """``step(n, i)`` ``each`` times in each of ``threads`` threads released together (each
    with its own connections, as processes starting at the same moment); every failure."""
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def run(n: int) -> None:
        start.wait()
        for i in range(each):
            try:
                step(n, i)
            except BaseException as exc:  # every failure is returned
                errors.append(exc)

    running = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for t in running:
        t.start()
    for t in running:
        t.join()
    return errors


class _Forgetful(set[tuple[str, str]]):
    """A process-wide "created already" memo that remembers nothing: every call is a first use,
    as in each of several API processes started together."""

    def add(self, item: tuple[str, str]) -> None:
        return None


def test_first_reads_logged_by_several_processes_at_once_all_land(
    pg_url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The access log's first write in each process used to re-run its DDL (``CREATE OR REPLACE
    FUNCTION`` and ``TRIGGER``): API processes started together, each logging its first read,
    collided on it and the read failed. A migrated schema has the table; nothing is re-created."""
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    migrate(pg_url, schema, env)
    monkeypatch.setattr(access_log, "_created", _Forgetful())
    case = uuid.uuid4()

    def log_read(n: int, i: int) -> None:
        with psycopg.connect(pg_url) as conn:
            access_log.record_access(
                conn, f"h{n}", "handlaggare", "1280", case, f"read {i}", datetime.now(UTC),
                schema=schema,
            )  # fmt: skip

    errors = _at_once(log_read)
    assert errors == [], errors[:3]
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(access_log.TABLE)
            )
        ).fetchone()
    assert row == (100,)
