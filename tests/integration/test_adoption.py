"""Adoption of many imported open cases (``infra.temporal.adoption.adopt_all``) on the real dev
server: every open case gets its workflow, progress is told case by case, a re-run starts nothing
twice, and a case that cannot be adopted is named while the others go on."""

from __future__ import annotations

import json
import secrets

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.case import fold
from domain.events import CaseEvent
from domain.ids import case_id_for, workflow_id_for
from domain.operator_view import summary as summary_of
from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore
from infra.temporal.adoption import adopt_all
from infra.temporal.commands import child_pseudonym
from tests.factories import anmalan, days_ago, fresh_pnr, line


async def test_open_cases_are_adopted_concurrently_and_a_rerun_starts_none_twice(
    dev_client: Client, store: CaseStore, task_queue: str
) -> None:
    key = secrets.token_bytes(32)  # workflow ids of this test's own
    received = days_ago(2)
    lines = [
        anmalan(received, case_ref=f"AD-{n}", kommun="9921", pnr=fresh_pnr(), key=f"AD-{n}")
        for n in range(12)
    ]
    summary = import_lines(store, [json.dumps(ln) for ln in lines])
    assert len(summary.open_cases) == 12
    told: list[tuple[int, int]] = []
    wanted = [*summary.open_cases, ("9921", "AD-NOT-STORED")]
    try:
        first = await adopt_all(
            dev_client,
            store,
            wanted,
            pseudonym_key=key,
            task_queue=task_queue,
            concurrency=4,
            progress=lambda done, total: told.append((done, total)),
        )
        assert (first.started, first.already_running) == (12, 0)
        assert [(k, r) for k, r, _ in first.failed] == [("9921", "AD-NOT-STORED")]
        assert "LookupError" in first.failed[0][2]
        assert told == [(n, 13) for n in range(1, 14)]
        for kommun, ref in summary.open_cases:
            described = await dev_client.get_workflow_handle(
                _wid(store, key, kommun, ref)
            ).describe()
            assert described.status is not None and described.status.name == "RUNNING"

        again = await adopt_all(
            dev_client, store, summary.open_cases, pseudonym_key=key, task_queue=task_queue
        )
        assert (again.started, again.already_running, again.failed) == (0, 12, [])
    finally:
        for kommun, ref in summary.open_cases:  # the session's dev server keeps no stray runs
            handle = dev_client.get_workflow_handle(_wid(store, key, kommun, ref))
            try:
                await handle.terminate(reason="test done")
            except RPCError as exc:  # never started (the test failed before): nothing to stop
                assert exc.status == RPCStatusCode.NOT_FOUND, exc


def _wid(store: CaseStore, key: bytes, kommun: str, ref: str) -> str:
    return workflow_id_for(kommun, child_pseudonym(_opening(store, kommun, ref), key))


async def test_adoption_from_the_imports_fold_starts_what_the_store_would(
    dev_client: Client, store: CaseStore, task_queue: str
) -> None:
    """Adoption takes the child and the summary from the import's own fold
    (``ImportSummary.adoption``) instead of reading each case again: the workflow id and the
    static summary an operator sees are exactly those the stored record gives, for a case the
    import opened and for one the store held before the import went on with it."""
    key = secrets.token_bytes(32)
    at = days_ago(3)
    earlier = anmalan(at, case_ref="AK-OLD", kommun="9921", pnr=fresh_pnr(), key="AK-OLD-1")
    import_lines(store, [json.dumps(earlier)])
    lines = [
        anmalan(at, case_ref="AK-NEW", kommun="9921", pnr=fresh_pnr(girl=False), kon="pojke",
                key="AK-NEW-1"),
        line("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False},
             at=at, key="AK-NEW-2", kommun="9921", case_ref="AK-NEW"),
        line("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False},
             at=at, key="AK-OLD-2", kommun="9921", case_ref="AK-OLD"),
        line("forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inleda_utredning"},
             at=at, key="AK-OLD-3", kommun="9921", case_ref="AK-OLD"),
    ]  # fmt: skip
    summary = import_lines(store, [json.dumps(ln) for ln in lines])
    assert (
        set(summary.adoption)
        == set(summary.open_cases)
        == {
            ("9921", "AK-NEW"),
            ("9921", "AK-OLD"),
        }
    )
    try:
        done = await adopt_all(
            dev_client,
            store,
            summary.open_cases,
            pseudonym_key=key,
            task_queue=task_queue,
            known=summary.adoption,
        )
        assert (done.started, done.failed) == (2, [])
        for kommun, ref in summary.open_cases:
            child = child_pseudonym(_opening(store, kommun, ref), key)
            stored = summary_of(kommun, child, fold(store.case_events(case_id_for(kommun, ref))))
            described = await dev_client.get_workflow_handle(
                _wid(store, key, kommun, ref)
            ).describe()
            assert await described.static_summary() == stored
    finally:
        for kommun, ref in summary.open_cases:
            handle = dev_client.get_workflow_handle(_wid(store, key, kommun, ref))
            try:
                await handle.terminate(reason="test done")
            except RPCError as exc:
                assert exc.status == RPCStatusCode.NOT_FOUND, exc


def _opening(store: CaseStore, kommun: str, ref: str) -> CaseEvent:
    opening = store.first_event(case_id_for(kommun, ref))
    assert opening is not None
    return opening
