"""Long caller ids never fail a case's workflow (review finding 1).

A frist's key is built from caller ids (up to 2000 characters) and an alert's or withdrawal's
idempotency key adds a prefix; the store accepts at most 200 characters. The workflow hashes an
over-long frist key into its system keys, so the alert and its withdrawal are still recorded and
the workflow keeps running.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.errors import EventValidationError
from tests.fast.clock_guard import ClockGuard
from tests.fast.driver import FastCase
from tests.fast.fakes import InMemoryStore
from tests.helpers import eventually
from workflows.child_case import ChildCaseWorkflow
from workflows.messages import APPEND_ACTIVITY, AppendInput, CommandResult, rejection

MAX_KEY = 200


async def _alert_then_late_skydd(d: FastCase, anmalan_id: str) -> None:
    await d.anmalan(anmalan_id)
    received_at = d.events()[0].occurred_at + timedelta(seconds=1)
    await d.sleep_days(2)
    assert await eventually(d.alerts) == [
        ("frist_overskriden", "A1", (await d.today() - timedelta(days=2)).isoformat())
    ]
    # the skyddsbedömning made on the anmälan's day arrives late: the alert is withdrawn
    await d.send_line(
        d.event(
            "skyddsbedomning_gjord",
            {"anmalan_id": anmalan_id, "omedelbart_skydd": False},
            received_at,
            "k-late-skydd",
        )
    )
    await eventually(lambda: [e for e in d.events() if e.type == "larm_aterkallat"])


async def test_a_165_character_anmalan_id_survives_alert_and_withdrawal(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    d = FastCase(fast_env, fake_store, fast_worker)
    anmalan_id = "anm-" + "x" * 161
    assert len(anmalan_id) == 165
    await _alert_then_late_skydd(d, anmalan_id)
    system = [e for e in d.events() if e.actor.roll == "system"]
    assert [e.type for e in system] == ["frist_overskriden", "larm_aterkallat"]
    # the alert's key fits as it is (recorded histories keep matching); the withdrawal's is hashed
    assert system[0].idempotency_key == f"barnflow:frist_overskriden:A1:{anmalan_id}"
    assert all(len(e.idempotency_key) <= MAX_KEY for e in system)
    assert system[1].data["frist"] == f"A1:{anmalan_id}"
    desc = await d.handle.describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING
    assert (await d.summary()).overdue_frister == []


async def test_a_180_character_anmalan_id_is_alerted_with_a_hashed_key(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    d = FastCase(fast_env, fake_store, fast_worker)
    anmalan_id = "anm-" + "y" * 176
    await _alert_then_late_skydd(d, anmalan_id)
    system = [e for e in d.events() if e.actor.roll == "system"]
    assert [e.type for e in system] == ["frist_overskriden", "larm_aterkallat"]
    assert all(len(e.idempotency_key) <= MAX_KEY for e in system)
    assert (await d.handle.describe()).status == WorkflowExecutionStatus.RUNNING


class _RefusingStore(InMemoryStore):
    """Refuses every system event, as the store would an event it cannot accept."""

    refused: int = 0

    @activity.defn(name=APPEND_ACTIVITY)
    async def append_event(self, inp: AppendInput) -> CommandResult:
        if inp.allow_system:
            self.refused += 1
            raise rejection(EventValidationError("idempotency_key", "refused by the test store"))
        return await InMemoryStore.append_event(self, inp)


async def test_a_refused_alert_never_fails_the_case_workflow(
    fast_env: WorkflowEnvironment, clock_guard: ClockGuard
) -> None:
    """Whatever the store refuses, the case's workflow keeps running and taking commands; the
    refused alert is not retried in a loop."""
    store = _RefusingStore()
    queue = f"fast-refuse-{secrets.token_hex(4)}"
    with clock_guard.executor() as pool:
        async with Worker(
            fast_env.client,
            task_queue=queue,
            workflows=[ChildCaseWorkflow],
            activities=[store.append_event, store.transfer_case, store.load_case_events],
            workflow_task_executor=pool,
        ):
            d = FastCase(fast_env, store, queue)
            await d.anmalan()
            await d.sleep_days(2)  # A1 expired: its alert is refused
            assert await d.summary()  # the workflow answers
            await d.sleep_days(1)
            assert store.refused == 1
            assert (await d.handle.describe()).status == WorkflowExecutionStatus.RUNNING
            later = await d.send(
                "skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False}
            )
            assert later.position == 2 and d.alerts() == []
