"""One API stack for the whole tests/api session: a fresh schema in the real PostgreSQL, a
worker on its own task queue of the session's dev Temporal server, the report projections, and
the app served in-process through httpx's ASGI transport (same event loop as the client)."""

from __future__ import annotations

import random
import secrets
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from temporalio.client import Client

from domain.identity import luhn_check_digit
from infra.api.app import create_app
from infra.api.auth import create_jwt
from infra.api.services import Services
from infra.config.api import ApiConfig
from infra.config.kommun import KommunConfigs, LoadedConfig, load_kommun_file
from infra.config.settings import DatabaseSettings, Keys, Settings
from infra.persistence.db import ensure_tables
from infra.persistence.schema import migrate
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
from infra.temporal.client import connect
from infra.temporal.devserver import DevServer
from infra.temporal.worker import running_worker
from projections.runner import ReportsRunner, all_runners
from tests.conftest import CIPHER_KEY, CODEC_KEY, PSEUDONYM_KEY
from tests.kommun_configs import kommun_config, store_configs
from workflows.webhooks import Backoff, DispatchInput

JWT_KEY = b"j" * 32
Token = Callable[..., dict[str, str]]
#: The one kommun of the API session with a configuration file of its own (tests/api/
#: test_kommun_config.py): its klagomål days, verkställighet target, delegationsordning and the
#: roles that read protected cases differ from the defaults; every other kommun runs on the
#: documented defaults.
CONFIGURED_KOMMUN = "0136"
CONFIGURED = kommun_config(
    CONFIGURED_KOMMUN,
    namn="Haninge (test)",
    klagomal={"dagar": 7},
    # its calling system is named for protected cases (tests/api/test_protected_identity.py)
    skydd={"roller": ["handlaggare_skydd", "system"]},
    verkstallighet={"oppenvard": 3},
    delegationsordning={
        "regler": [
            {
                "id": "2.1",
                "beslutstyp": "inleda_utredning",
                "lagrum": "SoL 14:2",
                "lagsta_delegat": "socialsekreterare",
            },
            {
                "id": "3.1",
                "beslutstyp": "insats",
                "lagrum": "SoL 11:1",
                "lagsta_delegat": "sektionschef",
            },
        ]
    },
)
#: A kommun with titles of its own, two versions of its delegationsordning and a calendar of
#: sammanträden: the sample file (tests/api/test_delegation.py judges every decision code by it).
BOTKYRKA_KOMMUN = "0127"
BOTKYRKA = load_kommun_file(
    Path(__file__).resolve().parents[2] / "config" / "kommun.0127.sample.toml"
)


def new_pnr() -> str:
    """A valid, random personnummer: one workflow per child per kommun on the shared server."""
    born = date(2009, 1, 1) + timedelta(days=random.randrange(4000))
    nine = f"{born:%y%m%d}{random.randrange(100, 1000)}"
    return f"{born:%Y%m%d}{nine[6:]}{luhn_check_digit(nine)}"


def new_ref() -> str:
    return f"VS-API-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def api_schema(pg_url: str) -> Iterator[str]:
    name = f"api_{uuid.uuid4().hex[:10]}"
    ensure_schema(pg_url, name)
    yield name
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def api_kommun_config() -> LoadedConfig:
    return CONFIGURED


@pytest.fixture(scope="session")
def api_env(pg_url: str, api_schema: str, api_kommun_config: LoadedConfig) -> dict[str, str]:
    """The store's environment as ``open_store`` makes it: the versions in force are stored and
    named (two configured kommuner)."""
    return store_configs(
        eventsourcing_env(pg_url, api_schema, CIPHER_KEY), api_kommun_config, BOTKYRKA
    )


@pytest.fixture(scope="session")
def api_store(pg_url: str, api_schema: str, api_env: dict[str, str]) -> Iterator[CaseStore]:
    migrate(pg_url, api_schema, api_env)  # as a deployment's: /health/ready checks the version
    store = CaseStore(env=api_env)
    ensure_tables(store)
    yield store
    store.close()


@pytest.fixture(scope="session")
def api_queue() -> str:
    return f"tq-api-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def api_settings(
    pg_url: str, api_schema: str, api_queue: str, api_kommun_config: LoadedConfig
) -> Iterator[Settings]:
    with tempfile.TemporaryDirectory(prefix="bf-api-") as home:
        yield Settings(
            home=Path(home),
            database=DatabaseSettings(url=pg_url, schema=api_schema),
            temporal_address=None,
            temporal_namespace="default",
            task_queue=api_queue,
            mode="dev",
            keys=Keys(codec=CODEC_KEY, pseudonym=PSEUDONYM_KEY, cipher=CIPHER_KEY),
            alert_settle_seconds=2.0,  # real time on the dev server: a short settle window
            kommun_configs=KommunConfigs(
                {CONFIGURED_KOMMUN: api_kommun_config, BOTKYRKA_KOMMUN: BOTKYRKA}
            ),
        )


@pytest.fixture(scope="session")
async def api_client_temporal(dev_temporal: DevServer) -> Client:
    return await connect(dev_temporal.address, "default", CODEC_KEY)


@pytest.fixture(scope="session")
def reports(api_env: dict[str, str], api_store: CaseStore) -> Iterator[ReportsRunner]:
    with all_runners(api_env) as runner:
        yield runner


@pytest.fixture(scope="session")
async def services(
    api_client_temporal: Client,
    api_store: CaseStore,
    api_settings: Settings,
    reports: ReportsRunner,
) -> AsyncIterator[Services]:
    svc = Services(
        api_store,
        api_client_temporal,
        api_settings,
        # 60 s, not the production 10 s: on a loaded CI machine a lifecycle command once took
        # longer than 10 s and the test saw the (correct) 503. Tests of the timeout itself build
        # their own config (test_overload.py).
        ApiConfig(jwt_key=JWT_KEY, max_body=64 * 1024, max_wait=3.0, command_timeout=60.0),
        projected=reports.view.position,
        report_source=reports.view,
        dispatch_input=DispatchInput(
            poll_wait=0.5, backoff=Backoff(initial=0.2, coefficient=1.5, maximum=1.0, attempts=10)
        ),
    )
    async with running_worker(
        api_client_temporal, api_store, api_settings.task_queue, pseudonym_key=PSEUDONYM_KEY
    ):
        yield svc


@pytest.fixture(scope="session")
async def http(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://barnflow.test") as client:
        yield client


@pytest.fixture(scope="session")
def token() -> Token:
    def make(
        role: str = "system", kommun: str = "1280", units: tuple[str, ...] = (), **extra: Any
    ) -> dict[str, str]:
        jwt = create_jwt(
            JWT_KEY,
            subject=extra.get("subject", f"{role}-1"),
            role=role,
            kommun=kommun,
            units=units,
        )
        return {"Authorization": f"Bearer {jwt}", "X-Barnflow-Purpose": "test"}

    return make
