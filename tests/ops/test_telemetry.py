"""Telemetry of the real API app and the real worker: one command is one connected trace from
the HTTP request through the update, the workflow, the local append activity and the database
write; a rejected command's trace stops before the store; the command and rejection counters
count what the caller saw; no span carries the child's identity.

The app is ``infra.api.app.create_app`` over real services (the store in PostgreSQL, the
session's dev Temporal server through the production client with its interceptors) and the
worker is ``infra.temporal.worker.running_worker``: nothing here is a stand-in.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client

from infra.api.app import create_app
from infra.api.auth import create_jwt
from infra.api.services import Services
from infra.config.api import ApiConfig
from infra.config.settings import DatabaseSettings, Keys, Settings
from infra.persistence.db import ensure_tables
from infra.persistence.store import CaseStore
from infra.telemetry import route_of
from infra.temporal.worker import running_worker
from tests.conftest import CIPHER_KEY, CODEC_KEY, PSEUDONYM_KEY
from tests.factories import anmalan, earlier_today, fresh_pnr, line

JWT_KEY = b"o" * 32


@pytest.fixture(scope="module")
def otel() -> Iterator[tuple[InMemorySpanExporter, InMemoryMetricReader]]:
    """SDK providers with in-memory exporters (OpenTelemetry's globals are set once per
    process: a provider installed earlier gets our processor added instead)."""
    spans = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    yield spans, reader
    spans.shutdown()


@pytest.fixture
async def http(
    dev_client: Client, store: CaseStore, pg_url: str, schema: str, task_queue: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The production app over real services, served in-process, with a worker running."""
    ensure_tables(store)
    with tempfile.TemporaryDirectory(prefix="bf-otel-") as home:
        settings = Settings(
            home=Path(home),
            database=DatabaseSettings(url=pg_url, schema=schema),
            temporal_address=None,
            temporal_namespace="default",
            task_queue=task_queue,
            mode="dev",
            keys=Keys(codec=CODEC_KEY, pseudonym=PSEUDONYM_KEY, cipher=CIPHER_KEY),
        )
        services = Services(store, dev_client, settings, ApiConfig(jwt_key=JWT_KEY))
        transport = httpx.ASGITransport(app=create_app(services))
        async with (
            running_worker(dev_client, store, task_queue, pseudonym_key=PSEUDONYM_KEY),
            httpx.AsyncClient(transport=transport, base_url="http://barnflow.test") as client,
        ):
            yield client


