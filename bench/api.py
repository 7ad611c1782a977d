"""Command latency over HTTP against the floor of any Temporal + PostgreSQL design, and import
throughput against a raw PostgreSQL insert of the same lines, in one run.

    .venv/bin/python bench/api.py [--cases 40] [--concurrency 1,4] [--rounds 4]
                                  [--import-cases 300] [--database-url URL]
                                  [--layout processes|one-process] [--profile DIR]
                                  [--samples FILE.csv] [--kommun-dir bench/kommun]

Starts its own Temporal dev server (a temporary database file) and, unless a database URL is
given, an embedded PostgreSQL in a temporary directory; both are stopped by pid at the end.

``--layout processes`` (the default) runs them as a deployment does (deploy/, README "Against a
real Temporal cluster"): the API is ``barnflow api serve`` in a process of its own, the case
workflows run in ``barnflow worker --no-projections`` in another, and the baselines' workers in a
third (bench/bare_worker.py), so the bench's process holds only the callers: the HTTP client,
``send_command`` and the baselines' Temporal client. ``--layout one-process`` is the earlier
setup: the API (uvicorn), the case worker, the baselines' workers and the callers on one event
loop, where at concurrency 4 each request waits for the other requests' client, server and
worker slices of that loop (docs/operations.md "Command latency: the layout"). Every child is
stopped by its pid. The first line printed says which layout ran; the CPU each process spent per
command in each phase is printed with the latencies.

* **latency** (p50/p99 per command, at each ``--concurrency``: that many cases at a time, each
  case's 11 commands in order): ``POST /commands`` over HTTP; the same commands through
  ``send_command`` in process (no HTTP); the **baseline**, a bare update whose handler runs one
  local activity inserting one row into PostgreSQL (bench/bare_workflow.py: the floor of any
  Temporal + PostgreSQL design); and a bare update that only counts (no activity, no database:
  bench/bare_update_workflow.py). The four are measured in ``--rounds`` interleaved rounds, so a
  machine shared with other work slows them alike. Targets: HTTP p50 <= 1.5x and p99 <= 2x the
  baseline; the HTTP layer (HTTP p50 - ``send_command`` p50) <= 5 ms.
* **a configured kommun** (``--kommun-dir DIR``): the kommun files in force for the API, the
  case worker and ``send_command``, as a kommun with a delegationsordning runs (every case run
  reads its configuration; decisions are judged against it). ``bench/kommun`` holds kommun
  1280's, which the lifecycle satisfies. The baselines do not change.
* **samples** (``--samples FILE.csv``): every command's latency with its phase, concurrency,
  round and place in the lifecycle (0: the opening update-with-start), to tell a tail that falls
  on one command type from one that falls on every phase of a round alike (the machine).
* **profile** (``--profile DIR``, one-process layout only: it profiles the bench's own loop):
  one more HTTP round at concurrency 1 (not counted) under
  pyinstrument (``DIR/api-http.txt`` and ``.html``: the event loop's wall time per call tree)
  and under yappi (``DIR/api-http-cpu.txt``: CPU seconds per function over every thread).
* **import** (events/s): ``infra.persistence.importer.import_lines`` in process, ``POST /import``
  over HTTP, and the floor: the same JSON lines into a plain table with psycopg ``COPY`` and with
  ``executemany``.

Prints the numbers and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import orjson
import psutil
import psycopg
from psycopg import sql
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from bench import bare_worker
from bench.bare_update_workflow import BareUpdateWorkflow
from bench.bare_workflow import BareWorkflow
from bench.processes import running, unwind_on_sigterm
from bench.workflow import lifecycle
from domain.events import parse_event
from infra.api.app import create_app
from infra.api.auth import create_jwt
from infra.api.serve import bind, serving
from infra.api.services import Services
from infra.config.api import ApiConfig
from infra.config.kommun import load_kommun_dir
from infra.config.settings import DatabaseSettings, Keys, Settings
from infra.persistence.db import ensure_tables
from infra.persistence.embedded_pg import embedded_postgres
from infra.persistence.importer import import_lines
from infra.persistence.kommun_config import store_versions, with_versions
from infra.persistence.schema import migrate
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
from infra.temporal.client import connect, register_search_attributes
from infra.temporal.commands import send_command
from infra.temporal.devserver import dev_server
from infra.temporal.worker import running_worker

ROOT = Path(__file__).resolve().parents[1]
BARNFLOW = str(ROOT / ".venv" / "bin" / "barnflow")
KEYS = Keys(
    codec=secrets.token_bytes(32), pseudonym=secrets.token_bytes(32), cipher=secrets.token_bytes(32)
)
JWT_KEY = secrets.token_bytes(32)
#: Case number ranges per phase: distinct children (workflow ids) and case refs.
WARM, HTTP, DIRECT, BARE, IMPORT, HTTP_IMPORT, PROFILE = 0, 1000, 3000, 5000, 7000, 10000, 12000
#: The latency phases, measured in interleaved rounds; "baseline" is the floor of the targets.
PHASES = ("http", "direct", "baseline", "bare")
LABELS = {
    "http": "POST /commands (HTTP)",
    "direct": "send_command (no HTTP)",
    "baseline": "baseline: update + insert",
    "bare": "bare update (no insert)",
}

Command = Callable[[dict[str, Any]], Awaitable[None]]


async def _latencies(
    cases: Sequence[int], concurrency: int, at: datetime, first: Command, rest: Command
) -> list[tuple[int, float]]:
    """``(n, seconds)`` per command, ``n`` its place in the case's lifecycle (0: the opening
    command); ``first`` sends a case's opening command, ``rest`` the others."""
    gate = asyncio.Semaphore(concurrency)
    out: list[tuple[int, float]] = []

    async def one(i: int) -> None:
        async with gate:
            for n, ev in enumerate(lifecycle(i, at)):
                started = time.perf_counter()
                await (first if n == 0 else rest)(ev)
                out.append((n, time.perf_counter() - started))

    await asyncio.gather(*(one(i) for i in cases))
    return out


