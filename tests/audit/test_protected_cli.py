"""Command-line reads of a protected case (docs/security.md "Protected identities"): refused in
one line with exit 2 for a role the kommun has not named, an operator among them; a whole-kommun
export leaves the case out and says so; a named role reads it and the read is logged, marked; the
frister report keeps the row with the marker (counts unchanged)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson
import pytest

from domain.protection import MARKER
from infra.cli.main import main
from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore, eventsourcing_env
from projections.periods import as_of
from projections.reports import REPORTS
from tests.conftest import CIPHER_KEY, CODEC_KEY, PSEUDONYM_KEY
from tests.factories import PNR_GIRL, PNR_THIRD, line

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REFUSED = "skyddade personuppgifter"


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def _case(ref: str, pnr: str, *, protect: bool) -> list[str]:
    opening = {"anmalan_id": "a1", "barn": {"personnummer": pnr, "kon": "flicka"},
               "anmalare_kategori": "skola", "enhet": "barn-vast"}  # fmt: skip
    out = [line("anmalan_mottagen", opening, at=AT, key=f"{ref}-1", case_ref=ref)]
    if protect:
        mark = {"skydd": "kvarskrivning", "person": "vardnadshavare_1"}
        out.append(line("skydd_markerat", mark, at=AT, key=f"{ref}-2", case_ref=ref))
    return [orjson.dumps(x).decode() for x in out]


def test_a_protected_case_on_the_command_line(
    store: CaseStore,
    pg_url: str,
    schema: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {
        "BARNFLOW_DATABASE_URL": pg_url,
        "BARNFLOW_DATABASE_SCHEMA": schema,
        "BARNFLOW_CODEC_KEY": _b64(CODEC_KEY),
        "BARNFLOW_PSEUDONYM_KEY": _b64(PSEUDONYM_KEY),
        "BARNFLOW_CIPHER_KEY": _b64(CIPHER_KEY),
    }.items():
        monkeypatch.setenv(name, value)
    import_lines(store, _case("VS-PLAIN", PNR_THIRD, protect=False))
    assert main(["projections", "catch-up"]) == 0
    period = as_of("2026-03-03")
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    before = REPORTS["frister"].build(env, "1280", period)["rows"]
    import_lines(store, _case("VS-SKYDD", PNR_GIRL, protect=True))
    assert main(["projections", "catch-up"]) == 0
    capsys.readouterr()

    assert main(["case", "state", "VS-SKYDD", "--kommun", "1280"]) == 0
    state = orjson.loads(capsys.readouterr().out)
    assert state["protected"] is True and state["enhet"] == MARKER and state["stage"]
    assert main(["case", "state", "VS-PLAIN", "--kommun", "1280"]) == 0
    assert orjson.loads(capsys.readouterr().out)["enhet"] == "barn-vast"

    audit = ["audit", "case", "VS-SKYDD", "--kommun", "1280", "--format", "json"]
    for extra in ([], ["--role", "operator"], ["--role", "handlaggare"]):
        assert main([*audit, *extra]) == 2
        [err] = capsys.readouterr().err.splitlines()
        assert REFUSED in err and "protected personal data" in err
    utdrag = ["registerutdrag", "--kommun", "1280", "--person", "VS-SKYDD"]
    assert main(utdrag) == 2
    out = capsys.readouterr()
    assert out.out == "" and REFUSED in out.err and len(out.err.splitlines()) == 1
    assert main(["export", "--kommun", "1280", "--case", "VS-SKYDD"]) == 2
    assert REFUSED in capsys.readouterr().err
    assert main(["export", "--kommun", "1280"]) == 0
    out = capsys.readouterr()
    assert {orjson.loads(x)["case_ref"] for x in out.out.splitlines()} == {"VS-PLAIN"}
    assert "1 case(s) with skyddade personuppgifter left out" in out.err

    named = [*audit, "--role", "handlaggare_skydd", "--actor", "hs1", "--purpose", "tillsyn"]
    assert main(named) == 0
    capsys.readouterr()
    assert main(named) == 0  # the second read shows the first in the access log
    doc = orjson.loads(capsys.readouterr().out)
    assert ("hs1", "tillsyn [skyddade personuppgifter]") in {
        (r["who"], r["purpose"]) for r in doc["reads"]
    }

    after = REPORTS["frister"].build(env, "1280", period)["rows"]
    mine = [r for r in after if r["case_ref"] == MARKER]
    assert mine and {r["enhet"] for r in mine} == {MARKER}
    assert len(after) == len(before) + len(mine)  # the protected case's rows are all there
    assert [r for r in after if r["case_ref"] == "VS-PLAIN"] == before
