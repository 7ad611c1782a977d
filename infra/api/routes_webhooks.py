"""Webhook subscriptions: push instead of pull (delivery in workflows/webhooks.py).

A subscription belongs to the caller's kommun and receives that kommun's events of the chosen
types stored after it was created. The HMAC secret is shown once, at creation. The delivery log
shows every attempt with its status code or error, so a calling system can see what failed.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from temporalio.common import WorkflowIDConflictPolicy

from infra.api.db import connection, q
from infra.api.deps import PrincipalDep, ServicesDep
from infra.api.models import DeliveryOut, WebhookIn, WebhookOut
from infra.api.problems import Problem
from infra.api.services import Services
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
    )


def _out(row: Any, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=str(row["id"]),
        kommun=row["kommun"],
        url=row["url"],
        event_types=list(row["event_types"]),
        active=row["active"],
        after_position=row["after_position"],
        secret=secret,
    )


def _create(services: Services, kommun: str, who: str, body: WebhookIn) -> WebhookOut:
    secret = secrets.token_urlsafe(32)
    with connection(services.store) as conn:
        row = conn.execute(
            q(
                services.store,
                "INSERT INTO {s}.webhook_subscriptions (id, kommun, url,"
                " event_types, secret, created_by, after_position)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING *",
            ),
            (
                uuid.uuid4(),
                kommun,
                body.url,
                sorted(set(body.event_types)),
                secret,
                who,
                services.store.max_position(),
            ),
        ).fetchone()
        conn.commit()
    return _out(row, secret)


def _list(services: Services, kommun: str) -> list[WebhookOut]:
    with connection(services.store) as conn:
        rows = conn.execute(
            q(
                services.store,
                "SELECT * FROM {s}.webhook_subscriptions WHERE kommun = %s ORDER BY created_at, id",
            ),
            (kommun,),
        ).fetchall()
    return [_out(r) for r in rows]


def _deactivate(services: Services, kommun: str, sid: uuid.UUID) -> bool:
    with connection(services.store) as conn:
        cur = conn.execute(
            q(
                services.store,
                "UPDATE {s}.webhook_subscriptions SET active = false WHERE id = %s AND kommun = %s",
            ),
            (sid, kommun),
        )
        conn.commit()
        return cur.rowcount > 0


def _deliveries(services: Services, kommun: str, sid: uuid.UUID) -> list[DeliveryOut] | None:
    with connection(services.store) as conn:
        sub = conn.execute(
            q(
                services.store,
                "SELECT 1 FROM {s}.webhook_subscriptions WHERE id = %s AND kommun = %s",
            ),
            (sid, kommun),
        ).fetchone()
        if sub is None:
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


@router.post("", status_code=201, summary="Subscribe a URL to event types of the caller's kommun")
async def create_webhook(
    body: WebhookIn, services: ServicesDep, principal: PrincipalDep
) -> WebhookOut:
    principal.require_role(("system",))
    out = await asyncio.to_thread(_create, services, principal.kommun, principal.subject, body)
    await ensure_dispatcher(services)
    return out


@router.get("", summary="The kommun's webhook subscriptions")
async def list_webhooks(services: ServicesDep, principal: PrincipalDep) -> list[WebhookOut]:
    principal.require_role(("system", "operator", "auditor"))
    return await asyncio.to_thread(_list, services, principal.kommun)


@router.delete("/{subscription_id}", status_code=204, summary="Stop a subscription")
async def delete_webhook(
    subscription_id: SubscriptionId, services: ServicesDep, principal: PrincipalDep
) -> Response:
    principal.require_role(("system",))
    if not await asyncio.to_thread(_deactivate, services, principal.kommun, subscription_id):
        raise Problem(404, "not-found", "no such subscription in the caller's kommun")
    return Response(status_code=204)


@router.get("/{subscription_id}/deliveries", summary="The delivery log, failures included")
async def list_deliveries(
    subscription_id: SubscriptionId, services: ServicesDep, principal: PrincipalDep
) -> list[DeliveryOut]:
    principal.require_role(("system", "operator", "auditor"))
    rows = await asyncio.to_thread(_deliveries, services, principal.kommun, subscription_id)
    if rows is None:
        raise Problem(404, "not-found", "no such subscription in the caller's kommun")
    return rows
