"""Fixtures for the deployment tests: a production environment for the CLI as a subprocess,
on a fresh schema and a fresh Temporal namespace (issue 21: "from a fresh database and a fresh
namespace")."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from google.protobuf.duration_pb2 import Duration
from psycopg import sql
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client

from tests.conftest import CIPHER_KEY, CODEC_KEY, PSEUDONYM_KEY

BARNFLOW = [sys.executable, "-m", "infra.cli"]


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def production_env(pg_url: str, schema: str, address: str, namespace: str) -> dict[str, str]:
    """The README's production settings, nothing inherited from the test process's BARNFLOW_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BARNFLOW_", "PG"))}
    env.update(
        {
            "BARNFLOW_MODE": "production",
            "BARNFLOW_DATABASE_URL": pg_url,
            "BARNFLOW_DATABASE_SCHEMA": schema,
            "BARNFLOW_TEMPORAL_ADDRESS": address,
            "BARNFLOW_TEMPORAL_NAMESPACE": namespace,
            "BARNFLOW_TASK_QUEUE": f"tq-{uuid.uuid4().hex[:8]}",
            "BARNFLOW_CODEC_KEY": b64(CODEC_KEY),
            "BARNFLOW_PSEUDONYM_KEY": b64(PSEUDONYM_KEY),
            "BARNFLOW_CIPHER_KEY": b64(CIPHER_KEY),
            "BARNFLOW_JWT_KEY": b64(b"j" * 32),
        }
    )
    return env


def barnflow(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def fresh_schema(pg_url: str) -> Iterator[str]:
    """A schema name nothing has created yet; dropped afterwards."""
    name = f"d_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


async def new_namespace(client: Client, *, retention_days: int = 30) -> str:
    """A namespace on the dev server without barnflow's search attributes."""
    name = f"ns-{uuid.uuid4().hex[:10]}"
    await client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=name,
            workflow_execution_retention_period=Duration(seconds=retention_days * 86_400),
        )
    )
    # the frontend's namespace cache learns of it within seconds: wait until it answers
    from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
    from temporalio.service import RPCError

    deadline = time.monotonic() + 30
    while True:
        try:
            await client.operator_service.list_search_attributes(
                ListSearchAttributesRequest(namespace=name)
            )
            return name
        except RPCError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
