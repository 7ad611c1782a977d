"""``/homes``: the kommun's homes (familjehem, jourhem, HVB, stödboende) as their own records.

``POST /homes/commands`` records one home line (``domain.homes``: utredning, registerkontroll,
medgivande, avtal …; 201, or 200 for a retry with the same key and body; 409 with the rule, 422
naming the field). Homes are not workflows (``infra.persistence.homes``): the line is judged by
the home's own guards and appended to its stream directly. ``GET /homes/{kommun}`` lists every
home with the children placed there (by case_ref, never by identity), its alerts (HEM7, HEM8) and
the placements made under a recorded exception (POL-HEM-UNDANTAG) on a legal date (``as_of``,
default today); ``GET /homes/{kommun}/{hem_id}`` is one home.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from domain.errors import EventValidationError, RuleViolation
from domain.homes import HOME_EVENT_TYPES, parse_home_event
from infra.api.deps import PrincipalDep, ServicesDep
from infra.api.models import ActorIn
from infra.api.problems import Problem, rejection_problem
from infra.api.services import Services
from infra.config.clock import today_stockholm
from infra.persistence.homes import homes_of, homes_report

router = APIRouter(prefix="/homes", tags=["homes"])

HomeCommandType = Annotated[str, Field(json_schema_extra={"enum": sorted(HOME_EVENT_TYPES)})]


class HomeCommandIn(BaseModel):
    """One home line: a case line with ``hem_id`` for ``case_ref`` (docs/domain.md §4.10)."""

    model_config = ConfigDict(extra="forbid")
    kommun: str = Field(pattern=r"^\d{4}$", examples=["1280"])
    hem_id: str = Field(min_length=1, max_length=64, examples=["FH-0042"])
    type: HomeCommandType
    occurred_at: str = Field(min_length=1, max_length=64)
    actor: ActorIn
    idempotency_key: str = Field(min_length=1, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict)


class HomeCommandAccepted(BaseModel):
    model_config = ConfigDict(extra="allow")
    hem_id: str
    position: int
    event: dict[str, Any]
    duplicate: bool


class HomesOut(BaseModel):
    """Homes on a legal date: each with its placed children and alerts; the exceptions."""

    model_config = ConfigDict(extra="allow")
    kommun: str
    as_of: str
    homes: list[dict[str, Any]]
    larm: list[dict[str, Any]]
    undantag: list[dict[str, Any]]


@router.post("/commands", status_code=201, summary="Record one home line")
async def post_home_command(
    body: HomeCommandIn, response: Response, services: ServicesDep, principal: PrincipalDep
) -> HomeCommandAccepted:
    principal.require_write()
    try:
        ev = parse_home_event(body.model_dump())
    except EventValidationError as exc:
        raise rejection_problem(exc) from None
    principal.require_kommun(ev.kommun)
    try:
        line, duplicate = await asyncio.to_thread(homes_of(services.store).record, ev)
    except (RuleViolation, EventValidationError) as exc:
        raise rejection_problem(exc) from None
    if duplicate:
        response.status_code = 200
    return HomeCommandAccepted(
        hem_id=ev.hem_id, position=int(line.get("position") or 0), event=line, duplicate=duplicate
    )


@router.get("/{kommun}", summary="The kommun's homes, placed children, alerts and exceptions")
async def get_homes(
    kommun: Annotated[str, Path(pattern=r"^\d{4}$")],
    services: ServicesDep,
    principal: PrincipalDep,
    as_of: Annotated[date | None, Query(description="legal date (default: today)")] = None,
) -> HomesOut:
    principal.require_kommun(kommun)
    day = as_of or today_stockholm()
    return HomesOut.model_validate(await asyncio.to_thread(_homes, services, kommun, day, None))


@router.get("/{kommun}/{hem_id}", summary="One home on a legal date")
async def get_home(
    kommun: Annotated[str, Path(pattern=r"^\d{4}$")],
    hem_id: Annotated[str, Path(max_length=64)],
    services: ServicesDep,
    principal: PrincipalDep,
    as_of: Annotated[date | None, Query(description="legal date (default: today)")] = None,
) -> HomesOut:
    principal.require_kommun(kommun)
    day = as_of or today_stockholm()
    return HomesOut.model_validate(await asyncio.to_thread(_homes, services, kommun, day, hem_id))


def _homes(services: Services, kommun: str, day: date, hem_id: str | None) -> dict[str, Any]:
    try:
        return homes_report(services.store, kommun, day, hem_id)
    except LookupError as exc:
        raise Problem(404, "not-found", str(exc)) from None
