"""`barnflow gallring plan|run` and `audit verify` as the registrator runs them (subprocesses
against a per-test schema holding a backdated store)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from infra.persistence.store import CaseStore
from tests.projections.test_kill import _cli_env
from tests.projections.test_retention_plan import backdated_store

BARNFLOW = [sys.executable, "-m", "infra.cli"]


def _barnflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )


def test_plan_dry_run_apply_and_verify(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    backdated_store(store)
    env = _cli_env(tmp_path, pg_url, schema)
    plan = _barnflow("gallring", "plan", "--kommun", "1280", "--format", "json", env=env)
    assert plan.returncode == 0, plan.stderr[-2000:]
    rows = json.loads(plan.stdout)
    assert {r["status"] for r in rows} == {"bevaras", "gallras", "vantar"}
    assert "2010" not in plan.stdout.replace("2010-", "")  # no personnummer digits leak

    missing = _barnflow("gallring", "run", "--kommun", "1280", env=env)
    assert missing.returncode == 2 and "--beslut" in missing.stderr

    dry = _barnflow("gallring", "run", "--kommun", "1280", "--beslut", "GN §42", env=env)
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "gallras (dry run)" in dry.stdout and ", 0 destroyed," in dry.stdout

    done = _barnflow(
        "gallring", "run", "--kommun", "1280", "--beslut", "GN §42", "--apply", env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "views rebuilt" in done.stdout and " 0 destroyed" not in done.stdout

    again = _barnflow(
        "gallring", "run", "--kommun", "1280", "--beslut", "GN §42", "--apply", env=env
    )
    assert again.stdout.splitlines()[-1].startswith("0 key(s) due, 0 destroyed, 0 event(s)")

    verify = _barnflow("audit", "verify", "--no-temporal", env=env)
    assert verify.returncode == 0, verify.stdout + verify.stderr[-2000:]
    assert verify.stdout.startswith("OK: 4 streams")
