"""The transfer activity: a case continues in another kommun (SoL 2 a:10–11 / 29:10–12, H2).

The receiving kommun's stream starts as a copy of the sending stream up to the transfer (the
case data is handed over, 29:12), with every event's legal date, actor and idempotency key kept:
so its frister keep their original start and due dates (H3 policy ``h3_overflyttning``) and
alerts already raised are not raised again. The sending kommun's negotiation of the transfer
(request, answer, IVO; ``domain.case_transfer.PROCESS_TYPES``) and its H2/H4 alerts are its own
record and are not copied. The copy ends with an ``arende_mottaget`` marker naming the sending
kommun: every beslut before it was made there, and its EVB duty stays there
(POL-OVERFLYTTNING-EVB). Copying is idempotent by those keys, and the new workflow is started
with "use existing", so a retried activity changes nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.case_transfer import MARKER, PROCESS_RULES_IDS, PROCESS_TYPES
from domain.events import Actor, CaseEvent
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
        history: list[CaseEvent] = []
        for ev in source:
            history.append(ev)
            if ev.type == "arende_overflyttat":
                break
        if not history:
            return 0
        last = max(ev.occurred_at for ev in history)
        # every event was accepted on the workflow's time: never "in the future" for the store
        now = max(datetime.now(UTC), last)
        copied = 0
        for ev in history:
            if ev.type == "arende_overflyttat" or not _handed_over(ev):
                continue
            moved = replace(
                ev, kommun=inp.till_kommun, case_id=None, position=None, recorded_at=None
            )
            moved = replace(moved, digest=None)
            # recorded history is copied as it stands (an imported decision whose lagrum was
            # flagged, not refused, must not stop the transfer: P-LAGRUM)
            if not self._store.record(moved, now=now, lagrum=False).duplicate:
                copied += 1
        self._store.record(_marker(inp, last), now=now)
        return copied


def _handed_over(ev: CaseEvent) -> bool:
    """Whether the receiving kommun gets ``ev``: not the sending kommun's transfer negotiation
    (its request, the answer, IVO) or the alerts of its H2/H4 frister."""
    if ev.type in PROCESS_TYPES:
        return False
    alert = ev.type in ("frist_overskriden", "larm_aterkallat")
    return not (alert and ev.data.get("regel") in PROCESS_RULES_IDS)


def _marker(inp: TransferInput, at: datetime) -> CaseEvent:
    """The last event of the copy: where the ärende came from. Dated at the latest instant of
    the copied history, so every beslut the sending kommun made sorts before it."""
    return CaseEvent(
        kommun=inp.till_kommun,
        case_ref=inp.case_ref,
        type=MARKER,
        occurred_at=at,
        actor=Actor("barnflow", "system"),
        idempotency_key=f"barnflow:{MARKER}:{inp.kommun}",
        data={"fran_kommun": inp.kommun},
    )
