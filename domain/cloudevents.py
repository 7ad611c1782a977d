"""An event line as a CloudEvents 1.0 event (structured JSON mode), for webhooks and the feed.

CloudEvents is the convention integrators' tools already speak (brokers, SDKs, routers): the
attributes map one to one onto what barnflow has: ``id`` is the gap-free position (unique per
store, the same on every retry), ``source`` names the kommun, ``type`` is the event type,
``subject`` is the case's reference, ``time`` is the legal time it happened. ``data`` is the
stored event line unchanged (docs/openapi.json, ``Event``), so nothing of the contract is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SPECVERSION = "1.0"
#: Structured mode's media type (one event) and batch mode's (a JSON array of events).
MEDIA_TYPE = "application/cloudevents+json"
BATCH_MEDIA_TYPE = "application/cloudevents-batch+json"


def source_of(kommun: str) -> str:
    """The ``source`` of a kommun's events: a URI reference naming the kommun."""
    return f"/barnflow/kommun/{kommun}"


def cloud_event(line: Mapping[str, Any]) -> dict[str, Any]:
    """The CloudEvent of one stored event line (``CaseEvent.to_json()`` with its position)."""
    return {
        "specversion": SPECVERSION,
        "id": str(line["position"]),
        "source": source_of(str(line["kommun"])),
        "type": line["type"],
        "subject": line["case_ref"],
        "time": line["occurred_at"],
        "datacontenttype": "application/json",
        "data": dict(line),
    }
