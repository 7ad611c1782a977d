"""``ops stuck`` at scale: N running case workflows on a dev server, against a bare list query.

    .venv/bin/python bench/stuck.py --workflows 10000 [--runs 3] [--database-url URL]

Not part of the test command. Seeds cheaply but honestly:

* the store gets real encrypted, guarded stored events (``bench.rebuild``'s synthetic histories,
  bulk saves of 50 cases), about 5 events per case, closed cases included; the cases kept open
  are the N whose workflows run;
* the workflows run under the real workflow type name with the real workflow ids
  (``barnarende-<kommun>-<pseudonym>``) and the search attributes the real workflow publishes,
  set at start; their code is an idle stand-in (one workflow task, then waiting) on a polled task
  queue, because adopting 100,000 real workflows would take hours on two cores and the workflow
  code is not what ``ops stuck`` reads;
* faults are planted so the answer is checked, not only timed: 1 % of the open cases get no
  workflow (missing), 1 % a workflow one position behind the store (diverged), 1 % the overdue
  flag (human-step-overdue).

Then, per run, times ``find_stuck`` and, in the same run, the baseline: one bare visibility list
of the same running workflows (ids only, pages of 1000), and prints the ratio. Each run also
checks that exactly the planted faults are found.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from psycopg import sql
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError
from temporalio.worker import Worker

from bench.rebuild import _case
from domain.aggregate import ChildCase
from domain.calendar import STOCKHOLM
from domain.events import parse_event
from domain.ids import workflow_id_for
from infra.ops.stuck import (
    DIVERGED,
    MISSING,
    OVERDUE,
    StuckOptions,
    find_stuck,
    store_expectations,
)
from infra.persistence.embedded_pg import embedded_postgres
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
from infra.temporal.client import connect
from infra.temporal.commands import child_pseudonym
from infra.temporal.devserver import dev_server
from workflows import search
from workflows.messages import WORKFLOW_NAME

KEY = b"k" * 32
QUEUE = "bench-stuck"
TODAY = date(2026, 11, 1)


@workflow.defn(name=WORKFLOW_NAME, sandboxed=False)
class IdleCase:
    """Stand-in under the real name: one workflow task, then waits (as a case between steps)."""

    @workflow.run
    async def run(self, _inp: object) -> None:
        await workflow.wait_condition(lambda: False)


class Seeded:
    """What was planted: workflow ids per fault kind, and the workflows to start."""

    def __init__(self) -> None:
        self.faults: dict[str, set[str]] = {MISSING: set(), DIVERGED: set(), OVERDUE: set()}
        self.starts: list[tuple[str, TypedSearchAttributes]] = []


def seed_store(store: CaseStore, n_open: int, rng: random.Random) -> Seeded:
    """Record cases until ``n_open`` are open (closed ones in between, as in a real kommun)."""
    seeded = Seeded()
    now = datetime.combine(TODAY, dtime(12), tzinfo=STOCKHOLM)
    due = datetime.now(UTC) + timedelta(days=30)
    pending: list[ChildCase] = []
    n = opened = events = 0
    wids: set[str] = set()
    while opened < n_open:
        evs = [parse_event(line) for line in _case(rng, n)]
        n += 1
        if evs[-1].type == "arende_avslutat":
            evs = evs if rng.random() < 0.3 else evs[:-1]  # most kept open: cheaper seeding
        case = ChildCase.open(evs[0], now.date())
        for ev in evs[1:]:
            case.append(ev, now.date())
        pending.append(case)
        events += len(evs)
        if len(pending) >= 50:
            store.save(*pending)
            pending = []
        if evs[-1].type == "arende_avslutat":
            continue
        wid = workflow_id_for(evs[0].kommun, child_pseudonym(evs[0], KEY))
        if wid in wids:  # one workflow per child and kommun; synthetic pnr may repeat
            continue
        wids.add(wid)
        opened += 1
        roll = rng.random()
        kind = (
            MISSING if roll < 0.01 else DIVERGED if roll < 0.02 else OVERDUE if roll < 0.03 else ""
        )
        if kind:
            seeded.faults[kind].add(wid)
        if kind != MISSING:
            seeded.starts.append(
                (
                    wid,
                    TypedSearchAttributes(
                        [
                            SearchAttributePair(search.KOMMUN, evs[0].kommun),
                            SearchAttributePair(search.STAGE, "utredning"),
                            SearchAttributePair(search.NEXT_DUE, due),
                            SearchAttributePair(search.OVERDUE, kind == OVERDUE),
                        ]
                    ),
                )
            )
    if pending:
        store.save(*pending)
    print(f"  store: {n} cases, {events} events, {opened} open", flush=True)
    return seeded


def positions_by_wid(store: CaseStore) -> dict[str, int]:
    """Each open case's last position, by workflow id (what the real workflow publishes)."""
    return {w: e.last_position for w, e in store_expectations(store, KEY).items() if not e.closed}


