"""The follower as its own process, killed with SIGKILL while a batch is written but not committed,
and between batches: after a restart every view equals a rebuild from the record (exactly once)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.persistence.store import CaseStore, eventsourcing_env
from projections.runner import caught_up, rebuild
from tests.conftest import CIPHER_KEY, CODEC_KEY, PSEUDONYM_KEY
from tests.helpers import subprocess_env
from tests.projections.test_reports import _all_reports, _demo, _tables

BARNFLOW = [sys.executable, "-m", "infra.cli"]


def _cli_env(home: Path, pg_url: str, schema: str) -> dict[str, str]:
    env = subprocess_env()
    env.update(
        BARNFLOW_HOME=str(home),
        BARNFLOW_DATABASE_URL=pg_url,
        BARNFLOW_DATABASE_SCHEMA=schema,
        BARNFLOW_CIPHER_KEY=base64.b64encode(CIPHER_KEY).decode(),
        BARNFLOW_CODEC_KEY=base64.b64encode(CODEC_KEY).decode(),
        BARNFLOW_PSEUDONYM_KEY=base64.b64encode(PSEUDONYM_KEY).decode(),
    )
    return env


def _position(env: dict[str, str]) -> int:
    from projections.view import open_view

    view = open_view(env)
    try:
        return view.position()
    finally:
        view.datastore.close()


def _read_until(proc: subprocess.Popen[str], word: str, count: int, timeout: float = 60) -> int:
    """Read the runner's trace until the ``count``-th line starting with ``word``; its position."""
    assert proc.stdout is not None
    deadline, seen = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        text = proc.stdout.readline()
        if not text:
            raise AssertionError(f"runner exited ({proc.wait()}) before {count}x {word!r}")
        if text.startswith(word + " "):
            seen += 1
            if seen == count:
                return int(text.split()[1])
    raise AssertionError(f"no {count}x {word!r} within {timeout}s")


@pytest.mark.parametrize("where", ["inside-batch", "between-batches"])
def test_sigkilled_runner_resumes_to_views_equal_to_a_rebuild(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path, where: str
) -> None:
    _demo(store)
    head = store.max_position()
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    cli_env = _cli_env(tmp_path, pg_url, schema)
    run = [*BARNFLOW, "projections", "run", "--batch-size", "9", "--trace"]
    # inside: the 3rd batch waits 4 s (under the store's idle-in-transaction timeout) uncommitted
    hold = ["--hold", "4", "--hold-batch", "3"] if where == "inside-batch" else []
    proc = subprocess.Popen([*run, *hold], env=cli_env, stdout=subprocess.PIPE, text=True)
    try:
        if where == "inside-batch":
            committed = _read_until(proc, "committed", 2)
            in_flight = _read_until(proc, "committing", 1)  # the 3rd batch, holding its transaction
        else:
            committed = _read_until(proc, "committed", 4)
            in_flight = None
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    killed_at = _position(env)
    assert 0 < killed_at < head
    assert killed_at >= committed
    if in_flight is not None:
        assert killed_at == committed < in_flight  # the uncommitted batch left nothing behind

    resumed = subprocess.run(
        [*run, "--until-caught-up"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert resumed.stdout.splitlines()[0] == f"starting at {killed_at}"
    assert resumed.stdout.splitlines()[-1] == f"views at position {head}"
    with caught_up(env) as after_restart:
        incremental, reports = _tables(after_restart), _all_reports(after_restart)
    rebuild(env)
    with caught_up(env) as fresh:
        assert _tables(fresh) == incremental
        assert _all_reports(fresh) == reports
