"""Only an unreachable or timed-out database is "retry later" (review finding 6).

psycopg reports a full disk, a deadlock or a serialization failure as ``OperationalError`` too;
those are faults and must reach the unexpected-error path (API: 500; CLI: a traceback), not be
swallowed as a 503 / "PostgreSQL does not answer".
"""

from __future__ import annotations

import argparse

import psycopg
import pytest
from eventsourcing import persistence as es_persistence
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import errors

from infra.api.problems import install
from infra.cli.main import _run

UNAVAILABLE: list[BaseException] = [
    psycopg.OperationalError("connection refused"),  # no answer: no SQLSTATE
    errors.AdminShutdown(),
    errors.CannotConnectNow(),
    errors.QueryCanceled(),  # statement_timeout
    errors.ConnectionFailure(),
]
FAULTS: list[BaseException] = [
    errors.DiskFull(),
    errors.DeadlockDetected(),
    errors.SerializationFailure(),
    errors.InsufficientResources(),
    errors.LockNotAvailable(),
]


def _wrapped(cause: BaseException) -> BaseException:
    """As eventsourcing's store raises it: its own error with psycopg's as the cause."""
    try:
        raise es_persistence.OperationalError("wrapped") from cause
    except es_persistence.OperationalError as exc:
        return exc


def _client(exc: BaseException) -> TestClient:
    app = FastAPI()
    install(app)

    @app.get("/boom")
    def boom() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("exc", UNAVAILABLE + [_wrapped(e) for e in UNAVAILABLE], ids=repr)
def test_an_unreachable_database_is_503(exc: BaseException) -> None:
    answer = _client(exc).get("/boom")
    assert answer.status_code == 503 and answer.json()["type"].endswith("/unavailable")


@pytest.mark.parametrize("exc", FAULTS + [_wrapped(e) for e in FAULTS], ids=repr)
def test_a_database_fault_is_an_internal_error_not_retry_later(exc: BaseException) -> None:
    answer = _client(exc).get("/boom")
    assert answer.status_code == 500 and answer.json()["type"].endswith("/internal")


def _cli(exc: BaseException) -> argparse.Namespace:
    def func(args: argparse.Namespace) -> int:
        raise exc

    return argparse.Namespace(func=func, command="ops")


def test_the_cli_says_one_line_for_an_unreachable_database(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run(_cli(errors.AdminShutdown())) == 2
    assert "PostgreSQL does not answer" in capsys.readouterr().err


def test_the_cli_does_not_swallow_a_database_fault() -> None:
    with pytest.raises(errors.DiskFull):
        _run(_cli(errors.DiskFull()))
