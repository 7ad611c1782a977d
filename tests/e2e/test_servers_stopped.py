"""Every server stopped, always: a barnflow process killed mid-query (SIGKILL) or terminated
(SIGTERM) never leaves the embedded PostgreSQL running once the last live user has left.

The blocked query is real: the test takes an ACCESS EXCLUSIVE lock on the events table, so the
CLI's read waits inside PostgreSQL. Servers are checked by the pid in ``postmaster.pid``, never by
process name; anything the test started is stopped by pid in a ``finally``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from infra.persistence.embedded_pg import OWNERS_FILE, embedded_postgres
from infra.temporal.devserver import free_port

BARNFLOW = [sys.executable, "-m", "infra.cli"]
pytestmark = pytest.mark.timeout(300)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BARNFLOW_", "PG"))}
    env["BARNFLOW_HOME"] = str(home)
    return env


def _postmaster(home: Path) -> tuple[int, str]:
    """The server's pid and a libpq conninfo for it, from ``postmaster.pid``."""
    lines = (home / "pgdata" / "postmaster.pid").read_text().splitlines()
    return int(lines[0]), f"host={lines[4]} port={lines[3]} user=postgres dbname=postgres"


def _owner_pids(home: Path) -> list[int]:
    return [int(o["pid"]) for o in json.loads((home / OWNERS_FILE).read_text())]


def _kill(pid: int | None) -> None:
    """SIGKILL ``pid`` and every process it started (by pid: the Temporal dev server a hung
    ``dev`` started would otherwise outlive the test)."""
    if pid is None:
        return
    with contextlib.suppress(psutil.NoSuchProcess):
        children = psutil.Process(pid).children(recursive=True)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid):
            return True
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        time.sleep(0.1)
    return False


@contextlib.contextmanager
def _table_locked(conninfo: str) -> Iterator[psycopg.Connection[object]]:
    """Hold an ACCESS EXCLUSIVE lock on the events table: every reader waits in PostgreSQL."""
    with psycopg.connect(conninfo, connect_timeout=5) as conn:
        conn.execute("LOCK TABLE barnflow.barnflow_events IN ACCESS EXCLUSIVE MODE")
        yield conn
        conn.rollback()


def _blocked_cli(home: Path, conninfo: str) -> subprocess.Popen[bytes]:
    """``barnflow audit verify --no-temporal``, started and seen waiting for the lock."""
    cli = subprocess.Popen(
        [*BARNFLOW, "audit", "verify", "--no-temporal"],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone()
            if waiting and waiting[0] and cli.pid in _owner_pids(home):
                return cli
            assert cli.poll() is None, cli.stderr.read() if cli.stderr else ""
            time.sleep(0.2)
    _kill(cli.pid)
    raise AssertionError("the CLI never reached its query")


def _init_home(home: Path) -> None:
    """Create the store's tables once (and stop the server again)."""
    run = subprocess.run(
        [*BARNFLOW, "audit", "verify", "--no-temporal"],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert not (home / "pgdata" / "postmaster.pid").exists()


def test_sigkilled_cli_mid_query_then_ctrl_c_on_dev_leaves_no_postgres(tmp_path: Path) -> None:
    home = tmp_path / "home"
    dev = subprocess.Popen(
        [*BARNFLOW, "dev", "--no-api", "--port", str(free_port()), "--ui-port", str(free_port())],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pm: int | None = None
    cli: subprocess.Popen[bytes] | None = None
    try:
        assert dev.stdout is not None
        for out in dev.stdout:
            if "Ctrl-C stops everything" in out:
                break
        else:
            raise AssertionError(dev.stderr.read() if dev.stderr else "dev exited")
        pm, conninfo = _postmaster(home)
        with _table_locked(conninfo):
            cli = _blocked_cli(home, conninfo)
            cli.send_signal(signal.SIGKILL)
            cli.wait(10)
        # the killed process could not clean up: its pid is still listed (it is pruned later)
        assert cli.pid in _owner_pids(home) and dev.pid in _owner_pids(home)

        dev.send_signal(signal.SIGINT)  # Ctrl-C
        dev.wait(90)
        assert dev.returncode == 0, dev.stderr.read() if dev.stderr else ""
        assert _wait_gone(pm, 10), f"postmaster {pm} still running"
        assert not (home / "pgdata" / "postmaster.pid").exists()
        assert _owner_pids(home) == []
    finally:
        if dev.poll() is None:
            dev.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                dev.wait(60)
            _kill(dev.pid)
        if cli is not None and cli.poll() is None:
            _kill(cli.pid)
        if pm is not None and psutil.pid_exists(pm):
            _kill(pm)


def test_sigterm_mid_query_leaves_cleanly_and_the_last_user_stops_the_server(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    _init_home(home)
    pm: int | None = None
    try:
        with embedded_postgres(home):  # this test is the other live user
            pm, conninfo = _postmaster(home)
            with _table_locked(conninfo):
                cli = _blocked_cli(home, conninfo)
                cli.send_signal(signal.SIGTERM)
                try:
                    cli.wait(30)
                finally:
                    _kill(cli.pid)
            assert cli.returncode == 130  # it unwound (Ctrl-C semantics), not died
            assert _owner_pids(home) == [os.getpid()]
            assert psutil.pid_exists(pm)  # another user is still attached: still running
        assert _wait_gone(pm, 30), f"postmaster {pm} still running"
        assert _owner_pids(home) == []
    finally:
        if pm is not None and psutil.pid_exists(pm):
            _kill(pm)


def test_an_owner_whose_pid_was_reused_does_not_keep_the_server(tmp_path: Path) -> None:
    """A listed pid that now belongs to another process (same pid, other start time) is dead."""
    home = tmp_path / "home"
    _init_home(home)
    me = psutil.Process(os.getpid())
    stale = [{"pid": os.getppid(), "started": me.create_time() - 3600}]  # alive, but not ours
    with embedded_postgres(home):
        pm, _ = _postmaster(home)
        (home / OWNERS_FILE).write_text(
            json.dumps([*stale, *json.loads((home / OWNERS_FILE).read_text())])
        )
    try:
        assert _wait_gone(pm, 30), "a reused pid kept the server running"
    finally:
        _kill(pm)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_dev_interrupted_while_starting_leaves_no_postgres(tmp_path: Path, sig: int) -> None:
    """The signal lands while the stack is still starting (PostgreSQL up, Temporal not yet)."""
    home = tmp_path / "home"
    dev = subprocess.Popen(
        [*BARNFLOW, "dev", "--no-api", "--port", str(free_port()), "--ui-port", str(free_port())],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pm: int | None = None
    try:
        deadline = time.monotonic() + 120
        while pm is None and time.monotonic() < deadline and dev.poll() is None:
            with contextlib.suppress(OSError, ValueError, IndexError):
                found = int((home / "pgdata" / "postmaster.pid").read_text().splitlines()[0])
                pm = found if found > 0 else None
            time.sleep(0.02)
        assert pm is not None, dev.stderr.read() if dev.stderr else ""
        dev.send_signal(sig)
        _, err = dev.communicate(timeout=90)
        assert dev.returncode in (0, 130), err
        assert "Traceback" not in err, err
        assert _wait_gone(pm, 10), f"postmaster {pm} still running"
        assert _owner_pids(home) == []
    finally:
        if dev.poll() is None:
            _kill(dev.pid)
        if pm is not None and psutil.pid_exists(pm):
            _kill(pm)
