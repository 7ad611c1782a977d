"""Commands to the real workflow at the time-skipping server's current time (fast tier).

It sends what the API sends (``infra.temporal.commands.send_command``): update-with-start for an
anmälan/ansökan, an update otherwise, and turns a refused update back into the rule or field.
It is written against Temporal's client alone so the tier needs neither the store nor ``infra``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment

from domain.calendar import legal_date
from domain.errors import EventValidationError, RuleViolation
from domain.events import OPENING_TYPES, CaseEvent, parse_event
from domain.identity import pseudonym
from domain.ids import case_id_for, workflow_id_for
from tests.factories import PNR_GIRL, line
from tests.fast.fakes import InMemoryStore
from workflows.child_case import ChildCaseWorkflow
from workflows.messages import (
    COMMAND_UPDATE,
    STATE_QUERY,
    CaseSummary,
    CaseWorkflowInput,
    CommandInput,
    CommandResult,
    rejected,
)

PSEUDONYM_KEY = b"f" * 32
ALERT_TYPES = ("frist_overskriden", "evb_rapporteringsskyldighet_uppstod")
_keys = itertools.count(1)


class Rejected(Exception):
    """The workflow refused a command: ``rule`` is the rule id or the bad field."""

    def __init__(self, kind: str, rule: str) -> None:
        super().__init__(f"{kind} {rule}")
        self.kind = kind
        self.rule = rule


def _rejection(exc: BaseException) -> Rejected | None:
    """The refusal in ``exc``, read back the one way every caller reads it."""
    cause = rejected(exc)
    if cause is None:
        return None
    if isinstance(cause, RuleViolation):
        return Rejected("RuleViolation", cause.rule)
    return Rejected("EventValidationError", cause.field)


@dataclass
class FastCase:
    env: WorkflowEnvironment
    store: InMemoryStore
    task_queue: str
    kommun: str = "1280"
    case_ref: str = "VS-2026-00417"
    pnr: str = PNR_GIRL
    continue_as_new_after: int = 200
    #: the kommun configuration version the sender names (``fakes.InMemoryStore.configs``)
    kommun_config: str | None = None

    @property
    def child(self) -> str:
        return pseudonym(PSEUDONYM_KEY, self.kommun, self.pnr)

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.kommun, self.child)

    @property
    def handle(self) -> WorkflowHandle[Any, CaseSummary]:
        return self.env.client.get_workflow_handle(self.workflow_id, result_type=CaseSummary)

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def today(self) -> date:
        return legal_date(await self.now())

    async def sleep_days(self, days: float) -> None:
        await self.env.sleep(timedelta(days=days))

    def event(self, etype: str, data: dict[str, Any], at: datetime, key: str) -> dict[str, Any]:
        return line(etype, data, at=at, key=key, kommun=self.kommun, case_ref=self.case_ref)

    async def send(
        self, etype: str, data: dict[str, Any], *, key: str | None = None
    ) -> CommandResult:
        return await self.send_line(
            self.event(etype, data, await self.now(), key or f"k-{etype}-{next(_keys)}")
        )

    async def send_line(self, event: dict[str, Any]) -> CommandResult:
        """Parse the line once (the edge) and send its canonical form, as ``send_command``. A
        line the edge would refuse is sent as it is: the workflow's validator is the boundary
        every Temporal client meets, and the tier checks that it refuses such a line too."""
        try:
            body = parse_event(event).to_json()
        except EventValidationError:
            body = event
        cmd = CommandInput(event=body, kommun_config=self.kommun_config)
        try:
            if event["type"] in OPENING_TYPES:
                start = WithStartWorkflowOperation(
                    ChildCaseWorkflow.run,
                    CaseWorkflowInput(
                        kommun=self.kommun,
                        child_pseudonym=self.child,
                        case_id=str(case_id_for(self.kommun, self.case_ref)),
                        only_if_open=True,
                        continue_as_new_after=self.continue_as_new_after,
                        kommun_config=self.kommun_config,
                    ),
                    id=self.workflow_id,
                    task_queue=self.task_queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                )
                result: CommandResult = await self.env.client.execute_update_with_start_workflow(
                    COMMAND_UPDATE, cmd, start_workflow_operation=start, result_type=CommandResult
                )
                return result
            updated: CommandResult = await self.handle.execute_update(
                COMMAND_UPDATE, cmd, result_type=CommandResult
            )
            return updated
        except WorkflowUpdateFailedError as exc:
            refused = _rejection(exc)
            if refused is None:
                raise
            raise refused from None

    async def rejected(self, etype: str, data: dict[str, Any]) -> str:
        try:
            await self.send(etype, data)
        except Rejected as exc:
            return exc.rule
        raise AssertionError(f"{etype} {data} was accepted")

    async def open_utredning(self) -> None:
        """anmälan → skyddsbedömning → förhandsbedömning (inleda) → utredning, all today."""
        await self.anmalan()
        await self.send("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False})
        await self.send(
            "forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inleda_utredning"}
        )
        await self.send(
            "utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "anm-1"}
        )

    async def anmalan(self, anmalan_id: str = "anm-1") -> CommandResult:
        return await self.send(
            "anmalan_mottagen",
            {
                "anmalan_id": anmalan_id,
                "barn": {"personnummer": self.pnr, "kon": "flicka"},
                "anmalare_kategori": "skola",
            },
        )

    def events(self) -> list[CaseEvent]:
        return self.store.events(self.kommun, self.case_ref)

    def alerts(self) -> list[tuple[str, str, str]]:
        """(type, rule or beslut, due) of every alert in the stream, in order."""
        return [
            (e.type, str(e.data.get("regel") or e.data.get("beslut_id")), str(e.data["due"]))
            for e in self.events()
            if e.type in ALERT_TYPES
        ]

    async def summary(self) -> CaseSummary:
        result: CaseSummary = await self.handle.query(STATE_QUERY, result_type=CaseSummary)
        return result

    async def accepted_updates(self, run_id: str | None = None) -> int:
        """Updates that reached the workflow's history (one run, or the latest one)."""
        handle = self.env.client.get_workflow_handle(self.workflow_id, run_id=run_id)
        count = 0
        async for ev in handle.fetch_history_events():
            count += ev.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        return count
