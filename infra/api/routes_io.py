"""``POST /import`` and ``GET /export``: JSONL in the docs/domain.md §4 line format.

Import validates the whole file before appending anything
(``infra.persistence.importer.import_lines``), is
idempotent per line (a re-run after an interruption appends nothing twice) and adopts every
still-open case into its workflow so its timers run. Export writes the same lines with
``case_id``, ``position``, ``recorded_at`` and the hash-chain ``digest``; it is a read of case
content, so every exported case is in the access log.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from domain.errors import DomainError
from domain.ids import case_id_for
from infra.api.access import (
    load_case,
    log_access,
    log_reads,
    may_read_protected,
    protected_case_ids,
    protected_problem,
)
from infra.api.auth import Principal
from infra.api.deps import PrincipalDep, PurposeDep, ServicesDep
from infra.api.models import ImportFlagOut, ImportOut
from infra.api.problems import Problem
from infra.api.routes_feed import visible
from infra.api.services import Services
from infra.audit.protection import PROTECTED_PURPOSE
from infra.temporal.adoption import adopt_all

router = APIRouter(tags=["import-export"])
NDJSON = "application/x-ndjson"
_PAGE = 1000


def _import(services: Services, principal: Principal, body: bytes) -> Any:
    from infra.persistence.importer import import_lines

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "malformed-body", "the body is not UTF-8 text") from None
    lines = text.splitlines()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            kommun = orjson.loads(raw).get("kommun")
        except (orjson.JSONDecodeError, AttributeError):
            raise Problem(
                400, "malformed-json", f"line {number}: not a JSON object", line=number
            ) from None
        if kommun != principal.kommun:
            raise Problem(
                403,
                "forbidden-kommun",
                f"line {number}: the caller may not import into kommun {kommun}",
                line=number,
                field="kommun",
            )
    try:
        return import_lines(services.store, lines)
    except DomainError as exc:
        raise Problem(422, "validation", str(exc)) from None
    except ValueError as exc:  # the importer names the line number
        raise Problem(422, "validation", str(exc)) from None


@router.post(
    "/import",
    summary="Import historical events (JSONL) and adopt still-open cases into workflows",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                NDJSON: {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_events(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> ImportOut:
    principal.require_role(("system",))
    body = await request.body()
    summary = await asyncio.to_thread(_import, services, principal, body)
    settings = services.settings
    adoption = await adopt_all(
        services.client,
        services.store,
        summary.open_cases,
        pseudonym_key=settings.keys.pseudonym,
        task_queue=settings.task_queue,
        alert_settle_seconds=settings.alert_settle_seconds,
        known=summary.adoption,
    )
    if adoption.failed:  # the events are stored; a re-sent import starts the missing workflows
        _kommun, case_ref, reason = adoption.failed[0]
        raise Problem(
            503,
            "adoption-failed",
            f"{summary.appended} events stored, but {len(adoption.failed)} open case(s) could "
            f"not be adopted into workflows (first: {case_ref}: {reason}); send the import "
            "again: stored lines are skipped and running workflows are left alone",
        )
    adopted = adoption.started
    return ImportOut(
        lines=summary.lines,
        appended=summary.appended,
        duplicates=summary.skipped_duplicates,
        adopted=adopted,
        flagged=[ImportFlagOut.model_validate(f.to_json()) for f in summary.flagged],
    )


def _export_kommun(services: Services, principal: Principal, purpose: str) -> list[bytes]:
    """Every visible event; a protected case's only for a role the kommun names (left out for
    others: an export is content, and its lines would carry the case's whereabouts)."""
    out: list[bytes] = []
    cases: set[tuple[str, str, str]] = set()
    protected: set[str] = set()
    permitted = may_read_protected(services, principal, principal.kommun)
    after = 0
    while True:
        page = services.store.events_after(after, _PAGE)
        if not page:
            break
        after = page[-1].position or after
        shown = visible(services, principal, page)
        found = protected_case_ids(services, shown)
        protected |= found
        for e in shown:
            cid = str(case_id_for(e.kommun, e.case_ref))
            if cid in found and not permitted:
                continue
            cases.add((cid, e.kommun, e.case_ref))
            out.append(orjson.dumps({**e.to_json(), "case_id": cid}) + b"\n")
    log_reads(services, principal, sorted(cases), purpose, protected)
    return out


@router.get(
    "/export",
    summary="Export a kommun's or one case's events as JSONL with positions and digests",
    response_class=Response,
    responses={200: {"content": {NDJSON: {"schema": {"type": "string"}}}}},
)
async def export_events(
    services: ServicesDep,
    principal: PrincipalDep,
    purpose: PurposeDep,
    kommun: Annotated[str, Query(pattern=r"^\d{4}$")],
    case_ref: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
) -> Response:
    principal.require_content()
    principal.require_kommun(kommun)
    if case_ref is not None:
        case = await load_case(services, principal, kommun, case_ref)
        if case.state.protected:
            if not may_read_protected(services, principal, kommun):
                raise protected_problem(principal.role)
            purpose += PROTECTED_PURPOSE
        await asyncio.to_thread(
            log_access, services, principal, [(case.case_id, kommun, case_ref)], purpose
        )
        lines = [
            orjson.dumps({**e.to_json(), "case_id": case.case_id}) + b"\n" for e in case.events
        ]
    else:
        lines = await asyncio.to_thread(_export_kommun, services, principal, purpose)
    return Response(b"".join(lines), media_type=NDJSON)
