"""One writer per view (issue 13): while a worker's projection runner keeps the views, reports
only read them (and say how far behind they are), and of two runners only one ever writes.

Who writes is observed in PostgreSQL itself: statement-level triggers on every view table and
on the tracking table log the writing session's ``application_name`` (each process here runs
with its own ``PGAPPNAME``), so a reader that wrote anything would show up by name.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore, eventsourcing_env
from infra.temporal.devserver import DevServer
from projections.tables import ALL_TABLES
from projections.view import open_view
from tests.conftest import CIPHER_KEY
from tests.projections.test_kill import _cli_env

BARNFLOW = [sys.executable, "-m", "infra.cli"]
GOLDEN = Path(__file__).parents[1] / "golden"
EVB = GOLDEN / "evb.jsonl"
REPORT = ("report", "evb", "--kommun", "1280", "--quarter", "2026Q1", "--format", "document")
LAG = re.compile(r"^views at position (\d+) of (\d+), lag (\d+) events$")


def _as(env: dict[str, str], app: str) -> dict[str, str]:
    return {**env, "PGAPPNAME": app}


def _barnflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@contextmanager
def _running(*args: str, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """A barnflow service as a subprocess, stopped by its pid (SIGTERM, then SIGKILL)."""
    proc = subprocess.Popen(
        [*BARNFLOW, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _watch_writers(pg_url: str, schema: str, es_env: dict[str, str]) -> None:
    """Create the views (as any service would) and log every write to them by session name."""
    view = open_view(es_env)
    tracking = view.tracking_table_name
    view.datastore.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE TABLE {}.writers (app text, tbl text, op text)").format(
                sql.Identifier(schema)
            )
        )
        conn.execute(
            sql.SQL(
                "CREATE FUNCTION {}.log_writer() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "INSERT INTO {}.writers VALUES (current_setting('application_name'), TG_TABLE_NAME,"
                " TG_OP); RETURN NULL; END $$"
            ).format(sql.Identifier(schema), sql.Identifier(schema))
        )
        for table in [t.name for t in ALL_TABLES] + [tracking]:
            conn.execute(
                sql.SQL(
                    "CREATE TRIGGER log_writer AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                    "ON {}.{} FOR EACH STATEMENT EXECUTE FUNCTION {}.log_writer()"
                ).format(sql.Identifier(schema), sql.Identifier(table), sql.Identifier(schema))
            )


def _writers(pg_url: str, schema: str) -> set[str]:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        rows = conn.execute(
            sql.SQL("SELECT DISTINCT app FROM {}.writers").format(sql.Identifier(schema))
        ).fetchall()
    return {str(r[0]) for r in rows}


def _lag(stderr: str) -> tuple[int, int, int]:
    match = LAG.match(stderr.splitlines()[0])
    assert match, stderr
    position, head, lag = (int(g) for g in match.groups())
    assert lag == head - position >= 0
    return position, head, lag


def _until_a_runner_writes(
    env: dict[str, str], runner: subprocess.Popen[str], timeout: float = 60
) -> None:
    """Wait until some runner holds the views' writer lock (``projections status`` names it);
    a runner that exits, or a wait that times out, fails with what the runner and the last
    status said."""
    deadline = time.monotonic() + timeout
    while True:
        status = _barnflow("projections", "status", env=env)
        if "runner at PostgreSQL backend" in status.stdout:
            return
        if runner.poll() is not None or time.monotonic() > deadline:
            if runner.poll() is None:
                runner.send_signal(signal.SIGTERM)
            locks = _advisory_locks(env["BARNFLOW_DATABASE_URL"])
            _, err = runner.communicate(timeout=30)
            raise AssertionError(
                f"no runner took the writer lock (runner exit {runner.returncode}; its stderr: "
                f"{err[-1500:]!r}; last status exit {status.returncode}: {status.stdout!r} "
                f"{status.stderr[-1500:]!r}; advisory locks then: {locks})"
            )
        time.sleep(0.2)


def _advisory_locks(pg_url: str) -> list[tuple[Any, ...]]:
    """Every advisory lock in the database, held or awaited, with its session's name and age:
    the start-up lock (``infra.bootstrap.startup_lock``) is one per schema."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT l.classid, l.objid, l.granted, a.application_name, a.state, "
            "now() - a.backend_start, left(a.query, 80) FROM pg_locks l "
            "JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory'"
        ).fetchall()


def _report_until_current(env: dict[str, str], head: int, timeout: float = 90) -> str:
    """Ask the report (as a reader) until its views include ``head``; its document."""
    deadline = time.monotonic() + timeout
    while True:
        run = _barnflow(*REPORT, env=_as(env, "reader"))
        assert run.returncode == 0, run.stderr[-2000:]
        position, _head, lag = _lag(run.stderr)
        if position >= head and lag == 0:
            return run.stdout
        assert time.monotonic() < deadline, f"views stuck at {position} of {head}"
        time.sleep(0.3)


