"""``GET /health``: is this API process able to serve (its database and Temporal answer)?

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
from infra.api.models import HealthOut
from infra.api.problems import Problem
from infra.api.services import Services
from infra.config.timeouts import HEALTH_CHECK

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


@router.get("/health", summary="Readiness: the API, its database and Temporal answer")
async def health(services: ServicesDep) -> HealthOut:
    (pg, head), temporal = await asyncio.gather(_postgres(services), _temporal(services))
    deps = {"postgres": pg, "temporal": temporal}
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
