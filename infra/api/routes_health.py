"""``GET /health``: is this API process able to serve (its database answers)?

No token is needed, so a load balancer or ``barnflow dev``'s user can probe it; it says nothing
about cases, only the store's newest position, which is not case content.
"""

from __future__ import annotations

import asyncio

import psycopg
from fastapi import APIRouter

from infra.api.deps import ServicesDep
from infra.api.models import HealthOut
from infra.api.problems import unavailable

router = APIRouter(tags=["health"])


@router.get("/health", summary="Readiness: the API and its database answer")
async def health(services: ServicesDep) -> HealthOut:
    try:
        head = await asyncio.to_thread(services.store.max_position)
    except psycopg.Error:
        raise unavailable("the event store does not answer", retry_after=5) from None
    return HealthOut(status="ok", head=head)
