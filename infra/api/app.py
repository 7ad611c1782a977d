"""The app factory: routes, problem+json errors, body limit, orjson responses, OpenAPI 3.1.

The OpenAPI document documents every error response as ``application/problem+json`` (the
shape the handlers actually send), so a generated client and schemathesis see the truth.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.responses import JSONResponse

from infra.api import docs_ui, problems
from infra.api.contract import (
    contract_schemas,
    home_schemas,
    report_schemas,
    webhook_schemas,
    webhooks_section,
)
from infra.api.limits import BodyLimit
from infra.api.models import ProblemOut
from infra.api.problems import PROBLEM_MEDIA_TYPE
from infra.api.routes_cases import router as cases_router
from infra.api.routes_commands import router as commands_router
from infra.api.routes_feed import router as feed_router
from infra.api.routes_health import router as health_router
from infra.api.routes_homes import router as homes_router
from infra.api.routes_io import router as io_router
from infra.api.routes_kvalitet import klagomal_router, lex_sarah_router
from infra.api.routes_kvartal import router as kvartal_router
from infra.api.routes_registerutdrag import router as registerutdrag_router
from infra.api.routes_reports import router as reports_router
from infra.api.routes_webhooks import router as webhooks_router
from infra.api.services import Services
from infra.config.api import ApiConfig
from infra.telemetry import TraceMiddleware

VERSION = "1.0.0"
#: Error statuses every authenticated route may answer.
_COMMON_ERRORS = {
    "400": "malformed request",
    "401": "missing or invalid bearer token",
    "403": "outside the caller's kommun, units or role",
    "413": "body larger than the limit",
    "422": "validation error naming the field",
    "500": "internal error",
    "503": "not available now (Temporal, projections); see Retry-After",
}
#: Paths without a token: they can fail only on the server's side.
_PUBLIC_PATHS = frozenset({"/health", "/health/live", "/health/ready"})
_ROUTE_ERRORS = {
    "/commands": {"409": "rejected by a rule (rule, sv, en)", "429": "too many in flight"},
    "/homes/commands": {"409": "rejected by a home's rule (rule, sv, en)"},
    "/klagomal/commands": {"409": "rejected by a complaint's rule (rule, sv, en)"},
    "/lex-sarah/commands": {"409": "rejected by a lex Sarah rule (rule, sv, en)"},
}


class OrjsonResponse(JSONResponse):
    """JSON rendered by orjson (fast, and datetimes/UUIDs without custom encoders)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def _problem_schema_ref() -> dict[str, Any]:
    return {"$ref": "#/components/schemas/ProblemOut"}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(
        title="barnflow API",
        version=VERSION,
        summary="Commands, reads, event feed, import/export and webhooks for barnärenden",
        routes=app.routes,
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["ProblemOut"] = ProblemOut.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    # the event contract, typed per event type from domain.events (infra/api/contract.py):
    # replaces the loose runtime shapes of CommandIn and Event (parse_event validates values)
    schemas.update(contract_schemas())
    schemas.update(home_schemas())
    schemas.update(report_schemas())
    schemas.update(webhook_schemas())
    spec["webhooks"] = webhooks_section()
    spec["components"]["schemas"] = dict(sorted(schemas.items()))
    problem = {PROBLEM_MEDIA_TYPE: {"schema": _problem_schema_ref()}}
    for path, item in spec.get("paths", {}).items():
        for op in item.values():
            responses = op.setdefault("responses", {})
            errors = {**_COMMON_ERRORS, **_ROUTE_ERRORS.get(path, {})}
            if path in _PUBLIC_PATHS:
                errors = {code: errors[code] for code in ("500", "503")}
            if "parameters" in op and any(p["in"] == "path" for p in op["parameters"]):
                errors["404"] = "no such resource in the caller's kommun"
            if path.startswith(("/webhooks/", "/cases/", "/export")):
                errors["404"] = "no such resource in the caller's kommun"
            if path.startswith("/reports/"):
                errors["404"] = "no such report"
            for code, text in errors.items():
                responses[code] = {
                    "description": text,
                    "content": problem,
                    **(
                        {"headers": {"Retry-After": {"schema": {"type": "string"}}}}
                        if code in ("429", "503")
                        else {}
                    ),
                }
    app.openapi_schema = spec
    return spec


def create_app(services: Services | None) -> FastAPI:
    """The ASGI app over the given services (nothing global: tests build as many as they like).

    ``None`` builds the app only for its OpenAPI document (``barnflow api openapi``).
    """
    app = FastAPI(
        title="barnflow API",
        version=VERSION,
        default_response_class=OrjsonResponse,
        docs_url=None,  # infra/api/docs_ui.py: Swagger UI from a package, no CDN
        redoc_url=None,
    )
    docs_ui.install(app, "barnflow API")
    app.state.services = services
    config = services.config if services is not None else ApiConfig(jwt_key=b"")
    problems.install(app)
    for router in (
        health_router,
        commands_router,
        cases_router,
        registerutdrag_router,
        feed_router,
        kvartal_router,  # GET /reports/kvartal before GET /reports/{name}
        reports_router,
        io_router,
        webhooks_router,
        homes_router,
        klagomal_router,
        lex_sarah_router,
    ):
        app.include_router(router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(
        BodyLimit,
        default=config.max_body,
        overrides={"/import": config.max_import_body},
    )
    # Added last, so outermost: a command's trace starts at the HTTP request and continues
    # through the Temporal update into the workflow and the append (infra/telemetry.py).
    app.add_middleware(TraceMiddleware)
    return app
