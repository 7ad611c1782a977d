"""Webhook subscriptions: push instead of pull (delivery in workflows/webhooks.py).

A subscription belongs to the caller's kommun and receives that kommun's events of the chosen
types stored after it was created, and only of cases of its units: a unit-bound caller's
subscription is bound to (a subset of) the caller's units, so push never shows more than pull.
A unit-bound caller sees and stops only subscriptions within its units. The HMAC secret is shown
once, at creation. The delivery log shows every attempt with its status code or error, so a
calling system can see what failed.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from temporalio.common import WorkflowIDConflictPolicy

from activities.webhooks import standard_secret
from infra.api.access import may_read_protected, protected_problem
from infra.api.auth import Principal
from infra.api.deps import PrincipalDep, ServicesDep
from infra.api.models import DeliveryOut, WebhookIn, WebhookOut
from infra.api.problems import Problem
from infra.api.services import Services
from infra.config.timeouts import START_RPC_TIMEOUT
from infra.persistence.db import connection, q
from workflows.webhooks import DispatchInput, WebhookDispatchWorkflow, dispatcher_id

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
SubscriptionId = Annotated[uuid.UUID, Path()]


async def ensure_dispatcher(services: Services, inp: DispatchInput | None = None) -> None:
    """Start the task queue's dispatcher unless it already runs."""
    await services.client.start_workflow(
        WebhookDispatchWorkflow.run,
        inp or services.dispatch_input,
        id=dispatcher_id(services.task_queue),
        task_queue=services.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        rpc_timeout=timedelta(seconds=START_RPC_TIMEOUT),
    )


def _out(row: Any, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=str(row["id"]),
        kommun=row["kommun"],
        url=row["url"],
        event_types=list(row["event_types"]),
        units=list(row["units"]),
        active=row["active"],
        after_position=row["after_position"],
        format=row["format"],
        skyddade=bool(row.get("skyddade", False)),
        secret=secret,
        signing_secret=standard_secret(secret) if secret is not None else None,
    )


def _units(principal: Principal, asked: list[str] | None) -> list[str]:
    """The subscription's units: the caller's by default; asked ones must be the caller's."""
    if asked is None:
        return sorted(principal.units)
    outside = sorted(u for u in set(asked) if not principal.sees_unit(u))
    if outside:
        raise Problem(
            403,
            "forbidden-unit",
            f"units: {outside[0]!r} is not one of the caller's units",
            field="units",
        )
    return sorted(set(asked))


def _visible(principal: Principal, row: Any) -> bool:
    """A subscription a caller may see: every one if not unit-bound, else those within its
    units (a kommun-wide subscription would show events of other units' cases)."""
    units = list(row["units"])
    if principal.sees_unit(None):
        return True
    return bool(units) and all(principal.sees_unit(u) for u in units)


def _create(services: Services, principal: Principal, body: WebhookIn) -> WebhookOut:
    units = _units(principal, body.units)
    if body.skyddade and not may_read_protected(services, principal, principal.kommun):
        raise protected_problem(principal.role)
    secret = secrets.token_urlsafe(32)
    with connection(services.store) as conn:
        row = conn.execute(
            q(
                services.store,
                "INSERT INTO {s}.webhook_subscriptions (id, kommun, url,"
                " event_types, secret, created_by, after_position, units, format, skyddade)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
            ),
            (
                uuid.uuid4(),
                principal.kommun,
                body.url,
                sorted(set(body.event_types)),
                secret,
                principal.subject,
                services.store.max_position(),
                units,
                body.format,
                body.skyddade,
            ),
        ).fetchone()
        conn.commit()
    return _out(row, secret)


def _list(services: Services, principal: Principal) -> list[WebhookOut]:
    with connection(services.store) as conn:
        rows = conn.execute(
            q(
                services.store,
                "SELECT * FROM {s}.webhook_subscriptions WHERE kommun = %s ORDER BY created_at, id",
            ),
            (principal.kommun,),
        ).fetchall()
    return [_out(r) for r in rows if _visible(principal, r)]


def _find(conn: Any, services: Services, principal: Principal, sid: uuid.UUID) -> bool:
    row = conn.execute(
        q(
            services.store,
            "SELECT units FROM {s}.webhook_subscriptions WHERE id = %s AND kommun = %s",
        ),
        (sid, principal.kommun),
    ).fetchone()
    return row is not None and _visible(principal, row)


def _deactivate(services: Services, principal: Principal, sid: uuid.UUID) -> bool:
    with connection(services.store) as conn:
        if not _find(conn, services, principal, sid):
            return False
        conn.execute(
            q(services.store, "UPDATE {s}.webhook_subscriptions SET active = false WHERE id = %s"),
            (sid,),
        )
        conn.commit()
        return True


def _deliveries(
    services: Services, principal: Principal, sid: uuid.UUID
) -> list[DeliveryOut] | None:
    with connection(services.store) as conn:
        if not _find(conn, services, principal, sid):
            return None
        rows = conn.execute(
            q(
                services.store,
                "SELECT * FROM {s}.webhook_deliveries WHERE subscription_id = %s ORDER BY id",
            ),
            (sid,),
        ).fetchall()
    return [
        DeliveryOut(
            position=r["position"],
            event_type=r["event_type"],
            attempt=r["attempt"],
            status_code=r["status_code"],
            error=r["error"],
            delivered=r["delivered"],
            at=r["at"].isoformat(),
        )
        for r in rows
    ]


@router.post(
    "",
    status_code=201,
    summary="Subscribe a URL to event types of the caller's kommun (and units)",
)
async def create_webhook(
    body: WebhookIn, services: ServicesDep, principal: PrincipalDep
) -> WebhookOut:
    principal.require_role(("system",))
    out = await asyncio.to_thread(_create, services, principal, body)
    await ensure_dispatcher(services)
    return out


@router.get("", summary="The kommun's webhook subscriptions")
async def list_webhooks(services: ServicesDep, principal: PrincipalDep) -> list[WebhookOut]:
    principal.require_role(("system", "operator", "auditor"))
    return await asyncio.to_thread(_list, services, principal)


@router.delete("/{subscription_id}", status_code=204, summary="Stop a subscription")
async def delete_webhook(
    subscription_id: SubscriptionId, services: ServicesDep, principal: PrincipalDep
) -> Response:
    principal.require_role(("system",))
    if not await asyncio.to_thread(_deactivate, services, principal, subscription_id):
        raise Problem(404, "not-found", "no such subscription in the caller's kommun and units")
    return Response(status_code=204)


@router.get("/{subscription_id}/deliveries", summary="The delivery log, failures included")
async def list_deliveries(
    subscription_id: SubscriptionId, services: ServicesDep, principal: PrincipalDep
) -> list[DeliveryOut]:
    principal.require_role(("system", "operator", "auditor"))
    rows = await asyncio.to_thread(_deliveries, services, principal, subscription_id)
    if rows is None:
        raise Problem(404, "not-found", "no such subscription in the caller's kommun and units")
    return rows
