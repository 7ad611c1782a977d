"""Worker memory per 1,000 case workflows (cached, and running but idle), and a soak of the API
and the projection runner under a steady command load, with an RSS plot.

    .venv/bin/python bench/memory.py [--workflows 1000] [--soak-minutes 10] [--every 5]
                                     [--rate 4] [--png docs/memory-soak.png] [--database-url URL]

Starts its own Temporal dev server and (unless a database URL is given) an embedded PostgreSQL,
and runs barnflow's real processes as children (``worker
--no-projections --max-cached-workflows N``, ``api serve``, ``projections run``); every one is
stopped by its pid at the end. RSS is read with psutil by pid.

1. **cached**: a worker whose sticky cache holds every workflow; RSS before and after opening
   ``--workflows`` cases (one anmälan each: the workflow then waits, with its frist timers):
   the growth per 1,000 is what each cached case workflow costs.
2. **running but idle**: a fresh worker with a sticky cache of 10; the same number of new cases:
   they keep running on the server but leave the worker's memory after their command. Also the
   Temporal dev server's growth per 1,000 open workflows (its memory, not the worker's).
3. **soak**: the API, the projection runner and a worker as separate processes; ``--rate``
   commands per second over HTTP (new cases through their whole lifecycle) for
   ``--soak-minutes``; RSS of each sampled every ``--every`` seconds, plotted to ``--png``, with
   the slope of a least-squares line over the second half (MB per hour) per process.

``--soak-only`` skips 1 and 2; ``--aggregate-cache N`` sets ``BARNFLOW_AGGREGATE_CACHE`` of every
process; ``--trace DIR [--trace-process worker|runner|api] [--trace-every S]`` runs one soak
process under ``bench/traced.py`` (tracemalloc snapshots to compare: what grows, and where).
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
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psutil
import psycopg
from psycopg import sql

from bench.processes import running, unwind_on_sigterm
from bench.workflow import lifecycle
from domain.events import parse_event
from infra.api.auth import create_jwt
from infra.api.serve import bind
from infra.config.settings import DEFAULT_AGGREGATE_CACHE
from infra.persistence.embedded_pg import embedded_postgres
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
from infra.temporal.client import connect, register_search_attributes
from infra.temporal.commands import send_command
from infra.temporal.devserver import dev_server

ROOT = Path(__file__).resolve().parents[1]
BARNFLOW = str(ROOT / ".venv" / "bin" / "barnflow")
MB = 1024 * 1024
#: Case number ranges: warm-up, cached, idle, soak (distinct children and case refs: the
#: children of bench.workflow.lifecycle repeat every 16,800 case numbers).
WARM, CACHED, IDLE, SOAK = 0, 1_000, 5_000, 12_000
#: The worker as every phase runs it (its sticky cache size follows), and its line once ready.
WORKER = ["worker", "--no-projections", "--max-cached-workflows"]
WORKER_READY = "barnflow worker on"


class _Report(list[str]):
    """The result lines, each printed as soon as it is known (a long run shows progress)."""

    def append(self, line: str) -> None:
        print(line, flush=True)
        super().append(line)


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / MB


def settled_rss(pid: int, seconds: float = 6.0) -> float:
    """The median of a few readings after a pause (the allocator and the GC settle)."""
    time.sleep(seconds)
    readings = []
    for _ in range(5):
        readings.append(rss_mb(pid))
        time.sleep(0.5)
    return statistics.median(readings)


def child(
    args: list[str], env: dict[str, str], log: Path, ready: str, *, trace: list[str] | None = None
) -> AbstractContextManager[int]:
    """A barnflow process, until the context exits; yields its pid once its log says ``ready``.
    ``trace``: run it under ``bench/traced.py`` with these options (tracemalloc snapshots)."""
    if trace:
        argv = [sys.executable, str(ROOT / "bench" / "traced.py"), *trace, "--", *args]
    else:
        argv = [BARNFLOW, *args]
    return running(argv, env, log, ready, every=0.2)


async def soak_load(
    base: str, token: Callable[[], str], seconds: float, rate: float, at: datetime
) -> int:
    """``rate`` commands per second over HTTP for ``seconds``: new cases, whole lifecycles.
    ``token`` is asked before every command: a soak outlives a token (the API refuses one valid
    for longer than its role's lifetime, an hour by default), as a real integration does."""
    sent = 0
    stop = time.monotonic() + seconds
    lanes = max(1, round(rate))
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:

        async def post(ev: dict[str, Any]) -> None:
            """One command, retried with the same body (so the same idempotency key) while the
            API answers 503 "retry" (a workflow that did not answer within the API's command
            timeout on a loaded machine), as docs/integration.md tells an integrator to."""
            for attempt in range(RETRIES_503 + 1):
                auth = {"Authorization": f"Bearer {token()}"}
                r = await http.post("/commands", json=ev, headers=auth)
                if r.status_code in (200, 201):
                    return
                if r.status_code != 503 or attempt == RETRIES_503:
                    raise RuntimeError(f"POST /commands: {r.status_code} {r.text[:300]}")
                retried.append(time.monotonic())
                await asyncio.sleep(2.0 * (attempt + 1))

        async def lane(k: int) -> None:
            nonlocal sent
            i = SOAK + k
            while time.monotonic() < stop:
                for ev in lifecycle(i, at):
                    started = time.monotonic()
                    await post(ev)
                    sent += 1
                    await asyncio.sleep(max(0.0, lanes / rate - (time.monotonic() - started)))
                    if time.monotonic() >= stop:
                        return
                i += lanes

        await asyncio.gather(*(lane(k) for k in range(lanes)))
    return sent


#: 503s retried per command before the soak gives up (each waits 2 s longer than the last).
RETRIES_503 = 5
#: When each 503 was retried (reported after the soak).
retried: list[float] = []


def slope_mb_per_hour(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope over the second half of the samples, in MB per hour."""
    half = samples[len(samples) // 2 :]
    if len(half) < 2:
        return 0.0
    xs = [t for t, _ in half]
    ys = [v for _, v in half]
    return statistics.linear_regression(xs, ys).slope * 3600


def plot(
    path: Path,
    series: dict[str, list[tuple[float, float]]],
    note: str,
    *,
    title: str = "barnflow soak: RSS per process",
    from_zero: bool = True,
) -> None:
    """One line per series (seconds, MB); ``from_zero=False`` zooms onto the lines (a growth of
    a megabyte or two on a hundred is invisible on an axis from zero)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    for name, samples in series.items():
        ax.plot([t / 60 for t, _ in samples], [v for _, v in samples], label=name)
    ax.set_xlabel("minutes under load")
    ax.set_ylabel("RSS (MB)")
    if from_zero:
        ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.text(0.01, 0.01, note, fontsize=8)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def replot(csv_path: Path, png: Path, note: str) -> None:
    """Plot a soak's samples from its CSV (written as they are taken, so a soak that failed
    late still has them) and print each process's slope over the second half."""
    series: dict[str, list[tuple[float, float]]] = {}
    lines = csv_path.read_text(encoding="utf-8").splitlines()[1:]
    for row in lines:
        t, name, rss = row.split(",")  # the names have no commas
        series.setdefault(name, []).append((float(t), float(rss)))
    for name, samples in series.items():
        print(
            f"  {name:20} start {samples[0][1]:7.1f}  end {samples[-1][1]:7.1f}  "
            f"peak {max(v for _, v in samples):7.1f} MB over {samples[-1][0] / 60:.1f} min;"
            f" slope over the second half {slope_mb_per_hour(samples):+7.1f} MB/h"
        )
    plot(png, series, note)
    print(f"plot: {png}")


def scratch_schema(stack: ExitStack, tmp: Path, database_url: str | None) -> tuple[str, str]:
    """A database (``database_url``, else an embedded PostgreSQL under ``tmp``) and a schema
    name of the bench's own, dropped when ``stack`` closes; the schema's tables are not made."""
    url = database_url or stack.enter_context(embedded_postgres(tmp / "pg"))
    schema = f"bench_{uuid.uuid4().hex[:8]}"

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

    stack.callback(drop)
    return url, schema


def bench(args: argparse.Namespace) -> None:
    n = args.workflows
    at = datetime.now(UTC) - timedelta(hours=1)
    codec, pseudonym, cipher, jwt_key = (secrets.token_bytes(32) for _ in range(4))
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bf-bench-mem-")))
        url, schema = scratch_schema(stack, tmp, args.database_url)
        server = stack.enter_context(dev_server(tmp / "temporal", headless=True))
        tq = "bench-memory"
        env = {
            **os.environ,
            "BARNFLOW_HOME": str(tmp / "home"),
            "BARNFLOW_DATABASE_URL": url,
            "BARNFLOW_DATABASE_SCHEMA": schema,
            "BARNFLOW_TEMPORAL_ADDRESS": server.address,
            "BARNFLOW_TASK_QUEUE": tq,
            "BARNFLOW_CODEC_KEY": _b64(codec),
            "BARNFLOW_PSEUDONYM_KEY": _b64(pseudonym),
            "BARNFLOW_CIPHER_KEY": _b64(cipher),
            "BARNFLOW_JWT_KEY": _b64(jwt_key),
            "BARNFLOW_TELEMETRY": "off",
        }
        if args.aggregate_cache is not None:
            env["BARNFLOW_AGGREGATE_CACHE"] = str(args.aggregate_cache)
        logs = tmp / "logs"
        logs.mkdir()
        ensure_schema(url, schema)
        asyncio.run(_register(server.address, codec))
        store = CaseStore(env=eventsourcing_env(url, schema, cipher))
        stack.callback(store.close)

        def run_cases(cases: range) -> float:
            started = time.perf_counter()
            asyncio.run(open_cases(server.address, codec, store, cases, tq=tq, pseudonym=pseudonym))
            return time.perf_counter() - started

        report = _Report()
        worker, ready = WORKER, WORKER_READY

        def measure(cache: int, log: str, warm: range, cases: range) -> tuple[float, ...]:
            """Worker RSS before and after opening ``cases`` (after ``warm``), the seconds that
            took, and the dev server's RSS before and after."""
            with child([*worker, str(cache)], env, logs / log, ready) as pid:
                run_cases(warm)
                before, server_before = settled_rss(pid), rss_mb(server.pid)
                secs = run_cases(cases)
                return before, settled_rss(pid), secs, server_before, rss_mb(server.pid)

        if not args.soak_only:  # 1. cached, 2. running but idle
            before, after, secs, server_before, server_after = measure(
                2 * n + 100, "worker-cached.log", range(WARM, WARM + 20), range(CACHED, CACHED + n)
            )
            cached = (after - before) / n * 1000
            report.append(
                f"cached     : worker RSS {before:7.1f} -> {after:7.1f} MB over {n} workflows "
                f"({secs:.0f} s): {cached:6.1f} MB per 1,000"
            )
            # 2. running but idle (not in the worker's cache)
            before, after, secs, _, server_idle = measure(
                10, "worker-idle.log", range(WARM + 20, WARM + 40), range(IDLE, IDLE + n)
            )
            idle = (after - before) / n * 1000
            report.append(
                f"idle       : worker RSS {before:7.1f} -> {after:7.1f} MB over {n} workflows "
                f"({secs:.0f} s): {idle:6.1f} MB per 1,000 (sticky cache of 10)"
            )
            report.append(
                f"dev server : RSS {server_before:7.1f} -> {server_after:7.1f} -> "
                f"{server_idle:7.1f} MB with {n + 20} -> {2 * n + 20} -> {3 * n + 40} "
                "open workflows"
            )
        soak_phase(args, env=env, logs=logs, jwt_key=jwt_key, at=at, report=report)


def soak_phase(
    args: argparse.Namespace,
    *,
    env: dict[str, str],
    logs: Path,
    jwt_key: bytes,
    at: datetime,
    report: list[str],
) -> None:
    """3. The soak: the API, the runner and a worker under ``--rate`` commands a second."""
    worker, ready = WORKER, WORKER_READY
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    base = f"http://127.0.0.1:{port}"
    minted: list[tuple[float, str]] = []

    def token() -> str:
        """A token for the next command, minted anew every 20 minutes (they live an hour)."""
        if not minted or time.monotonic() - minted[-1][0] > 1200:
            jwt = create_jwt(
                jwt_key, subject="soak", role="system", kommun="1280", ttl_seconds=3600
            )
            minted.append((time.monotonic(), jwt))
        return minted[-1][1]

    trace = ["--dir", str(args.trace), "--every", str(args.trace_every)] if args.trace else None

    def traced(name: str) -> list[str] | None:
        return trace if name == args.trace_process else None

    with (
        child(
            [*worker, str(args.cache)],
            env,
            logs / "worker-soak.log",
            ready,
            trace=traced("worker"),
        ) as wpid,
        child(["projections", "run"], env, logs / "runner.log", "", trace=traced("runner")) as rpid,
        child(
            ["api", "serve", "--port", str(port)],
            env,
            logs / "api.log",
            "barnflow api on",
            trace=traced("api"),
        ) as apid,
    ):
        pids = {"API (api serve)": apid, "projection runner": rpid, "worker": wpid}
        series: dict[str, list[tuple[float, float]]] = {k: [] for k in pids}
        seconds = args.soak_minutes * 60
        started = time.monotonic()

        # every sample is also written as it is taken, so a soak that fails late keeps them
        samples_csv = args.png.with_suffix(".csv")
        samples_csv.write_text("seconds,process,rss_mb\n", encoding="utf-8")

        async def sample() -> None:
            while time.monotonic() - started < seconds:
                t = time.monotonic() - started
                with samples_csv.open("a", encoding="utf-8") as out:
                    for name, pid in pids.items():
                        rss = rss_mb(pid)
                        series[name].append((t, rss))
                        out.write(f"{t:.1f},{name},{rss:.1f}\n")
                await asyncio.sleep(args.every)

        async def soak() -> int:
            load = asyncio.create_task(soak_load(base, token, seconds, args.rate, at))
            await sample()
            return await load

        sent = asyncio.run(soak())
    report.append(
        f"\nsoak: {args.soak_minutes:g} min, {sent} commands over HTTP "
        f"({sent / seconds:.1f}/s), RSS every {args.every:g} s; "
        f"{len(retried)} answered 503 and were retried with the same idempotency key"
    )
    for name, samples in series.items():
        first, last = samples[0][1], samples[-1][1]
        peak = max(v for _, v in samples)
        report.append(
            f"  {name:20} start {first:7.1f}  end {last:7.1f}  peak {peak:7.1f} MB;"
            f" slope over the second half {slope_mb_per_hour(samples):+7.1f} MB/h"
        )
    note = (
        f"{args.soak_minutes:g} min, {sent} commands ({sent / seconds:.1f}/s) over HTTP, "
        f"RSS every {args.every:g} s; sticky cache {args.cache}, aggregate cache "
        f"{args.aggregate_cache or DEFAULT_AGGREGATE_CACHE}"
    )
    plot(args.png, series, note)
    report.append(f"plot: {args.png}")


async def open_cases(
    address: str, codec: bytes, store: CaseStore, cases: range, *, tq: str, pseudonym: bytes
) -> None:
    """One anmälan per case (the workflow then waits on its frister), 8 at a time."""
    client = await connect(address, "default", codec, workflow_keys=store.workflow_keys)
    gate = asyncio.Semaphore(8)
    at = datetime.now(UTC) - timedelta(hours=1)

    async def one(i: int) -> None:
        async with gate:
            ev = parse_event(lifecycle(i, at)[0])
            await send_command(client, store, ev, pseudonym_key=pseudonym, task_queue=tq)

    await asyncio.gather(*(one(i) for i in cases))


async def _register(address: str, codec: bytes) -> None:
    await register_search_attributes(await connect(address, "default", codec), "default")


def main() -> None:
    unwind_on_sigterm()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workflows", type=int, default=1000, help="workflows per measurement")
    p.add_argument("--soak-minutes", type=float, default=10.0)
    p.add_argument("--every", type=float, default=5.0, help="seconds between RSS samples")
    p.add_argument("--rate", type=float, default=4.0, help="commands per second in the soak")
    p.add_argument("--cache", type=int, default=1000, help="the soak worker's sticky cache")
    p.add_argument("--png", type=Path, default=ROOT / "docs" / "memory-soak.png")
    p.add_argument("--database-url", default=None, help="default: an embedded PostgreSQL")
    p.add_argument("--soak-only", action="store_true", help="skip the cached and idle phases")
    p.add_argument(
        "--aggregate-cache",
        type=int,
        default=None,
        help="BARNFLOW_AGGREGATE_CACHE of every process (default: barnflow's default)",
    )
    p.add_argument(
        "--trace",
        type=Path,
        default=None,
        help="run one soak process (--trace-process) under bench/traced.py, writing "
        "tracemalloc snapshots here",
    )
    p.add_argument("--trace-every", type=float, default=300.0, help="seconds between snapshots")
    p.add_argument(
        "--trace-process",
        choices=("worker", "runner", "api"),
        default="worker",
        help="the soak process --trace runs under bench/traced.py",
    )
    p.add_argument(
        "--plot-csv",
        type=Path,
        default=None,
        help="only plot the samples a soak wrote (its .csv) to --png, with their slopes",
    )
    p.add_argument("--note", default="", help="with --plot-csv: the line under the plot")
    args = p.parse_args()
    if args.plot_csv is not None:
        replot(args.plot_csv, args.png, args.note)
        return
    if not 1 <= args.workflows <= 4_000:
        p.error("--workflows: 1 to 4000 (the phases' case numbers must not overlap)")
    bench(args)


if __name__ == "__main__":
    main()
