"""Socialstyrelsen's yearly return from the CLI as the kommun's statistikansvarig runs it
(issue #17 item 1; docs/reports.md "arsstatistik"): validate, then write the file; the file's
bytes equal the hand-checked ones (tests/golden/arsstatistik.md), every case whose personnummer
went into it is in the access log, a protected child is in the file and marked in the log, and
the file is refused (nothing written, nothing logged) while the validator finds errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg import sql

from infra.persistence.access_log import TABLE
from infra.persistence.store import CaseStore
from tests.projections.test_kill import _cli_env

BARNFLOW = [sys.executable, "-m", "infra.cli"]
GOLDEN = Path(__file__).parents[1] / "golden"
UPDATE = os.environ.get("BARNFLOW_UPDATE_GOLDEN") == "1"
REPORT = ("report", "arsstatistik", "--kommun", "1280")


def _barnflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _log(pg_url: str, schema: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(pg_url) as conn:
        found = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}"."{TABLE}"',)
        ).fetchone()
        if not found or not found[0]:
            return []
        rows = conn.execute(
            sql.SQL("SELECT who, role, purpose FROM {}.{} ORDER BY case_id").format(
                sql.Identifier(schema), sql.Identifier(TABLE)
            )
        ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def _same(path: Path, data: bytes) -> None:
    if UPDATE:
        path.write_bytes(data)
    assert data == path.read_bytes(), path.name


def test_the_return_is_validated_then_written_with_personnummer_and_each_read_logged(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path, pg_url, schema)
    lines = (GOLDEN / "arsstatistik.jsonl").read_text(encoding="utf-8").splitlines()
    # AR-3's child gets skyddad folkbokföring: still in the file (a statutory duty), logged
    lines.append(
        '{"kommun":"1280","case_ref":"AR-3","type":"skydd_markerat","occurred_at":'
        '"2026-02-01T10:00:00+01:00","actor":{"id":"hl-1","roll":"socialsekreterare"},'
        '"idempotency_key":"AR-3-99","data":{"skydd":"skyddad_folkbokforing"}}'
    )
    src = tmp_path / "ars.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = _barnflow("import", str(src), "--no-workflows", env=env)
    assert run.returncode == 0, run.stderr[-2000:]

    checked = _barnflow(*REPORT, "--year", "2026", "--catch-up", "--validate", env=env)
    assert checked.returncode == 0, checked.stderr[-2000:]
    first = checked.stdout.splitlines()[1]  # after the views line
    assert first == "arsstatistik 1280 2026 (regelverk 2026.1): 5 poster, 0 fel, 0 varningar"

    table = _barnflow(*REPORT, "--year", "2026", env=env)
    assert table.returncode == 0, table.stderr[-2000:]
    assert "vistelsekommun" in table.stdout  # the 2026 rule set's own variable
    assert "AR-3" not in table.stdout and "⟨skyddad⟩" in table.stdout  # POL-SKYDD-RAPPORT
    assert "201205102385" not in table.stdout  # the report never shows a personnummer

    # AR-3 is protected: only a role the kommun names for protected cases writes the file
    out = tmp_path / "fil.csv"
    refused = _barnflow(*REPORT, "--year", "2026", "--output", str(out), env=env)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1] == (
        "barnflow: skyddade personuppgifter: rollen 'statistikansvarig' får inte läsa ärendets "
        "innehåll / protected personal data: role 'statistikansvarig' may not read the case's "
        "content (POL-SKYDD-ATKOMST)"
    )
    assert not out.exists()
    assert _log(pg_url, schema) == []

    for year, layout, suffix in (
        ("2026", "csv", "csv"),
        ("2026", "fast", "txt"),
        ("2025", "csv", "csv"),
    ):
        out = tmp_path / f"fil-{year}.{suffix}"
        args = ("--year", year, "--output", str(out), "--actor", "stat-1")
        args = (*args, "--role", "handlaggare_skydd")
        wrote = _barnflow(*REPORT, *args, "--layout", layout, env=env)
        assert wrote.returncode == 0, wrote.stderr[-2000:]
        assert wrote.stdout.startswith(f"wrote {out}: "), wrote.stdout
        _same(GOLDEN / "arsstatistik" / f"fil@{year}.{suffix}", out.read_bytes())

    log = _log(pg_url, schema)
    # 2026: AR-1, AR-2, AR-3 (twice: csv and fast); 2025: AR-1, AR-2, AR-4
    assert len(log) == 3 + 3 + 3
    assert {who for who, _, _ in log} == {"stat-1"}
    assert {role for _, role, _ in log} == {"handlaggare_skydd"}
    marked = [p for _, _, p in log if p.endswith("[skyddade personuppgifter]")]
    assert len(marked) == 2  # AR-3 in the two 2026 files
    assert all(p.startswith("arsstatistik: uppgiftsskyldighet") for _, _, p in log)


def test_planted_errors_are_listed_and_block_the_file(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path, pg_url, schema)
    run = _barnflow("import", str(GOLDEN / "arsstatistik_fel.jsonl"), "--no-workflows", env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    checked = _barnflow(
        *REPORT, "--year", "2026", "--catch-up", "--validate", "--format", "csv", env=env
    )
    assert checked.returncode == 1, checked.stderr[-2000:]
    assert "9 poster, 8 fel, 1 varningar" in checked.stderr
    _same(GOLDEN / "arsstatistik_fel" / "fel@2026.csv", checked.stdout.encode())

    out = tmp_path / "fil.csv"
    refused = _barnflow(*REPORT, "--year", "2026", "--output", str(out), env=env)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1] == (
        "barnflow: the validator found 8 error(s) in the return; see them with --validate and "
        "correct the record first"
    )
    assert not out.exists()
    assert _log(pg_url, schema) == []


def test_bad_options_are_one_line_and_exit_2(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path, pg_url, schema)
    cases = {
        ("--year", "2024"): "barnflow: --year: no rule set for reporting year 2024 "
        "(rule sets: 2025, 2026)",
        ("--year", "26"): "barnflow: --year: expected e.g. 2026, got '26'",
        ("--year", "2026", "--layout", "fast"): "barnflow: --layout goes with --output",
        ("--year", "2027", "--output", "x.csv"): "barnflow: --year: reporting year 2027 has no "
        "rule set of its own (the report reads it with 2026's); the file needs "
        "domain/returns/year_2027.py",
        ("--year", "2026", "--validate", "--output", "x.csv"): "barnflow: --validate and "
        "--output: one at a time (--output validates too)",
    }
    for args, message in cases.items():
        run = _barnflow(*REPORT, *args, env=env)
        assert (run.returncode, run.stderr.strip()) == (2, message), args
    other = _barnflow("report", "evb", "--kommun", "1280", "--validate", env=env)
    assert (other.returncode, other.stderr.strip()) == (
        2,
        "barnflow: --validate: only report arsstatistik takes it",
    )
