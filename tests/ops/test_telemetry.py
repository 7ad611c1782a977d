"""Telemetry against the real dev server: one command is one connected trace from the HTTP
request through the update, the workflow, the local append activity and the database write; the
command and rejection counters count what the caller saw; no span carries the child's identity.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
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

from infra.store import CaseStore
from infra.telemetry import TraceMiddleware, route_of
from infra.temporal import CommandRejected, running_worker, send_command
from tests.conftest import PSEUDONYM_KEY
from tests.factories import anmalan, earlier_today, fresh_pnr, line


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


def _app(client: Client, store: CaseStore, queue: str) -> Any:
    """A minimal command endpoint (the API engineer's app adds the same middleware)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        try:
            result = await send_command(
                client, store, json.loads(body), pseudonym_key=PSEUDONYM_KEY, task_queue=queue
            )
            status, out = 200, {"position": str(result.position)}
        except CommandRejected as exc:
            status, out = 409, {"rule": str(getattr(exc.cause, "rule", ""))}
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": json.dumps(out).encode()})

    return TraceMiddleware(app)


def _trace_of(spans: list[ReadableSpan], root_name: str) -> list[ReadableSpan]:
    root = next(s for s in spans if s.name == root_name and s.parent is None)
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


def _parent(by_name: dict[str, ReadableSpan], name: str) -> str:
    child = by_name[name]
    assert child.parent is not None
    return next(
        s.name for s in by_name.values() if s.context and s.context.span_id == child.parent.span_id
    )


def _points(reader: InMemoryMetricReader, name: str) -> dict[tuple[tuple[str, Any], ...], int]:
    data = reader.get_metrics_data()
    assert data is not None
    out: dict[tuple[tuple[str, Any], ...], int] = {}
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                if m.name == name:
                    for p in m.data.data_points:
                        out[tuple(sorted((p.attributes or {}).items()))] = int(p.value)  # type: ignore[union-attr]
    return out


async def test_one_command_is_one_trace_from_http_to_the_database(
    otel: tuple[InMemorySpanExporter, InMemoryMetricReader],
    dev_client: Client,
    store: CaseStore,
    task_queue: str,
) -> None:
    spans, reader = otel
    spans.clear()
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
    transport = httpx.ASGITransport(app=_app(dev_client, store, task_queue))
    async with (
        running_worker(dev_client, store, task_queue),
        httpx.AsyncClient(transport=transport, base_url="http://api") as http,
    ):
        assert (await http.post("/commands", json=first)).status_code == 200
        assert (await http.post("/cases/VS-OTEL/commands", json=second)).status_code == 200
        assert (await http.post("/commands", json=rejected)).status_code == 409

    finished = list(spans.get_finished_spans())
    opening = _assert_connected(_trace_of(finished, "HTTP POST /commands"))
    assert {
        "HTTP POST /commands",
        "StartUpdateWithStartWorkflow:ChildCaseWorkflow",
        "HandleUpdate:command",
        "StartActivity:append_event",
        "RunActivity:append_event",
        "db.append",
    } <= set(opening)
    later = _assert_connected(_trace_of(finished, "HTTP POST /cases/VS-OTEL/commands"))
    assert _parent(later, "StartWorkflowUpdate:command") == "HTTP POST /cases/VS-OTEL/commands"
    assert _parent(later, "HandleUpdate:command") == "StartWorkflowUpdate:command"
    assert _parent(later, "RunActivity:append_event") == "StartActivity:append_event"
    assert _parent(later, "db.append") == "RunActivity:append_event"
    db = later["db.append"]
    assert db.attributes is not None
    assert db.attributes["barnflow.event_type"] == "skyddsbedomning_gjord"
    assert isinstance(db.attributes["db.position"], int) and db.attributes["db.position"] > 0
    # nothing a span exports names the child
    dumped = repr([(s.name, dict(s.attributes or {}), s.events) for s in finished])
    assert pnr not in dumped and pnr[2:] not in dumped

    commands = _points(reader, "barnflow.commands")
    assert commands[(("outcome", "accepted"), ("type", "anmalan_mottagen"))] >= 1
    assert commands[(("outcome", "rejected"), ("type", "forhandsbedomning_beslutad"))] == 1
    rejections = _points(reader, "barnflow.rejections")
    assert sum(rejections.values()) == 1
    assert next(iter(rejections))[0][0] == "rule"


def test_a_personnummer_in_a_url_never_becomes_a_span_name() -> None:
    assert route_of("/children/201203041239/cases") == "/children/{n}/cases"
    assert route_of("/children/120304-1239") == "/children/{n}"
    assert route_of("/cases/VS-2026-00417") == "/cases/VS-2026-00417"
