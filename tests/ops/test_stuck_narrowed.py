"""``ops stuck`` without listing every workflow (issue 19, item 5), on a real dev server and a real
PostgreSQL store: each planted fault is found by its narrowed query and nothing else is reported
for the kommuner under test; the count comparison lists only the kommun whose count differs; a
gallrad case keeps its real workflow id.

The workflows are stand-ins under the real workflow type name, ids and search attributes (what
``ops stuck`` reads: visibility and the store, never workflow code): the real lifecycle of each
fault is covered by tests/ops/test_stuck.py and test_stuck_store.py."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from psycopg import sql
from temporalio import workflow
from temporalio.client import (
    Client,
    CountWorkflowsInput,
    Interceptor,
    ListWorkflowsInput,
    OutboundInterceptor,
    WorkflowExecutionAsyncIterator,
    WorkflowExecutionCount,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker

from domain.events import parse_event
from domain.identity import pseudonym
from domain.ids import case_id_for, workflow_id_for
from domain.sealing import SHREDDED
from infra.ops import narrowed
from infra.ops.gallring import run
from infra.ops.stuck import (
    DIVERGED,
    FAILING_TASK,
    MISSING,
    NO_POLLER,
    NO_PROGRESS,
    OVERDUE,
    RETRYING,
    StuckOptions,
    find_stuck,
    store_expectations,
)
from infra.persistence.schema import ATTEMPTS_TABLE
from infra.persistence.store import CaseStore
from infra.temporal.attempts import ensure_table
from infra.temporal.commands import child_pseudonym
from tests.conftest import PSEUDONYM_KEY
from tests.domain.test_retention import Case
from tests.factories import anmalan, fresh_pnr, line
from tests.ops.test_gallring_temporal import AS_OF, NOW, closed_case
from workflows import search
from workflows.messages import WORKFLOW_NAME

#: Kommuner of this module only: the session's dev server is shared with other tests, and
#: every test store numbers its positions from 1.
CLEAN, FAULTY = "9971", "9972"


@workflow.defn(name=WORKFLOW_NAME, sandboxed=False)
class StandIn:
    """The real type name; waits (a case between steps), or fails every workflow task."""

    @workflow.run
    async def run(self, inp: str | None) -> None:
        if inp == "fail":
            raise RuntimeError("planted workflow task failure")
        await workflow.wait_condition(lambda: False)


def _record(store: CaseStore, kommun: str, n: int) -> None:
    at = datetime.now(UTC) - timedelta(hours=1)
    for i in range(n):
        store.record(parse_event(anmalan(at, kommun=kommun, case_ref=f"N-{i}", pnr=fresh_pnr())))


async def _start(
    client: Client,
    wid: str,
    kommun: str,
    position: int,
    queue: str,
    *,
    overdue: bool = False,
    fail: bool = False,
    due: datetime | None = None,
) -> str:
    attrs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(search.KOMMUN, kommun),
        SearchAttributePair(search.STAGE, "utredning"),
        SearchAttributePair(search.OVERDUE, overdue),
        SearchAttributePair(search.LAST_POSITION, position),
    ]
    if due is not None:
        attrs.append(SearchAttributePair(search.NEXT_DUE, due))
    handle = await client.start_workflow(
        StandIn.run,
        "fail" if fail else None,
        id=wid,
        task_queue=queue,
        search_attributes=TypedSearchAttributes(attrs),
    )
    return handle.first_execution_run_id or ""


async def _eventually(what: str, check: Callable[[], Awaitable[bool]], tries: int = 300) -> None:
    for _ in range(tries):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(what)


async def _visible(client: Client, kommuner: tuple[str, ...], n: int) -> None:
    names = narrowed.quoted(kommuner)
    query = f"{narrowed.CASE_RUNNING} AND {search.KOMMUN.name} IN ({names})"

    async def all_there() -> bool:
        return await narrowed.count(client, query) == n

    await _eventually(f"{n} workflows visible", all_there)


def _move_store_on(store: CaseStore, kommun: str, case_ref: str) -> None:
    """Record the case's skyddsbedömning in the store only: its workflow, which never sees it,
    stays one position behind (a diverged case)."""
    store.record(
        parse_event(
            line(
                "skyddsbedomning_gjord",
                {"anmalan_id": "anm-1", "omedelbart_skydd": False},
                at=datetime.now(UTC) - timedelta(minutes=30),
                key=f"{case_ref}-2",
                kommun=kommun,
                case_ref=case_ref,
            )
        )
    )


async def test_each_planted_fault_is_found_by_its_narrowed_query_and_nothing_else(
    dev_client: Client, store: CaseStore, task_queue: str
) -> None:
    _record(store, CLEAN, 70)
    _record(store, FAULTY, 150)
    first = store_expectations(store, PSEUDONYM_KEY)  # each case: its anmälan
    faulty = sorted(w for w, e in first.items() if e.kommun == FAULTY)
    planted = {
        MISSING: set(faulty[0:2]),
        DIVERGED: set(faulty[2:4]),
        OVERDUE: set(faulty[4:6]),
        NO_POLLER: set(faulty[6:7]),
        RETRYING: set(faulty[7:8]),
        FAILING_TASK: set(faulty[8:9]),
        NO_PROGRESS: set(faulty[9:10]),  # no frist ahead; every other workflow has one
    }
    for wid in planted[DIVERGED]:  # an event recorded past the workflow, which stays behind
        _move_store_on(store, FAULTY, first[wid].case_ref)
    expected = store_expectations(store, PSEUDONYM_KEY)
    # 40 days on, every case has been idle: only one without a frist ahead is stuck
    later = datetime.now(UTC) + timedelta(days=40)
    ahead = later + timedelta(days=20)
    unpolled = f"{task_queue}-unpolled"
    runs: dict[str, str] = {}
    async with Worker(dev_client, task_queue=task_queue, workflows=[StandIn]):
        for wid, exp in sorted(expected.items()):
            if wid in planted[MISSING]:
                continue
            runs[wid] = await _start(
                dev_client,
                wid,
                exp.kommun,
                first[wid].last_position,  # the diverged ones' anmälan, before the store moved
                unpolled if wid in planted[NO_POLLER] else task_queue,
                overdue=wid in planted[OVERDUE],
                fail=wid in planted[FAILING_TASK],
                due=None if wid in planted[NO_PROGRESS] else ahead,
            )
        ensure_table(store)
        [retry] = planted[RETRYING]
        with store.pooled_connection() as conn:  # as the workers' AttemptRecorder writes it
            conn.execute(
                sql.SQL(
                    "INSERT INTO {}.{} (workflow_id, run_id, activity_id, activity_type, "
                    "attempt, error) VALUES (%s, %s, '1', 'append_event', 9, 'OperationalError')"
                ).format(sql.Identifier(store.schema), sql.Identifier(ATTEMPTS_TABLE)),
                [retry, runs[retry]],
            )
        await _visible(dev_client, (CLEAN, FAULTY), len(runs))
        ours = set(expected)
        opts = StuckOptions(task_queues=(task_queue,), now=later)

        async def flagged() -> bool:
            rows = await find_stuck(dev_client, store, PSEUDONYM_KEY, opts)
            return any(r.kind == FAILING_TASK and r.workflow_id in ours for r in rows)

        await _eventually("the failing workflow task flagged", flagged, tries=600)
        rows = await find_stuck(dev_client, store, PSEUDONYM_KEY, opts)
        found = {
            kind: {r.workflow_id for r in rows if r.kind == kind and r.workflow_id in ours}
            for kind in planted
        }
        assert found == planted
        # nothing else of ours: every one of our rows is a planted fault
        assert {(r.kind, r.workflow_id) for r in rows if r.workflow_id in ours} == {
            (kind, wid) for kind, wids in planted.items() for wid in wids
        }
        for r in rows:
            if r.workflow_id in ours:
                assert r.case_id == str(expected[str(r.workflow_id)].case_id)
        # the full periodic check (--deep) agrees on what both can see
        deep = await find_stuck(dev_client, store, PSEUDONYM_KEY, replace(opts, deep=True))
        assert {(r.kind, r.workflow_id) for r in deep if r.workflow_id in ours} == {
            (kind, wid) for kind, wids in planted.items() for wid in wids
        }


async def test_the_count_comparison_lists_only_the_kommun_whose_count_differs(
    dev_client: Client, store: CaseStore, task_queue: str
) -> None:
    clean, faulty = "9974", "9975"
    _record(store, clean, 40)
    _record(store, faulty, 40)
    expected = store_expectations(store, PSEUDONYM_KEY)
    gone = sorted(w for w, e in expected.items() if e.kommun == faulty)[5]
    async with Worker(dev_client, task_queue=task_queue, workflows=[StandIn]):
        for wid, exp in expected.items():
            if wid != gone:
                await _start(dev_client, wid, exp.kommun, exp.last_position, task_queue)
        await _visible(dev_client, (clean, faulty), len(expected) - 1)
        wanted = [
            narrowed.Expected(e.workflow_id, e.kommun, e.last_position) for e in expected.values()
        ]
        found = await narrowed.reconcile(dev_client, wanted)
    assert [e.workflow_id for e in found.missing] == [gone]
    assert found.diverged == []
    assert found.listed_kommuner == [faulty]  # the clean kommun was counted, never listed
    assert found.listed_cases < 40  # and of the faulty one, only the halves holding the fault


class _Sent(Interceptor):
    """Keeps the query of every visibility list and count the client sends (each still goes
    to the server and is answered by it)."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        queries = self.queries

        class Out(OutboundInterceptor):
            def list_workflows(self, input: ListWorkflowsInput) -> WorkflowExecutionAsyncIterator:
                queries.append(input.query or "")
                return super().list_workflows(input)

            async def count_workflows(self, input: CountWorkflowsInput) -> WorkflowExecutionCount:
                queries.append(input.query or "")
                return await super().count_workflows(input)

        return Out(next)


