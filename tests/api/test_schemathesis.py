"""Property-based API testing: schemathesis generates requests from docs/openapi.json against the
real app (served by uvicorn on loopback, real Temporal and PostgreSQL): no 5xx, and every
response conforms to the documented status codes, content types, headers and schemas.

The test runs a small sample; docs/api.md documents the full ≥ 2,000-request run.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn

from infra.api.app import create_app
from infra.api.services import Services
from infra.temporal.devserver import free_port
from tests.api.conftest import Token

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)
SAMPLE_EXAMPLES = int(os.environ.get("BARNFLOW_SCHEMATHESIS_EXAMPLES", "5"))


@pytest.fixture
async def served(services: Services) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="error")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_generated_requests_get_no_5xx_and_conform(
    served: str, token: Token, tmp_path: Path
) -> None:
    auth = token("system")["Authorization"]
    cli = Path(sys.executable).parent / "schemathesis"
    proc = await asyncio.create_subprocess_exec(
        str(cli),
        "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")),
        "run",
        f"{served}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(SAMPLE_EXAMPLES),
        "--header",
        f"Authorization: {auth}",
        "--request-timeout",
        "20",
        "--seed",
        "6",
        "--report-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    print(text[-1200:])  # the run's summary (shown with -s): requests generated, failures
    assert proc.returncode == 0, text[-4000:]
