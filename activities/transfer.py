"""The transfer activity: a case continues in another kommun (SoL 2 a:10–11 / 29:10–12, H2).

The receiving kommun's stream starts as a copy of the sending stream up to the transfer (the
case data is handed over, 29:12), with every event's legal date, actor and idempotency key kept:
so its frister keep their original start and due dates (H3 policy ``h3_overflyttning``) and
alerts already raised are not raised again. Copying is idempotent by those keys, and the new
workflow is started with "use existing", so a retried activity changes nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.ids import case_id_for
from infra.persistence.store import CaseStore
from workflows.messages import TRANSFER_ACTIVITY, TransferInput, TransferResult

#: Starts (or finds) the receiving kommun's workflow from its stream: (kommun, case_ref) → id.
Adopt = Callable[[str, str], Awaitable[str]]


class TransferActivities:
    def __init__(self, store: CaseStore, adopt: Adopt | None) -> None:
        self._store = store
        self._adopt = adopt

    @activity.defn(name=TRANSFER_ACTIVITY)
    async def transfer_case(self, inp: TransferInput) -> TransferResult:
        if self._adopt is None:
            raise ApplicationError(
                "this worker cannot start workflows for a transfer (no pseudonym key)",
                type="TransferNotConfigured",
            )
        copied = await asyncio.to_thread(self._copy, inp)
        workflow_id = await self._adopt(inp.till_kommun, inp.case_ref)
        return TransferResult(workflow_id=workflow_id, copied=copied)

    def _copy(self, inp: TransferInput) -> int:
        source = self._store.case_events(case_id_for(inp.kommun, inp.case_ref))
        copied = 0
        now = datetime.now(UTC)
        for ev in source:
            if ev.type == "arende_overflyttat":
                break
            moved = replace(
                ev, kommun=inp.till_kommun, case_id=None, position=None, recorded_at=None
            )
            moved = replace(moved, digest=None)
            # recorded history is copied as it stands (an imported decision whose lagrum was
            # flagged, not refused, must not stop the transfer: P-LAGRUM)
            if not self._store.record(moved, now=now, lagrum=False).duplicate:
                copied += 1
        return copied
