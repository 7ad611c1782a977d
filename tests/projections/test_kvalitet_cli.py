"""``barnflow klagomal|lex-sarah send|list`` and ``barnflow report klagomal|lex-sarah`` as a person
runs them (subprocesses against a per-test schema): a file with one bad line is refused whole
with one stderr line naming the line and the field (exit 2, nothing stored); a refused step stops
at its line with its rule; the golden scenario's reports print with their metadata in every
format."""

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


def _barnflow(*args: str, env: dict[str, str], stdin: str | None = None) -> Any:
    return subprocess.run(
        [*BARNFLOW, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_klagomal_and_lex_sarah_are_sent_listed_and_reported(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path, pg_url, schema)
    lines = (GOLDEN / "kvalitet.jsonl").read_text(encoding="utf-8").splitlines()
    klagomal = [x for x in lines if '"klagomal_' in x]
    lex = [x for x in lines if '"lex_sarah_' in x]

    broken = [*klagomal[:3], klagomal[3].replace('"barn"', '"Anna"'), *klagomal[4:]]
    bad = _barnflow("klagomal", "send", "-", env=env, stdin="\n".join(broken) + "\n")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "line 4" in bad.stderr
    assert "data.avsandare" in bad.stderr
    empty = _barnflow("klagomal", "list", "--kommun", "1280", "--as-of", "2025-12-31", env=env)
    assert empty.returncode == 0 and json.loads(empty.stdout)["arenden"] == []  # nothing stored

    sent = _barnflow("klagomal", "send", "-", env=env, stdin="\n".join(klagomal) + "\n")
    assert sent.returncode == 0, sent.stderr[-2000:]
    assert len(sent.stdout.splitlines()) == len(klagomal)
    # LS-1's anmälan moved before its bedömning: refused at that line with its rule
    order = [*lex[:2], lex[3], lex[2], *lex[4:]]
    refused = _barnflow("lex-sarah", "send", "-", env=env, stdin="\n".join(order) + "\n")
    assert refused.returncode == 2 and "LS-ANMALAN" in refused.stderr and "line 3" in refused.stderr
    sent = _barnflow("lex-sarah", "send", "-", env=env, stdin="\n".join(lex) + "\n")
    assert sent.returncode == 0, sent.stderr[-2000:]
    assert sum(json.loads(x)["duplicate"] for x in sent.stdout.splitlines()) == 2  # sent before

    listed = _barnflow("klagomal", "list", "--kommun", "1280", "--as-of", "2025-12-31", env=env)
    rows = {r["arende_id"]: r for r in json.loads(listed.stdout)["arenden"]}
    assert rows["KL-4"]["frister"][0]["status"] == "forsenad"
    assert rows["KL-5"]["frister"][0]["status"] == "oppen"

    report = ["report", "klagomal", "--kommun", "1280", "--year", "2025"]
    table = _barnflow(*report, env=env)
    assert table.returncode == 0, table.stderr
    assert "klagomal" in table.stdout and "2025-12-31" in table.stdout
    excel = subprocess.run(
        [*BARNFLOW, *report, "--format", "csv-excel"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert excel.returncode == 0 and excel.stdout.startswith(b"\xef\xbb\xbf")
    first, alla = excel.stdout[3:].decode("utf-8").split("\r\n")[:2]
    assert first.startswith("rapport;kommun;period;per_datum;avsnitt;grupp;antal")
    # the golden figures: 5 came in, 3 answered, 2 in time, share 0,6667 with a decimal comma
    assert alla.startswith("klagomal;1280;2025;2025-12-31;alla;alla;5;3;2;1;0,6667;14")
    as_json = _barnflow("report", "lex-sarah", "--kommun", "1280", "--year", "2025",
                        "--format", "json", env=env)  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    assert "report: lex-sarah kommun 1280 period 2025 as-of 2025-12-31" in as_json.stderr
    assert [r["ls3"] for r in json.loads(as_json.stdout)] == ["sen", None, None, "forsenad"]