def test_reports_asked_while_a_worker_runs_are_correct_and_never_write(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path, dev_temporal: DevServer
) -> None:
    es_env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    _watch_writers(pg_url, schema, es_env)
    env = {
        **_cli_env(tmp_path, pg_url, schema),
        "BARNFLOW_TEMPORAL_ADDRESS": dev_temporal.address,
        "BARNFLOW_TASK_QUEUE": f"writer-{schema}",
    }
    lines = EVB.read_text(encoding="utf-8").splitlines()
    half = len(lines) // 2
    with _running("worker", env=_as(env, "worker")) as worker:
        assert worker.stdout is not None
        assert worker.stdout.readline().startswith("barnflow worker on"), worker.stderr
        import_lines(store, lines[:half])
        # asked at once, while the runner folds: an answer at some consistent position
        early = _barnflow(*REPORT, env=_as(env, "reader"))
        assert early.returncode == 0, early.stderr[-2000:]
        assert _lag(early.stderr)[0] <= half
        _report_until_current(env, half)
        import_lines(store, lines[half:])
        document = _report_until_current(env, len(lines))
        assert document == (GOLDEN / "evb" / "evb@2026Q1.json").read_text(encoding="utf-8")
        # a one-shot catch-up next to a running worker waits for the worker's runner
        caught = _barnflow("projections", "catch-up", env=_as(env, "catch-up"))
        assert caught.returncode == 0, caught.stderr[-2000:]
        # and a rebuild refuses rather than become a second writer
        rebuilt = _barnflow("projections", "rebuild", "--quiet", env=_as(env, "rebuild"))
        assert rebuilt.returncode == 1
        [line] = rebuilt.stderr.splitlines()
        assert line.startswith("barnflow: a projection runner writes the views")
    assert _writers(pg_url, schema) == {"worker"}


def test_of_two_runners_one_writes_and_the_other_takes_over_when_it_stops(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    es_env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    _watch_writers(pg_url, schema, es_env)
    env = _cli_env(tmp_path, pg_url, schema)
    lines = EVB.read_text(encoding="utf-8").splitlines()
    half = len(lines) // 2
    run = ("projections", "run", "--batch-size", "5")
    with _running(*run, env=_as(env, "runner-a")) as a:
        _until_a_runner_writes(env, a)  # the first holds the lock: which one writes is known
        with _running(*run, env=_as(env, "runner-b")) as b:
            assert b.stderr is not None
            assert b.stderr.readline().strip() == (
                "another projection runner writes the views; waiting as standby"
            )
            import_lines(store, lines[:half])
            _report_until_current(env, half)
            assert _writers(pg_url, schema) == {"runner-a"}
            a.send_signal(signal.SIGTERM)
            assert a.wait(timeout=30) == 0
            import_lines(store, lines[half:])
            document = _report_until_current(env, len(lines))
            assert b.poll() is None
    assert _writers(pg_url, schema) == {"runner-a", "runner-b"}
    assert document == (GOLDEN / "evb" / "evb@2026Q1.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("second", ["catch-up", "rebuild"])
def test_a_one_shot_writer_next_to_a_running_runner_never_writes(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path, second: str
) -> None:
    es_env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    _watch_writers(pg_url, schema, es_env)
    env = _cli_env(tmp_path, pg_url, schema)
    lines = EVB.read_text(encoding="utf-8").splitlines()
    import_lines(store, lines)
    with _running("projections", "run", env=_as(env, "runner")) as runner:
        _until_a_runner_writes(env, runner)
        args = ("catch-up",) if second == "catch-up" else ("rebuild", "--quiet")
        run = _barnflow("projections", *args, env=_as(env, second))
        if second == "catch-up":  # waits for the runner to reach the head
            assert run.returncode == 0, run.stderr[-2000:]
            assert run.stdout == f"views at position {len(lines)} of {len(lines)}, lag 0 events\n"
        else:
            assert run.returncode == 1
            assert run.stderr.startswith("barnflow: a projection runner writes the views")
    assert _writers(pg_url, schema) == {"runner"}


def test_a_released_writer_lock_is_free_at_once_for_the_next_writer(
    pg_url: str, schema: str
) -> None:
    """A rebuild right after a runner stopped must find the views free: the lock is given up
    before the runner's connection closes, not whenever the server notices the disconnect
    (under load that gap made ``projections rebuild`` fail with ViewsBusy)."""
    from projections.runner import WriterLock

    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    for _ in range(30):
        first = WriterLock(env)
        assert first.try_acquire()
        first.release()
        second = WriterLock(env)
        try:
            assert second.try_acquire(), f"still held by backend {second.holder()}"
        finally:
            second.release()