async def test_no_query_names_more_positions_than_the_limit_and_the_answer_stays_exact(
    dev_client: Client, store: CaseStore, task_queue: str, monkeypatch: Any
) -> None:
    """At 100,000 cases one ``NOT IN`` of a kommun's every expected position exhausted the dev
    server (``out of memory``): whatever the number of cases, no query may name more than
    ``CHUNK`` values, and the missing and diverged ones are still all found. Here ``CHUNK`` is 4
    for 30 cases, with a stray workflow below every expected position and one above them all:
    the ranges must cover both ends, or the strays count as cases in step and hide the missing
    ones."""
    kommun = "9976"
    monkeypatch.setattr(narrowed, "CHUNK", 4)
    _record(store, kommun, 30)
    first = store_expectations(store, PSEUDONYM_KEY)
    wids = sorted(first, key=lambda w: first[w].last_position)
    missing = {wids[3], wids[17]}
    diverged = {wids[0], wids[12], wids[29]}  # in the first, a middle and the last chunk
    for wid in diverged:  # the store moves on, the workflow stays at the anmälan
        _move_store_on(store, kommun, first[wid].case_ref)
    expected = store_expectations(store, PSEUDONYM_KEY)
    started = 0
    for wid in wids:
        if wid not in missing:
            await _start(dev_client, wid, kommun, first[wid].last_position, task_queue)
            started += 1
    for stray, position in (("low", 0), ("high", 10**9)):
        await _start(dev_client, f"barnarende-{kommun}-stray-{stray}", kommun, position, task_queue)
        started += 1
    await _visible(dev_client, (kommun,), started)
    sent = _Sent()
    spied = Client(**{**dev_client.config(), "interceptors": [sent]})

    found = await narrowed.reconcile(
        spied,
        [narrowed.Expected(e.workflow_id, e.kommun, e.last_position) for e in expected.values()],
    )

    assert {e.workflow_id for e in found.missing} == missing
    assert {e.workflow_id for e, _ in found.diverged} == diverged
    for e, wf in found.diverged:
        assert wf.last_position == first[e.workflow_id].last_position != e.last_position
    named = [len(values.split(",")) for q in sent.queries for values in _IN.findall(q)]
    assert named, sent.queries
    assert max(named) <= 4, [q for q in sent.queries if len(q) > 400]


