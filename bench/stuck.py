"""``ops stuck`` at scale: N running case workflows on a dev server, against bare visibility calls.

    .venv/bin/python bench/stuck.py --workflows 10000 [--runs 3] [--faults 10] [--database-url URL]

Not part of the test command. Seeds quickly but honestly:

* the store gets real encrypted, guarded stored events (``bench.rebuild``'s synthetic histories,
  bulk saves of 50 cases), about 5 events per case, closed cases included; the cases kept open
  are the N whose workflows run;
* N workflows run under the real workflow type name, the real workflow ids
  (``barnarende-<kommun>-<pseudonym>``) and the search attributes the real workflow publishes
  (kommun, stage, next due, overdue, last position), started 256 at a time on an in-memory dev
  server (about 4x faster to write than its database file). Their first workflow task is
  delayed by a day (``start_delay``): Temporal keeps them Running in visibility exactly as a
  case between steps, and the worker polling their task queue does not spend the run on 100,000
  first tasks. ``ops stuck`` reads visibility and the store, never workflow code;
* faults are planted so the answer is checked, not only timed: ``--faults`` open cases each
  get no workflow (missing) or a workflow one position behind the store (diverged); 1 % of the
  workflows carry the overdue flag; a few run a workflow task that fails (Temporal's problem
  flag), a few sit on a task queue no worker polls, a few have an activity retry recorded past
  the limit (a row as the workers' recorder writes it).

Per run it times ``find_stuck`` and, in the same run, the baselines: one bare count of the
running case workflows (the cheapest question visibility answers) and one bare list of them (ids
only, pages of 1000: what ``ops stuck`` had to do before, and still does with ``--deep``). It
prints the ratios, the absolute seconds against the targets (<= 5 s at 10,000, <= 30 s at
100,000), and whether exactly the planted faults were found.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from psycopg import sql
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError
from temporalio.worker import Worker

from bench.processes import unwind_on_sigterm
from bench.rebuild import _case
from domain.aggregate import ChildCase
from domain.calendar import STOCKHOLM
from domain.events import parse_event
from domain.ids import workflow_id_for
from infra.ops import narrowed, stuck
from infra.ops.narrowed import CASE_RUNNING
from infra.ops.stuck import (
    DIVERGED,
    FAILING_TASK,
    MISSING,
    NO_POLLER,
    OVERDUE,
    RETRYING,
    StuckOptions,
    store_expectations,
)
from infra.persistence.embedded_pg import embedded_postgres
from infra.persistence.schema import ATTEMPTS_TABLE
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
from infra.temporal.attempts import ensure_table
from infra.temporal.commands import child_pseudonym
from infra.temporal.devserver import dev_server
from workflows import search
from workflows.messages import WORKFLOW_NAME

KEY = b"k" * 32
QUEUE = "bench-stuck"
UNPOLLED = "bench-stuck-unpolled"
TODAY = date(2026, 11, 1)
#: Workflows per planted kind that needs a running workflow task or a queue (few: rare faults).
FEW = 3
TARGETS = {10_000: 5.0, 100_000: 30.0}


@workflow.defn(name=WORKFLOW_NAME, sandboxed=False)
class IdleCase:
    """Stand-in under the real name: waits (a case between steps), or, given ``"fail"``, fails
    its workflow task every time (what a non-deterministic deploy does to a real case)."""

    @workflow.run
    async def run(self, inp: str | None) -> None:
        if inp == "fail":
            raise RuntimeError("planted workflow task failure")
        await workflow.wait_condition(lambda: False)


@dataclass
class Start:
    wid: str
    attrs: list[SearchAttributePair[Any]]
    queue: str = QUEUE
    fail: bool = False


@dataclass
class Seeded:
    """What was planted: workflow ids per fault kind, and the workflows to start."""

    faults: dict[str, set[str]] = field(
        default_factory=lambda: {
            k: set() for k in (MISSING, DIVERGED, OVERDUE, FAILING_TASK, NO_POLLER, RETRYING)
        }
    )
    starts: list[Start] = field(default_factory=list)


def seed_store(store: CaseStore, n_open: int, rng: random.Random) -> list[tuple[str, str]]:
    """Record cases until ``n_open`` children have an open case (closed ones in between, as in
    a real kommun); their (workflow id, kommun) in order."""
    now = datetime.combine(TODAY, dtime(12), tzinfo=STOCKHOLM)
    pending: list[ChildCase] = []
    n = events = 0
    opened: dict[str, str] = {}
    while len(opened) < n_open:
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
        if evs[-1].type != "arende_avslutat":
            # one workflow per child and kommun: a repeated synthetic pnr shares it
            opened.setdefault(
                workflow_id_for(evs[0].kommun, child_pseudonym(evs[0], KEY)), evs[0].kommun
            )
        if n % 10_000 == 0:
            print(f"  recorded {n} cases, {len(opened)} open", flush=True)
    if pending:
        store.save(*pending)
    print(
        f"  store: {n} cases, {events} events, {len(opened)} children with an open case", flush=True
    )
    return list(opened.items())


def plan(opened: list[tuple[str, str]], faults: int, rng: random.Random) -> Seeded:
    """Choose the planted faults and the workflows to start (each open child's, bar missing)."""
    seeded = Seeded()
    order = list(range(len(opened)))
    rng.shuffle(order)
    picks = iter(order)
    kinds = {
        MISSING: faults,
        DIVERGED: faults,
        OVERDUE: max(1, len(opened) // 100),
        FAILING_TASK: FEW,
        NO_POLLER: FEW,
        RETRYING: FEW,
    }
    kind_of = {}
    for kind, k in kinds.items():
        for _ in range(k):
            i = next(picks)
            kind_of[i] = kind
            seeded.faults[kind].add(opened[i][0])
    due = datetime.now(UTC) + timedelta(days=30)
    for i, (wid, kommun) in enumerate(opened):
        kind = kind_of.get(i, "")
        if kind == MISSING:
            continue
        seeded.starts.append(
            Start(
                wid,
                [
                    SearchAttributePair(search.KOMMUN, kommun),
                    SearchAttributePair(search.STAGE, "utredning"),
                    SearchAttributePair(search.NEXT_DUE, due),
                    SearchAttributePair(search.OVERDUE, kind == OVERDUE),
                ],
                queue=UNPOLLED if kind == NO_POLLER else QUEUE,
                fail=kind == FAILING_TASK,
            )
        )
    return seeded


async def start_all(
    client: Client, seeded: Seeded, positions: dict[str, int], concurrency: int
) -> dict[str, str]:
    """Start every planned workflow, ``concurrency`` at a time; their run ids."""
    sem = asyncio.Semaphore(concurrency)
    runs: dict[str, str] = {}
    t0 = time.perf_counter()

    async def one(s: Start) -> None:
        pos = positions[s.wid] - (1 if s.wid in seeded.faults[DIVERGED] else 0)
        attrs = TypedSearchAttributes([*s.attrs, SearchAttributePair(search.LAST_POSITION, pos)])
        async with sem:
            handle = await client.start_workflow(
                IdleCase.run,
                "fail" if s.fail else None,
                id=s.wid,
                task_queue=s.queue,
                search_attributes=attrs,
                start_delay=None if s.fail else timedelta(days=1),
            )
        runs[s.wid] = handle.first_execution_run_id or ""
        if len(runs) % 10_000 == 0:
            rate = len(runs) / (time.perf_counter() - t0)
            print(f"  started {len(runs)} ({rate:.0f}/s)", flush=True)

    await asyncio.gather(*(one(s) for s in seeded.starts))
    return runs


def plant_retries(store: CaseStore, wids: set[str], runs: dict[str, str]) -> None:
    """Activity retries past the limit, as ``AttemptRecorder`` records them."""
    ensure_table(store)
    table = sql.SQL("{}.{}").format(sql.Identifier(store.schema), sql.Identifier(ATTEMPTS_TABLE))
    with store.pooled_connection() as conn:
        for wid in sorted(wids):
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (workflow_id, run_id, activity_id, activity_type, attempt, "
                    "error) VALUES (%s, %s, '1', 'append_event', 9, 'OperationalError')"
                ).format(table),
                [wid, runs[wid]],
            )


async def bare_list(client: Client) -> int:
    """A baseline: one paginated visibility list of the running case workflows, ids only."""
    listed = client.list_workflows(CASE_RUNNING, page_size=1000, rpc_timeout=timedelta(seconds=300))
    return len([wf.id async for wf in listed])


async def bare_count(client: Client) -> int:
    """A baseline: one count of the running case workflows."""
    return (await client.count_workflows(CASE_RUNNING)).count


async def until(what: str, check: Callable[[], Awaitable[bool]], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(1)


def _rounds(hold: Path | None, runs: int) -> Iterator[int]:
    """Run numbers: ``1..runs``; with ``hold``, rounds of runs on the one seeded server (seeding
    100,000 takes longer than measuring): wait for the file, run as many as its number says
    (``stop``: end) with ``infra.ops.narrowed`` and ``infra.ops.stuck`` reloaded from disk
    (their code changed since seeding; a change elsewhere, e.g. to ``CaseStore``, is not seen:
    the store object was made before), repeat."""
    if hold is None:
        yield from range(1, runs + 1)
        return
    n = 0
    while True:
        print(f"  seeded; holding: write a number of runs (or 'stop') to {hold}", flush=True)
        while not hold.exists():
            time.sleep(2)
        word = hold.read_text().strip()
        hold.unlink()
        if word == "stop":
            return
        importlib.reload(narrowed)
        importlib.reload(stuck)
        print(f"  reloaded infra.ops.narrowed and infra.ops.stuck for {word} runs", flush=True)
        for _ in range(int(word)):
            n += 1
            yield n


async def measure(address: str, url: str, args: argparse.Namespace) -> int:
    n, runs = args.workflows, args.runs
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    ensure_schema(url, schema)
    store = CaseStore(env=eventsourcing_env(url, schema, KEY))
    failures = 0
    print(f"  dev server {address}, store schema {schema}", flush=True)
    try:
        t0 = time.perf_counter()
        opened = seed_store(store, n, random.Random(19))
        print(f"  recorded in {time.perf_counter() - t0:.1f}s", flush=True)
        seeded = plan(opened, args.faults, random.Random(5))
        t0 = time.perf_counter()
        expectations = store_expectations(store, KEY)
        print(f"  store expectations alone: {time.perf_counter() - t0:.2f}s", flush=True)
        positions = {w: e.last_position for w, e in expectations.items() if not e.closed}
        quiet = Runtime(
            telemetry=TelemetryConfig(
                logging=LoggingConfig(
                    filter=TelemetryFilter(core_level="ERROR", other_level="ERROR")
                )
            )
        )
        client = await Client.connect(address, runtime=quiet)
        async with Worker(
            client, task_queue=QUEUE, workflows=[IdleCase], max_concurrent_workflow_tasks=8
        ):
            t0 = time.perf_counter()
            run_ids = await start_all(client, seeded, positions, args.concurrency)
            plant_retries(store, seeded.faults[RETRYING], run_ids)
            expected = len(seeded.starts)

            async def all_visible() -> bool:
                return await bare_count(client) >= expected

            async def flagged() -> bool:
                query = f"{CASE_RUNNING} AND TemporalReportedProblems IS NOT NULL"
                return (await client.count_workflows(query)).count >= FEW

            await until("all workflows visible", all_visible)
            took = time.perf_counter() - t0
            print(
                f"  started {expected} workflows in {took:.1f}s ({expected / took:.0f}/s)",
                flush=True,
            )
            await until("failing workflow tasks flagged", flagged)
            results = []
            opts = StuckOptions(task_queues=(QUEUE,))
            for run in _rounds(args.hold, runs):
                load = os.getloadavg()
                t0 = time.perf_counter()
                counted = await bare_count(client)
                count_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                try:
                    rows = await stuck.find_stuck(client, store, KEY, opts)
                except RPCError as exc:  # keep a held seeding alive for the next round
                    failures += 1
                    print(
                        f"run {run} (load average {load[0]:.2f}): find_stuck FAILED after "
                        f"{time.perf_counter() - t0:.1f}s: {exc}",
                        flush=True,
                    )
                    continue
                took = time.perf_counter() - t0
                t0 = time.perf_counter()
                stuck.store_expectations(store, KEY)
                scan_s = time.perf_counter() - t0
                list_s = float("nan")
                if not args.no_list:
                    t0 = time.perf_counter()
                    listed = await bare_list(client)
                    list_s = time.perf_counter() - t0
                    assert listed == counted, (listed, counted)
                found = {k: {r.workflow_id for r in rows if r.kind == k} for k in seeded.faults}
                right = found == seeded.faults
                wrong = {
                    k: (len(found[k] - v), len(v - found[k]))
                    for k, v in seeded.faults.items()
                    if found[k] != v
                }
                failures += not right
                results.append((took, count_s, list_s))
                print(
                    f"run {run} (load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on "
                    f"{os.cpu_count()} cores, {counted} running): find_stuck {took:.2f}s "
                    f"(its store scan alone, timed after: {scan_s:.2f}s) "
                    f"({dict(Counter(r.kind for r in rows))}; planted faults found exactly: "
                    f"{right}{'' if right else f' (extra, not found): {wrong}'}); "
                    f"bare count {count_s:.3f}s (ratio {took / count_s:.0f}); "
                    f"bare list {list_s:.2f}s (ratio {took / list_s:.2f})",
                    flush=True,
                )
            if not results:
                print(f"workflows {expected}: no run of find_stuck succeeded", flush=True)
                return failures
            med = statistics.median(t for t, _, _ in results)
            target = TARGETS.get(n)
            verdict = ""
            if target:
                verdict = f" against the target <= {target:.0f} s: " + (
                    "met" if med <= target else "NOT met"
                )
            vs_count = statistics.median(t / c for t, c, _ in results)
            vs_list = (
                ""
                if args.no_list
                else (f", to a bare list {statistics.median(t / s for t, _, s in results):.2f}")
            )
            print(
                f"workflows {expected}: median find_stuck {med:.2f}s{verdict}; "
                f"median ratio to a bare count {vs_count:.0f}{vs_list}",
                flush=True,
            )
    finally:
        store.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    return failures


def main() -> int:
    unwind_on_sigterm()
    # the planted failing workflow tasks are logged by the SDK on every retry: not news here
    logging.getLogger("temporalio").setLevel(logging.CRITICAL)
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--workflows", type=int, default=10000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--faults", type=int, default=10, help="missing and diverged cases each")
    p.add_argument("--concurrency", type=int, default=256, help="workflow starts in flight")
    p.add_argument("--no-list", action="store_true", help="skip the bare-list baseline")
    p.add_argument(
        "--hold",
        type=Path,
        help="keep the seeded server; run rounds when this file names a number (see _rounds)",
    )
    p.add_argument("--database-url", default=os.environ.get("BARNFLOW_BENCH_DATABASE_URL"))
    args = p.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bf-stuck-") as tmp,
        dev_server(Path(tmp) / "temporal", headless=True, in_memory=True) as server,
    ):
        if args.database_url:
            return asyncio.run(measure(server.address, args.database_url, args))
        with embedded_postgres(Path(tmp) / "pg") as url:
            return asyncio.run(measure(server.address, url, args))


if __name__ == "__main__":
    sys.exit(main())
