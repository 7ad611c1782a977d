"""The baselines' workers of bench/api.py in a process of their own, as ``barnflow worker`` runs
the case workflows in production: bench/api.py starts this for its ``processes`` layout, so the
baseline's worker shares no event loop with the bench's client, just as the case worker does not.

    BENCH_CODEC_KEY=<base64> python bench/bare_worker.py --address HOST:PORT --database-url URL
        --schema S --table T [--insert-queue Q] [--update-queue Q]

Runs ``BareWorkflow`` (one local activity inserting one row into ``S.T``) and
``BareUpdateWorkflow`` (an update that only counts) until SIGTERM or SIGINT; prints ``bare
workers on`` once both poll. The codec key comes from the environment, not the command line
(``ps`` shows arguments to every user).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import signal
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from psycopg_pool import ConnectionPool
from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare_update_workflow import BareUpdateWorkflow
from bench.bare_workflow import BareWorkflow
from bench.workflow import BareActivities
from infra.temporal.client import connect

#: The task queues bench/api.py sends the baselines' updates to.
INSERT_QUEUE, UPDATE_QUEUE = "bench-bare-insert", "bench-bare-update"
READY = "bare workers on"


@asynccontextmanager
async def bare_workers(
    client: Client,
    url: str,
    schema: str,
    table: str,
    *,
    insert_queue: str = INSERT_QUEUE,
    update_queue: str = UPDATE_QUEUE,
) -> AsyncIterator[None]:
    """The baselines' two workers (insert and bare update) with their connection pool, in the
    calling process: this one's ``serve`` or bench/api.py's one-process layout."""
    pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
        url, min_size=2, max_size=8, kwargs={"options": f"-c search_path={schema}"}, open=True
    )
    inserts = BareActivities(pool, table)
    try:
        with ThreadPoolExecutor(max_workers=8) as ex:
            async with (
                Worker(
                    client,
                    task_queue=insert_queue,
                    workflows=[BareWorkflow],
                    activities=[inserts.bare_insert],
                    activity_executor=ex,
                ),
                Worker(client, task_queue=update_queue, workflows=[BareUpdateWorkflow]),
            ):
                yield
    finally:
        pool.close()


async def serve(args: argparse.Namespace) -> None:
    """Both bare workers until a signal: the same ``Worker`` options as the one-process layout."""
    codec = base64.b64decode(os.environ["BENCH_CODEC_KEY"])
    client = await connect(args.address, "default", codec)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with bare_workers(
        client,
        args.database_url,
        args.schema,
        args.table,
        insert_queue=args.insert_queue,
        update_queue=args.update_queue,
    ):
        print(READY, flush=True)
        await stop.wait()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--address", required=True)
    p.add_argument("--database-url", required=True)
    p.add_argument("--schema", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--insert-queue", default=INSERT_QUEUE)
    p.add_argument("--update-queue", default=UPDATE_QUEUE)
    asyncio.run(serve(p.parse_args()))


if __name__ == "__main__":
    main()
