"""The append activity: the only way a workflow writes to the record; and the read of a case's
record by reference, with which a workflow resolves its minimal start input.

Idempotent by construction: the store keys every event by its idempotency key, so a retried
activity (worker crash after commit, lost completion) returns the original result instead of
appending twice. A rule violation is final (non-retryable) and names the rule.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from temporalio import activity

from domain.case import fold
from domain.errors import EventValidationError, RuleViolation
from domain.events import parse_event
from infra.persistence.store import CaseStore
from workflows.messages import (
    APPEND_ACTIVITY,
    LOAD_CASE_ACTIVITY,
    AppendInput,
    CaseEvents,
    CaseRef,
    CommandResult,
    rejection,
)


class RecordActivities:
    """Activities bound to one event store (constructed once per worker)."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store

    @activity.defn(name=APPEND_ACTIVITY)
    def append_event(self, inp: AppendInput) -> CommandResult:
        try:
            ev = parse_event(inp.event, allow_system=inp.allow_system)
            result = self._store.record(ev, now=datetime.fromisoformat(inp.now))
        except (RuleViolation, EventValidationError) as exc:
            raise rejection(exc) from exc
        return CommandResult(
            case_id=result.case_id,
            position=result.position,
            event=result.event,
            duplicate=result.duplicate,
        )

    @activity.defn(name=LOAD_CASE_ACTIVITY)
    def load_case_events(self, ref: CaseRef) -> CaseEvents:
        """The case's recorded events, redacted of the child's identity (a read: idempotent).

        Empty for a case not recorded yet, and, with ``only_if_open``, for one the record holds
        closed: an opening command then starts a new run instead of adopting a closed case."""
        events = self._store.case_events(UUID(ref.case_id))
        if ref.only_if_open and events and fold(events).closed_on is not None:
            return CaseEvents(events=[])
        return CaseEvents(events=[e.redacted().to_json() for e in events])
