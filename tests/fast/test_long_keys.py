"""Long caller ids never fail a case's workflow (review finding 1).

A frist's key is built from caller ids (up to 2000 characters) and an alert's or withdrawal's
idempotency key adds a prefix; the store accepts at most 200 characters. The workflow hashes an
over-long frist key into its system keys, so the alert and its withdrawal are still recorded and
the workflow keeps running.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from tests.fast.driver import FastCase
from tests.fast.fakes import InMemoryStore
from tests.helpers import eventually

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
