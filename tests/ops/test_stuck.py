"""Fault injection against a real Temporal dev server: every stuck kind is reported, and
``ops repair`` brings the case back with a gap-free, duplicate-free stream.

Each scenario uses its own kommun (workflow ids are per child and kommun, and the dev server is
shared by the session) and its own task queues.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from domain.events import parse_event
from domain.ids import case_id_for
from infra.config.settings import Settings, load_settings
from infra.ops.repair import ops_log, repair
from infra.ops.stuck import StuckOptions, StuckRow, find_stuck
from infra.persistence.store import CaseStore
from infra.temporal.attempts import AttemptRecorder
from infra.temporal.commands import adopt_case
from infra.temporal.worker import running_worker
from tests.conftest import CIPHER_KEY, CODEC_KEY, PSEUDONYM_KEY
from tests.factories import PNR_GIRL, anmalan, days_ago
from workflows.messages import WORKFLOW_NAME, CaseWorkflowInput


@activity.defn(name="always_fails")
async def always_fails() -> None:
    raise RuntimeError("dependency down")


@workflow.defn(name=WORKFLOW_NAME, sandboxed=False)
class RetryingCaseWorkflow:
    """Test-only stand-in under the real name: its activity never succeeds."""

    @workflow.run
    async def run(self, inp: CaseWorkflowInput) -> None:
        await workflow.execute_activity(
            "always_fails",
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=50), backoff_coefficient=1.0
            ),
        )


@workflow.defn(name=WORKFLOW_NAME, sandboxed=False)
class BrokenCaseWorkflow:
    """A 'deploy' whose code cannot run the case's history: every workflow task fails."""

    @workflow.run
    async def run(self, inp: CaseWorkflowInput) -> None:
        raise RuntimeError("non-deterministic after deploy")


def _settings(pg_url: str, schema: str, dev_address: str, queue: str) -> Settings:
    b64 = lambda k: base64.b64encode(k).decode()  # noqa: E731
    return load_settings(
        {
            "BARNFLOW_DATABASE_URL": pg_url,
            "BARNFLOW_DATABASE_SCHEMA": schema,
            "BARNFLOW_TEMPORAL_ADDRESS": dev_address,
            "BARNFLOW_TASK_QUEUE": queue,
            "BARNFLOW_CODEC_KEY": b64(CODEC_KEY),
            "BARNFLOW_PSEUDONYM_KEY": b64(PSEUDONYM_KEY),
            "BARNFLOW_CIPHER_KEY": b64(CIPHER_KEY),
        }
    )


@asynccontextmanager
async def _worker(
    client: Client, store: CaseStore, queue: str, wf: type, acts: list[object]
) -> AsyncIterator[None]:
    """A test worker with the production attempt recorder (what ``ops stuck`` reads)."""
    async with Worker(
        client,
        task_queue=queue,
        workflows=[wf],
        activities=acts,
        interceptors=[AttemptRecorder(store)],
    ):
        yield


def _kinds(rows: list[StuckRow], wid: str) -> set[str]:
    return {r.kind for r in rows if r.workflow_id == wid}


def _gap_free(store: CaseStore, kommun: str, ref: str) -> list[int]:
    return [e.position or 0 for e in store.case_events(case_id_for(kommun, ref))]


