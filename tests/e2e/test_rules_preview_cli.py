"""``barnflow rules preview --on 2027-01-01 --kommun K`` on the demo's store, as a kommun would run
it in December: its open compulsory-care cases are listed frist by frist, nothing else is."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path

from domain.calendar import STOCKHOLM
from infra.config.clock import today_stockholm
from tests.e2e.conftest import DemoRun
from tests.e2e.test_cli import _barnflow, _env
from tests.factories import line

CLOSED_LVU = "PREVIEW-CLOSED-LVU"


def _closed_lvu_case(path: Path) -> None:
    """An omedelbart omhändertagande whose ansökan the court rejected; the case is closed."""

    def at(day: str) -> datetime:
        return datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=STOCKHOLM)

    n = iter(range(1, 100))

    def ev(etype: str, day: str, data: dict[str, object]) -> dict[str, object]:
        return line(etype, data, at=at(day), key=f"{CLOSED_LVU}-{next(n)}", case_ref=CLOSED_LVU)

    lines = [
        ev(
            "anmalan_mottagen",
            "2026-05-04",
            {
                "anmalan_id": "A1",
                "barn": {"personnummer": "201005152341", "kon": "flicka"},
                "anmalare_kategori": "polis",
            },
        ),
        ev("skyddsbedomning_gjord", "2026-05-04", {"anmalan_id": "A1", "omedelbart_skydd": True}),
        ev(
            "lvu_omhandertagande_beslutat",
            "2026-05-04",
            {"beslut_id": "L1", "delegat": {"id": "o1", "roll": "ordforande"}},
        ),
        ev("lvu_omhandertagande_verkstallt", "2026-05-04", {"beslut_id": "L1"}),
        ev(
            "forhandsbedomning_beslutad",
            "2026-05-05",
            {"anmalan_id": "A1", "beslut": "inte_inleda_utredning"},
        ),
        ev("lvu_understalld", "2026-05-08", {"beslut_id": "L1"}),
        ev("lvu_ansokan_inlamnad", "2026-05-20", {"beslut_id": "L1"}),
        ev("lvu_dom", "2026-06-10", {"utfall": "avslag", "beslut_id": "L1"}),
        ev("arende_avslutat", "2026-06-15", {"orsak": "lvu_avslag"}),
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")


def test_preview_lists_the_demo_lvu_cases_only(tmp_path: Path, demo_run: DemoRun) -> None:
    env = _env(demo_run.home)
    extra = tmp_path / "closed-lvu.jsonl"
    _closed_lvu_case(extra)
    imported = _barnflow("import", str(extra), "--no-workflows", env=env, timeout=120)
    assert imported.returncode == 0, imported.stderr[-2000:]
    # no worker runs: the views take in the imported case only when the runner runs once
    caught = _barnflow("projections", "catch-up", env=env, timeout=120)
    assert caught.returncode == 0, caught.stderr[-2000:]
    day = f"{today_stockholm():%Y%m%d}"

    for kommun, lvu_refs in (
        ("1280", {f"DEMO-1280-007-{day}", f"DEMO-1280-008-{day}"}),
        ("0127", {f"DEMO-0127-015-{day}", f"DEMO-0127-016-{day}"}),
    ):
        run = _barnflow(
            "rules", "preview", "--on", "2027-01-01", "--kommun", kommun, "--format", "json",
            env=env, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-2000:]
        rows = json.loads(run.stdout)
        # the open LVU cases, and neither the open SoL cases nor the closed LVU case
        assert {r["case_ref"] for r in rows} == lvu_refs
        if not date(2026, 11, 5) <= today_stockholm() <= date(2026, 12, 31):
            continue  # the demo is dated from today: only in December do these run across
        vard = [r for r in rows if r["rule"] == "E6"]
        # vård under way since the dom 70 days ago: the first övervägande runs across the switch,
        # keeps its LVU paragraph and due date, and names the policies that say so
        [e6] = vard
        assert e6["law_before"] == e6["law_after"] == "LVU 1990:52 13 § första st."
        assert e6["due_before"] == e6["due_after"]
        assert e6["change"] == "policy_applied"
        assert e6["policy"].startswith("POL-LVU2027-TRIGGER; POL-LVU2027-CYKEL")
        # the umgänge restriction decided 35 days ago is reviewed within three months: that
        # review, too, runs across the line under LVU 14 §
        [e10] = [r for r in rows if r["rule"] == "E10"]
        assert e10["law_before"] == e10["law_after"] == "LVU 1990:52 14 §"
        assert e10["change"] == "policy_applied"

    table = _barnflow("rules", "preview", "--on", "2027-01-01", "--kommun", "1280", env=env)
    assert table.returncode == 0, table.stderr[-2000:]
    assert "LVU2027: LVU 1990:52 -> lag 2026:1600" in table.stdout
    assert "2 öppna ärenden med tvångsvård" in table.stdout
    assert CLOSED_LVU not in table.stdout and f"DEMO-1280-003-{day}" not in table.stdout

    as_csv = _barnflow(
        "rules", "preview", "--on", "2027-01-01", "--kommun", "0127", "--format", "csv", env=env
    )
    assert as_csv.returncode == 0, as_csv.stderr[-2000:]
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert {r["case_ref"] for r in parsed} == {f"DEMO-0127-015-{day}", f"DEMO-0127-016-{day}"}

    # every listed case's read is in the access log, with the purpose given
    log = _barnflow(
        "report", "access-log", "--kommun", "1280", "--format", "json", env=env, timeout=120
    )
    assert log.returncode == 0, log.stderr[-2000:]
    reads = {(r["case_ref"], r["purpose"]) for r in json.loads(log.stdout)}
    assert {(f"DEMO-1280-007-{day}", "lagandring"), (f"DEMO-1280-008-{day}", "lagandring")} <= reads
    assert not any(ref == CLOSED_LVU for ref, _ in reads)

    # bad input: one line, exit 2
    for args, start in (
        (("--on", "2027-02-30", "--kommun", "1280"), "barnflow: --on: not an ISO date"),
        (("--on", "2027-01-01", "--kommun", "12800"), "barnflow: --kommun: a kommunkod has 4"),
        (("--on", "2027-01-01", "--kommun", "9999"), "barnflow: --kommun: no cases of kommun"),
    ):
        bad = _barnflow("rules", "preview", *args, env=env, timeout=120)
        assert bad.returncode == 2, bad.stdout
        lines = bad.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(start), bad.stderr
