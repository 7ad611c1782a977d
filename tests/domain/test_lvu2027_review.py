"""Review findings on the LVU / lag (2026:1600) rules, one test (or a few) per finding.

Each test states the statute text it checks against (/work/shared/law/lvu-1990-52.md and
lag-2026-1600.md) and fails on the code before its fix.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from frist_builders import ev

from domain.case import fold
from domain.errors import RuleViolation
from domain.events import CaseEvent
from domain.frister import MET, Frist, compute_frister
from domain.rules import KommunPolicy, rule
from infra.config.kommun import KommunConfigError, parse_kommun_config

D = date.fromisoformat


def _keys(evs: list[CaseEvent], as_of: date | None = None) -> dict[str, Frist]:
    return {f.key: f for f in compute_frister(evs, as_of=as_of)}


def opening() -> CaseEvent:
    return ev("anmalan_mottagen", "2027-01-05", anmalan_id="a1")


# --- finding 4: E3 runs only from the verkställighet of an omedelbart omhändertagande ------------


def test_verkstallighet_after_a_dom_starts_no_e3() -> None:
    """5 kap. 5 § / LVU 8 §: the four weeks run from an omedelbart omhändertagande's verkställighet.

    Ansökan, dom (bifall), verkställt: the verkställighet carries out the dom (E5, 6 kap. 4 §);
    before the fix it also started E3:v1, overdue in the permanent record.
    """
    evs = [
        opening(),
        ev("lvu_ansokan_inlamnad", "2027-01-10", beslut_id="v1", grund="hem"),
        ev("lvu_dom", "2027-02-01", utfall="bifall", beslut_id="v1", grund="hem"),
        ev("lvu_omhandertagande_verkstallt", "2027-02-03", beslut_id="v1"),
    ]
    got = _keys(evs, as_of=D("2027-06-01"))
    assert not [k for k in got if k.startswith("E3:")]
    assert got["E5:v1"].status == MET


def test_verkstallighet_of_omedelbart_omhandertagande_still_starts_e3() -> None:
    evs = [
        opening(),
        ev("lvu_omhandertagande_beslutat", "2027-01-10", beslut_id="l1"),
        ev("lvu_omhandertagande_verkstallt", "2027-01-10", beslut_id="l1"),
    ]
    e3 = _keys(evs)["E3:l1"]
    assert e3.due == D("2027-02-07")


# --- finding 5: an ansökan om fortsatt omhändertagande för tillfällig vård meets E3 --------------


def _omedelbart(day: str) -> list[CaseEvent]:
    return [
        opening(),
        ev("lvu_omhandertagande_beslutat", day, beslut_id="l1"),
        ev("lvu_understalld", day, beslut_id="l1"),
        ev("lvu_omhandertagande_verkstallt", day, beslut_id="l1"),
    ]


def test_ansokan_om_fortsatt_tillfallig_vard_meets_e3() -> None:
    """5 kap. 5 § 2 and 6 § 2 (LVU 8 § 2, 9 §): either ansökan keeps the omhändertagande."""
    evs = [
        *_omedelbart("2027-01-10"),
        ev("lvu_fortsatt_tillfallig_vard_ansokt", "2027-02-01", beslut_id="l1"),
    ]
    e3 = _keys(evs, as_of=D("2027-03-01"))["E3:l1"]
    assert (e3.status, e3.fulfilled_date) == (MET, D("2027-02-01"))


def test_ansokan_om_fortsatt_tillfallig_vard_can_be_recorded_under_omedelbart() -> None:
    """5 kap. 8 § andra st.: the nämnd applies while the omedelbart omhändertagande is in force."""
    evs = _omedelbart("2027-01-10")
    state = fold(evs)
    state.check(
        ev("lvu_fortsatt_tillfallig_vard_ansokt", "2027-02-01", beslut_id="l1"),
        today=D("2027-02-01"),
    )


def test_ansokan_om_fortsatt_tillfallig_vard_without_omhandertagande_is_refused() -> None:
    with pytest.raises(RuleViolation):
        fold([opening()]).check(
            ev("lvu_fortsatt_tillfallig_vard_ansokt", "2027-02-01", beslut_id="l1"),
            today=D("2027-02-01"),
        )


# --- finding 14: E14's age limit by exact paragraf, "2+3" named by POL-LVU2027-E14 ---------------


def _dom(paragraf: str) -> list[CaseEvent]:
    return [
        opening(),
        ev("lvu_ansokan_inlamnad", "2027-01-10", beslut_id="v1"),
        ev("lvu_dom", "2027-02-01", utfall="bifall", beslut_id="v1", paragraf=paragraf),
    ]


def test_e14_by_paragraf_hem_18_eget_beteende_21() -> None:
    """10 kap. 2 §: hem at 18, eget beteende at 21 (born 2015-01-01, frist_builders.PNR)."""
    assert _keys(_dom("2"))["E14:v1"].due == D("2033-01-01")
    assert _keys(_dom("3"))["E14:v1"].due == D("2036-01-01")


def test_e14_on_both_grounds_names_the_day_the_hem_ground_ends() -> None:
    """POL-LVU2027-E14: "2+3" may last to 21 on the eget-beteende ground; the note names 18."""
    e14 = _keys(_dom("2+3"))["E14:v1"]
    assert e14.due == D("2036-01-01")
    assert any("hemförhållanden upphör vid 18 år 2033-01-01" in n for n in e14.notes)


# --- finding 7: no söndagsregel for frister whose miss ends the decision --------------------------


@pytest.mark.parametrize("rid", ["E2", "E3", "E3T", "E11U", "E11A", "E12U", "E12A"])
def test_sondagsregel_is_refused_where_a_late_step_ends_the_decision(rid: str) -> None:
    """12 kap. 10 § 1-2, 13 kap. 10 § 1-2, 5 kap. 6 § 1-2, 5 kap. 11 §: the förbud or the
    omhändertagande upphör, so no later söndagsregel date may be shown."""
    with pytest.raises(KommunConfigError, match=r"^sondagsregel\.regler\[0\]: "):
        parse_kommun_config({"kommun": "1280", "sondagsregel": {"regler": [rid]}}, "k.toml")
    assert not KommunPolicy(sondagsregel=frozenset({rid})).sondagsregel_on(rid)


# --- finding 18: E13 only from 2027 is a named policy, although LVU 32 § andra st. applied before -


def test_e13_from_2027_is_named_as_a_policy_citing_lvu_32() -> None:
    """LVU 32 § andra st.: läkarundersökning before an ansökan already applied; barnflow checks
    it only from 2027-01-01 (POL-LVU2027-E13), and says so in the catalogue and docs."""
    pol = next(p for p in rule("E13").uncertain if p.name == "POL-LVU2027-E13")
    assert "krävdes redan enligt LVU 32 § andra st." in pol.description
    docs = (Path(__file__).resolve().parents[2] / "docs" / "law-2027.md").read_text()
    row = next(line for line in docs.splitlines() if line.startswith("| POL-LVU2027-E13 |"))
    assert "LVU 32 § andra st. already required" in row
    before = [
        ev("anmalan_mottagen", "2026-12-01", anmalan_id="a1"),
        ev("lvu_ansokan_inlamnad", "2026-12-20", beslut_id="v1"),
    ]
    assert not [k for k in _keys(before) if k.startswith("E13:")]
    after = [opening(), ev("lvu_ansokan_inlamnad", "2027-01-20", beslut_id="v1")]
    assert "E13:v1" in _keys(after)
