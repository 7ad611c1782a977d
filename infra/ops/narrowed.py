"""Narrowed visibility queries for ``ops stuck``: ask Temporal only about what may be stuck.

Listing every running case workflow costs time in proportion to the number of cases (about
1 ms per workflow on the dev server's SQLite visibility, far more under load), so ``ops stuck``
at 10,000 or 100,000 cases asks narrower questions instead:

* per kommun, **a few lists and two counts** against the store's expectations (``reconcile``):
  the running workflows whose ``BarnflowLastPosition`` is *not* one of the open cases' expected
  last positions (``NOT IN``: the diverged ones come back, not the cases in step; one list per
  ``CHUNK`` positions, each over its own range of positions, so no query grows with the cases),
  and how many run at all and without a position. Store positions are global and unique, so
  that tells how many are missing; only in a kommun short of workflows are its cases halved
  by position, each half counted by its range of positions, down to the few cases that are
  then listed by id;
* a **list of the few** that a flag or a table names: ``BarnflowOverdue = true``,
  ``TemporalReportedProblems``, the workflows of the activity-retry rows, the cases the store has
  not seen move for ``no_progress_days`` that have no frist to wait for, the workflows of a task
  queue no worker polls.

Every query is one RPC for many workflows; nothing here calls Temporal once per workflow.
"""

from __future__ import annotations

import asyncio
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from temporalio.client import Client

from infra.audit.verify import RunningWorkflow, running_case_workflows
from infra.config.timeouts import OPS_RPC_TIMEOUT
from workflows import search
from workflows.messages import WORKFLOW_NAME

#: Every question starts from the running case workflows.
CASE_RUNNING = f"WorkflowType = '{WORKFLOW_NAME}' AND ExecutionStatus = 'Running'"
#: Values per ``IN (…)`` or ``NOT IN (…)``, the most any query here names. At 100,000 workflows
#: the dev server's in-memory SQLite visibility refuses an ``IN`` or ``NOT IN`` of 1,000 values
#: (``out of memory (7)``, counts too; 100 values answer at once; at 3,000 workflows 1,000 did).
#: Read at call time: tests lower it.
CHUNK = 100
#: The fewest cases a differing chunk is halved down to before they are listed.
LEAF = 16
#: Queries in flight at once (visibility is one store; more only queue up on it).
PARALLEL = 8

_QUOTABLE = re.compile(r"[^'\"\\\n\r]+")
T = TypeVar("T")


@dataclass(frozen=True)
class Expected:
    """What one open case's workflow must look like: its id and published last position."""

    workflow_id: str
    kommun: str
    last_position: int


@dataclass(frozen=True)
class Reconciled:
    """``reconcile``'s answer: the expected workflows that do not run, those that run at
    another position (with the workflow as listed), and what it cost."""

    missing: list[Expected]
    diverged: list[tuple[Expected, RunningWorkflow]]
    #: count queries asked
    counts: int
    #: the kommuner some of whose cases were listed (their count differed), and how many cases
    listed_kommuner: list[str]
    listed_cases: int


def quoted(values: Iterable[str]) -> str:
    """``'a', 'b'`` for an ``IN (…)``; a value that could end the quoted string is refused."""
    out = []
    for v in values:
        if not _QUOTABLE.fullmatch(v):
            raise ValueError(f"{v!r} cannot be quoted in a visibility query")
        out.append(f"'{v}'")
    return ", ".join(out)


