"""The CLI as a newcomer uses it: the demo, a report, and a bad setting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers import subprocess_env

if TYPE_CHECKING:
    from tests.e2e.conftest import DemoRun

BARNFLOW = [sys.executable, "-m", "infra.cli"]


def _env(home: Path, **extra: str) -> dict[str, str]:
    return subprocess_env(BARNFLOW_HOME=str(home), **extra)


def _barnflow(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_demo_prints_met_and_overdue_frister_and_leaves_nothing_running(
    demo_run: DemoRun,
) -> None:
    home, run = demo_run.home, demo_run.run
    out = run.stdout
    assert "Frister i kommun 1280" in out and "Frister i kommun 0127" in out
    assert " met " in out and " overdue " in out and " missed " in out
    assert "barnflow dev" in out
    # the embedded PostgreSQL is stopped (no live postmaster) and no temporal server remains
    assert not (home / "pgdata" / "postmaster.pid").exists()
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True)
    assert str(home) not in ps.stdout

    # the same home answers a report afterwards, as JSON, from the persisted store
    report = _barnflow(
        "report", "frister", "--kommun", "1280", "--format", "json", env=_env(home), timeout=120
    )
    assert report.returncode == 0, report.stderr[-2000:]
    rows = json.loads(report.stdout)
    assert {r["status"] for r in rows} <= {"open", "overdue"}
    assert any(r["rule"] == "A2" and r["status"] == "overdue" for r in rows)
    assert not (home / "pgdata" / "postmaster.pid").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BARNFLOW_TEMPORAL_ADDRESS", "not an address"),
        ("BARNFLOW_DATABASE_SCHEMA", "Robert'); DROP"),
        ("BARNFLOW_MODE", "staging"),
        ("BARNFLOW_CODEC_KEY", "short"),
        ("BARNFLOW_ALERT_SETTLE_SECONDS", "5 min"),
    ],
)
def test_bad_setting_is_one_line_naming_it(tmp_path: Path, name: str, value: str) -> None:
    run = _barnflow("report", "frister", "--kommun", "1280", env=_env(tmp_path, **{name: value}))
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"barnflow: {name}:")


def test_production_refuses_to_start_without_keys(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        BARNFLOW_MODE="production",
        BARNFLOW_DATABASE_URL="postgresql://postgres@127.0.0.1:1/x",
    )
    run = _barnflow("report", "frister", "--kommun", "1280", env=env)
    assert run.returncode == 2
    assert "required when BARNFLOW_MODE=production" in run.stderr
    assert not (tmp_path / "keys.json").exists()
