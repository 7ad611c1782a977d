"""The API inside the local stack (``barnflow dev``): same app as ``barnflow api``, but on the
stack's own store, Temporal client and report views, so one process gives the whole stack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.client import Client

from infra.api.app import create_app
from infra.api.config import load_api_config
from infra.api.db import ensure_tables
from infra.api.serve import serving
from infra.api.services import Services
from infra.settings import Settings
from infra.store import CaseStore
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
