"""Command latency over HTTP against a raw Temporal update, and import throughput against a raw
PostgreSQL insert of the same lines, in one run.

    .venv/bin/python bench/api.py [--cases 40] [--concurrency 4] [--import-cases 300]
                                  [--database-url URL]

Starts its own Temporal dev server (a temporary database file) and, unless a database URL is
given, an embedded PostgreSQL in a temporary directory; both are stopped by pid at the end. The
API is the real app served by uvicorn on loopback, with a real worker on the same dev server.

* **latency** (p50/p99 per command, ``--concurrency`` cases at a time, each case's 11 commands in
  order): ``POST /commands`` over HTTP; the same commands through ``send_command`` in process
  (no HTTP); and a bare Temporal update round trip (a workflow whose update handler only counts,
  no activity, no database: bench/bare_update_workflow.py).
* **import** (events/s): ``infra.persistence.importer.import_lines`` in process, ``POST /import``
  over HTTP, and the floor: the same JSON lines into a plain table with psycopg ``COPY`` and with
  ``executemany``.

Prints the numbers and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import orjson
import psycopg
from psycopg import sql
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from bench.bare_update_workflow import BareUpdateWorkflow
from bench.workflow import lifecycle
from domain.events import parse_event
from infra.api.app import create_app
from infra.api.auth import create_jwt
from infra.api.serve import serving
from infra.api.services import Services
from infra.config.api import ApiConfig
from infra.config.settings import DatabaseSettings, Keys, Settings
from infra.persistence.db import ensure_tables
from infra.persistence.embedded_pg import embedded_postgres
from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
from infra.temporal.client import connect
from infra.temporal.commands import send_command
from infra.temporal.devserver import dev_server
from infra.temporal.worker import running_worker

KEYS = Keys(
    codec=secrets.token_bytes(32), pseudonym=secrets.token_bytes(32), cipher=secrets.token_bytes(32)
)
JWT_KEY = secrets.token_bytes(32)
#: Case number ranges per phase: distinct children (workflow ids) and case refs.
WARM, HTTP, DIRECT, BARE, IMPORT, HTTP_IMPORT = 0, 1000, 3000, 5000, 7000, 10000

Command = Callable[[dict[str, Any]], Awaitable[None]]


async def _latencies(
    cases: range, concurrency: int, at: datetime, first: Command, rest: Command
) -> list[float]:
    """Seconds per command; ``first`` sends a case's opening command, ``rest`` the others."""
    gate = asyncio.Semaphore(concurrency)
    out: list[float] = []

    async def one(i: int) -> None:
        async with gate:
            for n, ev in enumerate(lifecycle(i, at)):
                started = time.perf_counter()
                await (first if n == 0 else rest)(ev)
                out.append(time.perf_counter() - started)

    await asyncio.gather(*(one(i) for i in cases))
    return out


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


async def bench(args: argparse.Namespace) -> None:
    at = datetime.now(UTC) - timedelta(hours=1)
    async with AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bf-bench-api-")))
        url = args.database_url or stack.enter_context(embedded_postgres(tmp / "pg"))
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        ensure_schema(url, schema)

        def drop() -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

        stack.callback(drop)
        store = CaseStore(env=eventsourcing_env(url, schema, KEYS.cipher))
        stack.callback(store.close)
        ensure_tables(store)
        server = stack.enter_context(dev_server(tmp / "temporal", headless=True))
        client: Client = await connect(server.address, "default", KEYS.codec)
        tq = "bench-api"
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
        base = await stack.enter_async_context(serving(create_app(services)))
        token = create_jwt(
            JWT_KEY, subject="bench", role="system", kommun="1280", ttl_seconds=86400
        )
        http = await stack.enter_async_context(
            httpx.AsyncClient(
                base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}
            )
        )

        async def post(ev: dict[str, Any]) -> None:
            r = await http.post("/commands", json=ev)
            if r.status_code != 201:
                raise RuntimeError(f"POST /commands: {r.status_code} {r.text}")

        async def direct(ev: dict[str, Any]) -> None:
            await send_command(
                client, store, parse_event(ev), pseudonym_key=KEYS.pseudonym, task_queue=tq
            )

        n, c = args.cases, args.concurrency
        await _latencies(range(WARM, WARM + min(n, 4)), c, at, post, post)
        http_lat = await _latencies(range(HTTP, HTTP + n), c, at, post, post)
        direct_lat = await _latencies(range(DIRECT, DIRECT + n), c, at, direct, direct)

        bq = "bench-bare-update"
        async with Worker(client, task_queue=bq, workflows=[BareUpdateWorkflow]):

            async def bare_first(ev: dict[str, Any]) -> None:
                start = WithStartWorkflowOperation(
                    BareUpdateWorkflow.run,
                    id=f"bare-{ev['case_ref']}",
                    task_queue=bq,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                )
                await client.execute_update_with_start_workflow(
                    BareUpdateWorkflow.command, ev, start_workflow_operation=start
                )

            async def bare_rest(ev: dict[str, Any]) -> None:
                handle = client.get_workflow_handle(f"bare-{ev['case_ref']}")
                await handle.execute_update(BareUpdateWorkflow.command, ev)

            await _latencies(range(WARM, WARM + min(n, 4)), c, at, bare_first, bare_rest)
            bare_lat = await _latencies(range(BARE, BARE + n), c, at, bare_first, bare_rest)

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

    per_case = len(lifecycle(0, at))
    print(f"commands: {n} cases x {per_case} commands, {c} cases at a time")
    print(f"{'':24}{'p50 ms':>10}{'p99 ms':>10}")
    rows = (
        ("POST /commands (HTTP)", http_lat),
        ("send_command (no HTTP)", direct_lat),
        ("bare Temporal update", bare_lat),
    )
    for name, lat in rows:
        p50, p99 = _pct(lat)
        print(f"{name:24}{p50:10.1f}{p99:10.1f}")
    h50, h99 = _pct(http_lat)
    b50, b99 = _pct(bare_lat)
    print(f"HTTP command / bare update: p50 {h50 / b50:.1f}x, p99 {h99 / b99:.1f}x")
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", type=int, default=40, help="cases per latency phase (11 commands)")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--import-cases", type=int, default=300)
    p.add_argument("--database-url", default=None, help="default: an embedded PostgreSQL")
    args = p.parse_args()
    if args.cases > 2000 or args.import_cases > 2000:
        p.error("at most 2000 cases per phase (the phases' case numbers must not overlap)")
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
