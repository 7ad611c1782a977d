"""OpenTelemetry: one trace per command (HTTP → update → workflow → activity → database write)
and the few numbers operators watch (commands, rejections by rule, overdue frister by rule,
projection lag, open EVB).

Why this shape:

* Everything goes through the OpenTelemetry *API*; ``setup`` installs the SDK providers once per
  process only when ``BARNFLOW_TELEMETRY`` asks for it (``console``: spans and metrics to stderr,
  so a CLI's stdout stays parseable; ``otlp``, or ``OTEL_EXPORTER_OTLP_ENDPOINT`` set: the OTLP
  exporter, which must be installed). Without it every span and instrument is a no-op.
* Temporal propagates the trace through its headers (``temporalio.contrib.opentelemetry``). Its
  stock workflow interceptor parents an update's handler on the *workflow start's* trace and only
  links the update; for barnflow a command is the unit an operator follows, so
  ``CommandTracingWorkflowInterceptor`` parents the handler (and the local append activity it
  starts) on the update's own context. An anmälan (update-with-start) was one trace already.
* Spans carry ids, types, positions and rule ids only — never event content, personnummer or
  free text: span attributes are exported in plaintext to whatever backend the kommun runs.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics, trace
from opentelemetry.metrics import Observation

from domain.errors import RuleViolation

if TYPE_CHECKING:
    from temporalio import client as temporal_client

# temporalio (client, worker, contrib.opentelemetry), pydantic settings and the workflow package
# are imported where they are used, not here: every CLI command imports this module (``setup``),
# and a store-only command (a report) must not pay their ~0.5 s of start-up for a span.

TRACER_NAME = "barnflow"
MODES = ("off", "console", "otlp")
#: The update name of a command (workflows.messages.COMMAND_UPDATE; kept literal so telemetry
#: does not import the workflow package into every process that only wants spans).
COMMAND_UPDATE = "command"

#: The mode ``setup`` installed in this process (OpenTelemetry's global providers are set once).
_CONFIGURED: dict[str, str] = {}


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def _meter() -> metrics.Meter:
    return metrics.get_meter(TRACER_NAME)


# ---------------------------------------------------------------------------- setup
def mode_from_env(env: Mapping[str, str] | None = None) -> str:
    """``off`` | ``console`` | ``otlp`` from the environment (a bad value stops the command)."""
    e = os.environ if env is None else env
    raw = e.get("BARNFLOW_TELEMETRY", "").strip().lower()
    if not raw:
        return "otlp" if e.get("OTEL_EXPORTER_OTLP_ENDPOINT") else "off"
    if raw not in MODES:
        from infra.config.settings import SettingsError

        raise SettingsError(f"BARNFLOW_TELEMETRY: expected one of {', '.join(MODES)}, got {raw!r}")
    return raw


def setup(env: Mapping[str, str] | None = None) -> str:
    """Install the SDK tracer and meter providers for the configured mode (once per process)."""
    mode = mode_from_env(env)
    if mode == "off" or "mode" in _CONFIGURED:
        return _CONFIGURED.get("mode", mode)
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricExporter, PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

    span_exporter: SpanExporter
    metric_exporter: MetricExporter
    if mode == "console":
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        span_exporter = ConsoleSpanExporter(out=sys.stderr)
        metric_exporter = ConsoleMetricExporter(out=sys.stderr)
    else:
        # an optional dependency: imported by name so a deployment without it still type-checks
        base = "opentelemetry.exporter.otlp.proto.http"
        try:
            traces = importlib.import_module(f"{base}.trace_exporter")
            metric_mod = importlib.import_module(f"{base}.metric_exporter")
        except ImportError:
            from infra.config.settings import SettingsError

            raise SettingsError(
                "BARNFLOW_TELEMETRY: otlp needs the package opentelemetry-exporter-otlp-proto-http"
            ) from None
        span_exporter = traces.OTLPSpanExporter()  # endpoint etc. from OTEL_EXPORTER_OTLP_*
        metric_exporter = metric_mod.OTLPMetricExporter()
    resource = Resource.create({"service.name": "barnflow"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)
    reader = PeriodicExportingMetricReader(metric_exporter, export_interval_millis=30_000)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[reader]))
    _CONFIGURED["mode"] = mode
    return mode


# ---------------------------------------------------------------------------- Temporal
async def _counted(
    args: Iterable[Any], stage: temporal_client.WorkflowUpdateStage, call: Any
) -> temporal_client.WorkflowUpdateHandle[Any]:
    """Await the update call and count it; the outcome is known only when the caller waits for
    completion (then ``result()`` needs no further call to the server)."""
    from temporalio.client import WorkflowUpdateStage

    etype = _command_type(args)
    try:
        handle: temporal_client.WorkflowUpdateHandle[Any] = await call
        if stage != WorkflowUpdateStage.COMPLETED:
            COMMANDS.add(1, {"type": etype, "outcome": "sent"})
            return handle
        result = await handle.result()
    except Exception as exc:
        rule = rejection_rule(exc)
        COMMANDS.add(1, {"type": etype, "outcome": "rejected" if rule else "error"})
        if rule:
            REJECTIONS.add(1, {"rule": rule, "type": etype})
        raise
    duplicate = bool(getattr(result, "duplicate", False))
    COMMANDS.add(1, {"type": etype, "outcome": "duplicate" if duplicate else "accepted"})
    return handle


def _command_type(args: Iterable[Any]) -> str:
    for arg in args:
        event = getattr(arg, "event", None)
        if isinstance(event, dict) and isinstance(event.get("type"), str):
            return str(event["type"])[:64]
    return "unknown"


def rejection_rule(exc: BaseException) -> str | None:
    """The rule id of a rejected command (``EVENT-INVALID`` for a bad field), else ``None``."""
    from workflows.messages import rejected

    cause = rejected(exc)
    if cause is None:
        return None
    return cause.rule if isinstance(cause, RuleViolation) else "EVENT-INVALID"


@cache
def _interceptor_classes() -> tuple[type[temporal_client.Interceptor], ...]:
    """The client interceptor classes, made on first use: their bases are temporalio's client,
    worker and contrib.opentelemetry classes, which only a process that connects to Temporal
    imports."""
    from temporalio import client as temporal_client
    from temporalio import worker as temporal_worker
    from temporalio.contrib.opentelemetry import (
        TracingInterceptor,
        TracingWorkflowInboundInterceptor,
    )
    from temporalio.contrib.opentelemetry._context import attached_context

    class CommandTracingWorkflowInterceptor(TracingWorkflowInboundInterceptor):
        """Parents an update's handler on the update's trace, so one command is one trace."""

        async def handle_update_handler(self, input: temporal_worker.HandleUpdateInput) -> Any:
            header = input.headers.get(self.header_key)
            if header is None:
                return await super().handle_update_handler(input)
            carrier = self.payload_converter.from_payloads([header])[0]
            context = self._set_on_context(self.text_map_propagator.extract(carrier))
            with attached_context(context):
                self._completed_span(f"HandleUpdate:{input.update}", kind=trace.SpanKind.SERVER)
                # skip the stock handler span: it would re-parent on the workflow start's trace
                return await self.next.handle_update_handler(input)

    class BarnflowTracingInterceptor(TracingInterceptor):
        """``TracingInterceptor`` with the command-parented workflow interceptor."""

        def workflow_interceptor_class(
            self, input: temporal_worker.WorkflowInterceptorClassInput
        ) -> type[TracingWorkflowInboundInterceptor]:
            super().workflow_interceptor_class(input)  # registers the extern span function
            return CommandTracingWorkflowInterceptor

    class _CommandMetricsOutbound(temporal_client.OutboundInterceptor):
        """Counts commands by type and outcome and rejections by rule, where every caller (HTTP API,
        CLI, demo) sends them: the client's update calls."""

        async def start_workflow_update(
            self, input: temporal_client.StartWorkflowUpdateInput
        ) -> temporal_client.WorkflowUpdateHandle[Any]:
            if input.update != COMMAND_UPDATE:
                return await super().start_workflow_update(input)
            return await _counted(
                input.args, input.wait_for_stage, super().start_workflow_update(input)
            )

        async def start_update_with_start_workflow(
            self, input: temporal_client.StartWorkflowUpdateWithStartInput
        ) -> temporal_client.WorkflowUpdateHandle[Any]:
            upd = input.update_workflow_input
            if upd.update != COMMAND_UPDATE:
                return await super().start_update_with_start_workflow(input)
            return await _counted(
                upd.args, upd.wait_for_stage, super().start_update_with_start_workflow(input)
            )

    class CommandMetricsInterceptor(temporal_client.Interceptor):
        def intercept_client(
            self, next: temporal_client.OutboundInterceptor
        ) -> temporal_client.OutboundInterceptor:
            return _CommandMetricsOutbound(next)

    return BarnflowTracingInterceptor, CommandMetricsInterceptor


