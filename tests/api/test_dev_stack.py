"""``barnflow dev`` serves the HTTP API too: the local stack answers on its API port, and the
API it serves accepts a token minted the way the dev output tells (``barnflow token create``)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import httpx
import pytest

from infra.api.auth import create_jwt
from infra.api.dev import dev_stack
from infra.config.api import jwt_key
from infra.config.settings import DatabaseSettings, Settings
from infra.temporal.devserver import free_port


async def test_local_stack_serves_the_api_on_its_port(
    api_settings: Settings, pg_url: str, schema: str, tmp_path: Path
) -> None:
    settings = dataclasses.replace(
        api_settings,
        home=tmp_path,
        database=DatabaseSettings(url=pg_url, schema=schema),
        task_queue="tq-dev-stack",
    )
    port = free_port()
    async with dev_stack(settings, headless=True, api_port=port) as st:
        assert st.api_url == f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=st.api_url) as http:
            health = await http.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "ok"
            spec = await http.get("/openapi.json")
            assert "/commands" in spec.json()["paths"]
            anonymous = await http.get("/webhooks")
            assert anonymous.status_code == 401
            assert anonymous.headers["content-type"] == "application/problem+json"
            # what `barnflow token create` mints on this home is accepted
            dev = create_jwt(
                jwt_key(settings, os.environ), subject="dev", role="system", kommun="1280"
            )
            listed = await http.get("/webhooks", headers={"Authorization": f"Bearer {dev}"})
            assert listed.status_code == 200, listed.text
    with pytest.raises(httpx.ConnectError):  # stopped with the stack
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
