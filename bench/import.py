"""Bulk import against a raw PostgreSQL COPY of the same lines, and adoption of open cases into
workflows, in one run (issue #19 item 3).

    .venv/bin/python bench/import.py [--cases 1000] [--adopt 1000] [--concurrency 32]
                                     [--old] [--profile] [--database-url URL]
                                     [--kommun-dir DIR]

Starts an embedded PostgreSQL in a temporary directory (unless a URL is given) and, for the
adoption part, a Temporal dev server with a real barnflow worker; both are stopped by pid.

* **import** (events/s): ``infra.persistence.importer.import_lines`` (parse, validate, judge,
  seal, chain, COPY) of ``--cases`` closed lifecycles (11 lines each, interleaved so every batch
  holds many cases), and the floor: the same JSON lines into a plain jsonb table with one
  ``COPY``. ``--old`` also times the previous path (one ``record_batch`` per case) on a third of
  the cases; ``--profile`` prints the import's cProfile top lines.
* **adoption** (cases/s): ``--adopt`` open cases imported store-only, then started as workflows
  by ``infra.temporal.adoption.adopt_all`` (``--concurrency`` starts in flight) and, as its
  baseline, a tenth of as many again one start at a time; the time for 10,000 cases is
  extrapolated from the measured rate. Adoption runs as ``barnflow import`` does: with the
  import's own fold (``ImportSummary.adoption``) and the store's per-workflow payload keys
  (until 2026-12-01 this bench connected with the cluster key only, so no key row was written
  per workflow); it prints the CPU milliseconds per adopted case of this process (client and
  worker), the Temporal server and PostgreSQL. ``--kommun-dir DIR`` puts that directory's
  kommun files in force (``BARNFLOW_KOMMUN_DIR``; ``config`` holds the two samples, 1280 and
  0127), as a kommun with a delegationsordning runs: each adopted run then reads its
  configuration too, and the lines are judged against it.

Prints the numbers and the ratios. The machine may be shared: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import itertools
import pstats
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson
import psutil
import psycopg
from psycopg import sql
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.api import _raw_inserts, kommun_files_in_force
from bench.processes import unwind_on_sigterm
from bench.workflow import CpuMeter, lifecycle
from domain.identity import luhn_check_digit
from infra.config.settings import Keys
from infra.persistence.embedded_pg import embedded_postgres
from infra.persistence.importer import import_lines, validate
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
from infra.temporal.adoption import adopt_all
from infra.temporal.client import connect
from infra.temporal.devserver import dev_server
from infra.temporal.worker import running_worker

KEYS = Keys(
    codec=secrets.token_bytes(32), pseudonym=secrets.token_bytes(32), cipher=secrets.token_bytes(32)
)
#: Case number ranges per phase (distinct case refs and children).
IMPORT, OLD, ADOPT, SERIAL = 0, 200_000, 400_000, 600_000


def _child(i: int) -> str:
    """A personnummer of its own for case ``i`` (up to 3,356,640): one workflow per open case."""
    year, month, day, serial = 10 + i % 10, 1 + (i // 10) % 12, 1 + (i // 120) % 28, i // 3360
    nine = f"{year}{month:02d}{day:02d}{1 + serial % 999:03d}"
    return f"20{nine}{luhn_check_digit(nine)}"


def _opened(i: int, at: datetime) -> list[dict[str, Any]]:
    """Case ``i``'s lifecycle left open after its utredning, with a child of its own."""
    events = lifecycle(i, at)[:5]
    events[0]["data"]["barn"]["personnummer"] = _child(i)
    return events


def _lines(cases: range, at: datetime, *, open_cases: bool = False) -> list[str]:
    """Lifecycles interleaved line by line; ``open_cases``: each left open after its utredning."""
    per_case = [_opened(i, at) if open_cases else lifecycle(i, at) for i in cases]
    rows = itertools.chain.from_iterable(itertools.zip_longest(*per_case))
    return [orjson.dumps(ev).decode() for ev in rows if ev is not None]


def _old_path(store: CaseStore, lines: list[str]) -> float:
    """Seconds for the previous import: validate, then one ``record_batch`` per run of a case."""
    started = time.perf_counter()
    todo = validate(store, lines).todo
    todo.sort(key=lambda ev: ev.case_ref)  # stable: each case's lines keep their order
    for _, run in itertools.groupby(todo, key=lambda ev: ev.case_ref):
        store.record_batch(list(run), lagrum=False)
    return time.perf_counter() - started


