"""Socialstyrelsen's yearly return in the pure domain (``domain.returns``): one rule set per
reporting year, the records a case's events make, the validator's findings on records with
planted errors, the temporary id rule (POL-ARSSTAT-ID) and the swappable file layouts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from domain.events import parse_event
from domain.identity import InvalidIdentity, luhn_check_digit
from domain.returns import (
    RULE_SETS,
    Record,
    UnknownReturnYear,
    own_rule_set,
    rule_set,
    year_2025,
)
from domain.returns.checks import validate
from domain.returns.collect import case_records
from domain.returns.identity import return_id
from domain.returns.layout import LAYOUTS, LayoutError, file_line

GOLDEN = Path(__file__).parents[1] / "golden"


def _record(**kw: object) -> Record:
    base = Record(
        kommun="1280",
        case_ref="R-1",
        case_id="c1",
        post="beslut:B1",
        kon="flicka",
        fodelsedatum=date(2012, 5, 10),
        insatstyp="familjehem",
        lagrum_form="SoL",
        lagrum="SoL 11 kap. 1 §",
        beslut_id="B1",
        beslutsdatum=date(2026, 3, 1),
        start=date(2026, 3, 2),
        slut=None,
        placeringsform="familjehem",
        omplaceringar=0,
        ensamkommande=None,
        vistelsekommun=None,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def _codes(*records: Record, year: int = 2026) -> list[str]:
    return [f.kod for f in validate(rule_set(year), records)]


def test_one_rule_set_per_reporting_year_and_an_unknown_year_names_the_ones_there_are() -> None:
    assert sorted(RULE_SETS) == [2025, 2026]
    assert rule_set(2025) is year_2025.RULES
    assert rule_set(2026).variables == (*year_2025.RULES.variables, "vistelsekommun")
    with pytest.raises(UnknownReturnYear, match=r"year 2024 \(rule sets: 2025, 2026\)"):
        rule_set(2024)


def test_a_year_after_the_latest_module_is_read_with_it_but_gets_no_file() -> None:
    """In January 2027 the 2027 statistics can be looked at before year_2027.py exists; the
    file, which is handed in, needs the year's own rule set."""
    later = rule_set(2027)
    assert (later.year, later.version, later.harledd_fran) == (2027, "2026.1+2027", 2026)
    assert later.variables == rule_set(2026).variables
    assert own_rule_set(2026) is RULE_SETS[2026]
    with pytest.raises(UnknownReturnYear, match=r"the file needs domain/returns/year_2027\.py"):
        own_rule_set(2027)


def test_the_2025_rule_set_is_pinned() -> None:
    """2025's return is handed in: its rule set never changes (a new year gets a module)."""
    r = year_2025.RULES
    assert (r.year, r.version, r.max_alder) == (2025, "2025.1", 20)
    assert r.variables == (
        "kommun", "barn_id", "id_typ", "kon", "insatstyp", "lagrum_form", "lagrum",
        "beslutsdatum", "start", "slut", "placeringsform", "omplaceringar", "ensamkommande",
        "vardnadshavare", "fodelseland",
    )  # fmt: skip
    assert r.required == ("kon", "fodelsedatum", "insatstyp", "start")
    assert r.ej_i_kontraktet == ("vardnadshavare", "fodelseland")


def test_a_clean_record_has_no_findings() -> None:
    assert _codes(_record()) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"slut": date(2026, 3, 1)}, "SLUT_FORE_START"),
        ({"start": date(2026, 2, 27)}, "START_FORE_BESLUT"),
        ({"beslutsdatum": None}, "BESLUT_SAKNAS"),
        ({"lagrum_form": "LVU", "lagrum": "LVU 11 §"}, "LVU_UTAN_BESLUT"),
        ({"fodelsedatum": date(2004, 1, 1)}, "ALDER_OVER_GRANS"),
        ({"insatstyp": "boendestod"}, "INSATSTYP_OKAND"),
        ({"placeringsform": "internat"}, "PLACERINGSFORM_OKAND"),
        ({"lagrum_form": None, "lagrum": "FB 6:15 a"}, "LAGRUM_OKANT"),
        ({"fodelsedatum": None}, "VARIABEL_SAKNAS"),
        ({"kon": None}, "VARIABEL_SAKNAS"),
        ({"kon": "okant"}, "KON_OKANT"),
    ],
)
def test_each_planted_error_is_found_with_its_code(change: dict[str, object], code: str) -> None:
    assert _codes(_record(**change)) == [code]


