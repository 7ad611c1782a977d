"""In-memory stand-ins for the activities the case worker registers, under the same names.

Temporal resolves an activity by its registered name, so a worker given these functions instead
of ``activities.record`` / ``activities.transfer`` runs the real ``ChildCaseWorkflow`` unchanged
(the pattern of Temporal's samples: ``@activity.defn(name=...)`` on a mock). The fake append is
not a mock of behaviour, though: it judges every event with the real aggregate guards
(``domain.aggregate.ChildCase`` → ``domain.case.CaseState.check``), assigns gap-free global
positions and honours idempotency keys exactly as the PostgreSQL store promises (same key and
body → the original result marked duplicate; same key, other body → ``P-IDEMPOTENCY``). What it
leaves out is persistence, encryption and the table lock, which the integration tier covers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from temporalio import activity

from domain.aggregate import ChildCase
from domain.calendar import legal_date
from domain.case import fold
from domain.errors import EventValidationError, RuleViolation
from domain.events import CaseEvent, event_from_json, parse_event
from domain.ids import case_id_for
from workflows.messages import (
    APPEND_ACTIVITY,
    KOMMUN_CONFIG_ACTIVITY,
    LOAD_CASE_ACTIVITY,
    TRANSFER_ACTIVITY,
    AppendInput,
    CaseEvents,
    CaseRef,
    CommandResult,
    TransferInput,
    TransferResult,
    rejection,
)

#: What the production worker registers besides the four faked here: the webhook activities
#: belong to ``WebhookDispatchWorkflow``, which the case workflow never calls.
FAKED_ACTIVITIES = (APPEND_ACTIVITY, TRANSFER_ACTIVITY, KOMMUN_CONFIG_ACTIVITY, LOAD_CASE_ACTIVITY)


def _body_digest(envelope: dict[str, Any]) -> str:
    """What a command says, without what the store added (the store's retry comparison)."""
    body = {
        k: v
        for k, v in envelope.items()
        if k not in ("position", "recorded_at", "case_id", "digest", "delegation")
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass
class _Stream:
    case: ChildCase
    events: list[dict[str, Any]] = field(default_factory=list)
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class InMemoryStore:
    """One process-local event store: streams per case, one global position counter."""

    streams: dict[UUID, _Stream] = field(default_factory=dict)
    position: int = 0
    #: Every call of the append activity (accepted, duplicate or refused), for assertions.
    append_calls: int = 0
    transfers: list[TransferInput] = field(default_factory=list)
    #: Stored kommun configuration documents by version id (``domain.kommun``), as the table.
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Every version the configuration activity was asked for, in order.
    config_loads: list[str] = field(default_factory=list)
    #: Every case the workflow read by reference, in order.
    case_loads: list[CaseRef] = field(default_factory=list)

    def events(self, kommun: str, case_ref: str) -> list[CaseEvent]:
        stream = self.streams.get(case_id_for(kommun, case_ref))
        return [] if stream is None else [event_from_json(e) for e in stream.events]

    def record(self, ev: CaseEvent, now: datetime) -> CommandResult:
        """Append ``ev`` exactly once per idempotency key, after the aggregate's guards."""
        cid = case_id_for(ev.kommun, ev.case_ref)
        today = legal_date(now)
        stream = self.streams.get(cid)
        if stream is not None and ev.idempotency_key in stream.by_key:
            original = stream.by_key[ev.idempotency_key]
            if _body_digest(original) != _body_digest(ev.to_json()):
                raise RuleViolation(
                    "P-IDEMPOTENCY",
                    "Idempotensnyckeln är redan använd för en annan händelse.",
                    f"idempotency_key {ev.idempotency_key!r} was already used with another body",
                )
            return CommandResult(str(cid), int(original["position"]), dict(original), True)
        if stream is None:
            stream = _Stream(ChildCase.open(ev, today))
        else:
            stream.case.append(ev, today)
        (pending,) = stream.case.collect_events()
        self.streams[cid] = stream
        self.position += 1
        envelope: dict[str, Any] = dict(pending.envelope)  # type: ignore[attr-defined]
        envelope["recorded_at"] = pending.timestamp.isoformat()
        envelope["position"] = self.position
        stream.events.append(envelope)
        stream.by_key[ev.idempotency_key] = envelope
        return CommandResult(str(cid), self.position, dict(envelope), False)

    @activity.defn(name=APPEND_ACTIVITY)
    async def append_event(self, inp: AppendInput) -> CommandResult:
        self.append_calls += 1
        try:
            ev = parse_event(inp.event, allow_system=inp.allow_system)
            return self.record(ev, datetime.fromisoformat(inp.now))
        except (RuleViolation, EventValidationError) as exc:
            raise rejection(exc) from exc

    @activity.defn(name=LOAD_CASE_ACTIVITY)
    async def load_case_events(self, ref: CaseRef) -> CaseEvents:
        """The case's stream, redacted, as ``activities.record`` reads it from the table."""
        self.case_loads.append(ref)
        stream = self.streams.get(UUID(ref.case_id))
        events = [] if stream is None else [event_from_json(e) for e in stream.events]
        if ref.only_if_open and events and fold(events).closed_on is not None:
            return CaseEvents(events=[])
        return CaseEvents(events=[e.redacted().to_json() for e in events])

    @activity.defn(name=KOMMUN_CONFIG_ACTIVITY)
    async def load_kommun_config(self, version: str) -> dict[str, Any]:
        """The stored document of a configuration version (as the table would return it)."""
        self.config_loads.append(version)
        return self.configs[version]

    @activity.defn(name=TRANSFER_ACTIVITY)
    async def transfer_case(self, inp: TransferInput) -> TransferResult:
        """Records the hand-over; copying the stream is the integration tier's business."""
        self.transfers.append(inp)
        return TransferResult(workflow_id=f"barnarende-{inp.till_kommun}-fake", copied=0)
