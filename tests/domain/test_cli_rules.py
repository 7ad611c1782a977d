"""``barnflow rules list|explain`` run in-process through argparse."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from frist_builders import BARN, line

from infra.cli.rules import register


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="barnflow")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def write(tmp_path: Path, rows: list[dict[str, Any] | str]) -> Path:
    path = tmp_path / "events.jsonl"
    text = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def good_rows() -> list[dict[str, Any] | str]:
    return [
        line("anmalan_mottagen", "2026-03-02T09:15:00+01:00", anmalan_id="a1"),
        line("utredning_inledd", "2025-10-31", case_ref="VS-2", utredning_id="u1",
             grund="eget_initiativ"),
        line("anmalan_mottagen", "2025-10-30", case_ref="VS-2", anmalan_id="a9"),
        line("beslut_fattat", "2025-11-30", case_ref="VS-2", beslut_id="b1", insats="oppenvard",
             gynnande=True),
    ]  # fmt: skip


def test_rules_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rules", "list"]) == 0
    out = capsys.readouterr().out
    for needle in ("A2", "20 kap. 2 §", "SoL 2001:453 11 kap. 2 §", "LVU 1990:52 7 §", "K1"):
        assert needle in out
    rows = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    for rid, cells in {
        "E2": ("LVU 1990:52 7 §", "lag 2026:1600 5 kap. 4 §, 6 § 1", "2027-01-01"),
        "E6": ("LVU 1990:52 13 § första st.", "lag 2026:1600 8 kap. 2 §", "2027-01-01"),
        "E17": ("lag 2026:1600 17 kap. 6 §", "2027-01-01"),
        "N2": ("lag 2026:1637 9 kap. 1 §", "2027-01-02"),
        "A3": ("SoL 2025:400 19 kap. 6 §", "2026-01-15"),
        "A2": ("SoL 2025:400 20 kap. 2 §", "2025-07-01"),
    }.items():
        assert all(c in rows[rid] for c in cells), rows[rid]
        assert rows[rid].index(cells[-2]) < rows[rid].index(cells[-1])


def test_explain_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, good_rows())
    assert run(["rules", "explain", str(path), "--as-of", "2026-03-10", "--format", "json"]) == 0
    rows = {(r["case_ref"], r["key"]): r for r in json.loads(capsys.readouterr().out)}
    a2 = rows[("VS-1", "A2:a1")]
    assert (a2["trigger_date"], a2["due"], a2["status"]) == ("2026-03-02", "2026-03-16", "open")
    assert (a2["law"], a2["paragraph"], a2["rule"]) == ("SoL 2025:400", "20 kap. 2 §", "A2")
    for fld in ("name", "shifted_due", "fulfilled_date", "computation"):
        assert fld in a2
    b1 = rows[("VS-2", "B1:u1")]
    assert (b1["due"], b1["status"]) == ("2026-02-28", "overdue")
    c2 = rows[("VS-2", "C2:b1")]
    assert (c2["due"], c2["alert_event"]) == ("2026-02-28", "evb_rapporteringsskyldighet_uppstod")


def test_explain_table_and_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "k.toml"
    policy.write_text('kommun = "1280"\n[sondagsregel]\nregler = ["B1"]\n', encoding="utf-8")
    path = write(tmp_path, good_rows())
    assert run(["rules", "explain", str(path), "--policy", str(policy)]) == 0
    out = capsys.readouterr().out
    assert "B1:u1" in out and "2025-10-31 + 4 månader = 2026-02-28" in out
    assert "2026-03-02" in out  # söndagsregel: Sat 2026-02-28 → Mon 2026-03-02


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (line("anmalan_mottagen", "2026-03-02", anmalan_id="a1",
              barn={**BARN, "personnummer": BARN["personnummer"][:-1]
                    + str((int(BARN["personnummer"][-1]) + 1) % 10)}),
         "line 2: data.barn.personnummer: check digit (Luhn) does not match"),
        ({**line("anmalan_mottagen", "2026-03-02", anmalan_id="a1"), "type": "nonsense"},
         "line 2: type: unknown event type 'nonsense'"),
        ({**line("anmalan_mottagen", "2026-03-02", anmalan_id="a1"), "occurred_at": "igår"},
         "line 2: occurred_at: not an ISO 8601 timestamp"),
        ('{"kommun": "1280", ', "line 2: malformed JSON"),
        (line("skyddsbedomning_gjord", "2026-03-01", anmalan_id="a1", omedelbart_skydd=False),
         "line 2: occurred_at: 2026-03-01 is before the case's first anmälan/ansökan"),
    ],
)  # fmt: skip
def test_explain_bad_input_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: dict[str, Any] | str, message: str
) -> None:
    first = line("anmalan_mottagen", "2026-03-02", anmalan_id="a0")
    path = write(tmp_path, [first, bad])
    assert run(["rules", "explain", str(path), "--format", "json"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and captured.out == ""
    assert err[0].startswith("barnflow: events.jsonl line 2: ")
    assert message in err[0]


def test_explain_bad_as_of_and_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, good_rows())
    assert run(["rules", "explain", str(path), "--as-of", "2026-13-01"]) == 2
    assert capsys.readouterr().err.startswith("barnflow: --as-of: ")
    policy = tmp_path / "k.toml"
    policy.write_text('kommun = "1280"\n[klagomal]\ndagar = 0\n', encoding="utf-8")
    assert run(["rules", "explain", str(path), "--policy", str(policy)]) == 2
    assert "klagomal.dagar" in capsys.readouterr().err


def test_case_without_opening_event(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, [line("klagomal_mottaget", "2026-03-02")])
    assert run(["rules", "explain", str(path)]) == 2
    assert "line 1: case VS-1 has no anmalan_mottagen" in capsys.readouterr().err
