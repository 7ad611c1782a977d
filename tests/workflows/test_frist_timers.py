"""Statutory timers in the time-skipping server: A2 (förhandsbedömning, 14 days)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from domain.calendar import add_days, legal_date
from domain.events import parse_event
from domain.ids import case_id_for
from infra.persistence.store import CaseStore
from infra.temporal.commands import send_command
from infra.temporal.worker import running_worker
from tests.conftest import PSEUDONYM_KEY
from tests.factories import anmalan, line
from tests.helpers import eventually

CASE = case_id_for("1280", "VS-2026-00417")


async def _open_case(env: WorkflowEnvironment, store: CaseStore, tq: str) -> None:
    now = await env.get_current_time()
    for ev in (
        anmalan(now),
        line(
            "skyddsbedomning_gjord",
            {"anmalan_id": "anm-1", "omedelbart_skydd": False},
            at=now,
            key="k-skydd",
        ),
    ):
        await send_command(
            env.client, store, parse_event(ev), pseudonym_key=PSEUDONYM_KEY, task_queue=tq
        )


def _alerts(store: CaseStore) -> list[tuple[str, str]]:
    return [
        (e.data["regel"], e.data["due"])
        for e in store.case_events(CASE)
        if e.type == "frist_overskriden"
    ]


async def test_anmalan_without_forhandsbedomning_yields_exactly_one_a2_alert(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    async with running_worker(ts_env.client, store, task_queue):
        start = await ts_env.get_current_time()
        await _open_case(ts_env, store, task_queue)
        await ts_env.sleep(timedelta(days=14))
        assert _alerts(store) == []  # day 14 is still within the frist
        await ts_env.sleep(timedelta(days=2))
        due = add_days(legal_date(start), 14).isoformat()
        assert await eventually(lambda: _alerts(store)) == [("A2", due)]
        await ts_env.sleep(timedelta(days=30))
        assert _alerts(store) == [("A2", due)]


async def test_forhandsbedomning_on_day_14_yields_no_alert(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    async with running_worker(ts_env.client, store, task_queue):
        await _open_case(ts_env, store, task_queue)
        await ts_env.sleep(timedelta(days=14))
        day14 = await ts_env.get_current_time()
        await send_command(
            ts_env.client,
            store,
            parse_event(
                line(
                    "forhandsbedomning_beslutad",
                    {"anmalan_id": "anm-1", "beslut": "inte_inleda_utredning"},
                    at=day14,
                    key="k-fb",
                )
            ),
            pseudonym_key=PSEUDONYM_KEY,
            task_queue=task_queue,
        )
        await ts_env.sleep(timedelta(days=30))
        assert _alerts(store) == []
        types = [e.type for e in store.case_events(CASE)]
        assert types == ["anmalan_mottagen", "skyddsbedomning_gjord", "forhandsbedomning_beslutad"]


async def test_rejected_command_names_its_rule_and_never_reaches_the_store(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    from infra.temporal.commands import CommandRejected

    async with running_worker(ts_env.client, store, task_queue):
        await _open_case(ts_env, store, task_queue)
        now = await ts_env.get_current_time()
        bad = [
            (
                line(
                    "forhandsbedomning_beslutad",
                    {"anmalan_id": "nope", "beslut": "inleda_utredning"},
                    at=now,
                    key="x-1",
                ),
                "P-REF",
            ),
            (line("insats_verkstalld", {"beslut_id": "b-1"}, at=now, key="x-2"), "P-REF"),
            (anmalan(now, anmalan_id="anm-2", key="x-3", case_ref="VS-OTHER"), "P-CASE-REF"),
            (line("arende_avslutat", {"orsak": "klart"}, at=now, key="x-4"), "P-CLOSE"),
        ]
        for ev, rule in bad:
            try:
                await send_command(
                    ts_env.client,
                    store,
                    parse_event(ev),
                    pseudonym_key=PSEUDONYM_KEY,
                    task_queue=task_queue,
                )
            except CommandRejected as exc:
                assert getattr(exc.cause, "rule", None) == rule, (rule, exc)
            else:
                raise AssertionError(f"{rule} was accepted")
        assert [e.type for e in store.case_events(CASE)] == [
            "anmalan_mottagen",
            "skyddsbedomning_gjord",
        ]
        assert store.case_events(case_id_for("1280", "VS-OTHER")) == []
