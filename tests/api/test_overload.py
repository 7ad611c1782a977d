"""Overload (#8.3): beyond BARNFLOW_API_MAX_INFLIGHT a command is refused at once with 429 and
Retry-After; a command Temporal cannot finish within BARNFLOW_API_COMMAND_TIMEOUT (here: no
worker polls the case's task queue) answers 503 and Retry-After. When the worker comes back, a
retry with the same idempotency key succeeds and the store holds each command exactly once."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from domain.ids import case_id_for
from infra.api.app import create_app
from infra.api.services import Services
from infra.config.api import load_api_config
from infra.persistence.store import CaseStore
from infra.temporal.worker import running_worker
from tests.api.cases import lifecycle
from tests.api.conftest import JWT_KEY, Token, new_pnr, new_ref
from tests.conftest import PSEUDONYM_KEY

COMMAND_TIMEOUT = 1.5
MAX_INFLIGHT = 2
CONCURRENT = 6


@pytest.fixture
async def starved(services: Services) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """The API on a task queue no worker polls yet, limits from the environment variables."""
    config = load_api_config(
        services.settings,
        {
            "BARNFLOW_JWT_KEY": base64.b64encode(JWT_KEY).decode(),
            "BARNFLOW_API_MAX_INFLIGHT": str(MAX_INFLIGHT),
            "BARNFLOW_API_COMMAND_TIMEOUT": str(COMMAND_TIMEOUT),
        },
    )
    settings = dataclasses.replace(
        services.settings, task_queue=f"tq-starved-{secrets.token_hex(4)}"
    )
    svc = Services(services.store, services.client, settings, config)
    transport = httpx.ASGITransport(app=create_app(svc))
    async with httpx.AsyncClient(transport=transport, base_url="http://barnflow.test") as client:
        yield client, svc


async def _timed_post(
    http: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    r = await http.post("/commands", json=body, headers=headers)
    return r, time.monotonic() - started


def _stored(store: CaseStore, cmd: dict[str, Any]) -> list[int]:
    """Positions of the stored events carrying this command's idempotency key."""
    events = store.case_events(case_id_for(cmd["kommun"], cmd["case_ref"]))
    return [e.position or 0 for e in events if e.idempotency_key == cmd["idempotency_key"]]


async def test_overload_is_refused_at_once_and_a_timeout_is_retried_without_loss_or_doubling(
    starved: tuple[httpx.AsyncClient, Services], api_store: CaseStore, token: Token
) -> None:
    http, svc = starved
    commands = [lifecycle(new_ref(), new_pnr())[0] for _ in range(CONCURRENT)]
    hdr = token("system")

    results = await asyncio.gather(*(_timed_post(http, c, hdr) for c in commands))
    statuses = sorted(r.status_code for r, _ in results)
    assert statuses == [429] * (CONCURRENT - MAX_INFLIGHT) + [503] * MAX_INFLIGHT, statuses
    for r, elapsed in results:
        assert r.headers["content-type"] == "application/problem+json"
        assert int(r.headers["Retry-After"]) >= 1
        if r.status_code == 429:
            assert elapsed < COMMAND_TIMEOUT, "an overloaded API must refuse, not queue"
        else:
            assert elapsed >= COMMAND_TIMEOUT - 0.1
            assert "same idempotency_key" in r.json()["detail"]
    refused = [c for c, (r, _) in zip(commands, results, strict=True) if r.status_code == 429]
    assert all(_stored(api_store, c) == [] for c in refused)  # a 429 stores nothing
    assert svc.inflight == 0  # every slot was given back

    async with running_worker(svc.client, api_store, svc.task_queue, pseudonym_key=PSEUDONYM_KEY):
        retried = []
        for c in commands:  # one at a time: within the in-flight bound
            r = await http.post("/commands", json=c, headers=hdr)
            assert r.status_code in (200, 201), r.text
            retried.append(r.json())
    for c, body in zip(commands, retried, strict=True):
        assert _stored(api_store, c) == [body["position"]], c["case_ref"]
        assert body["event"]["idempotency_key"] == c["idempotency_key"]