def client_interceptors() -> list[temporal_client.Interceptor]:
    """For ``Client.connect``: tracing (also picked up by workers of that client) and command
    metrics. Cheap when telemetry is off: the global providers are no-ops."""
    return [interceptor() for interceptor in _interceptor_classes()]


# ---------------------------------------------------------------------------- database
@contextmanager
def db_append_span(event_type: str, kommun: str) -> Iterator[trace.Span]:
    """The span around one store write; the caller sets ``db.position`` once it is known."""
    with tracer().start_as_current_span(
        "db.append",
        kind=trace.SpanKind.CLIENT,
        attributes={
            "db.system": "postgresql",
            "barnflow.event_type": event_type,
            "barnflow.kommun": kommun,
        },
        # an exception's message may quote the event: only its type and rule id are exported
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except Exception as exc:
            span.set_status(trace.Status(trace.StatusCode.ERROR, type(exc).__name__))
            rule = getattr(exc, "rule", None)
            if isinstance(rule, str):
                span.set_attribute("barnflow.rule", rule)
            raise


def appended(event_type: str, data: Mapping[str, Any], duplicate: bool) -> None:
    """Count an alert the workflow appended for a frist that became overdue (by rule), and an
    alert it withdrew because a later-arriving fulfilment showed the frist met."""
    if duplicate:
        return
    if event_type == "frist_overskriden":
        OVERDUE_ALERTS.add(1, {"rule": str(data.get("regel") or "unknown")[:16]})
    elif event_type == "evb_rapporteringsskyldighet_uppstod":
        OVERDUE_ALERTS.add(1, {"rule": "EVB"})
    elif event_type == "larm_aterkallat":
        WITHDRAWN_ALERTS.add(1, {"rule": str(data.get("regel") or "unknown")[:16]})


# ---------------------------------------------------------------------------- HTTP
_LONG_NUMBER = re.compile(r"\d{6,}[-+]?\d*")


def route_of(path: str) -> str:
    """A path safe for a span name: long digit runs (a personnummer in a URL) become ``{n}``."""
    return _LONG_NUMBER.sub("{n}", path)[:200]


@contextmanager
def http_span(method: str, path: str, headers: Mapping[str, str] | None = None) -> Iterator[Any]:
    """The root span of one HTTP request (continues a caller's ``traceparent`` if sent)."""
    from opentelemetry.propagate import extract

    parent = extract(dict(headers or {}))
    with tracer().start_as_current_span(
        f"HTTP {method} {route_of(path)}",
        context=parent,
        kind=trace.SpanKind.SERVER,
        attributes={"http.request.method": method, "url.path": route_of(path)},
    ) as span:
        yield span


ASGIApp = Callable[..., Any]


class TraceMiddleware:
    """ASGI middleware: every HTTP request runs inside ``http_span`` (add it to the API app:
    ``app.add_middleware(TraceMiddleware)`` or wrap the ASGI app)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or []}
        status: dict[str, int] = {}

        async def send_status(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                status["code"] = int(message.get("status", 0))
            await send(message)

        with http_span(str(scope.get("method", "GET")), str(scope.get("path", "")), headers) as s:
            await self.app(scope, receive, send_status)
            if "code" in status:
                s.set_attribute("http.response.status_code", status["code"])
                if status["code"] >= 500:
                    s.set_status(trace.Status(trace.StatusCode.ERROR))


# ---------------------------------------------------------------------------- metrics
COMMANDS = _meter().create_counter(
    "barnflow.commands", unit="{command}", description="commands sent, by type and outcome"
)
REJECTIONS = _meter().create_counter(
    "barnflow.rejections", unit="{command}", description="rejected commands, by rule"
)
OVERDUE_ALERTS = _meter().create_counter(
    "barnflow.frister.overdue_alerts",
    unit="{frist}",
    description="frister that became overdue unmet (alert appended), by rule",
)
WITHDRAWN_ALERTS = _meter().create_counter(
    "barnflow.frister.withdrawn_alerts",
    unit="{frist}",
    description="alerts withdrawn (larm_aterkallat) by a late fulfilment, by rule",
)


def observe(
    projection_lag: Callable[[], int],
    overdue_by_rule: Callable[[], Mapping[str, int]],
    evb_open: Callable[[], int],
) -> None:
    """Register the gauges read at each export: projection lag (events the views are behind),
    open overdue frister by rule, and open EVB (beslut past three months, not verkställda).

    A callback that raises (database gone) loses that one reading; the SDK logs it and goes on.
    """
    meter = _meter()

    meter.create_observable_gauge(
        "barnflow.projection.lag",
        [lambda _o: [Observation(projection_lag())]],
        unit="{event}",
        description="events recorded but not yet in the report views",
    )
    meter.create_observable_gauge(
        "barnflow.frister.overdue",
        [lambda _o: [Observation(n, {"rule": r}) for r, n in sorted(overdue_by_rule().items())]],
        unit="{frist}",
        description="open frister past their due date, by rule",
    )
    meter.create_observable_gauge(
        "barnflow.evb.open",
        [lambda _o: [Observation(evb_open())]],
        unit="{beslut}",
        description="gynnande beslut not verkställda within three months (EVB), open",
    )


def observe_views(store: Any, view: Any) -> None:
    """``observe`` fed from the event store's head and the report views (a worker process):
    lag = store head − views' position; overdue and EVB counts from the ``frister`` and
    ``beslut`` views as of today (Europe/Stockholm)."""
    from psycopg import sql

    from infra.config.clock import today_stockholm

    def rows(query: str) -> list[Any]:
        with view.cursor() as curs:
            curs.execute(sql.SQL(query).format(s=sql.Identifier(view.schema)), (today_stockholm(),))
            return list(curs.fetchall())

    def overdue() -> dict[str, int]:
        found = rows(
            "SELECT rule, count(*) AS n FROM {s}.frister WHERE fulfilled_date IS NULL "
            "AND due < %s GROUP BY rule"
        )
        return {str(r["rule"]): int(r["n"]) for r in found}

    def evb() -> int:
        found = rows(
            "SELECT count(*) AS n FROM {s}.beslut WHERE evb_from <= %s "
            "AND verkstalld IS NULL AND avslutat IS NULL"
        )
        return int(found[0]["n"]) if found else 0

    observe(lambda: store.max_position() - view.position(), overdue, evb)
