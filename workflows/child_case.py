"""ChildCaseWorkflow: the durable process driver of one child's case in one kommun.

Commands arrive as updates. The validator judges them with the pure domain rules (a rejected
command never reaches history); the handler appends through the idempotent append activity and
folds the stored event into its state. Between commands the workflow sleeps until the next frist
computed by ``domain.frister`` expires, then appends exactly one alert event for it; the alert's
idempotency key is derived from the frist's key, so retries, restarts and replays cannot
duplicate it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.calendar import days_between, legal_date, overdue_at
    from domain.case import CaseState, fold
    from domain.errors import EventValidationError, RuleViolation
    from domain.events import CaseEvent, event_from_json, parse_event
    from domain.frister import MET, MISSED, OPEN, OVERDUE, Frist, compute_frister
    from workflows.messages import (
        APPEND_ACTIVITY,
        COMMAND_UPDATE,
        STATE_QUERY,
        WORKFLOW_NAME,
        AppendInput,
        CaseSummary,
        CaseWorkflowInput,
        CommandInput,
        CommandResult,
    )

APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["RuleViolation", "EventValidationError"],
)
#: Continue-as-new well below Temporal's 51,200-event cap even without the server's hint.
MAX_HISTORY_EVENTS = 10_000
SYSTEM_ACTOR = {"id": "barnflow", "roll": "system"}


def alert_key(frist: Frist) -> str:
    """The idempotency key of a frist's alert event: one per frist instance, ever."""
    return f"barnflow:{frist.alert_event}:{frist.key}"


def _rejection(exc: RuleViolation | EventValidationError) -> ApplicationError:
    if isinstance(exc, RuleViolation):
        return ApplicationError(
            str(exc), exc.rule, exc.sv, exc.en, type="RuleViolation", non_retryable=True
        )
    return ApplicationError(
        str(exc), exc.field, exc.message, type="EventValidationError", non_retryable=True
    )


@workflow.defn(name=WORKFLOW_NAME)
class ChildCaseWorkflow:
    @workflow.init
    def __init__(self, inp: CaseWorkflowInput) -> None:
        self._kommun = inp.kommun
        self._events: list[CaseEvent] = [event_from_json(e) for e in inp.events]
        self._state: CaseState = fold(self._events)
        self._lock = asyncio.Lock()
        self._changed = False

    # ------------------------------------------------------------------ main loop
    @workflow.run
    async def run(self, inp: CaseWorkflowInput) -> CaseSummary:
        while True:
            await self._fire_expired()
            if self._state.closed_on is not None:
                break
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._carry_over(inp))
            wake_at = self._next_expiry()
            timeout = None if wake_at is None else max(wake_at - workflow.now(), timedelta(0))
            self._changed = False
            self._publish_details()
            with contextlib.suppress(TimeoutError):  # the next frist expired
                await workflow.wait_condition(lambda: self._changed, timeout=timeout)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.summary()

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > (
            MAX_HISTORY_EVENTS
        )

    def _carry_over(self, inp: CaseWorkflowInput) -> CaseWorkflowInput:
        return CaseWorkflowInput(
            kommun=inp.kommun,
            child_pseudonym=inp.child_pseudonym,
            events=[e.to_json() for e in self._events],
        )

    # ------------------------------------------------------------------ commands
    @workflow.update(name=COMMAND_UPDATE)
    async def command(self, cmd: CommandInput) -> CommandResult:
        async with self._lock:
            ev = self._judge(cmd)  # state may have moved while we waited for the lock
            result = await self._append(ev.to_json(), allow_system=False)
            return result

    @command.validator
    def validate_command(self, cmd: CommandInput) -> None:
        self._judge(cmd)

    def _judge(self, cmd: CommandInput) -> CaseEvent:
        try:
            ev = parse_event(cmd.event)
            if ev.idempotency_key in self._state.idempotency:
                return ev  # a retry: the store returns the original result
            self._state.check(ev, legal_date(workflow.now()))
        except (RuleViolation, EventValidationError) as exc:
            raise _rejection(exc) from None
        return ev

    async def _append(self, event: dict[str, object], *, allow_system: bool) -> CommandResult:
        result: CommandResult = await workflow.execute_local_activity(
            APPEND_ACTIVITY,
            AppendInput(event=event, now=workflow.now().isoformat(), allow_system=allow_system),
            result_type=CommandResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=APPEND_RETRY,
        )
        if not result.duplicate or result.event.get("idempotency_key") not in (
            self._state.idempotency
        ):
            stored = event_from_json(result.event).redacted()
            self._events.append(stored)
            self._state.apply(stored)
        self._changed = True
        return result

    # ------------------------------------------------------------------ timers
    def _frister(self) -> list[Frist]:
        return compute_frister(self._events, as_of=legal_date(workflow.now()))

    async def _fire_expired(self) -> None:
        """Append one alert for every frist that has expired unmet and was not alerted yet."""
        async with self._lock:
            for frist in self._frister():
                if frist.status != OVERDUE or alert_key(frist) in self._state.idempotency:
                    continue
                await self._append(self._alert_event(frist), allow_system=True)

    def _alert_event(self, frist: Frist) -> dict[str, object]:
        if frist.alert_event == "evb_rapporteringsskyldighet_uppstod":
            data: dict[str, object] = {"beslut_id": frist.subject, "due": frist.due.isoformat()}
        else:
            data = {"frist": frist.key, "regel": frist.rule, "due": frist.due.isoformat()}
        return {
            "kommun": self._state.kommun,
            "case_ref": self._state.case_ref,
            "type": frist.alert_event,
            # legal time of the alert: the first instant the frist was overdue
            "occurred_at": overdue_at(frist.due).isoformat(),
            "actor": SYSTEM_ACTOR,
            "idempotency_key": alert_key(frist),
            "data": data,
        }

    def _next_expiry(self) -> datetime | None:
        """When the earliest open, not yet alerted frist becomes overdue."""
        return min(
            (
                overdue_at(f.due)
                for f in self._frister()
                if f.status == OPEN and alert_key(f) not in self._state.idempotency
            ),
            default=None,
        )

    # ------------------------------------------------------------------ visibility
    def _publish_details(self) -> None:
        today = legal_date(workflow.now())
        open_ = [f for f in self._frister() if f.status not in (MET, MISSED)]
        if not open_:
            workflow.set_current_details(f"{self._state.stage}: inga öppna frister")
            return
        first = min(open_, key=lambda f: f.due)
        day = days_between(first.trigger_date, today)
        total = days_between(first.trigger_date, first.due)
        workflow.set_current_details(
            f"{first.name}: dag {day} av {total} (förfaller {first.due.isoformat()})"
        )

    @workflow.query(name=STATE_QUERY)
    def summary(self) -> CaseSummary:
        frister = self._frister()
        open_ = [f for f in frister if f.status not in (MET, MISSED)]
        return CaseSummary(
            kommun=self._kommun,
            stage=self._state.stage,
            event_count=self._state.event_count,
            open_frister=sorted(f.key for f in open_),
            overdue_frister=sorted(f.key for f in open_ if f.status == OVERDUE),
            next_due=min((f.due.isoformat() for f in open_), default=None),
            closed=self._state.closed_on is not None,
        )
