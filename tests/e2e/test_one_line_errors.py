"""No tracebacks for expected conditions: a rejection, an idempotency conflict and an
unreachable dependency each print ONE line on stderr and exit 2 (the CLI as a subprocess,
against real PostgreSQL and a real Temporal dev server with a worker of this test)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra.persistence.store import CaseStore
from infra.temporal.client import connect
from infra.temporal.devserver import DevServer, free_port
from infra.temporal.worker import running_worker
from tests.conftest import CIPHER_KEY, CODEC_KEY, PSEUDONYM_KEY
from tests.factories import PNR_THIRD, anmalan, line

BARNFLOW = [sys.executable, "-m", "infra.cli"]
pytestmark = pytest.mark.timeout(300)


def _env(pg_url: str, schema: str, address: str, queue: str) -> dict[str, str]:
    def b64(key: bytes) -> str:
        return base64.b64encode(key).decode()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("BARNFLOW_", "PG"))}
    env.update(
        {
            "BARNFLOW_DATABASE_URL": pg_url,
            "BARNFLOW_DATABASE_SCHEMA": schema,
            "BARNFLOW_TEMPORAL_ADDRESS": address,
            "BARNFLOW_TASK_QUEUE": queue,
            "BARNFLOW_CODEC_KEY": b64(CODEC_KEY),
            "BARNFLOW_PSEUDONYM_KEY": b64(PSEUDONYM_KEY),
            "BARNFLOW_CIPHER_KEY": b64(CIPHER_KEY),
        }
    )
    return env


async def _send(path: Path, lines: list[dict[str, object]], env: dict[str, str]) -> tuple[int, str]:
    """``barnflow case send FILE`` without blocking this loop (the worker runs on it)."""
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    proc = await asyncio.create_subprocess_exec(
        *BARNFLOW,
        "case",
        "send",
        str(path),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


async def test_rejection_and_idempotency_conflict_are_one_line_and_logged_without_traces(
    store: CaseStore,
    pg_url: str,
    schema: str,
    dev_temporal: DevServer,
    task_queue: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = _env(pg_url, schema, dev_temporal.address, task_queue)
    ref = f"VS-one-{uuid.uuid4().hex[:8]}"
    at = datetime.now(UTC) - timedelta(minutes=5)
    opening = anmalan(at, pnr=PNR_THIRD, kommun="9921", case_ref=ref, key=f"{ref}-1")
    caplog.set_level(logging.INFO)  # what a service logs (DEBUG is for developers)
    # the worker's client has the store's workflow keys, as `barnflow worker` (the CLI's client
    # encrypts a case workflow's payloads under its own key; docs/security.md)
    client = await connect(
        dev_temporal.address, "default", CODEC_KEY, workflow_keys=store.workflow_keys
    )
    async with running_worker(client, store, task_queue, pseudonym_key=PSEUDONYM_KEY):
        # a rule's "no": a step for a case that was never opened
        orphan = line(
            "skyddsbedomning_gjord",
            {"anmalan_id": "anm-1", "omedelbart_skydd": False},
            at=at,
            key=f"{ref}-x",
            kommun="9921",
            case_ref=f"{ref}-none",
        )
        rc, err = await _send(tmp_path / "a.jsonl", [orphan], env)
        assert rc == 2 and _one_line(err).startswith("barnflow: line 1: [P-OPEN]"), err

        # the same idempotency key with another body
        rc, err = await _send(tmp_path / "b.jsonl", [opening], env)
        assert rc == 0, err
        changed = dict(opening, occurred_at=(at - timedelta(minutes=1)).isoformat())
        rc, err = await _send(tmp_path / "c.jsonl", [changed], env)
        assert rc == 2 and "[P-IDEMPOTENCY]" in _one_line(err), err
    # the worker logged the rejection as one line, with no traceback attached
    traced = [
        r
        for r in caplog.records
        if r.levelno >= logging.INFO and r.exc_info and "P-IDEMPOTENCY" in str(r.exc_info[1])
    ]
    assert traced == [], [r.getMessage() for r in traced]
    assert any("command rejected" in r.getMessage() for r in caplog.records)


def test_unreachable_temporal_is_one_line(store: CaseStore, pg_url: str, schema: str) -> None:
    env = _env(pg_url, schema, f"127.0.0.1:{free_port()}", "q")
    for args in (("ops", "stuck"), ("ops", "repair", "VS-x", "--reason", "r")):
        run = subprocess.run(
            [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert run.returncode == 2, run.stderr
        assert "does not answer" in _one_line(run.stderr)


def test_unreachable_postgres_is_one_line(tmp_path: Path) -> None:
    env = _env(f"postgresql://postgres@127.0.0.1:{free_port()}/x", "barnflow", "127.0.0.1:1", "q")
    for args in (("audit", "verify", "--no-temporal"), ("report", "frister", "--kommun", "1280")):
        run = subprocess.run(
            [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert run.returncode == 2, run.stderr
        assert "PostgreSQL does not answer" in _one_line(run.stderr)
