"""A benchmark stopped with SIGTERM stops the servers it started (``bench.processes``).

Python's default SIGTERM ends a process without running its ``finally`` blocks: a
``bench/memory.py`` stopped with ``kill PID`` left its barnflow worker running. The benchmarks
now call ``unwind_on_sigterm``, which makes SIGTERM act as Ctrl-C. The child here is a shell
sleeping for a minute, started the way the benchmarks start theirs (``running``); everything is
found and stopped by pid.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]

BENCH = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from bench.processes import running, unwind_on_sigterm
    if sys.argv[2] == "unwind":
        unwind_on_sigterm()
    with running(["sh", "-c", "echo ready; exec sleep 60"], dict(os.environ),
                 Path(sys.argv[1]), "ready") as child:
        print(child, flush=True)
        time.sleep(60)
    """
)


@contextmanager
def _bench(tmp_path: Path, mode: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """The script above as a process, and its child's pid once the child runs; both killed by
    pid at the end if still there."""
    proc = subprocess.Popen(
        [sys.executable, "-c", BENCH, str(tmp_path / f"{mode}.log"), mode],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    pids = [proc.pid]
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        pids.append(child)
        yield proc, child
    finally:
        for pid in pids:
            if psutil.pid_exists(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.05)
    return False


def test_sigterm_stops_the_servers_a_benchmark_started(tmp_path: Path) -> None:
    with _bench(tmp_path, "unwind") as (proc, child):
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert _gone(child, 10), f"the benchmark's child {child} outlived its SIGTERM"


@pytest.mark.timeout(60)
def test_without_it_the_child_outlives_the_benchmark(tmp_path: Path) -> None:
    """The defect the helper removes: Python's default SIGTERM leaves the child running."""
    with _bench(tmp_path, "default") as (proc, child):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == -signal.SIGTERM
        assert not _gone(child, 1)
