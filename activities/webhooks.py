"""The webhook activities: find what to deliver, and deliver one event to one subscriber.

A delivery POSTs a CloudEvents 1.0 event (structured JSON; ``domain.cloudevents``) or, for a
subscription in the deprecated ``barnflow-v1`` format, ``{"subscription_id", "position",
"event"}``, signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``) and, as before, with HMAC-SHA256 over ``<timestamp>.<body>`` (headers
``X-Barnflow-Signature: sha256=<hex>``, ``X-Barnflow-Timestamp``, ``X-Barnflow-Position``).
Delivery is at least once: the receiver de-duplicates by position.
Every attempt is appended to the delivery log with its status or error. A subscription bound to
units gets only events of cases whose enhet is one of them. A delivered event is a disclosure of
case content to the subscriber, so it is also appended to the access log (who: the subscription's
creator; purpose: ``webhook <subscription id>``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import orjson
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from domain.case import fold
from domain.cloudevents import MEDIA_TYPE as CLOUDEVENTS_MEDIA_TYPE
from domain.cloudevents import cloud_event
from domain.events import CaseEvent
from domain.ids import case_id_for
from infra.config import retry
from infra.persistence.access_log import record_access
from infra.persistence.db import connection, ensure_tables, q
from infra.persistence.store import CaseStore
from workflows.webhooks import (
    DELIVER_ACTIVITY,
    POLL_ACTIVITY,
    Delivery,
    PollInput,
    PollResult,
)

_PAGE = 200
log = logging.getLogger("barnflow.webhooks")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``<timestamp>.<body>``: the receiver recomputes and compares
    (the barnflow-v1 scheme, deprecated: docs/api.md)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def standard_secret(secret: str) -> str:
    """The subscription's key as a Standard Webhooks secret: ``whsec_`` + base64 of the key
    bytes (the same key the barnflow-v1 signature uses, so one secret serves both)."""
    return "whsec_" + base64.b64encode(secret.encode()).decode()


def standard_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks' ``webhook-signature``: ``v1,`` + base64 HMAC-SHA256 over
    ``<webhook-id>.<webhook-timestamp>.<body>``, keyed by the secret's bytes."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret.encode(), signed, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def delivery(
    fmt: str, subscription_id: str, line: dict[str, Any], secret: str, timestamp: str
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery in the subscription's format.

    Every delivery is signed per Standard Webhooks (``webhook-id`` is the same on every retry of
    one event to one subscription); the barnflow-v1 headers are kept beside them for the
    subscriptions that still verify those.
    """
    position = int(line["position"])
    if fmt == "cloudevents":
        body = orjson.dumps(cloud_event(line))
        content_type = CLOUDEVENTS_MEDIA_TYPE
    else:
        body = orjson.dumps(
            {"subscription_id": subscription_id, "position": position, "event": line}
        )
        content_type = "application/json"
    msg_id = f"{subscription_id}:{position}"
    headers = {
        "Content-Type": content_type,
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": standard_signature(secret, msg_id, timestamp, body),
        "X-Barnflow-Timestamp": timestamp,
        "X-Barnflow-Position": str(position),
        "X-Barnflow-Signature": signature(secret, timestamp, body),
    }
    return body, headers


def _failed(d: Delivery, attempt: int, error: str, kind: str) -> ApplicationError:
    """A failed delivery is expected (a receiver is down): one structured log line here, and a
    BENIGN error so the SDK does not log a traceback per retry (the delivery log and ``ops
    stuck`` carry the evidence)."""
    log.warning(
        "webhook delivery failed: subscription %s position %s attempt %s: %s",
        d.subscription_id,
        d.position,
        attempt,
        error,
        extra={
            "subscription_id": d.subscription_id,
            "position": d.position,
            "attempt": attempt,
            "error": error,
        },
    )
    return ApplicationError(error, type=kind, category=ApplicationErrorCategory.BENIGN)