def kommun_files_in_force(
    url: str, schema: str, env: dict[str, str], directory: Path
) -> dict[str, str]:
    """``env`` with the kommun files of ``directory`` in force, as ``barnflow`` starts with
    ``BARNFLOW_KOMMUN_DIR``: the schema migrated (the configurations' table, before any service
    starts), the versions stored, and named in the store's environment."""
    configs = load_kommun_dir(directory)
    migrate(url, schema, env)
    with psycopg.connect(url, autocommit=True) as conn:
        store_versions(conn, schema, configs)
    return with_versions(env, configs.versions())


def _write_samples(path: Path, samples: Sequence[Sample]) -> None:
    """Every command's latency as CSV, to see where a tail comes from (which command of the
    lifecycle, which round); says on stdout where it was written."""
    with path.open("w") as f:
        f.write("phase,concurrency,round,command,type,ms\n")
        for phase, c, r, n, seconds in samples:
            f.write(f"{phase},{c},{r},{n},{COMMAND_TYPES[n]},{seconds * 1000:.3f}\n")
    print(f"every command's latency: {path} ({len(samples)} rows)")


def _pct(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49] * 1000, q[98] * 1000


def _lines(cases: range, at: datetime) -> list[str]:
    return [orjson.dumps(ev).decode() for i in cases for ev in lifecycle(i, at)]


def _raw_inserts(url: str, schema: str, lines: list[str]) -> tuple[float, float]:
    """Seconds for COPY and for executemany of ``lines`` into a plain jsonb table."""
    table = sql.Identifier(schema, "raw_lines")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE TABLE {} (id bigserial PRIMARY KEY, line jsonb)").format(table)
        )
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(sql.SQL("COPY {} (line) FROM STDIN").format(table)) as copy,
        ):
            for ln in lines:
                copy.write_row((ln,))
        copy_secs = time.perf_counter() - started
        conn.execute(sql.SQL("TRUNCATE {}").format(table))
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                sql.SQL("INSERT INTO {} (line) VALUES (%s)").format(table), [(ln,) for ln in lines]
            )
        many_secs = time.perf_counter() - started
    return copy_secs, many_secs


