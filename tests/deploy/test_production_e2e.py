"""A production-mode deployment end to end (issue 21, item 4), as the README's production steps
run it: ``BARNFLOW_MODE=production`` against the machine's external PostgreSQL (when it answers;
else this run's server) and a Temporal server started on its own (not ``barnflow dev``), a
fresh schema and a fresh namespace. ``setup --apply``, then ``barnflow worker`` and
``barnflow api serve`` as processes; one case over HTTP, a report, ``audit verify``; then a
rolling restart of the worker: a command sent while it stops completes once the next one runs.
Never skipped: CI runs it (``.ci/run`` → ``./run.sh test``)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import psycopg
import pytest
from psycopg import sql
from temporalio.client import Client

from infra.api.auth import create_jwt
from infra.temporal.devserver import DevServer, free_port, stop_process
from tests.deploy.conftest import BARNFLOW, b64, barnflow, new_namespace, production_env
from tests.factories import anmalan, earlier_today, fresh_pnr, line
from tests.helpers import real_time

pytestmark = pytest.mark.timeout(300)
EXTERNAL_PG = "postgresql://postgres@127.0.0.1:5432/test"
JWT_KEY = b"j" * 32
KOMMUN = "1280"


@pytest.fixture
def production_pg(pg_url: str) -> Iterator[tuple[str, str]]:
    """(url, fresh schema): the machine's external PostgreSQL when it answers, else this run's."""
    url = pg_url
    try:
        psycopg.connect(EXTERNAL_PG, connect_timeout=3).close()
        url = EXTERNAL_PG
    except psycopg.OperationalError:
        pass
    schema = f"prod_{int(time.time() * 1000) % 10**10}"
    yield url, schema
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _start(args: list[str], env: dict[str, str], ready: str) -> subprocess.Popen[str]:
    """A barnflow service as a process; returns once it printed ``ready`` on stdout."""
    proc = subprocess.Popen(
        [*BARNFLOW, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if not first.startswith(ready):
        stop_process(proc)  # type: ignore[arg-type]
        raise AssertionError(f"{args}: {first!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc


def _stop(proc: subprocess.Popen[str], timeout: float = 60) -> int:
    """SIGTERM, as systemd stops a unit; the exit code."""
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout)


async def test_production_deployment_serves_a_case_and_survives_a_rolling_restart(
    production_pg: tuple[str, str], dev_temporal: DevServer, dev_client: Client
) -> None:
    url, schema = production_pg
    namespace = await new_namespace(dev_client)
    env = production_env(url, schema, dev_temporal.address, namespace) | {
        "BARNFLOW_API_COMMAND_TIMEOUT": "30",
    }
    setup = barnflow("setup", "--apply", env=env)
    assert setup.returncode == 0, setup.stdout + setup.stderr

    port = free_port()
    worker = _start(["worker"], env, "barnflow worker on")
    api = _start(["api", "serve", "--port", str(port)], env, "barnflow api on")
    try:
        # minted on the real clock, the API subprocess's: a moved test clock (--clock) moves
        # only this process, and a token of its time would be expired or not yet valid there
        real_now = int(real_time())
        jwt = create_jwt(JWT_KEY, subject="e2e", role="system", kommun=KOMMUN, issued_at=real_now)
        headers = {"Authorization": f"Bearer {jwt}", "X-Barnflow-Purpose": "test"}
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            assert http.get("/health/ready").status_code == 200

            pnr, ref = fresh_pnr(), "VS-PROD-1"
            at, then = earlier_today(2, within=timedelta(hours=2))
            opened = http.post("/commands", json=anmalan(at, pnr=pnr, case_ref=ref, key="p-1"))
            assert opened.status_code == 201, opened.text
            position = opened.json()["position"]

            report = http.get("/reports/frister", params={"min_position": position})
            assert report.status_code == 200, report.text
            assert ref in report.text

            # rolling restart: SIGTERM the worker; a command sent meanwhile waits in Temporal
            # and completes when the next worker polls the task queue
            second = line(
                "skyddsbedomning_gjord",
                {"anmalan_id": "anm-1", "omedelbart_skydd": False},
                at=then,
                key="p-2",
                case_ref=ref,
            )
            with ThreadPoolExecutor(1) as pool:
                worker.send_signal(signal.SIGTERM)
                pending = pool.submit(http.post, "/commands", json=second)
                assert worker.wait(60) == 0 or worker.returncode in (0, 130, -signal.SIGTERM)
                worker = _start(["worker"], env, "barnflow worker on")
                answered = pending.result(timeout=90)
            assert answered.status_code == 201, answered.text
            assert answered.json()["position"] > position

        verify = barnflow("audit", "verify", env=env)
        assert verify.returncode == 0, verify.stdout + verify.stderr

        # a worker given another cipher key refuses to start instead of appending unreadably
        wrong_key = env | {"BARNFLOW_CIPHER_KEY": b64(b"w" * 32)}
        refused = barnflow("worker", env=wrong_key)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert refused.stderr.strip().startswith(
            "barnflow: keys: BARNFLOW_CIPHER_KEY does not decrypt the event store"
        ), refused.stderr
    finally:
        for proc in (api, worker):
            if proc.poll() is None:
                _stop(proc)
