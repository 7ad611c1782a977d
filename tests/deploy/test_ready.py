"""``/health/live`` and ``/health/ready`` (issue 21, item 2): the API over a namespace without
barnflow's search attributes is alive but not ready, and ready once they are registered; a
load balancer would have kept the first anmälan of issue 21 away from it."""

from __future__ import annotations

import httpx
from temporalio.client import Client

from infra.api import create_app
from infra.api.services import Services
from infra.bootstrap import open_store
from infra.config.api import ApiConfig
from infra.config.settings import load_settings
from infra.temporal.client import connect, register_search_attributes
from infra.temporal.devserver import DevServer
from tests.conftest import CODEC_KEY
from tests.deploy.conftest import new_namespace, production_env


async def test_ready_fails_until_the_namespace_has_the_search_attributes(
    pg_url: str, fresh_schema: str, dev_temporal: DevServer, dev_client: Client
) -> None:
    namespace = await new_namespace(dev_client)
    settings = load_settings(production_env(pg_url, fresh_schema, dev_temporal.address, namespace))
    client = await connect(dev_temporal.address, namespace, CODEC_KEY)
    with open_store(settings, pg_url) as (store, _env):
        services = Services(store, client, settings, ApiConfig(jwt_key=b"j" * 32))
        transport = httpx.ASGITransport(app=create_app(services))
        async with httpx.AsyncClient(transport=transport, base_url="http://barnflow.test") as http:
            assert (await http.get("/health/live")).json() == {"status": "ok"}
            before = await http.get("/health/ready")
            assert before.status_code == 503
            deps = before.json()["dependencies"]
            assert deps["postgres"] == "ok" and deps["schema"] == "ok"
            assert deps["search_attributes"].startswith("missing: BarnflowKommun")

            await register_search_attributes(client, namespace)
            after = await http.get("/health/ready")
            assert after.status_code == 200, after.text
            assert set(after.json()["dependencies"].values()) == {"ok"}