Phases = dict[tuple[str, int], list[float]]
#: One command's latency: phase, concurrency, round, its place in the lifecycle, seconds.
Sample = tuple[str, int, int, int, float]
#: The lifecycle's event types by place (for ``--samples``).
COMMAND_TYPES = [ev["type"] for ev in lifecycle(0, datetime(2026, 1, 1, tzinfo=UTC))]
#: CPU seconds per process name, and wall seconds, spent in each ``(phase, concurrency)``.
CpuByPhase = dict[tuple[str, int], dict[str, float]]
BARE_TABLE = "bare_events"
#: Which processes hold what, per layout (printed first).
LAYOUTS = {
    "processes": "API (`barnflow api serve`), case worker (`barnflow worker --no-projections`) "
    "and the baselines' workers (bench/bare_worker.py) each in a process of its own; the "
    "bench's process holds only the callers",
    "one-process": "API (uvicorn), case worker, baselines' workers and the callers on one event "
    "loop in the bench's process",
}


class _CpuMeter:
    """CPU seconds (user + system, every thread) of each named process since it started, and
    (``"<name> wait"``) the seconds its main thread, the event loop of a Python process, spent
    ready to run but waiting for a core (``/proc/PID/schedstat``): on a shared 2-core machine
    that is how long each process's wake-ups queued behind other work."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._procs = {name: psutil.Process(pid) for name, pid in pids.items()}

    @property
    def names(self) -> list[str]:
        return list(self._procs)

    def read(self) -> dict[str, float]:
        out = {}
        for name, proc in self._procs.items():
            t = proc.cpu_times()
            out[name] = t.user + t.system
            try:
                fields = Path(f"/proc/{proc.pid}/schedstat").read_text().split()
                out[f"{name} wait"] = int(fields[1]) / 1e9
            except (OSError, IndexError, ValueError):  # not Linux, or no schedstats
                out[f"{name} wait"] = 0.0
        return out


async def _latency_phases(
    args: argparse.Namespace,
    *,
    client: Client,
    store: CaseStore,
    http: httpx.AsyncClient,
    tq: str,
    at: datetime,
    meter: _CpuMeter,
    samples: list[Sample] | None = None,
) -> tuple[Phases, CpuByPhase]:
    """Seconds per command of each phase at each concurrency, keyed ``(phase, concurrency)``,
    and the CPU each metered process spent in each (plus ``"wall"``: the phase's seconds).

    The phases alternate in ``args.rounds`` rounds (each a slice of the cases), so a load that
    comes and goes on a shared machine falls on all four rather than on whichever ran then.
    ``samples``, if given, gets every command's latency (``Sample``) for ``--samples``.
    """

    async def post(ev: dict[str, Any]) -> None:
        r = await http.post("/commands", json=ev)
        if r.status_code != 201:
            raise RuntimeError(f"POST /commands: {r.status_code} {r.text}")

    async def direct(ev: dict[str, Any]) -> None:
        await send_command(
            client, store, parse_event(ev), pseudonym_key=KEYS.pseudonym, task_queue=tq
        )

    def updates(workflow: Any, queue: str, prefix: str) -> tuple[Command, Command]:
        async def first(ev: dict[str, Any]) -> None:
            start = WithStartWorkflowOperation(
                workflow.run,
                id=f"{prefix}-{ev['case_ref']}",
                task_queue=queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
            await client.execute_update_with_start_workflow(
                workflow.command, ev, start_workflow_operation=start
            )

        async def rest(ev: dict[str, Any]) -> None:
            handle = client.get_workflow_handle(f"{prefix}-{ev['case_ref']}")
            await handle.execute_update(workflow.command, ev)

        return first, rest

    senders: dict[str, tuple[Command, Command]] = {
        "http": (post, post),
        "direct": (direct, direct),
        "baseline": updates(BareWorkflow, bare_worker.INSERT_QUEUE, "bare-ins"),
        "bare": updates(BareUpdateWorkflow, bare_worker.UPDATE_QUEUE, "bare"),
    }
    bases = {"http": HTTP, "direct": DIRECT, "baseline": BARE, "bare": BARE}
    n, rounds = args.cases, args.rounds
    out: Phases = {}
    cpu: CpuByPhase = {}
    for phase in PHASES:  # warm-up: imports, connections, the workflow caches
        warm = range(WARM + 100 * PHASES.index(phase), WARM + 100 * PHASES.index(phase) + 4)
        await _latencies(warm, 4, at, *senders[phase])
    for k, c in enumerate(args.concurrency):
        for r in range(rounds):
            for phase in PHASES:
                cases = range(bases[phase] + k * n, bases[phase] + (k + 1) * n)
                before, started = meter.read(), time.perf_counter()
                got = await _latencies(cases[r::rounds], c, at, *senders[phase])
                wall, after = time.perf_counter() - started, meter.read()
                out.setdefault((phase, c), []).extend(seconds for _, seconds in got)
                if samples is not None:
                    samples.extend((phase, c, r, n, seconds) for n, seconds in got)
                spent = cpu.setdefault((phase, c), {"wall": 0.0})
                spent["wall"] += wall
                for name in after:
                    spent[name] = spent.get(name, 0.0) + after[name] - before[name]
    return out, cpu


async def _profile_http(directory: Path, http: httpx.AsyncClient, at: datetime, n: int) -> None:
    """One more HTTP round at concurrency 1 under pyinstrument (the event loop's wall time per
    call tree) and then yappi (CPU per function, every thread); written to ``directory``."""
    import pyinstrument
    import yappi

    async def post(ev: dict[str, Any]) -> None:
        r = await http.post("/commands", json=ev)
        if r.status_code != 201:
            raise RuntimeError(f"POST /commands: {r.status_code} {r.text}")

    directory.mkdir(parents=True, exist_ok=True)
    profiler = pyinstrument.Profiler(interval=0.0005, async_mode="disabled", use_timing_thread=True)
    profiler.start()
    await _latencies(range(PROFILE, PROFILE + n), 1, at, post, post)
    profiler.stop()
    (directory / "api-http.txt").write_text(
        profiler.output_text(unicode=True, show_all=False, short_mode=False)
    )
    (directory / "api-http.html").write_text(profiler.output_html())
    if profiler.last_session is not None:  # re-render: pyinstrument --load api-http.pyisession
        profiler.last_session.save(str(directory / "api-http.pyisession"))
    yappi.set_clock_type("cpu")
    yappi.start(builtins=False, profile_threads=True)
    await _latencies(range(PROFILE + n, PROFILE + 2 * n), 1, at, post, post)
    yappi.stop()
    with (directory / "api-http-cpu.txt").open("w") as f:
        stats = yappi.get_func_stats()
        stats.sort("ttot", "desc")
        stats.print_all(
            out=f,
            columns={0: ("name", 100), 1: ("ncall", 8), 2: ("tsub", 8), 3: ("ttot", 8)},
        )
    yappi.clear_stats()
    print(f"profiles of {n} cases x 11 commands over HTTP in {directory}/api-http*.txt")


def _print_latency(
    args: argparse.Namespace, lat: Phases, cpu: CpuByPhase, names: list[str], per_case: int
) -> None:
    n = args.cases
    print(f"commands: {n} cases x {per_case} commands, in {args.rounds} interleaved rounds")
    for c in args.concurrency:
        print(f"\nconcurrency {c} (cases at a time){'p50 ms':>10}{'p99 ms':>10}")
        for phase in PHASES:
            p50, p99 = _pct(lat[phase, c])
            print(f"{LABELS[phase]:32}{p50:10.1f}{p99:10.1f}")
        h50, h99 = _pct(lat["http", c])
        d50, _ = _pct(lat["direct", c])
        b50, b99 = _pct(lat["baseline", c])
        print(
            f"HTTP / baseline: p50 {h50 / b50:.2f}x (target <= 1.5), "
            f"p99 {h99 / b99:.2f}x (target <= 2)"
        )
        print(f"HTTP layer (HTTP p50 - send_command p50): {h50 - d50:.1f} ms (target <= 5)")
        print("CPU ms per command by process (in brackets: its CPU seconds per wall second)")
        print(f"{'':32}" + "".join(f"{name[:22]:>24}" for name in names))
        for phase in PHASES:
            spent, count = cpu[phase, c], len(lat[phase, c])
            cells = "".join(
                f"{spent[name] / count * 1000:14.1f} ({spent[name] / spent['wall']:4.2f})    "
                for name in names
            )
            print(f"{LABELS[phase]:32}{cells}")
        print("run-queue wait of each process's main thread (its event loop), ms per command")
        print(f"{'':32}" + "".join(f"{name[:22]:>24}" for name in names))
        for phase in PHASES:
            spent, count = cpu[phase, c], len(lat[phase, c])
            cells = "".join(f"{spent[f'{name} wait'] / count * 1000:24.1f}" for name in names)
            print(f"{LABELS[phase]:32}{cells}")


async def bench(args: argparse.Namespace) -> None:
    at = datetime.now(UTC) - timedelta(hours=1)
    print(f"layout: {args.layout}: {LAYOUTS[args.layout]}", flush=True)
    async with AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bf-bench-api-")))
        url = args.database_url or stack.enter_context(embedded_postgres(tmp / "pg"))
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        ensure_schema(url, schema)

        def drop() -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

        stack.callback(drop)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE TABLE {} (id bigserial PRIMARY KEY, body jsonb)").format(
                    sql.Identifier(schema, BARE_TABLE)
                )
            )
        store_env = eventsourcing_env(url, schema, KEYS.cipher)
        if args.kommun_dir is not None:  # in force here too: send_command names the version
            store_env = kommun_files_in_force(url, schema, store_env, args.kommun_dir)
        store = CaseStore(env=store_env)
        stack.callback(store.close)
        ensure_tables(store)
        server = stack.enter_context(dev_server(tmp / "temporal", headless=True))
        # the store's workflow keys, as the API and `barnflow worker` connect (a case workflow's
        # payloads under its own key; the baselines' workflows keep the cluster key)
        client: Client = await connect(
            server.address, "default", KEYS.codec, workflow_keys=store.workflow_keys
        )
        tq = "bench-api"
        pids = {"Temporal server": server.pid}
        if args.layout == "processes":
            await register_search_attributes(client, "default")  # `api serve` checks them
            env = {
                **os.environ,
                "BARNFLOW_HOME": str(tmp / "home"),
                "BARNFLOW_DATABASE_URL": url,
                "BARNFLOW_DATABASE_SCHEMA": schema,
                "BARNFLOW_TEMPORAL_ADDRESS": server.address,
                "BARNFLOW_TEMPORAL_NAMESPACE": "default",
                "BARNFLOW_TASK_QUEUE": tq,
                "BARNFLOW_MODE": "dev",
                "BARNFLOW_CODEC_KEY": base64.b64encode(KEYS.codec).decode(),
                "BARNFLOW_PSEUDONYM_KEY": base64.b64encode(KEYS.pseudonym).decode(),
                "BARNFLOW_CIPHER_KEY": base64.b64encode(KEYS.cipher).decode(),
                "BARNFLOW_JWT_KEY": base64.b64encode(JWT_KEY).decode(),
                "BARNFLOW_API_MAX_INFLIGHT": "1024",  # as the one-process layout's ApiConfig
                "BARNFLOW_API_COMMAND_TIMEOUT": "120",
                "BARNFLOW_TELEMETRY": "off",
                **(
                    {}
                    if args.kommun_dir is None
                    else {"BARNFLOW_KOMMUN_DIR": str(args.kommun_dir.resolve())}
                ),
            }
            logs = tmp / "logs"
            logs.mkdir()
            worker_pid = stack.enter_context(
                running(
                    [BARNFLOW, "worker", "--no-projections"],
                    env,
                    logs / "worker.log",
                    "barnflow worker on",
                )
            )
            bare_pid = stack.enter_context(
                running(
                    [
                        sys.executable,
                        str(ROOT / "bench" / "bare_worker.py"),
                        *("--address", server.address, "--database-url", url),
                        *("--schema", schema, "--table", BARE_TABLE),
                    ],
                    {**env, "BENCH_CODEC_KEY": env["BARNFLOW_CODEC_KEY"]},
                    logs / "bare-worker.log",
                    bare_worker.READY,
                )
            )
            sock = bind("127.0.0.1", 0)  # a free port for `api serve`
            port = sock.getsockname()[1]
            sock.close()
            api_pid = stack.enter_context(
                running(
                    [BARNFLOW, "api", "serve", "--port", str(port)],
                    env,
                    logs / "api.log",
                    "barnflow api on",
                )
            )
            base = f"http://127.0.0.1:{port}"
            pids = {
                "bench (callers)": os.getpid(),
                "API (api serve)": api_pid,
                "case worker": worker_pid,
                "bare worker": bare_pid,
                **pids,
            }
        else:
            settings = Settings(
                home=tmp,
                database=DatabaseSettings(url=url, schema=schema),
                temporal_address=server.address,
                temporal_namespace="default",
                task_queue=tq,
                mode="dev",
                keys=KEYS,
            )
            config = ApiConfig(jwt_key=JWT_KEY, max_inflight=1024, command_timeout=120.0)
            services = Services(store, client, settings, config)
            await stack.enter_async_context(
                running_worker(client, store, tq, pseudonym_key=KEYS.pseudonym)
            )
            await stack.enter_async_context(
                bare_worker.bare_workers(client, url, schema, BARE_TABLE)
            )
            base = await stack.enter_async_context(serving(create_app(services)))
            pids = {"bench (all on one loop)": os.getpid(), **pids}
        token = create_jwt(JWT_KEY, subject="bench", role="system", kommun="1280", ttl_seconds=3600)
        http = await stack.enter_async_context(
            httpx.AsyncClient(
                base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}
            )
        )
        meter = _CpuMeter(pids)
        samples: list[Sample] | None = None if args.samples is None else []
        lat, cpu = await _latency_phases(
            args, client=client, store=store, http=http, tq=tq, at=at, meter=meter, samples=samples
        )
        if samples is not None:
            _write_samples(args.samples, samples)
        if args.profile is not None:
            await _profile_http(args.profile, http, at, min(args.cases, 10))

        m = args.import_cases
        lines = _lines(range(IMPORT, IMPORT + m), at)
        started = time.perf_counter()
        summary = await asyncio.to_thread(import_lines, store, lines)
        import_secs = time.perf_counter() - started
        if summary.appended != len(lines):
            raise RuntimeError(f"import appended {summary.appended} of {len(lines)}")

        http_lines = _lines(range(HTTP_IMPORT, HTTP_IMPORT + m), at)
        started = time.perf_counter()
        r = await http.post(
            "/import",
            content="\n".join(http_lines).encode(),
            headers={"Content-Type": "application/x-ndjson"},
        )
        http_import_secs = time.perf_counter() - started
        if r.status_code != 200 or r.json()["appended"] != len(http_lines):
            raise RuntimeError(f"POST /import: {r.status_code} {r.text[:300]}")

        copy_secs, many_secs = await asyncio.to_thread(_raw_inserts, url, schema, lines)

    _print_latency(args, lat, cpu, meter.names, len(lifecycle(0, at)))
    events = len(lines)
    print(f"\nimport: {m} cases, {events} event lines")
    rates = (
        ("import_lines (in process)", events / import_secs),
        ("POST /import (HTTP)", events / http_import_secs),
        ("raw COPY", events / copy_secs),
        ("raw executemany", events / many_secs),
    )
    for name, rate in rates:
        print(f"{name:28}{rate:10.0f} events/s")
    print(
        f"import_lines / raw COPY: {copy_secs / import_secs:.3f}x;"
        f" / raw executemany: {many_secs / import_secs:.3f}x;"
        f" POST /import / raw COPY: {copy_secs / http_import_secs:.3f}x"
    )


def _concurrencies(text: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers like 1,4; got {text!r}")
    return values


def main() -> None:
    unwind_on_sigterm()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", type=int, default=40, help="cases per latency phase (11 commands)")
    p.add_argument("--concurrency", type=_concurrencies, default=[1, 4], help="e.g. 1,4")
    p.add_argument("--rounds", type=int, default=4, help="interleaved rounds of the phases")
    p.add_argument("--import-cases", type=int, default=300)
    p.add_argument("--database-url", default=None, help="default: an embedded PostgreSQL")
    p.add_argument(
        "--layout",
        choices=sorted(LAYOUTS),
        default="processes",
        help="processes: API, case worker and baselines' workers each in its own process, as "
        "deployed (default); one-process: all on the bench's one event loop",
    )
    p.add_argument(
        "--kommun-dir",
        type=Path,
        default=None,
        help="kommun files in force for barnflow's phases (bench/kommun: 1280 with a "
        "delegationsordning the lifecycle satisfies); default: none",
    )
    p.add_argument(
        "--samples",
        type=Path,
        default=None,
        help="write every command's latency (phase, concurrency, round, command) to this CSV",
    )
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="write HTTP profiles of the bench's loop to this dir (--layout one-process)",
    )
    args = p.parse_args()
    if args.profile is not None and args.layout != "one-process":
        p.error("--profile profiles the bench's own event loop: use it with --layout one-process")
    if args.cases * len(args.concurrency) > 2000 or args.import_cases > 2000:
        p.error("at most 2000 cases per phase (the phases' case numbers must not overlap)")
    if not 1 <= args.rounds <= args.cases:
        p.error("--rounds: between 1 and --cases")
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
