"""One ``barnflow demo`` run shared by the e2e tests that need a demo home.

The demo starts an embedded PostgreSQL and a Temporal dev server, drives backdated cases and stops
both: about 40 s on 2 cores. Two tests read its home (the newcomer's demo and report, the rules
preview before 2027-01-01); running it once for both keeps the suite inside its time budget. Each
test only adds to the home (the preview imports one closed case), never changes what the other
reads.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.test_cli import _barnflow, _env


@dataclass(frozen=True)
class DemoRun:
    home: Path
    run: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    home = tmp_path_factory.mktemp("demo") / "home"
    run = _barnflow("demo", env=_env(home), timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return DemoRun(home, run)