#: The values of an ``IN (…)`` or ``NOT IN (…)`` in a query.
_IN = re.compile(r"\bIN \(([^)]*)\)")


def test_a_gallrad_case_keeps_its_real_workflow_id(store: CaseStore) -> None:
    """Gallring destroys the child's identity, from which the workflow id is computed; the
    expectation then takes the id gallring linked to the case, not a pseudonym of nothing."""
    for ev in closed_case().events:
        store.record(ev, lagrum=False)
    for ev in Case(ref="VS-O", born=date(2015, 9, 9)).anmalan(date(2016, 5, 1)).events:
        store.record(ev, lagrum=False)  # the same kommun, another child, open
    opening = store.case_events(case_id_for("1280", "VS-T"))[0]
    real = workflow_id_for("1280", child_pseudonym(opening, PSEUDONYM_KEY))
    wkeys = store.workflow_keys
    assert wkeys is not None
    wkeys.live_key(real)  # as the worker's codec made it when the workflow ran
    before = {e.case_ref: w for w, e in store_expectations(store, PSEUDONYM_KEY).items()}
    assert before["VS-T"] == real

    run(store, "1280", "GN 2026-11 §42", as_of=AS_OF, now=NOW, apply=True,
        pseudonym_key=PSEUDONYM_KEY)  # fmt: skip

    gallrad = store.case_events(case_id_for("1280", "VS-T"))[0]
    assert gallrad.data["barn"].get("identitet") == SHREDDED  # the identity is gone
    after = {e.case_ref: (w, e.closed) for w, e in store_expectations(store, PSEUDONYM_KEY).items()}
    assert after["VS-T"] == (real, True)
    assert after["VS-O"] == (before["VS-O"], False)
    nothing = workflow_id_for("1280", pseudonym(PSEUDONYM_KEY, "1280", "None"))
    assert nothing not in {w for w, _ in after.values()}
