"""The append activity: the only way a workflow writes to the record.

Idempotent by construction: the store keys every event by its idempotency key, so a retried
activity (worker crash after commit, lost completion) returns the original result instead of
appending twice. A rule violation is final (non-retryable) and names the rule.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import activity

from domain.errors import EventValidationError, RuleViolation
from domain.events import parse_event
from infra.persistence.store import CaseStore
from workflows.messages import APPEND_ACTIVITY, AppendInput, CommandResult, rejection


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
