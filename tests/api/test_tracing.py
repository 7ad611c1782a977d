"""A command's trace starts at the HTTP request: the API app runs every request inside the
telemetry middleware, and the Temporal update, the workflow's handler and the database append
are parts of that one trace (no span names the child)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.api.cases import lifecycle
from tests.api.conftest import Token, new_pnr, new_ref


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """An in-memory exporter on the process's SDK provider (OpenTelemetry's global provider is
    set once per process: if another module installed one, ours is added to it)."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


async def test_a_command_is_one_trace_from_the_http_request_to_the_append(
    spans: InMemorySpanExporter, http: httpx.AsyncClient, token: Token
) -> None:
    spans.clear()
    pnr = new_pnr()
    opening = lifecycle(new_ref(), pnr)[0]
    r = await http.post("/commands", json=opening, headers=token())
    assert r.status_code == 201, r.text

    finished = spans.get_finished_spans()
    root = next(s for s in finished if s.name == "HTTP POST /commands" and s.parent is None)
    assert root.context is not None
    assert root.attributes is not None and root.attributes["http.response.status_code"] == 201
    same = [s for s in finished if s.context and s.context.trace_id == root.context.trace_id]
    names = {s.name for s in same}
    assert {"StartUpdateWithStartWorkflow:ChildCaseWorkflow", "db.append"} <= names, names
    ids = {s.context.span_id for s in same if s.context}
    assert all(s.parent is None or s.parent.span_id in ids for s in same)  # connected
    dumped = repr([(s.name, dict(s.attributes or {})) for s in same])
    assert pnr not in dumped and pnr[2:] not in dumped