class WebhookActivities:
    """Bound to one store (its pool and schema); one instance per worker."""

    def __init__(self, store: CaseStore, *, timeout: float = 10.0) -> None:
        self._store = store
        ensure_tables(store)
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def _subscriptions(self) -> list[dict[str, Any]]:
        with connection(self._store) as conn:
            rows = conn.execute(
                q(
                    self._store,
                    "SELECT id, kommun, event_types, after_position, units, skyddade"
                    " FROM {s}.webhook_subscriptions WHERE active",
                )
            ).fetchall()
        return [dict(r) for r in rows]

    @activity.defn(name=POLL_ACTIVITY)
    def poll(self, inp: PollInput) -> PollResult:
        """Deliveries due after ``inp.after``, waiting up to ``inp.wait`` s for new events."""

        def due() -> tuple[list[dict[str, Any]], int, list[CaseEvent]]:
            subs = self._subscriptions()
            after = inp.after
            if after < 0:
                after = min((int(s["after_position"]) for s in subs), default=-1)
                if after < 0:
                    after = self._store.max_position()
            return subs, after, self._store.events_after(after, _PAGE) if subs else []

        subs, after, events = retry.poll(
            due, lambda found: bool(found[2]), seconds=inp.wait, every=0.2
        )
        enheter: dict[str, str | None] = {}

        def in_units(e: CaseEvent, units: list[str]) -> bool:
            if not units:
                return True
            cid = case_id_for(e.kommun, e.case_ref)
            if str(cid) not in enheter:  # the case's current enhet, as the feed judges it
                enheter[str(cid)] = fold(self._store.case_events(cid)).enhet
            return enheter[str(cid)] in units

        protected: dict[str, bool] = {}

        def allowed(e: CaseEvent, permitted: bool) -> bool:
            """A case with skyddade personuppgifter only to a subscription with the explicit
            permission (docs/security.md "Protected identities")."""
            if permitted:
                return True
            cid = str(case_id_for(e.kommun, e.case_ref))
            if cid not in protected:  # protected now, as the API judges a read now
                protected[cid] = fold(self._store.case_events(UUID(cid))).protected
            return not protected[cid]

        deliveries = [
            Delivery(str(s["id"]), e.position or 0, e.type)
            for e in events
            for s in subs
            if e.kommun == s["kommun"]
            and e.type in s["event_types"]
            and (e.position or 0) > int(s["after_position"])
            and in_units(e, list(s["units"]))
            and allowed(e, bool(s["skyddade"]))
        ]
        last = events[-1].position or after if events else after
        return PollResult(deliveries=deliveries, last_position=last)

    def _log(self, d: Delivery, attempt: int, status: int | None, error: str | None) -> None:
        with connection(self._store) as conn:
            conn.execute(
                q(
                    self._store,
                    "INSERT INTO {s}.webhook_deliveries (subscription_id, position,"
                    " event_type, attempt, status_code, error, delivered)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                ),
                (
                    d.subscription_id,
                    d.position,
                    d.event_type,
                    attempt,
                    status,
                    error,
                    error is None,
                ),
            )
            conn.commit()

    @activity.defn(name=DELIVER_ACTIVITY)
    def deliver(self, d: Delivery) -> None:
        """POST one event to one subscriber; a non-2xx answer or no answer is retried."""
        with connection(self._store) as conn:
            sub = conn.execute(
                q(
                    self._store,
                    "SELECT url, secret, active, created_by, format, skyddade"
                    " FROM {s}.webhook_subscriptions WHERE id = %s",
                ),
                (d.subscription_id,),
            ).fetchone()
        if sub is None or not sub["active"]:
            return  # unsubscribed meanwhile: nothing to deliver
        found = self._store.events_after(d.position - 1, 1)
        if not found or found[0].position != d.position:
            raise ApplicationError(f"no event at position {d.position}", non_retryable=True)
        ev = found[0]
        case_id = case_id_for(ev.kommun, ev.case_ref)
        if not sub["skyddade"] and fold(self._store.case_events(case_id)).protected:
            return  # protected since it was polled: never to a subscription without permission
        body, headers = delivery(
            sub["format"],
            d.subscription_id,
            {**ev.to_json(), "case_id": str(case_id)},
            sub["secret"],
            str(int(time.time())),
        )
        attempt = activity.info().attempt
        try:
            resp = self._http.post(sub["url"], content=body, headers=headers)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: no answer from the receiver"
            self._log(d, attempt, None, error)
            raise _failed(d, attempt, error, "WebhookUnreachable") from None
        if not 200 <= resp.status_code < 300:
            error = f"receiver answered HTTP {resp.status_code}"
            self._log(d, attempt, resp.status_code, error)
            raise _failed(d, attempt, error, "WebhookRejected")
        self._log(d, attempt, resp.status_code, None)
        # After the receiver has it: a failure here retries the delivery (the receiver
        # de-duplicates), so no delivered event goes without its access-log entry.
        record_access(
            self._store,
            who=str(sub["created_by"]),
            role="system",
            kommun=ev.kommun,
            case_id=case_id,
            purpose=f"webhook {d.subscription_id}",
            at=datetime.now(UTC),
        )
