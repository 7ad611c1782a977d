"""A child process for a benchmark, stopped by its pid (the brief: never by name)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.temporal.devserver import stop_process

ROOT = Path(__file__).resolve().parents[1]


def _as_ctrl_c(signum: int, frame: object) -> None:
    os.kill(os.getpid(), signal.SIGINT)


def unwind_on_sigterm() -> None:
    """SIGTERM (``kill PID``, a job's timeout) stops the benchmark as Ctrl-C does, so the servers
    it started (Temporal dev server, embedded PostgreSQL, barnflow's processes) are stopped by
    their context managers. Python's default SIGTERM ends the process without running a
    ``finally``: a ``bench/memory.py`` stopped that way left its worker running. The signal is
    delivered again as SIGINT rather than raised as ``KeyboardInterrupt`` here: under
    ``asyncio.run`` SIGINT cancels the main task, so its ``async with`` blocks (the Temporal
    worker) shut down in order, where an exception raised inside the event loop left the
    cancellation of every task waiting on the worker's shutdown."""
    signal.signal(signal.SIGTERM, _as_ctrl_c)


@contextmanager
def running(
    argv: list[str], env: dict[str, str], log: Path, ready: str, *, every: float = 0.1
) -> Iterator[int]:
    """``argv`` until the context exits (SIGTERM, then SIGKILL, by pid); yields its pid once its
    log (stdout and stderr) says ``ready``, checking every ``every`` seconds for 180 s."""
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 180
        while ready not in log.read_text(errors="replace"):
            if proc.poll() is not None:
                raise RuntimeError(f"{' '.join(argv[:2])} exited: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(argv[:2])} not ready after 180 s: {log}")
            time.sleep(every)
        yield proc.pid
    finally:
        stop_process(proc, timeout=30)
