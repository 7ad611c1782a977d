"""The statement timeout of ``ops`` and ``audit`` is really in force, even when the operator's
environment already sets ``PGOPTIONS`` for something else (review finding 12)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest

from infra.cli.main import _STATEMENT_TIMEOUTS
from infra.config.timeouts import bound_libpq


def _server_setting(pg_url: str, name: str) -> str:
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(f"SHOW {name}").fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture
def operator_pgoptions(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    options = "-c application_name=operator_shell"
    monkeypatch.setenv("PGOPTIONS", options)
    yield options


@pytest.mark.parametrize("command", ["ops", "audit"])
def test_ops_and_audit_statements_are_bounded_within_ten_seconds(
    pg_url: str, operator_pgoptions: str, command: str
) -> None:
    with bound_libpq(_STATEMENT_TIMEOUTS[command]):
        timeout = _server_setting(pg_url, "statement_timeout")
        # the operator's own option is kept
        assert _server_setting(pg_url, "application_name") == "operator_shell"
    assert timeout.endswith("s") and 0 < int(timeout.removesuffix("s")) <= 10, timeout
    # restored afterwards: the process's environment is what the operator set
    assert os.environ["PGOPTIONS"] == operator_pgoptions


def test_an_operators_explicit_statement_timeout_wins(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=3000")
    with bound_libpq(_STATEMENT_TIMEOUTS["ops"]):
        assert _server_setting(pg_url, "statement_timeout") == "3s"
