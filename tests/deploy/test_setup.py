"""``barnflow setup`` and the refusal to start half-configured (issue 21, items 1 and 2), as an
operator meets them: the CLI as a subprocess in production mode, against a fresh schema and a
fresh namespace on a real Temporal server."""

from __future__ import annotations

import signal
import subprocess

import psycopg
import pytest
from temporalio.client import Client

from infra.persistence.schema import LATEST, applied_versions
from infra.temporal.devserver import DevServer
from tests.deploy.conftest import BARNFLOW, barnflow, new_namespace, production_env

pytestmark = pytest.mark.timeout(240)


def _version(pg_url: str, schema: str) -> int:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        return max(applied_versions(conn, schema), default=0)


def _one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


async def test_fresh_database_and_namespace_setup_then_start(
    pg_url: str, fresh_schema: str, dev_temporal: DevServer, dev_client: Client
) -> None:
    namespace = await new_namespace(dev_client)
    env = production_env(pg_url, fresh_schema, dev_temporal.address, namespace)

    # the worker refuses a database barnflow never set up, naming the fix
    refused = barnflow("worker", env=env)
    assert refused.returncode == 2
    line = _one_line(refused.stderr)
    assert line.startswith("barnflow: schema:") and "barnflow setup --apply" in line
    assert _version(pg_url, fresh_schema) == 0  # production services never migrate on start

    # the dry run names both gaps and changes nothing
    dry = barnflow("setup", env=env)
    assert dry.returncode == 1, dry.stdout + dry.stderr
    assert "FAIL schema" in dry.stdout
    assert f"namespace {namespace!r} lacks 7 of 7" in dry.stdout
    assert "dry run: nothing was changed" in dry.stdout
    assert _version(pg_url, fresh_schema) == 0

    # with the schema migrated by hand (setup --apply does both), the API still refuses a
    # namespace without the search attributes: the 503 of issue 21 becomes a refusal at start
    from infra.bootstrap import open_store
    from infra.config.settings import load_settings

    with open_store(load_settings(env), pg_url):
        pass
    api = barnflow("api", "serve", "--port", "0", env=env)
    assert api.returncode == 2
    line = _one_line(api.stderr)
    assert line.startswith("barnflow: search attributes:") and "BarnflowKommun" in line

    applied = barnflow("setup", "--apply", env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "ok   search attributes all 7" in applied.stdout
    assert "ok   retention" in applied.stdout
    again = barnflow("setup", "--apply", env=env)  # idempotent
    assert again.returncode == 0, again.stdout + again.stderr
    assert _version(pg_url, fresh_schema) == LATEST

    worker = subprocess.Popen(
        [*BARNFLOW, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout is not None
        first = worker.stdout.readline()
        assert first.startswith("barnflow worker on"), worker.stderr.read() if worker.stderr else ""
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)


async def test_setup_reports_a_short_retention(
    pg_url: str, fresh_schema: str, dev_temporal: DevServer, dev_client: Client
) -> None:
    namespace = await new_namespace(dev_client, retention_days=1)
    env = production_env(pg_url, fresh_schema, dev_temporal.address, namespace)
    out = barnflow("setup", "--apply", env=env)
    assert out.returncode == 1
    assert "FAIL retention" in out.stdout and "--retention 30d" in out.stdout