def _roots(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    """The root spans called ``name``, in the order their requests started."""
    roots = [s for s in spans if s.name == name and s.parent is None]
    return sorted(roots, key=lambda s: s.start_time or 0)


def _trace_of(spans: list[ReadableSpan], root: ReadableSpan) -> list[ReadableSpan]:
    assert root.context is not None
    return [
        s for s in spans if s.context is not None and s.context.trace_id == root.context.trace_id
    ]


def _assert_connected(tr: list[ReadableSpan]) -> dict[str, ReadableSpan]:
    ids = {s.context.span_id for s in tr if s.context is not None}
    roots = [s for s in tr if s.parent is None]
    assert len(roots) == 1, [s.name for s in roots]
    orphans = [s.name for s in tr if s.parent is not None and s.parent.span_id not in ids]
    assert not orphans, orphans
    return {s.name: s for s in tr}


def _ancestors(by_name: dict[str, ReadableSpan], name: str) -> list[str]:
    """The names from ``name``'s parent up to the root of its trace."""
    by_id = {s.context.span_id: s for s in by_name.values() if s.context is not None}
    out: list[str] = []
    parent = by_name[name].parent
    while parent is not None:
        span = by_id[parent.span_id]
        out.append(span.name)
        parent = span.parent
    return out


def _parent(by_name: dict[str, ReadableSpan], name: str) -> str:
    child = by_name[name]
    assert child.parent is not None
    return next(
        s.name for s in by_name.values() if s.context and s.context.span_id == child.parent.span_id
    )


def _points(reader: InMemoryMetricReader, name: str) -> dict[tuple[tuple[str, Any], ...], int]:
    data = reader.get_metrics_data()
    out: dict[tuple[tuple[str, Any], ...], int] = {}
    if data is None:  # nothing recorded yet
        return out
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                if m.name == name:
                    for p in m.data.data_points:
                        out[tuple(sorted((p.attributes or {}).items()))] = int(p.value)  # type: ignore[union-attr]
    return out


async def test_one_command_is_one_trace_from_http_to_the_database(
    otel: tuple[InMemorySpanExporter, InMemoryMetricReader], http: httpx.AsyncClient
) -> None:
    spans, reader = otel
    spans.clear()
    before = _points(reader, "barnflow.commands")
    pnr = fresh_pnr()
    at, then = earlier_today(2, within=timedelta(hours=2))
    first = anmalan(at, pnr=pnr, kommun="9801", case_ref="VS-OTEL")
    second = line(
        "skyddsbedomning_gjord",
        {"anmalan_id": "anm-1", "omedelbart_skydd": False},
        at=then,
        key="otel-2",
        kommun="9801",
        case_ref="VS-OTEL",
    )
    rejected = {**second, "idempotency_key": "otel-3", "type": "forhandsbedomning_beslutad"}
    rejected["data"] = {"anmalan_id": "no-such", "beslut": "inleda_utredning"}
    jwt = create_jwt(JWT_KEY, subject="otel-test", role="system", kommun="9801")
    headers = {"Authorization": f"Bearer {jwt}", "X-Barnflow-Purpose": "test"}
    assert (await http.post("/commands", json=first, headers=headers)).status_code == 201
    assert (await http.post("/commands", json=second, headers=headers)).status_code == 201
    refused = await http.post("/commands", json=rejected, headers=headers)
    assert refused.status_code == 409, refused.text

    finished = list(spans.get_finished_spans())
    opening_root, later_root, refused_root = _roots(finished, "HTTP POST /commands")
    opening = _assert_connected(_trace_of(finished, opening_root))
    # db write ← activity ← update-with-start ← the request (FastAPI's own spans in between)
    chain = _ancestors(opening, "db.append")
    assert chain[:3] == [
        "RunActivity:append_event",
        "StartActivity:append_event",
        "StartUpdateWithStartWorkflow:ChildCaseWorkflow",
    ]
    assert chain[-1] == "HTTP POST /commands"
    assert "HTTP POST /commands" in _ancestors(opening, "HandleUpdate:command")
    later = _assert_connected(_trace_of(finished, later_root))
    chain = _ancestors(later, "db.append")
    assert chain[:3] == [
        "RunActivity:append_event",
        "StartActivity:append_event",
        "StartWorkflowUpdate:command",
    ]
    assert chain[-1] == "HTTP POST /commands"
    assert _parent(later, "HandleUpdate:command") == "StartWorkflowUpdate:command"
    db = later["db.append"]
    assert db.attributes is not None
    assert db.attributes["barnflow.event_type"] == "skyddsbedomning_gjord"
    assert isinstance(db.attributes["db.position"], int) and db.attributes["db.position"] > 0
    # the refused command: its own trace, answered 409, and nothing reached the store
    refused_trace = _assert_connected(_trace_of(finished, refused_root))
    assert refused_root.attributes is not None
    assert refused_root.attributes["http.response.status_code"] == 409
    assert "StartWorkflowUpdate:command" in refused_trace  # sent, refused by the validator...
    assert "db.append" not in refused_trace and "StartActivity:append_event" not in refused_trace
    # nothing a span exports names the child
    dumped = repr([(s.name, dict(s.attributes or {}), s.events) for s in finished])
    assert pnr not in dumped and pnr[2:] not in dumped

    commands = _points(reader, "barnflow.commands")
    accepted = (("outcome", "accepted"), ("type", "anmalan_mottagen"))
    assert commands[accepted] - before.get(accepted, 0) == 1
    refused_key = (("outcome", "rejected"), ("type", "forhandsbedomning_beslutad"))
    assert commands[refused_key] - before.get(refused_key, 0) == 1
    rejections = _points(reader, "barnflow.rejections")
    assert rejections[(("rule", "P-REF"), ("type", "forhandsbedomning_beslutad"))] == 1


def test_a_personnummer_in_a_url_never_becomes_a_span_name() -> None:
    assert route_of("/children/201203041239/cases") == "/children/{n}/cases"
    assert route_of("/children/120304-1239") == "/children/{n}"
    assert route_of("/cases/VS-2026-00417") == "/cases/VS-2026-00417"
