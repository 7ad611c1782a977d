"""Many commands at once against one case (real dev server, real PostgreSQL): the workflow's
lock and the store's idempotency make one consistent history — no lost update, no duplicate —
and the aggregate in the store equals the workflow's own view."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio.client import Client

from domain.case import fold
from domain.events import parse_event
from domain.frister import MET, MISSED, compute_frister
from domain.identity import pseudonym
from domain.ids import case_id_for, workflow_id_for
from infra.persistence.store import CaseStore
from infra.temporal.commands import CommandRejected, send_command
from infra.temporal.worker import running_worker
from tests.conftest import PSEUDONYM_KEY
from tests.factories import anmalan, fresh_pnr, line
from workflows.messages import STATE_QUERY, CaseSummary, CommandResult


async def test_twenty_concurrent_commands_make_one_consistent_history(
    dev_client: Client, store: CaseStore, task_queue: str
) -> None:
    ref, pnr, now = "VS-CONC", fresh_pnr(), datetime.now(UTC)
    async with running_worker(dev_client, store, task_queue):

        async def send(event: dict[str, object]) -> CommandResult:
            return await send_command(
                dev_client,
                store,
                parse_event(event),
                pseudonym_key=PSEUDONYM_KEY,
                task_queue=task_queue,
            )

        await send(anmalan(now, case_ref=ref, pnr=pnr))
        commands = [
            line(
                "klagomal_mottaget", {"klagomal_id": f"kl-{i}"}, at=now, key=f"k-{i}", case_ref=ref
            )
            for i in range(17)
        ] + [
            line(
                "skyddsbedomning_gjord",
                {"anmalan_id": "anm-1", "omedelbart_skydd": False},
                at=now,
                key=f"k-skydd-{i}",  # three different commands for a once-only step
                case_ref=ref,
            )
            for i in range(3)
        ]
        retries = commands[:5]  # the same keys again, as a calling system's retries
        outcomes = await asyncio.gather(
            *(send(c) for c in commands + retries), return_exceptions=True
        )
        wid = workflow_id_for("1280", pseudonym(PSEUDONYM_KEY, "1280", pnr))
        view: CaseSummary = await dev_client.get_workflow_handle(wid).query(
            STATE_QUERY, result_type=CaseSummary
        )

    accepted = [o for o in outcomes if isinstance(o, CommandResult)]
    rejected = [o for o in outcomes if isinstance(o, CommandRejected)]
    assert not [o for o in outcomes if isinstance(o, BaseException) and o not in rejected]
    # exactly one skyddsbedömning wins; the other two are refused by rule P-TWICE
    assert sorted(getattr(r.cause, "rule", "") for r in rejected) == ["P-TWICE", "P-TWICE"]
    stored = store.case_events(case_id_for("1280", ref))
    assert len(stored) == 1 + 17 + 1
    keys = [e.idempotency_key for e in stored]
    assert len(set(keys)) == len(keys)  # no duplicate
    positions = [e.position or 0 for e in stored]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    # a retry got the original's position back
    by_key = {r.event["idempotency_key"]: r.position for r in accepted if not r.duplicate}
    assert all(r.position == by_key[r.event["idempotency_key"]] for r in accepted if r.duplicate)
    assert sum(r.duplicate for r in accepted) == 5

    state = fold(e.redacted() for e in stored)
    today = stored[-1].legal_date
    open_ = sorted(
        f.key for f in compute_frister(stored, as_of=today) if f.status not in (MET, MISSED)
    )
    assert (view.event_count, view.stage, view.open_frister, view.last_position) == (
        state.event_count,
        state.stage,
        open_,
        max(positions),
    )
    assert state.klagomal_open == 17