def chunked(items: Sequence[T], size: int | None = None) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``size`` (default ``CHUNK``, as it is when called)."""
    step = size or CHUNK
    for i in range(0, len(items), step):
        yield items[i : i + step]


def beside(column: str, values: Iterable[int]) -> list[str]:
    """Conditions that together match every value of the integer ``column`` except ``values``
    (and not NULL), each naming at most ``CHUNK`` of them: the sorted values in chunks, chunk
    *k* with the half-open range from its first value to the next chunk's first (the first
    range open below, the last open above). The ranges cover the whole axis without overlap,
    so the union of the answers is exactly ``column NOT IN (values)``: a position outside every
    chunk (a stray, a diverged workflow) falls in exactly one range and is listed once."""
    chunks = list(chunked(sorted(set(values))))
    out = []
    for k, chunk in enumerate(chunks):
        parts = [f"{column} >= {chunk[0]}"] if k else []
        if k + 1 < len(chunks):
            parts.append(f"{column} < {chunks[k + 1][0]}")
        parts.append(f"{column} NOT IN ({', '.join(str(v) for v in chunk)})")
        out.append(" AND ".join(parts))
    return out


async def bounded(jobs: Iterable[Callable[[], Awaitable[T]]], limit: int = PARALLEL) -> list[T]:
    """Run the jobs, ``limit`` at a time, answers in order."""
    sem = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with sem:
            return await job()

    return list(await asyncio.gather(*(one(j) for j in jobs)))


async def count(client: Client, query: str) -> int:
    resp = await client.count_workflows(query, rpc_timeout=timedelta(seconds=OPS_RPC_TIMEOUT))
    return int(resp.count)


async def by_ids(
    client: Client, workflow_ids: Iterable[str], extra: str = ""
) -> dict[str, RunningWorkflow]:
    """The running case workflows among ``workflow_ids`` (one list per ``CHUNK`` ids), further
    narrowed by ``extra`` (`` AND …``)."""
    ids = sorted(set(workflow_ids))
    parts = await bounded(
        partial(running_case_workflows, client, f" AND WorkflowId IN ({quoted(c)}){extra}")
        for c in chunked(ids)
    )
    return {wid: wf for part in parts for wid, wf in part.items()}


async def reconcile(client: Client, expected: Iterable[Expected]) -> Reconciled:
    """Missing and diverged workflows (see the module doc), per kommun:

    1. the kommun's running workflows whose position is *not* one the store expects
       (``NOT IN``, one list per ``CHUNK`` expected positions over their range: ``beside``):
       the diverged ones (and strays), few rows however many cases;
    2. two counts, the kommun's running workflows and those without a position: with 1., how
       many run in step, so how many are missing. When none are (the usual answer) the kommun
       costs nothing more;
    3. only in a kommun short of workflows: its cases in step or missing, by position, are
       halved and the left half's workflows counted by their range of positions (no list of
       positions: a count names two bounds however many cases it covers), the right half being
       short of the rest, down to ``LEAF`` cases; only those leaves are listed by workflow id.
       Each missing workflow costs about log2(cases / ``LEAF``) counts (fewer where they share
       halves) and a list of a few workflows.

    What a count cannot see: a missing workflow offset by another running workflow of the same
    kommun that publishes the *same* position (two workflow ids for one case). A running
    workflow the store expects nothing of (a stray) is listed in 1. but not reported.
    ``ops stuck --deep`` lists every workflow."""
    by_kommun: dict[str, list[Expected]] = defaultdict(list)
    for e in expected:
        by_kommun[e.kommun].append(e)
    sem = asyncio.Semaphore(PARALLEL)
    counts = 0

    async def counted(query: str) -> int:
        nonlocal counts
        async with sem:
            counts += 1
            return await count(client, query)

    def of(kommun: str) -> str:
        return f"{CASE_RUNNING} AND {search.KOMMUN.name} = {quoted([kommun])}"

    async def one(
        kommun: str, exps: list[Expected]
    ) -> tuple[list[tuple[Expected, RunningWorkflow]], list[Sequence[Expected]]]:
        wanted = {e.workflow_id: e for e in exps}
        position = search.LAST_POSITION.name

        async def listed(condition: str) -> dict[str, RunningWorkflow]:
            async with sem:
                return await running_case_workflows(
                    client, f" AND {search.KOMMUN.name} = {quoted([kommun])} AND {condition}"
                )

        lists, running, unknown = await asyncio.gather(
            asyncio.gather(*(listed(c) for c in beside(position, (e.last_position for e in exps)))),
            counted(of(kommun)),
            counted(f"{of(kommun)} AND {position} IS NULL"),
        )
        off = {wid: wf for part in lists for wid, wf in part.items()}
        diverged = [(wanted[w], wf) for w, wf in off.items() if w in wanted]
        missing = len(exps) - len(diverged) - (running - len(off) - unknown)
        if missing <= 0:
            return diverged, []
        rest = sorted((e for e in exps if e.workflow_id not in off), key=lambda e: e.last_position)
        off_at = sorted(p for wf in off.values() if (p := wf.last_position) is not None)

        async def in_step(i: int, j: int) -> int:
            """How many of ``rest[i:j]`` run in step: the kommun's workflows publishing a
            position in their range (from ``rest[i]``'s to ``rest[j]``'s, open at the ends as in
            ``beside``), less the listed ones out of step there. Positions are unique, so each
            other one is the workflow of one case of ``rest[i:j]``."""
            where, low, high = [f"{position} IS NOT NULL"], 0, len(off_at)
            if i:
                where.append(f"{position} >= {rest[i].last_position}")
                low = bisect_left(off_at, rest[i].last_position)
            if j < len(rest):
                where.append(f"{position} < {rest[j].last_position}")
                high = bisect_left(off_at, rest[j].last_position)
            return await counted(f"{of(kommun)} AND {' AND '.join(where)}") - (high - low)

        async def short(i: int, j: int, deficit: int) -> list[Sequence[Expected]]:
            """The leaves of ``rest[i:j]`` holding its ``deficit`` missing workflows."""
            if deficit <= 0:
                return []
            if deficit >= j - i or j - i <= LEAF:
                return [rest[i:j]]
            mid = (i + j) // 2
            left = mid - i - await in_step(i, mid)
            halves = await asyncio.gather(short(i, mid, left), short(mid, j, deficit - left))
            return [leaf for half in halves for leaf in half]

        return diverged, await short(0, len(rest), missing)

    found = await asyncio.gather(*(one(k, exps) for k, exps in sorted(by_kommun.items())))
    diverged = [d for ds, _ in found for d in ds]
    leaves = [leaf for _, ls in found for leaf in ls]
    running = await by_ids(client, (e.workflow_id for leaf in leaves for e in leaf))
    missing = [e for leaf in leaves for e in leaf if e.workflow_id not in running]
    kommuner = sorted({e.kommun for leaf in leaves for e in leaf})
    return Reconciled(missing, diverged, counts, kommuner, sum(len(leaf) for leaf in leaves))


async def without_frist(
    client: Client, workflow_ids: Iterable[str], now: datetime
) -> dict[str, RunningWorkflow]:
    """The running workflows among ``workflow_ids`` with no frist ahead to wait for."""
    stamp = now.isoformat()
    return await by_ids(
        client,
        workflow_ids,
        f" AND ({search.NEXT_DUE.name} IS NULL OR {search.NEXT_DUE.name} <= '{stamp}')",
    )


async def overdue(client: Client) -> dict[str, RunningWorkflow]:
    """The running case workflows whose ``BarnflowOverdue`` is set (one narrowed list)."""
    return await running_case_workflows(client, f" AND {search.OVERDUE.name} = true")


async def task_queues(client: Client, known: Sequence[str]) -> set[str]:
    """The task queues running case workflows use: ``known`` (the configured ones) and any
    other, found by one count and, only if it is not zero, a list of the off_at."""
    if not known:
        return {wf.task_queue for wf in (await running_case_workflows(client)).values()}
    outside = f" AND TaskQueue NOT IN ({quoted(known)})"
    queues = set(known)
    if await count(client, CASE_RUNNING + outside):
        queues |= {wf.task_queue for wf in (await running_case_workflows(client, outside)).values()}
    return queues


async def on_queues(client: Client, queues: Iterable[str]) -> dict[str, RunningWorkflow]:
    """The running case workflows of ``queues`` (those no worker polls: all of them are stuck)."""
    names = sorted(set(queues))
    if not names:
        return {}
    return await running_case_workflows(client, f" AND TaskQueue IN ({quoted(names)})")
