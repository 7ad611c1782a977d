"""``GET /events``: the global event feed in position order, filtered to what the caller may see.

Positions are gap-free, so ``after=<last_position>`` never skips or repeats an event. The page
is filtered after reading, and ``last_position`` is the last position *scanned*, so a caller
that may see little still moves forward. ``wait`` long-polls until something new is stored.
Operators get the events' metadata only (type, position, case id), never content.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Response

from domain.case import fold
from domain.cloudevents import BATCH_MEDIA_TYPE, cloud_event
from domain.events import CaseEvent
from domain.ids import case_id_for
from infra.api.access import log_reads, may_read_protected, protected_case_ids
from infra.api.auth import Principal
from infra.api.deps import PrincipalDep, PurposeDep, ServicesDep
from infra.api.models import FeedOut
from infra.api.problems import Problem
from infra.api.services import Services

router = APIRouter(tags=["feed"])
MAX_LIMIT = 1000


def visible(services: Services, principal: Principal, events: list[CaseEvent]) -> list[CaseEvent]:
    """The events of the caller's kommun and (if unit-bound) of cases of its units."""
    mine = [e for e in events if e.kommun == principal.kommun]
    if principal.sees_unit(None):
        return mine
    enhet: dict[str, str | None] = {}
    out = []
    for e in mine:
        cid = str(case_id_for(e.kommun, e.case_ref))
        if cid not in enhet:
            enhet[cid] = fold(services.store.case_events(case_id_for(e.kommun, e.case_ref))).enhet
        if principal.sees_unit(enhet[cid]):
            out.append(e)
    return out


def _metadata(e: CaseEvent) -> dict[str, Any]:
    """What an operator may see of an event: no actor, no key, no data (null in the answer)."""
    return {
        "kommun": e.kommun,
        "case_ref": e.case_ref,
        "type": e.type,
        "occurred_at": e.occurred_at.isoformat(),
        "actor": None,
        "idempotency_key": None,
        "data": None,
        "case_id": str(case_id_for(e.kommun, e.case_ref)),
        "position": e.position,
        "recorded_at": e.recorded_at.isoformat() if e.recorded_at else None,
    }


def _page(
    services: Services, principal: Principal, after: int, limit: int, purpose: str
) -> tuple[list[dict[str, Any]], int]:
    events = services.store.events_after(after, limit)
    last = events[-1].position or after if events else after
    shown = visible(services, principal, events)
    if not principal.may_read_content:
        return [_metadata(e) for e in shown], last
    # a protected case's events reach only the roles the kommun names; others get metadata
    protected = protected_case_ids(services, shown)
    if protected and not may_read_protected(services, principal, principal.kommun):
        hidden, protected = protected, set()
    else:
        hidden = set()
    cases = sorted(c for c in _cases(shown) if c[0] not in hidden)
    log_reads(services, principal, cases, purpose, protected)
    out = []
    for e in shown:
        cid = str(case_id_for(e.kommun, e.case_ref))
        if cid in hidden:
            out.append(_metadata(e))
            continue
        line = e.to_json()
        line["case_id"] = cid
        out.append(line)
    return out, last


def _cases(events: list[CaseEvent]) -> set[tuple[str, str, str]]:
    return {(str(case_id_for(e.kommun, e.case_ref)), e.kommun, e.case_ref) for e in events}


@router.get(
    "/events",
    summary="The event feed after a position (long-poll with wait)",
    response_model=FeedOut,
    responses={
        200: {
            "description": "the page; with `Accept: application/cloudevents-batch+json` a "
            "CloudEvents 1.0 batch (a JSON array), the page's last_position and head in the "
            "headers Barnflow-Last-Position and Barnflow-Head",
            "content": {
                BATCH_MEDIA_TYPE: {
                    "schema": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/CloudEvent"},
                    }
                }
            },
            "headers": {
                "Barnflow-Last-Position": {"schema": {"type": "string"}},
                "Barnflow-Head": {"schema": {"type": "string"}},
            },
        }
    },
)
async def event_feed(
    *,
    services: ServicesDep,
    principal: PrincipalDep,
    purpose: PurposeDep,
    after: Annotated[
        int,
        Query(ge=0, le=2**62, description="the last position you have; beyond the head: 422"),
    ] = 0,
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_LIMIT,
            description="the most positions scanned: events the caller may not see are "
            "skipped, so a page may hold fewer (last_position still moves on)",
        ),
    ] = 100,
    wait: Annotated[float, Query(ge=0, le=30, description="seconds to wait for news")] = 0,
    accept: Annotated[
        str | None,
        Header(description=f"{BATCH_MEDIA_TYPE} for CloudEvents; otherwise the feed's JSON"),
    ] = None,
) -> Any:
    head = await asyncio.to_thread(services.store.max_position)
    if after > head:  # a position this store never had: the caller's bookmark is wrong
        raise Problem(
            422,
            "validation",
            f"after: {after} is beyond the newest stored position {head}",
            field="after",
        )
    deadline = time.monotonic() + min(wait, services.config.max_wait)
    while True:
        events, last = await asyncio.to_thread(_page, services, principal, after, limit, purpose)
        if last > after or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.1)
    head = await asyncio.to_thread(services.store.max_position)
    if accept is not None and BATCH_MEDIA_TYPE in accept:
        return Response(
            orjson.dumps([cloud_event(e) for e in events]),
            media_type=BATCH_MEDIA_TYPE,
            headers={"Barnflow-Last-Position": str(last), "Barnflow-Head": str(head)},
        )
    return FeedOut.model_validate({"events": events, "last_position": last, "head": head})