async def start_all(client: Client, seeded: Seeded, positions: dict[str, int]) -> None:
    sem = asyncio.Semaphore(64)
    done = 0

    async def one(wid: str, attrs: TypedSearchAttributes) -> None:
        nonlocal done
        pos = positions[wid] - (1 if wid in seeded.faults[DIVERGED] else 0)
        async with sem:
            await client.start_workflow(
                IdleCase.run,
                None,
                id=wid,
                task_queue=QUEUE,
                search_attributes=TypedSearchAttributes(
                    [*attrs.search_attributes, SearchAttributePair(search.LAST_POSITION, pos)]
                ),
            )
        done += 1
        if done % 1000 == 0:
            print(f"  started {done}", flush=True)

    await asyncio.gather(*(one(w, a) for w, a in seeded.starts))


async def bare_list(client: Client) -> int:
    """The baseline: one paginated visibility list of the running case workflows, ids only."""
    query = f"WorkflowType = '{WORKFLOW_NAME}' AND ExecutionStatus = 'Running'"
    listed = client.list_workflows(query, page_size=1000, rpc_timeout=timedelta(seconds=120))
    return len([wf.id async for wf in listed])


async def measure(address: str, url: str, n: int, runs: int) -> int:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    ensure_schema(url, schema)
    store = CaseStore(env=eventsourcing_env(url, schema, KEY))
    failures = 0
    try:
        t0 = time.perf_counter()
        seeded = seed_store(store, n, random.Random(19))
        print(f"  recorded in {time.perf_counter() - t0:.1f}s", flush=True)
        client = await connect(address, "default", KEY)
        async with Worker(
            client, task_queue=QUEUE, workflows=[IdleCase], max_concurrent_workflow_tasks=50
        ):
            t0 = time.perf_counter()
            await start_all(client, seeded, positions_by_wid(store))
            expected = len(seeded.starts)
            while (
                await client.count_workflows(
                    f"WorkflowType = '{WORKFLOW_NAME}' AND ExecutionStatus = 'Running'"
                )
            ).count < expected:
                await asyncio.sleep(1)
            print(f"  started {expected} workflows in {time.perf_counter() - t0:.1f}s", flush=True)
            await asyncio.sleep(3)  # let the first workflow tasks settle
            results = []
            for run in range(1, runs + 1):
                load = os.getloadavg()[0]
                t0 = time.perf_counter()
                listed = await bare_list(client)
                base = time.perf_counter() - t0
                t0 = time.perf_counter()
                try:
                    rows = await find_stuck(client, store, KEY, StuckOptions())
                except RPCError as exc:  # a visibility page beyond OPS_RPC_TIMEOUT: say so
                    print(
                        f"run {run}: find_stuck failed after {time.perf_counter() - t0:.1f}s "
                        f"(bare list {base:.2f}s): {exc}",
                        flush=True,
                    )
                    failures += 1
                    continue
                took = time.perf_counter() - t0
                found = {k: {r.workflow_id for r in rows if r.kind == k} for k in seeded.faults}
                right = found == seeded.faults
                failures += not right
                kinds = Counter(r.kind for r in rows)
                results.append((took, base))
                print(
                    f"run {run} (load average {load:.2f} on {os.cpu_count()} cores): "
                    f"find_stuck {took:.2f}s ({dict(kinds)}; planted faults found exactly: "
                    f"{right}); bare list of {listed} workflows {base:.2f}s; "
                    f"ratio {took / base:.2f}",
                    flush=True,
                )
            if not results:
                return failures
            med = statistics.median(t for t, _ in results)
            ratio = statistics.median(t / b for t, b in results)
            print(
                f"workflows {expected}: median find_stuck {med:.2f}s, ratio to bare list "
                f"{ratio:.2f} (target <= 5 s at 10,000, <= 30 s at 100,000)",
                flush=True,
            )
    finally:
        store.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    return failures


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--workflows", type=int, default=10000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--database-url", default=os.environ.get("BARNFLOW_BENCH_DATABASE_URL"))
    args = p.parse_args()
    n, runs = args.workflows, args.runs
    with (
        tempfile.TemporaryDirectory(prefix="bf-stuck-") as tmp,
        dev_server(Path(tmp) / "temporal", headless=True) as server,
    ):
        if args.database_url:
            return asyncio.run(measure(server.address, args.database_url, n, runs))
        with embedded_postgres(Path(tmp) / "pg") as url:
            return asyncio.run(measure(server.address, url, n, runs))


if __name__ == "__main__":
    sys.exit(main())
