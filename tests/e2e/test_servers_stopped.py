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
from infra.temporal.devserver import PID_FILE, dev_server, free_port

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


def _recorded_temporal(home: Path) -> int:
    """The pid of the Temporal dev server ``dev`` started (``devserver.PID_FILE``)."""
    recorded = json.loads((home / "temporal" / PID_FILE).read_text())
    return int(recorded["server"][0])


def _dev(home: Path, port: int) -> subprocess.Popen[str]:
    """``barnflow dev`` on ``home``, read until it says it runs."""
    dev = subprocess.Popen(
        [*BARNFLOW, "dev", "--no-api", "--port", str(port), "--ui-port", str(free_port())],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert dev.stdout is not None
    for out in dev.stdout:
        if "Ctrl-C stops everything" in out:
            return dev
    _kill(dev.pid)
    raise AssertionError(dev.stderr.read() if dev.stderr else "dev exited")


def test_a_sigkilled_dev_stops_its_temporal_and_a_closed_terminal_stops_everything(
    tmp_path: Path,
) -> None:
    """SIGKILL gives ``dev`` no chance to stop its servers: its Temporal dev server stops itself
    (the kernel's parent-death signal) and the next ``dev`` on the home starts on the same port;
    SIGHUP (the terminal closed) stops ``dev`` like Ctrl-C, servers and all."""
    home = tmp_path / "home"
    port = free_port()
    pids: list[int] = []
    dev = _dev(home, port)
    try:
        temporal, (pm, _) = _recorded_temporal(home), _postmaster(home)
        pids += [dev.pid, temporal, pm]
        dev.send_signal(signal.SIGKILL)
        dev.wait(10)
        assert _wait_gone(temporal, 30), f"Temporal dev server {temporal} outlived its dev"

        dev = _dev(home, port)  # the same port and database file: nothing left holds them
        pids.append(dev.pid)
        temporal, (pm, _) = _recorded_temporal(home), _postmaster(home)
        pids += [temporal, pm]
        dev.send_signal(signal.SIGHUP)
        _, err = dev.communicate(timeout=90)
        assert dev.returncode in (0, 130), err
        assert "Traceback" not in err, err
        assert _wait_gone(temporal, 10), f"Temporal dev server {temporal} still running"
        assert _wait_gone(pm, 10), f"postmaster {pm} still running"
        assert _owner_pids(home) == []
        assert not (home / "temporal" / PID_FILE).exists()
    finally:
        for pid in [dev.pid, *pids]:
            if psutil.pid_exists(pid):
                _kill(pid)


def test_a_dev_server_left_running_by_a_killed_process_is_stopped_by_the_next_start(
    tmp_path: Path,
) -> None:
    """Where the parent-death signal is not to be had (no setpriv, not Linux), the next start on
    the database file stops the server a killed process left, by the pid it recorded."""
    home = tmp_path / "temporal"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "import infra.temporal.devserver as d\n"
        "d._parent_death_launcher = lambda: []\n"
        "with d.dev_server(Path(sys.argv[1]), headless=True) as s:\n"
        "    print(s.pid, flush=True)\n"
        "    time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(home)], stdout=subprocess.PIPE, text=True
    )
    orphan: int | None = None
    try:
        assert parent.stdout is not None
        orphan = int(parent.stdout.readline())
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        time.sleep(1)
        assert psutil.pid_exists(orphan), "the server stopped without the next start"
        with dev_server(home, headless=True) as server:
            assert _wait_gone(orphan, 1), f"the orphaned server {orphan} still runs"
            assert server.pid != orphan
        assert not (home / PID_FILE).exists()
    finally:
        if parent.poll() is None:
            _kill(parent.pid)
        if orphan is not None and psutil.pid_exists(orphan):
            _kill(orphan)


def test_a_second_start_on_a_file_in_use_leaves_the_running_servers_record(
    tmp_path: Path,
) -> None:
    """The pid record belongs to the server that runs: a second start on the same database file
    (here on the first one's port, so it cannot serve) neither overwrites nor removes it, and
    does not stop the first server, whose barnflow (this process) is alive."""
    home = tmp_path / "temporal"
    with dev_server(home, headless=True) as first:
        port = int(first.address.rsplit(":", 1)[1])
        with contextlib.suppress(RuntimeError, TimeoutError), dev_server(home, port=port):
            pass
        assert psutil.pid_exists(first.pid)
        assert json.loads((home / PID_FILE).read_text())["server"][0] == first.pid
    assert not (home / PID_FILE).exists()
