"""Throwaway measurement: ``ops stuck`` on N idle case workflows on a dev server.

Not part of the test command. Records N cases, adopts each (a real ChildCaseWorkflow waiting on
its frist timers), then times ``find_stuck`` (visibility + one SELECT) and ``deep`` (plus one
describe per workflow). Usage: ``python -m bench.stuck [N] [DATABASE_URL]``.
"""

from __future__ import annotations

import asyncio
import base64
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from domain.events import parse_event
from infra.audit.verify import running_case_workflows
from infra.config.settings import load_settings
from infra.ops.stuck import StuckOptions, find_stuck
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
from infra.temporal.client import connect
from infra.temporal.commands import adopt_case
from infra.temporal.devserver import dev_server
from infra.temporal.worker import running_worker
from tests.factories import anmalan, fresh_pnr

KEY = b"k" * 32


async def measure(address: str, url: str, n: int) -> None:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    ensure_schema(url, schema)  # left behind: drop bench_* schemas when done
    store = CaseStore(env=eventsourcing_env(url, schema, KEY))
    b64 = base64.b64encode(KEY).decode()
    settings = load_settings(
        {
            "BARNFLOW_DATABASE_URL": url,
            "BARNFLOW_DATABASE_SCHEMA": schema,
            "BARNFLOW_TEMPORAL_ADDRESS": address,
            "BARNFLOW_TASK_QUEUE": "bench",
            "BARNFLOW_CODEC_KEY": b64,
            "BARNFLOW_PSEUDONYM_KEY": b64,
            "BARNFLOW_CIPHER_KEY": b64,
        }
    )
    at = datetime.now(UTC) - timedelta(hours=1)
    t0 = time.perf_counter()
    for i in range(n):
        kommun = f"{1000 + i // 500:04d}"
        store.record(parse_event(anmalan(at, kommun=kommun, case_ref=f"B-{i}", pnr=fresh_pnr())))
    print(f"recorded {n} cases in {time.perf_counter() - t0:.1f}s")
    client = await connect(address, "default", KEY)
    async with running_worker(client, store, "bench"):
        t0 = time.perf_counter()
        sem = asyncio.Semaphore(50)

        async def one(i: int) -> None:
            async with sem:
                await adopt_case(client, store, settings, f"{1000 + i // 500:04d}", f"B-{i}")

        await asyncio.gather(*(one(i) for i in range(n)))
        while len(await running_case_workflows(client)) < n:
            await asyncio.sleep(1)
        print(f"adopted {n} workflows in {time.perf_counter() - t0:.1f}s")
        await asyncio.sleep(5)  # let the first workflow tasks settle
        for deep in (False, True, False):
            t0 = time.perf_counter()
            rows = await find_stuck(client, store, KEY, StuckOptions(deep=deep, describe_limit=n))
            took = time.perf_counter() - t0
            print(f"find_stuck deep={deep}: {took:.2f}s, {len(rows)} rows")
        t0 = time.perf_counter()
        store.case_heads()
        print(f"  of which store.case_heads(): {time.perf_counter() - t0:.2f}s")
        t0 = time.perf_counter()
        await running_case_workflows(client)
        print(f"  of which the visibility list: {time.perf_counter() - t0:.2f}s")
    store.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    url = sys.argv[2] if len(sys.argv) > 2 else "postgresql://postgres@127.0.0.1:5432/test"
    with tempfile.TemporaryDirectory() as tmp, dev_server(Path(tmp), headless=True) as server:
        asyncio.run(measure(server.address, url, n))


if __name__ == "__main__":
    main()
