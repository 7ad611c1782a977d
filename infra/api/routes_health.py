"""``GET /health``: is this API process able to serve (its database and Temporal answer)?

``GET /health/live`` (liveness: the process answers; asks nothing, so a supervisor restarts only
a process that hangs) and ``GET /health/ready`` (readiness: /health's dependencies plus what a
deployment must have before it takes work, issue 21: the schema at this code's version and the
search attributes on the namespace, without which every workflow task fails while /health said
ok). A load balancer sends traffic on ready; a supervisor restarts on live.

No token is needed, so a load balancer or ``barnflow dev``'s user can probe it; it says nothing
about cases, only the store's newest position, which is not case content. Both dependencies are
asked at once, each bounded by ``HEALTH_CHECK`` seconds, so the answer comes within 2 s even when
one is frozen: 200 with ``dependencies`` all ``ok``, or a 503 problem naming each one that did
not answer (``dependencies`` lists every one with its state).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import psycopg
from fastapi import APIRouter
from temporalio.service import RPCError

from infra.api.deps import ServicesDep
from infra.api.models import HealthOut, LiveOut
from infra.api.problems import Problem
from infra.api.services import Services
from infra.config.timeouts import HEALTH_CHECK
from infra.ops.readiness import missing_search_attributes
from infra.persistence.schema import LATEST, applied_versions

router = APIRouter(tags=["health"])
log = logging.getLogger("barnflow.api")


async def _postgres(services: Services) -> tuple[str, int]:
    try:
        head = await asyncio.wait_for(
            asyncio.to_thread(services.store.max_position), timeout=HEALTH_CHECK
        )
    except TimeoutError:
        return f"no answer within {HEALTH_CHECK:g}s", 0
    except psycopg.Error as exc:
        return f"error: {type(exc).__name__}", 0
    return "ok", head


async def _temporal(services: Services) -> str:
    try:
        ok = await asyncio.wait_for(
            services.client.service_client.check_health(timeout=timedelta(seconds=HEALTH_CHECK)),
            timeout=HEALTH_CHECK + 0.2,
        )
    except TimeoutError:
        return f"no answer within {HEALTH_CHECK:g}s"
    except RPCError as exc:
        return f"error: {exc.status.name}"
    except RuntimeError as exc:
        return f"error: {type(exc).__name__}"
    return "ok" if ok else "not serving"


def _schema_version(services: Services) -> str:
    with services.store.pooled_connection() as conn:
        have = applied_versions(conn, services.store.schema)
    version = max(have, default=0)
    return "ok" if version == LATEST else f"version {version}, needs {LATEST}"


async def _schema(services: Services) -> str:
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(_schema_version, services), timeout=HEALTH_CHECK
        )
    except TimeoutError:
        return f"no answer within {HEALTH_CHECK:g}s"
    except psycopg.Error as exc:
        return f"error: {type(exc).__name__}"


async def _search_attributes(services: Services) -> str:
    try:
        missing, _system = await asyncio.wait_for(
            missing_search_attributes(services.client, services.settings.temporal_namespace),
            timeout=HEALTH_CHECK,
        )
    except TimeoutError:
        return f"no answer within {HEALTH_CHECK:g}s"
    except RPCError as exc:
        return f"error: {exc.status.name}"
    return "ok" if not missing else "missing: " + ", ".join(missing)


@router.get("/health/live", summary="Liveness: the process answers (asks no dependency)")
async def live() -> LiveOut:
    return LiveOut(status="ok")


@router.get(
    "/health/ready",
    summary="Readiness: dependencies answer, schema at this version, search attributes present",
)
async def ready(services: ServicesDep) -> HealthOut:
    (pg, head), temporal, schema, attributes = await asyncio.gather(
        _postgres(services), _temporal(services), _schema(services), _search_attributes(services)
    )
    deps = {"postgres": pg, "temporal": temporal, "schema": schema, "search_attributes": attributes}
    return _answer(deps, head)


@router.get("/health", summary="Readiness: the API, its database and Temporal answer")
async def health(services: ServicesDep) -> HealthOut:
    (pg, head), temporal = await asyncio.gather(_postgres(services), _temporal(services))
    return _answer({"postgres": pg, "temporal": temporal}, head)


def _answer(deps: dict[str, str], head: int) -> HealthOut:
    """200 with every dependency ok, else a 503 problem naming each one that is not."""
    down = [name for name, state in deps.items() if state != "ok"]
    if down:
        log.warning("health: unavailable: %s", ", ".join(f"{n} ({deps[n]})" for n in down))
        raise Problem(
            503,
            "unavailable",
            "unavailable: " + ", ".join(f"{n} ({deps[n]})" for n in down),
            headers={"Retry-After": "5"},
            dependencies=deps,
        )
    return HealthOut(status="ok", head=head, dependencies=deps)
