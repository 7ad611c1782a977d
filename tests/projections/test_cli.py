"""The auditor's commands as a person runs them: ``barnflow import FILE --no-workflows``,
``barnflow report``, ``barnflow projections rebuild`` (subprocesses against a per-test schema)."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from infra.persistence.store import CaseStore
from tests.projections.test_kill import _cli_env

BARNFLOW = [sys.executable, "-m", "infra.cli"]
GOLDEN = Path(__file__).parents[1] / "golden"


def _barnflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_import_with_a_bad_line_is_one_line_naming_it_and_stores_nothing(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    lines = (GOLDEN / "evb.jsonl").read_text(encoding="utf-8").splitlines()
    i = next(i for i, ln in enumerate(lines) if '"insats_verkstalld"' in ln)
    lines[i] = lines[i].replace('"insats_verkstalld"', '"insats_verkstald"')
    bad = tmp_path / "export.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = _barnflow("import", str(bad), "--no-workflows", env=_cli_env(tmp_path, pg_url, schema))
    assert run.returncode == 2
    [err] = run.stderr.splitlines()
    assert err.startswith(
        f"barnflow: export.jsonl line {i + 1}: type: unknown event type 'insats_verkstald'; "
        "did you mean insats_verkstalld"
    )
    assert " | sv: type: okänd händelsetyp 'insats_verkstald'; menade du insats_verkstalld" in err
    assert run.stdout == ""
    assert store.max_position() == 0


def test_auditor_imports_an_export_and_reproduces_the_evb_report_then_rebuilds(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path, pg_url, schema)
    export = GOLDEN / "evb.jsonl"
    n = len(export.read_text(encoding="utf-8").splitlines())
    run = _barnflow("import", str(export), "--no-workflows", env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith(f"imported evb.jsonl: {n} lines, 5 cases, {n} appended")
    assert "adopted" not in run.stdout
    assert store.max_position() == n

    report = ("report", "evb", "--kommun", "1280", "--quarter", "2026Q1", "--format", "document")
    # no runner runs: the report reads the views as they are, says they lag, and writes nothing
    stale = _barnflow(*report, env=env)
    assert stale.returncode == 0, stale.stderr[-2000:]
    assert stale.stderr.splitlines()[0] == f"views at position 0 of {n}, lag {n} events"
    assert "barnflow projections catch-up" in stale.stderr
    assert stale.stdout != (GOLDEN / "evb" / "evb@2026Q1.json").read_text(encoding="utf-8")
    status = _barnflow("projections", "status", env=env)
    assert status.stdout.startswith(f"store head {n}, views at 0 (lag {n}), no runner")

    caught = _barnflow("projections", "catch-up", env=env)
    assert caught.returncode == 0, caught.stderr[-2000:]
    assert caught.stdout == f"views at position {n} of {n}, lag 0 events\n"
    first = _barnflow(*report, env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stderr == f"views at position {n} of {n}, lag 0 events\n"
    assert first.stdout == (GOLDEN / "evb" / "evb@2026Q1.json").read_text(encoding="utf-8")
    # --catch-up on the report itself is the same one-shot runner
    assert _barnflow(*report, "--catch-up", env=env).stdout == first.stdout

    rebuilt = _barnflow("projections", "rebuild", "--quiet", env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    assert rebuilt.stdout.startswith(f"rebuilt every view: {n} events, 5 cases, position {n},")
    again = _barnflow(*report, env=env)
    assert again.stdout == first.stdout


def test_report_with_the_wrong_period_flag_is_one_line_and_exit_2(
    pg_url: str, schema: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path, pg_url, schema)
    run = _barnflow("report", "evb", "--kommun", "1280", "--as-of", "2026-01-01", env=env)
    assert run.returncode == 2
    assert run.stderr.splitlines() == ["barnflow: --as-of: report evb takes --quarter, not --as-of"]
    bad_quarter = _barnflow("report", "evb", "--kommun", "1280", "--quarter", "2026Q5", env=env)
    assert bad_quarter.returncode == 2
    assert bad_quarter.stderr.splitlines() == [
        "barnflow: --quarter: expected e.g. 2026Q2, got '2026Q5'"
    ]


def test_the_overklaganden_report_from_the_cli_as_a_table_and_as_its_golden_document(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    """`barnflow report overklaganden --as-of D`: appeals pending on a date (docs/reports.md)."""
    env = _cli_env(tmp_path, pg_url, schema)
    export = GOLDEN / "overklaganden.jsonl"
    run = _barnflow("import", str(export), "--no-workflows", env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    report = ("report", "overklaganden", "--kommun", "1280", "--as-of", "2026-06-30", "--catch-up")
    doc = _barnflow(*report, "--format", "document", env=env)
    assert doc.returncode == 0, doc.stderr[-2000:]
    golden = GOLDEN / "overklaganden" / "overklaganden@2026-06-30.json"
    assert doc.stdout == golden.read_text(encoding="utf-8")
    table = _barnflow(*report, env=env)
    assert table.returncode == 0, table.stderr[-2000:]
    rows = [ln for ln in table.stdout.splitlines() if ln.startswith("OK-")]
    assert [ln.split()[0] for ln in rows] == ["OK-3", "OK-2", "OK-5"]
    assert "rattidsprovat" in rows[1] and "inhibition" in rows[0]


def test_the_avvikningar_report_takes_a_year_from_the_cli(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    """`barnflow report avvikningar --year 2026`: the yearly statistic (docs/reports.md)."""
    env = _cli_env(tmp_path, pg_url, schema)
    run = _barnflow("import", str(GOLDEN / "placed.jsonl"), "--no-workflows", env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    report = ("report", "avvikningar", "--kommun", "1280", "--year", "2026", "--catch-up")
    doc = _barnflow(*report, "--format", "document", env=env)
    assert doc.returncode == 0, doc.stderr[-2000:]
    golden = GOLDEN / "placed" / "avvikningar@2026.json"
    assert doc.stdout == golden.read_text(encoding="utf-8")
    wrong = _barnflow("report", "avvikningar", "--kommun", "1280", "--as-of", "2026-01-01",
                      env=env)  # fmt: skip
    assert wrong.returncode == 2
    assert "takes --year, not --as-of" in wrong.stderr


def test_rebuild_shows_a_progress_bar_on_a_terminal_and_nothing_in_a_pipe(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path, pg_url, schema)
    export = GOLDEN / "evb.jsonl"
    n = len(export.read_text(encoding="utf-8").splitlines())
    assert _barnflow("import", str(export), "--no-workflows", env=env).returncode == 0

    piped = _barnflow("projections", "rebuild", env=env)  # stderr is a pipe: quiet
    assert piped.returncode == 0, piped.stderr[-2000:]
    assert piped.stderr == ""
    assert piped.stdout.startswith(f"rebuilt every view: {n} events")

    primary, secondary = pty.openpty()  # stderr is a terminal: the bar, ending at 100 %
    shown = b""
    try:
        run = subprocess.run(
            [*BARNFLOW, "projections", "rebuild"],
            env={**env, "COLUMNS": "100"},
            stdout=subprocess.PIPE,
            stderr=secondary,
            timeout=120,
            check=False,
        )
        os.close(secondary)
        secondary = -1
        with contextlib.suppress(OSError):  # EIO once the terminal's other end is closed
            while chunk := os.read(primary, 65536):
                shown += chunk
    finally:
        for fd in (primary, secondary):
            if fd >= 0:
                os.close(fd)
    assert run.returncode == 0, shown.decode(errors="replace")[-2000:]
    screen = shown.decode(errors="replace")
    assert "rebuild" in screen and "100%" in screen and f"{n}/{n}" in screen, screen
    assert run.stdout.decode().startswith(f"rebuilt every view: {n} events")


def test_the_national_extracts_as_csv_for_swedish_excel_from_the_cli(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    """`barnflow report aktualiseringar|avslutade-utredningar --year 2026 --format csv-excel`:
    the bytes a Swedish Excel opens (BOM, ``;``, decimal comma, CRLF), equal to the hand-checked
    files (tests/golden/extracts.md); the table and the JSON rows say which report they are."""
    env = _cli_env(tmp_path, pg_url, schema)
    run = _barnflow("import", str(GOLDEN / "extracts.jsonl"), "--no-workflows", env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    for name in ("aktualiseringar", "avslutade-utredningar"):
        report = ("report", name, "--kommun", "1280", "--year", "2026", "--catch-up")
        raw = subprocess.run(
            [*BARNFLOW, *report, "--format", "csv-excel"],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert raw.returncode == 0, raw.stderr[-2000:]
        assert raw.stdout == (GOLDEN / "extracts" / f"{name}@2026.csv").read_bytes()
    table = _barnflow(*report, env=env)
    assert table.returncode == 0, table.stderr[-2000:]
    lines = table.stdout.splitlines()
    assert lines[1:5] == [
        "Rapport: Avslutade utredningar (uppföljning: längd och utfall)",
        "Kommun: 1280",
        "Period: 2026",
        "Per datum: 2026-12-31",
    ]
    rows = _barnflow(*report, "--format", "json", env=env)
    assert rows.returncode == 0, rows.stderr[-2000:]
    assert rows.stdout.startswith("[")  # the bare rows, as before; the metadata on stderr
    assert "report: avslutade-utredningar kommun 1280 period 2026 as-of 2026-12-31" in rows.stderr


LATE_E5 = (
    '{"kommun":"1280","case_ref":"EVB-E5","type":"insats_verkstalld",'
    '"occurred_at":"2026-06-15T10:00:00+02:00","actor":{"id":"hl-1","roll":"socialsekreterare"},'
    '"idempotency_key":"EVB-E5-late","data":{"beslut_id":"B1"}}'
)


def test_freeze_an_evb_quarter_and_print_the_individrapport_from_the_snapshot(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    """`barnflow report freeze`, then `report individrapport|kf-statistik --snapshot`
    (docs/reports.md, "Frozen quarterly snapshots")."""
    env = _cli_env(tmp_path, pg_url, schema)
    run = _barnflow("import", str(GOLDEN / "evb.jsonl"), "--no-workflows", env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    quarter = ("--kommun", "1280", "--quarter", "2026Q2")
    before = _barnflow("report", "individrapport", *quarter, "--snapshot", env=env)
    assert before.returncode == 1
    assert "no snapshot frozen" in before.stderr
    frozen = _barnflow("report", "freeze", *quarter, "--catch-up", env=env)
    assert frozen.returncode == 0, frozen.stderr[-2000:]
    assert frozen.stdout.startswith("frozen 1280 2026Q2 version 1: 2 evb rows at position ")
    again = _barnflow("report", "freeze", *quarter, env=env)
    assert again.returncode == 1
    assert "already frozen (version 1)" in again.stderr
    no_reason = _barnflow("report", "freeze", *quarter, "--replace", env=env)
    assert no_reason.returncode == 2
    doc = _barnflow("report", "individrapport", *quarter, "--snapshot", "--format", "document",
                    env=env)  # fmt: skip
    assert doc.returncode == 0, doc.stderr[-2000:]
    assert "snapshot 1280 2026Q2 version 1" in doc.stderr
    golden = (GOLDEN / "evb" / "individrapport@2026Q2.json").read_text(encoding="utf-8")
    printed = json.loads(doc.stdout)
    assert printed.pop("snapshot")["version"] == 1
    assert printed == json.loads(golden)
    kf = _barnflow("report", "kf-statistik", *quarter, "--snapshot", "1", "--format", "csv",
                   env=env)  # fmt: skip
    assert kf.returncode == 0, kf.stderr[-2000:]
    counted = [ln for ln in kf.stdout.splitlines() if not ln.endswith(",0")][1:]
    assert sorted(ln.split(",")[-3:] for ln in counted) == [
        ["familjehem", "pojke", "1"],
        ["kontaktfamilj", "flicka", "1"],
    ]
    live = _barnflow("report", "individrapport", *quarter, "--format", "document", env=env)
    assert live.stdout == golden
    wrong = _barnflow("report", "frister", "--kommun", "1280", "--snapshot", env=env)
    assert wrong.returncode == 2
    # recorded after the freeze: E5's kontaktfamilj verkställd on 2026-06-15
    late = tmp_path / "late.jsonl"
    late.write_text(LATE_E5 + "\n", encoding="utf-8")
    run = _barnflow("import", str(late), "--no-workflows", env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    replace = ("report", "freeze", *quarter, "--replace", "--reason", "E5 verkställd sent")
    lagging = _barnflow(*replace, env=env)
    assert lagging.returncode == 1
    assert "freeze with --catch-up" in lagging.stderr
    second = _barnflow(*replace, "--catch-up", env=env)
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.stdout.startswith("frozen 1280 2026Q2 version 2: 2 evb rows")
    for version, open_rows in (("1", "2"), ("2", "1")):
        kf_doc = _barnflow("report", "kf-statistik", *quarter, "--snapshot", version,
                           "--format", "document", env=env)  # fmt: skip
        assert kf_doc.returncode == 0, kf_doc.stderr[-2000:]
        assert json.loads(kf_doc.stdout)["summary"]["alla"]["antal"] == int(open_rows)
