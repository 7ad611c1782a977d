"""The systemd unit files under deploy/ (issue 21, item 5) pass ``systemd-analyze verify``:
with the ExecStart path pointed at this checkout's barnflow (verify requires the binary to
exist), every unit loads without a warning, and each runs the command docs/operations.md says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
INSTALLED = "/opt/barnflow/.venv/bin/barnflow"


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is not installed (.ci/run installs Debian's systemd)")
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    return found


def test_unit_files_verify_cleanly(tmp_path: Path) -> None:
    analyze = _systemd_analyze()
    barnflow = Path(sys.executable).parent / "barnflow"
    assert barnflow.exists(), barnflow
    units = sorted(DEPLOY.glob("*.service"))
    assert {u.name for u in units} == {
        "barnflow-setup.service",
        "barnflow-worker.service",
        "barnflow-api.service",
    }
    for unit in units:
        (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALLED, str(barnflow)))
    run = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0 and not run.stderr.strip(), run.stderr
    commands = {u.name: _exec_start(u) for u in units}
    assert commands["barnflow-setup.service"].endswith("barnflow setup --apply")
    assert commands["barnflow-worker.service"].endswith("barnflow worker")
    assert " api serve " in commands["barnflow-api.service"]


def _exec_start(unit: Path) -> str:
    return next(
        ln.split("=", 1)[1] for ln in unit.read_text().splitlines() if ln.startswith("ExecStart=")
    )
