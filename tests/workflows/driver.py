"""A test driver for one child's case: commands at the (time-skipping) server's current time.

Every command goes the production way (``infra.temporal.commands.send_command``: update-with-start,
the validator, the local append activity); the driver only fills in the envelope and keys and
parses the line once, as the API does. The kommun's configuration in force is the store's
(``tests.kommun_configs.configured_store``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.calendar import legal_date
from domain.errors import EventValidationError
from domain.events import CaseEvent, parse_event
from domain.identity import pseudonym
from domain.ids import case_id_for, workflow_id_for
from domain.settle import DEFAULT_ALERT_SETTLE_SECONDS
from infra.persistence.store import CaseStore
from infra.temporal.commands import CommandRejected, kommun_config_of, send_command
from tests.conftest import PSEUDONYM_KEY
from tests.factories import PNR_GIRL, line
from tests.helpers import eventually
from workflows.child_case import ChildCaseWorkflow
from workflows.messages import (
    STATE_QUERY,
    CaseSummary,
    CaseWorkflowInput,
    CommandResult,
)

_keys = itertools.count(1)


@dataclass
class CaseDriver:
    env: WorkflowEnvironment
    store: CaseStore
    task_queue: str
    kommun: str = "1280"
    case_ref: str = "VS-2026-00417"
    pnr: str = PNR_GIRL
    alert_settle_seconds: float = DEFAULT_ALERT_SETTLE_SECONDS
    sent: list[str] = field(default_factory=list)

    @property
    def client(self) -> Client:
        return self.env.client

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.kommun, pseudonym(PSEUDONYM_KEY, self.kommun, self.pnr))

    @property
    def handle(self) -> WorkflowHandle[Any, CaseSummary]:
        return self.client.get_workflow_handle(self.workflow_id, result_type=CaseSummary)

    async def start(self, *, continue_as_new_after: int = 200) -> str:
        """Start the workflow explicitly (to set its input); returns the first run id."""
        handle = await self.client.start_workflow(
            ChildCaseWorkflow.run,
            CaseWorkflowInput(
                kommun=self.kommun,
                child_pseudonym=pseudonym(PSEUDONYM_KEY, self.kommun, self.pnr),
                case_id=str(case_id_for(self.kommun, self.case_ref)),
                continue_as_new_after=continue_as_new_after,
                alert_settle_seconds=self.alert_settle_seconds,
                kommun_config=kommun_config_of(self.store, self.kommun),
            ),
            id=self.workflow_id,
            task_queue=self.task_queue,
        )
        return str(handle.first_execution_run_id)

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def today(self) -> date:
        return legal_date(await self.now())

    async def sleep_days(self, days: float) -> None:
        await self.env.sleep(timedelta(days=days))

    async def send(
        self,
        etype: str,
        data: dict[str, Any],
        *,
        key: str | None = None,
        at: datetime | None = None,
    ) -> Any:
        """Send one command, dated ``at`` (default: the server's now; earlier = registered late)."""
        event = line(
            etype,
            data,
            at=at or await self.now(),
            key=key or f"k-{etype}-{next(_keys)}",
            kommun=self.kommun,
            case_ref=self.case_ref,
        )
        try:
            ev = parse_event(event)
        except EventValidationError as exc:  # refused at the edge, naming the field (422)
            raise CommandRejected(exc) from None
        result: CommandResult = await send_command(
            self.client,
            self.store,
            ev,
            pseudonym_key=PSEUDONYM_KEY,
            task_queue=self.task_queue,
            alert_settle_seconds=self.alert_settle_seconds,
        )
        self.sent.append(etype)
        return result

    async def anmalan(
        self, anmalan_id: str = "anm-1", *, at: datetime | None = None, **barn: Any
    ) -> Any:
        child = barn or {"personnummer": self.pnr, "kon": "flicka"}
        return await self.send(
            "anmalan_mottagen",
            {"anmalan_id": anmalan_id, "barn": child, "anmalare_kategori": "skola"},
            at=at,
        )

    async def open_utredning(self, anmalan_id: str = "anm-1", utredning_id: str = "u1") -> None:
        """anmälan → skyddsbedömning → förhandsbedömning (inleda) → utredning, all today."""
        await self.anmalan(anmalan_id)
        await self.send(
            "skyddsbedomning_gjord", {"anmalan_id": anmalan_id, "omedelbart_skydd": False}
        )
        await self.send(
            "forhandsbedomning_beslutad", {"anmalan_id": anmalan_id, "beslut": "inleda_utredning"}
        )
        await self.send(
            "utredning_inledd",
            {"utredning_id": utredning_id, "grund": "anmalan", "anmalan_id": anmalan_id},
        )

    async def beslut(
        self, beslut_id: str, insats: str, *, roll: str = "utskott", lagrum: str = "SoL 11:1"
    ) -> Any:
        return await self.send(
            "beslut_fattat",
            {
                "beslut_id": beslut_id,
                "lagrum": lagrum,
                "beslutstyp": "insats",
                "insats": insats,
                "gynnande": True,
                "delegat": {"id": "d1", "roll": roll},
            },
        )

    def events(self, kommun: str | None = None) -> list[CaseEvent]:
        return self.store.case_events(case_id_for(kommun or self.kommun, self.case_ref))

    def alerts(self, kommun: str | None = None) -> list[tuple[str, str, str]]:
        """(type, rule or beslut, due) of every alert the workflow appended, in stream order."""
        return [
            (e.type, str(e.data.get("regel") or e.data.get("beslut_id")), str(e.data["due"]))
            for e in self.events(kommun)
            if e.type in ("frist_overskriden", "evb_rapporteringsskyldighet_uppstod")
        ]

    def withdrawals(self, kommun: str | None = None) -> list[CaseEvent]:
        """Every ``larm_aterkallat`` the workflow appended, in stream order."""
        return [e for e in self.events(kommun) if e.type == "larm_aterkallat"]

    async def wait_alerts(self, n: int, kommun: str | None = None) -> list[tuple[str, str, str]]:
        """The alerts once there are at least ``n`` of them (the append runs asynchronously)."""
        return await eventually(lambda: (a := self.alerts(kommun)) and len(a) >= n and a)

    async def summary(self, workflow_id: str | None = None) -> CaseSummary:
        handle = self.client.get_workflow_handle(workflow_id or self.workflow_id)
        result: CaseSummary = await handle.query(STATE_QUERY, result_type=CaseSummary)
        return result