def _import(store: CaseStore, lines: list[str], profile: bool) -> float:
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    summary = import_lines(store, lines)
    if profiler is not None:
        profiler.disable()
    secs = time.perf_counter() - started
    if summary.appended != len(lines):
        raise RuntimeError(f"import appended {summary.appended} of {len(lines)}")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    return secs


async def _adoption(
    store: CaseStore, tmp: Path, args: argparse.Namespace, at: datetime
) -> tuple[float, int, float, int]:
    """(seconds, cases) for ``adopt_all`` and for one start at a time."""
    open_lines = _lines(range(ADOPT, ADOPT + args.adopt), at, open_cases=True)
    serial_n = max(args.adopt // 10, 1)
    serial_lines = _lines(range(SERIAL, SERIAL + serial_n), at, open_cases=True)
    summary = import_lines(store, open_lines)
    serial = import_lines(store, serial_lines)
    if len(summary.open_cases) != args.adopt or len(serial.open_cases) != serial_n:
        raise RuntimeError("the adoption cases were not all left open")
    async with AsyncExitStack() as stack:
        server = stack.enter_context(dev_server(tmp / "temporal", headless=True))
        # the store's per-workflow payload keys, as `barnflow import` connects (issue 16): each
        # adopted workflow gets its key row, which the adoption pays for
        client = await connect(
            server.address, "default", KEYS.codec, workflow_keys=store.workflow_keys
        )
        meter = CpuMeter(server.pid, _postmaster(store))
        tq = "bench-import"
        await stack.enter_async_context(
            running_worker(client, store, tq, pseudonym_key=KEYS.pseudonym)
        )
        common: dict[str, Any] = {"pseudonym_key": KEYS.pseudonym, "task_queue": tq}
        meter.start()
        started = time.perf_counter()
        done = await adopt_all(
            client,
            store,
            summary.open_cases,
            concurrency=args.concurrency,
            known=summary.adoption,  # as `barnflow import` and POST /import pass it
            **common,
        )
        secs = time.perf_counter() - started
        await _first_tasks_done(client, tq, done.started)
        settled = time.perf_counter() - started
        cpu = meter.stop()
        await _print_one_history(client, tq)
        print(
            f"adopt_all returned after {secs:.1f} s; every adopted workflow had run its first "
            f"task (read and folded its record, published its search attributes) after "
            f"{settled:.1f} s"
        )
        print(
            "CPU ms per adopted case (until then): "
            + " · ".join(f"{k} {v * 1000 / max(done.started, 1):.1f}" for k, v in cpu.items())
        )
        secs = settled
        started = time.perf_counter()
        one = await adopt_all(
            client, store, serial.open_cases, concurrency=1, known=serial.adoption, **common
        )
        await _first_tasks_done(client, tq, done.started + one.started)
        serial_secs = time.perf_counter() - started
        again = await adopt_all(client, store, summary.open_cases, **common)  # a re-run
    for name, r in (("adopt_all", done), ("one at a time", one)):
        if r.failed:  # counted out of the rate and shown, never hidden
            print(f"{name}: {len(r.failed)} start(s) failed, first: {r.failed[0]}")
        if r.already_running:
            raise RuntimeError(f"{name}: {r.already_running} cases already running")
    if again.started > len(done.failed):
        raise RuntimeError(f"a re-run started {again.started} workflows again")
    return secs, done.started, serial_secs, one.started


async def bench(args: argparse.Namespace) -> None:
    at = datetime.now(UTC) - timedelta(days=3)
    with tempfile.TemporaryDirectory(prefix="bf-bench-import-") as tmp_name:
        tmp = Path(tmp_name)
        with embedded_postgres(tmp / "pg") if args.database_url is None else _given(args) as url:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            ensure_schema(url, schema)
            env = eventsourcing_env(url, schema, KEYS.cipher)
            if args.kommun_dir is not None:  # in force, as `barnflow import` with the files
                env = kommun_files_in_force(url, schema, env, args.kommun_dir)
            store = CaseStore(env=env)
            try:
                await _run(url, schema, store, tmp, args=args, at=at)
            finally:
                store.close()
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


async def _first_tasks_done(client: Client, task_queue: str, n: int) -> None:
    """Wait until ``n`` case workflows on ``task_queue`` have published their record's last
    position (their first workflow task is done): a start returns once the server has it, and
    the worker may still be working through the first tasks long after ``adopt_all`` returns."""
    query = f"TaskQueue = '{task_queue}' AND BarnflowLastPosition > 0"
    deadline = time.monotonic() + 900
    while (await client.count_workflows(query)).count < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {n} adopted workflows ran their first task in 900 s")
        await asyncio.sleep(0.5)


async def _print_one_history(client: Client, task_queue: str) -> None:
    """The history of one adopted workflow so far, as event types and counts: what the Temporal
    server stored and indexed for it."""
    async for execution in client.list_workflows(f"TaskQueue = '{task_queue}'", limit=1):
        history = await client.get_workflow_handle(execution.id).fetch_history()
        kinds = Counter(EventType.Name(e.event_type) for e in history.events)
        print(
            f"one adopted workflow's history: {len(history.events)} events: "
            + ", ".join(f"{k.removeprefix('EVENT_TYPE_').lower()} {n}" for k, n in kinds.items())
        )
        return


def _postmaster(store: CaseStore) -> int:
    """The pid of the PostgreSQL server the store writes to (the parent of its backend): the
    machine's own server or the embedded one, both on this host."""
    with store.pooled_connection() as conn:
        row = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()
    assert row is not None
    backend = psutil.Process(int(row["pid"]))  # the datastore's connections give dict rows
    parent = backend.parent()
    assert parent is not None
    return int(parent.pid)


class _given:
    """The ``--database-url`` as a context manager (nothing to start or stop)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.url = str(args.database_url)

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        return None


async def _run(
    url: str, schema: str, store: CaseStore, tmp: Path, *, args: argparse.Namespace, at: datetime
) -> None:
    lines = _lines(range(IMPORT, IMPORT + args.cases), at)
    import_secs = _import(store, lines, args.profile)
    copy_secs, _ = _raw_inserts(url, schema, lines)
    events = len(lines)
    print(f"import: {args.cases} cases, {events} event lines")
    print(f"{'import_lines (bulk)':28}{events / import_secs:10.0f} events/s")
    print(f"{'raw COPY':28}{events / copy_secs:10.0f} events/s")
    print(f"import_lines / raw COPY: {copy_secs / import_secs:.3f}x")
    if args.old:
        old_lines = _lines(range(OLD, OLD + max(args.cases // 3, 1)), at)
        old_secs = _old_path(store, old_lines)
        old_rate = len(old_lines) / old_secs
        print(f"{'previous path (per case)':28}{old_rate:10.0f} events/s ({len(old_lines)} lines)")
        print(f"previous path / raw COPY: {old_rate / (events / copy_secs):.3f}x")
    if args.adopt > 0:
        secs, n, serial_secs, serial_n = await _adoption(store, tmp, args, at)
        rate, serial_rate = n / secs, serial_n / serial_secs
        print(f"\nadoption: {n} open cases, {args.concurrency} starts in flight")
        print(f"{'adopt_all, first tasks done':28}{rate:10.1f} cases/s ({secs:.1f} s)")
        print(f"{'one at a time, tasks done':28}{serial_rate:10.1f} cases/s ({serial_n} cases)")
        print(
            f"adopt_all / one at a time: {rate / serial_rate:.1f}x; 10,000 cases at this rate: "
            f"{10_000 / rate:.0f} s (target <= 60 s)"
        )


def main() -> None:
    unwind_on_sigterm()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", type=int, default=1000, help="closed cases imported (11 lines)")
    p.add_argument("--adopt", type=int, default=1000, help="open cases adopted (0: skip)")
    p.add_argument("--concurrency", type=int, default=32, help="adoption starts in flight")
    p.add_argument("--old", action="store_true", help="also time the previous import path")
    p.add_argument("--profile", action="store_true", help="print the import's cProfile top lines")
    p.add_argument("--database-url", default=None, help="default: an embedded PostgreSQL")
    p.add_argument(
        "--kommun-dir",
        type=Path,
        default=None,
        help="kommun configuration files in force (BARNFLOW_KOMMUN_DIR); default: none",
    )
    args = p.parse_args()
    if not 0 < args.cases <= 150_000 or not 0 <= args.adopt <= 150_000:
        p.error("--cases 1..150000, --adopt 0..150000 (the phases' case numbers must not overlap)")
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