def test_a_child_turning_21_during_the_year_is_judged_on_the_records_first_day() -> None:
    # born 2005-06-01: 20 on 2026-01-01 (in the return), 21 from 2026-06-01
    running = _record(fodelsedatum=date(2005, 6, 1), start=date(2025, 12, 1), beslutsdatum=None)
    assert "ALDER_OVER_GRANS" not in _codes(running)
    late = _record(fodelsedatum=date(2005, 6, 1), start=date(2026, 7, 1))
    assert _codes(late) == ["ALDER_OVER_GRANS"]


def test_overlapping_placements_are_found_but_a_move_day_is_not_an_overlap() -> None:
    a = _record(slut=date(2026, 5, 1))
    moved = _record(post="beslut:B2", beslut_id="B2", start=date(2026, 5, 1))
    assert _codes(a, moved) == []
    early = _record(post="beslut:B2", beslut_id="B2", start=date(2026, 4, 30))
    found = validate(rule_set(2026), [a, early])
    assert [(f.kod, f.post) for f in found] == [("OVERLAPPANDE_PLACERINGAR", "beslut:B2")]
    assert (
        found[0].meddelande == "Placeringen överlappar beslut:B1 från 2026-04-30 till 2026-05-01."
    )
    other_child = replace(early, case_id="c2", case_ref="R-2")
    assert _codes(a, other_child) == []
    not_placed = replace(early, placeringsform=None, insatstyp="kontaktperson")
    assert _codes(a, not_placed) == []


def _events(path: Path, ref: str) -> list[object]:
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    return [
        parse_event({**x, "position": n})
        for n, x in enumerate(lines, start=1)
        if x["case_ref"] == ref
    ]


def test_records_of_a_case_over_two_years() -> None:
    """AR-2 (tests/golden/arsstatistik.md): an LVU 6 § placement in an HVB in 2025, replaced by
    a särskilt ungdomshem in 2026 on the dom's ground, until care ends."""
    events = _events(GOLDEN / "arsstatistik.jsonl", "AR-2")
    y25 = case_records(events, year=2025, case_id="c")  # type: ignore[arg-type]
    assert [(r.post, r.lagrum, r.beslutsdatum, r.start, r.slut) for r in y25] == [
        ("lvu:P1", "LVU 6 §", date(2025, 11, 10), date(2025, 11, 10), None)
    ]
    y26 = case_records(events, year=2026, case_id="c")  # type: ignore[arg-type]
    assert [(r.post, r.lagrum, r.beslutsdatum, r.start, r.slut) for r in y26] == [
        ("lvu:P1", "LVU 6 §", date(2025, 11, 10), date(2025, 11, 10), date(2026, 2, 15)),
        ("lvu:P2", "LVU 3 §", date(2025, 12, 20), date(2026, 2, 15), date(2026, 8, 31)),
    ]
    assert {r.ensamkommande for r in y26} == {True}
    assert case_records(events, year=2027, case_id="c") == []  # type: ignore[arg-type]


def _pnr(yyyymmdd: str, nnn: str) -> str:
    return yyyymmdd + nnn + str(luhn_check_digit(yyyymmdd[2:] + nnn))


def test_the_id_rule_personnummer_samordningsnummer_and_temporary_id() -> None:
    """POL-ARSSTAT-ID: the number as registered; a temporary id becomes IVO's temporary number."""
    assert return_id(_pnr("20120510", "238"), "20120510-T123") == (_pnr("20120510", "238"), "P")
    assert return_id(_pnr("20110768", "231"), None) == (_pnr("20110768", "231"), "S")
    assert return_id("TMP-1280-20260112-7K3M9Q", "20200615-T946") == ("20200615-T946", "T")
    with pytest.raises(InvalidIdentity, match="birth date"):
        return_id("TMP-1280-20260112-7K3M9Q", None)


def test_the_layouts_write_the_rule_sets_variables() -> None:
    rules = rule_set(2026)
    line = file_line(rules, _record(ensamkommande=True), "201205102385", "P")
    csv = LAYOUTS["csv"].write(rules, [line]).decode()
    assert csv.splitlines()[0] == ";".join(rules.variables)
    assert csv.splitlines()[1] == (
        "1280;201205102385;P;flicka;familjehem;SoL;SoL 11 kap. 1 §;2026-03-01;2026-03-02;;"
        "familjehem;0;1;;;"
    )
    fixed = LAYOUTS["fast"].write(rules, [line]).decode()
    assert fixed.endswith("\r\n") and fixed.startswith("1280201205102385 Pflicka")
    assert "2026030120260302" in fixed
    long = file_line(rules, _record(lagrum="SoL 11 kap. 1 § " * 4), "201205102385", "P")
    with pytest.raises(LayoutError, match=r"line 1: lagrum .* longer than its 40 characters"):
        LAYOUTS["fast"].write(rules, [long])
