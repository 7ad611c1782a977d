"""``barnflow homes send`` and ``barnflow homes list`` as a person runs them (subprocesses against
a per-test schema): the golden placements imported, the homes recorded (one refused line names
its rule), and the home FH-2, register-checked on 2024-03-01, raises HEM7 (done-when (b),
backdated) on the day a child lives there two years after the check, not before the child came.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.persistence.store import CaseStore
from tests.projections.test_kill import _cli_env

BARNFLOW = [sys.executable, "-m", "infra.cli"]
GOLDEN = Path(__file__).parents[1] / "golden"


def _barnflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _home(hem_id: str, etype: str, day: str, data: dict[str, Any], key: str) -> str:
    return json.dumps(
        {
            "kommun": "1280",
            "hem_id": hem_id,
            "type": etype,
            "occurred_at": f"{day}T10:00:00+01:00",
            "actor": {"id": "fh-1", "roll": "familjehemssekreterare"},
            "idempotency_key": key,
            "data": data,
        }
    )


def test_homes_are_sent_listed_and_a_two_year_old_check_alerts(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path, pg_url, schema)
    run = _barnflow("import", str(GOLDEN / "placeringar.jsonl"), "--no-workflows", env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [
        _home("FH-2", "hem_registrerat", "2024-01-10", {"hemtyp": "familjehem"}, "r"),
        _home("FH-2", "familjehemsutredning_avslutad", "2024-02-20",
              {"utredning_id": "FU-1", "utfall": "godkand"}, "u"),
        *[_home("FH-2", "registerkontroll_gjord", "2024-03-01", {"register": r}, f"k{i}")
          for i, r in enumerate(("belastningsregistret", "misstankeregistret",
                                 "socialtjanstens_register"))],
    ]  # fmt: skip
    homes = tmp_path / "homes.jsonl"
    homes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sent = _barnflow("homes", "send", str(homes), env=env)
    assert sent.returncode == 0, sent.stderr[-2000:]
    assert len(sent.stdout.splitlines()) == 5

    refused = tmp_path / "refused.jsonl"
    refused.write_text(
        _home("JH-9", "registerkontroll_gjord", "2024-03-01", {"register": "x"}, "z") + "\n",
        encoding="utf-8",
    )
    bad = _barnflow("homes", "send", str(refused), env=env)
    assert bad.returncode == 2
    assert bad.stderr.startswith("barnflow: line 1: data.register: must be one of")

    def listed(as_of: str) -> dict[str, Any]:
        run = _barnflow("homes", "list", "--kommun", "1280", "--as-of", as_of, env=env)
        assert run.returncode == 0, run.stderr[-2000:]
        doc: dict[str, Any] = json.loads(run.stdout)
        return doc

    # 2026-04-30: the check is past its two years, but PL-1 is still in FH-1: no alert
    april = listed("2026-04-30")
    (fh2,) = april["homes"]
    assert (fh2["hem_id"], fh2["placerade"], april["larm"]) == ("FH-2", [], [])
    assert fh2["registerkontroll_giltig_till"] == "2026-03-01"
    # 2026-06-30: PL-1 moved to FH-2 on 05-01: HEM7, due the day the check ran out
    june = listed("2026-06-30")
    assert [p["case_ref"] for p in june["homes"][0]["placerade"]] == ["PL-1"]
    assert june["larm"] == [
        {
            "rule": "HEM7",
            "hem_id": "FH-2",
            "due": "2026-03-01",
            "case_refs": ["PL-1"],
            "law": "SoF 2025:468 3 kap. 3 §; POL-HEM-REGISTER",
        }
    ]