async def test_each_stuck_kind_is_reported_and_repaired(
    dev_client: Client,
    dev_temporal: object,
    store: CaseStore,
    pg_url: str,
    schema: str,
    task_queue: str,
) -> None:
    address = dev_temporal.address
    good = _settings(pg_url, schema, address, task_queue)
    received = days_ago(2)
    cases = {
        "missing": "9901",
        "terminated": "9902",
        "failing": "9903",
        "retrying": "9904",
        "no-poller": "9905",
    }
    wids: dict[str, str] = {}
    for name, kommun in cases.items():
        store.record(parse_event(anmalan(received, case_ref=f"VS-{name}", kommun=kommun)))

    async def adopt(name: str, queue: str) -> None:
        s = _settings(pg_url, schema, address, queue)
        wids[name] = await adopt_case(dev_client, store, s, cases[name], f"VS-{name}")

    # terminated: a healthy workflow, then terminated by hand
    async with running_worker(dev_client, store, task_queue):
        await adopt("terminated", task_queue)
        await dev_client.get_workflow_handle(wids["terminated"]).terminate(reason="test")
    # no-poller: a workflow on a queue whose worker never came
    await adopt("no-poller", f"{task_queue}-gone")
    async with (
        _worker(dev_client, store, f"{task_queue}-broken", BrokenCaseWorkflow, []),
        _worker(dev_client, store, f"{task_queue}-retry", RetryingCaseWorkflow, [always_fails]),
    ):
        await adopt("failing", f"{task_queue}-broken")
        await adopt("retrying", f"{task_queue}-retry")

        async def stuck() -> list[StuckRow]:
            return await find_stuck(dev_client, store, PSEUDONYM_KEY, StuckOptions(max_attempts=3))

        async def all_reported() -> list[StuckRow] | None:
            rows = await stuck()
            ok = "failing-workflow-task" in _kinds(
                rows, wids["failing"]
            ) and "retrying-activity" in _kinds(rows, wids["retrying"])
            return rows if ok else None

        rows = None
        for _ in range(100):
            rows = await all_reported()
            if rows:
                break
            await asyncio.sleep(0.3)
        assert rows, [(r.kind, r.workflow_id, r.evidence) for r in await stuck()][:20]
        from infra.audit.verify import running_case_workflows

        missing_wid = await adopt_wid(good, store, "9901", "VS-missing")
        assert "missing" in _kinds(rows, missing_wid)
        assert "missing" in _kinds(rows, wids["terminated"])
        assert "no-poller" in _kinds(rows, wids["no-poller"])
        retry_row = next(r for r in rows if r.workflow_id == wids["retrying"])
        # failure messages are encrypted by the codec: the evidence names activity and error type
        assert retry_row.evidence.startswith("activity always_fails attempt ")
        assert retry_row.evidence.endswith(": RuntimeError")
        assert all(PNR_GIRL not in str(r.to_json()) for r in rows)
        # deep (one describe per workflow, for clusters without the flag): same finds, once each
        deep = await find_stuck(
            dev_client, store, PSEUDONYM_KEY, StuckOptions(max_attempts=3, deep=True)
        )
        for kind, name in (("failing-workflow-task", "failing"), ("retrying-activity", "retrying")):
            assert [r.kind for r in deep if r.workflow_id == wids[name]].count(kind) == 1

    async with running_worker(dev_client, store, task_queue):
        for name, kommun in cases.items():
            dry = await repair(
                dev_client,
                store,
                good,
                pg_url,
                kommun=kommun,
                case_ref=f"VS-{name}",
                reason="test",
                actor="ops1",
            )
            assert not dry.applied
            await repair(
                dev_client,
                store,
                good,
                pg_url,
                kommun=kommun,
                case_ref=f"VS-{name}",
                reason=f"fault injection {name}",
                actor="ops1",
                apply=True,
            )
        ours = {await adopt_wid(good, store, k, f"VS-{n}") for n, k in cases.items()}
        for _ in range(100):  # visibility is eventually consistent
            running = await running_case_workflows(dev_client)
            if ours <= set(running):
                break
            await asyncio.sleep(0.2)
        assert {running[wid].task_queue for wid in ours} == {task_queue}
        for _ in range(100):  # visibility is eventually consistent
            rows = await find_stuck(dev_client, store, PSEUDONYM_KEY)
            if {r.workflow_id for r in rows if r.kind == "human-step-overdue"} >= ours:
                break
            await asyncio.sleep(0.2)
        # back on a healthy worker; what remains is the truth: the backdated anmälan's
        # skyddsbedömning (same day) was never done, a late human step repair cannot fix
        assert {(r.workflow_id, r.kind) for r in rows if r.workflow_id in ours} == {
            (wid, "human-step-overdue") for wid in ours
        }
        log = ops_log(pg_url, schema)
        assert [(r["actor"], r["reason"]) for r in log] == [
            ("ops1", f"fault injection {n}") for n in cases
        ]
        positions = sorted(p for n, k in cases.items() for p in _gap_free(store, k, f"VS-{n}"))
        assert positions == list(range(1, len(positions) + 1))


async def adopt_wid(settings: Settings, store: CaseStore, kommun: str, ref: str) -> str:
    from infra.ops.stuck import workflow_id_of

    head = next(h for h in store.case_heads() if (h.kommun, h.case_ref) == (kommun, ref))
    wid = workflow_id_of(head, settings.keys.pseudonym, {})
    assert wid is not None  # an open case: its identity is readable
    return wid
