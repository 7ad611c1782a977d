"""``POST /commands``: one docs/domain.md §4 event line, sent to the child's workflow.

Order of judgement, cheapest and least revealing first: role → shape (pydantic) → values
(``parse_event``, 422 naming the field: the one parse on the way in; the canonical event is what
is sent) → kommun and unit (403) → in-flight bound (429) → the workflow's rules (409 with the
rule). Refusals are answered as ``infra.temporal.rejections`` decides. Nothing is stored unless
the workflow accepts it; a retry with the same idempotency key and body returns the original
result (200 instead of 201).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Response
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from domain.case import named_enhet
from domain.errors import EventValidationError
from domain.events import OPENING_TYPES, CaseEvent, parse_event
from domain.ids import case_id_for
from infra.api.auth import Principal
from infra.api.deps import PrincipalDep, ServicesDep
from infra.api.models import CommandAccepted, CommandIn
from infra.api.problems import Problem, rejection_problem, unavailable
from infra.api.services import Services
from infra.persistence.store import IdempotencyConflict, body_digest
from infra.temporal.commands import CommandRejected, WorkflowMissing, send_command
from workflows.messages import CommandResult

router = APIRouter(tags=["commands"])
log = logging.getLogger("barnflow.api")
#: seconds a caller should wait before retrying a command for a case awaiting repair
WORKFLOW_MISSING_RETRY_AFTER = 60


def _case_enhet(services: Services, ev: CaseEvent) -> tuple[bool, str | None]:
    """Whether the case exists, and its enhet (``named_enhet``: its opening events, not a fold
    of the whole case on every command of a unit-bound caller)."""
    events = services.store.case_events(case_id_for(ev.kommun, ev.case_ref))
    return bool(events), named_enhet(events)


async def check_scope(services: Services, principal: Principal, ev: CaseEvent) -> None:
    """403 unless the caller may act in the event's kommun and on the case's unit."""
    principal.require_kommun(ev.kommun)
    if principal.sees_unit(None):
        return  # not unit-bound
    exists, enhet = await asyncio.to_thread(_case_enhet, services, ev)
    named = ev.data.get("enhet") if ev.type in OPENING_TYPES else None
    candidates = [e for e in (enhet, named) if e is not None]
    if not exists and ev.type not in OPENING_TYPES:
        return  # no such case: the workflow answers 409 P-OPEN
    if not candidates or not all(principal.sees_unit(e) for e in candidates):
        raise Problem(
            403,
            "forbidden-unit",
            "the case's enhet is not one of the caller's units",
            field="data.enhet",
        )


def _recorded(services: Services, ev: CaseEvent) -> CommandResult | None:
    """The stored result of this idempotency key, so a retry after the case's workflow has
    closed still gets the original answer (a different body is P-IDEMPOTENCY, 409)."""
    for stored in services.store.case_events(case_id_for(ev.kommun, ev.case_ref)):
        if stored.idempotency_key != ev.idempotency_key:
            continue
        if body_digest(stored) != body_digest(ev):
            raise rejection_problem(IdempotencyConflict(ev.idempotency_key))
        return CommandResult(
            case_id=str(case_id_for(ev.kommun, ev.case_ref)),
            position=stored.position or 0,
            event=stored.to_json(),
            duplicate=True,
        )
    return None


async def execute(services: Services, principal: Principal, raw: dict[str, Any]) -> CommandResult:
    """Validate, scope and send one command; the ``CommandResult`` or a ``Problem``."""
    principal.require_write()
    try:
        ev = parse_event(raw)
    except EventValidationError as exc:
        raise rejection_problem(exc) from None
    await check_scope(services, principal, ev)
    services.acquire_command_slot()
    try:
        result: CommandResult = await asyncio.wait_for(
            send_command(
                services.client,
                services.store,
                ev,
                pseudonym_key=services.settings.keys.pseudonym,
                task_queue=services.task_queue,
                alert_settle_seconds=services.settings.alert_settle_seconds,
            ),
            timeout=services.config.command_timeout,
        )
        return result
    except CommandRejected as exc:
        original = await asyncio.to_thread(_recorded, services, ev)
        if original is not None:  # a retry of a command the (now closed) workflow accepted
            return original
        raise rejection_problem(exc.cause) from None
    except WorkflowMissing as exc:
        original = await asyncio.to_thread(_recorded, services, ev)
        if original is not None:  # a retry of a command the workflow accepted before it was lost
            return original
        log.warning(
            "command for an open case without a running workflow",
            extra={"kommun": exc.kommun, "workflow_id": exc.workflow_id},
        )
        raise Problem(
            503,
            "workflow-missing",
            str(exc),
            headers={"Retry-After": str(WORKFLOW_MISSING_RETRY_AFTER)},
            case_ref=exc.case_ref,
            kommun=exc.kommun,
            repair=f"barnflow ops repair {exc.case_ref} --kommun {exc.kommun}",
        ) from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        # wait_for's cancellation reaches the update RPC, which reports it as its own timeout
        raise unavailable(
            "the case's workflow did not answer in time; retry with the same idempotency_key",
            retry_after=2,
        ) from None
    except RPCError as exc:
        raise unavailable(
            f"Temporal is unavailable ({exc.status.name}); retry with the same idempotency_key",
            retry_after=2,
        ) from None
    finally:
        services.release_command_slot()


@router.post(
    "/commands",
    status_code=201,
    summary="Send one command (a docs/domain.md §4 event line)",
    response_model=CommandAccepted,
    responses={200: {"model": CommandAccepted, "description": "a retry: the original result"}},
)
async def post_command(body: CommandIn, services: ServicesDep, principal: PrincipalDep) -> Response:
    result = await execute(services, principal, body.model_dump())
    accepted = CommandAccepted.model_validate(
        {
            "case_id": result.case_id,
            "position": result.position,
            "event": result.event,
            "duplicate": result.duplicate,
        }
    )
    # rendered here, once: returning the model would have FastAPI dump, validate and serialise
    # it again (the same JSON; bench/api.py --profile, docs/operations.md "Command latency")
    return Response(
        accepted.model_dump_json(),
        status_code=200 if result.duplicate else 201,
        media_type="application/json",
    )
