"""The API inside the local stack (``barnflow dev``): same app as ``barnflow api``, but on the
stack's own store, Temporal client and report views, so one process gives the whole stack."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.client import Client

from infra.api.app import create_app
from infra.api.serve import serving
from infra.api.services import Services
from infra.bootstrap import Stack, local_stack
from infra.config.api import load_api_config
from infra.config.settings import Settings
from infra.persistence.db import ensure_tables
from infra.persistence.store import CaseStore
from projections.runner import ReportsRunner


@asynccontextmanager
async def serve_api(
    settings: Settings,
    store: CaseStore,
    client: Client,
    runner: ReportsRunner,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
) -> AsyncIterator[str]:
    """Serve the API over the running stack until the context exits; yields its base URL."""
    config = load_api_config(settings)  # bad BARNFLOW_API_* values stop before anything serves
    ensure_tables(store)
    services = Services(
        store,
        client,
        settings,
        config,
        projected=runner.view.position,
        report_source=runner.view,
    )
    async with serving(create_app(services), host=host, port=port) as url:
        yield url


@asynccontextmanager
async def dev_stack(
    settings: Settings,
    *,
    api_port: int | None,
    temporal_port: int | None = None,
    ui_port: int | None = None,
    headless: bool = False,
) -> AsyncIterator[Stack]:
    """``barnflow dev``: the local stack, with the API on 127.0.0.1:``api_port`` when given
    (0: a free port). Everything started here is stopped when the context exits."""
    async with local_stack(
        settings, temporal_port=temporal_port, ui_port=ui_port, headless=headless
    ) as st:
        if api_port is None:
            yield st
            return
        async with serve_api(settings, st.store, st.client, st.projections, port=api_port) as url:
            yield dataclasses.replace(st, api_url=url)
