"""LVU (1990:52) -> lag (2026:1600) on 2027-01-01 and lag (2026:1637) from 2027-01-02.

One row per rule, each run with its trigger on 2026-12-31, 2027-01-01 and 2027-01-02: the due
date, the rule id and the act and paragraph a handläggare sees (docs/law-2027.md). Then the
transitional rules (övergångsbestämmelser, ÖB) and the guards, as behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from frist_builders import ev

from domain.calendar import add_months, add_weeks, add_years
from domain.case import fold
from domain.errors import RuleViolation
from domain.events import CaseEvent
from domain.frister import MET, OPEN, Frist, compute_frister
from domain.rules import LAW_SWITCHES, LVU, LVU_NEW, SAMTYCKE, policy_from_mapping, rule

D = date.fromisoformat
DAYS = (D("2026-12-31"), D("2027-01-01"), D("2027-01-02"))
BORN = D("2015-01-01")  # frist_builders.PNR


def _iso(day: date) -> str:
    return day.isoformat()


def opening() -> CaseEvent:
    return ev("anmalan_mottagen", "2026-11-02", anmalan_id="a1")


@dataclass(frozen=True)
class Row:
    """A rule, the events that start it on day T, and its due date as a function of T."""

    rule: str
    events: Callable[[date], list[CaseEvent]]
    due: Callable[[date], date]
    old: str | None
    new: str
    law_new: str = LVU_NEW
    law_old: str = LVU
    exists_from: date = date.min


def _omh(t: date, **data: object) -> list[CaseEvent]:
    return [opening(), ev("lvu_omhandertagande_beslutat", _iso(t), beslut_id="l1", **data)]


def _forbud(t: date, kind: str, **data: object) -> list[CaseEvent]:
    return [opening(), ev("lvu_forbud_beslutat", _iso(t), forbud_id="f1", forbud=kind, **data)]


def _faststallt(t: date, kind: str) -> list[CaseEvent]:
    return [
        *_forbud(D("2026-12-01"), kind, tillfalligt=True),
        ev("lvu_forbud_understallt", "2026-12-02", forbud_id="f1"),
        ev("lvu_forbud_faststallt", _iso(t), forbud_id="f1"),
    ]


def _dom(t: date, grund: str, start: date | None = None) -> list[CaseEvent]:
    out = [
        opening(),
        ev("lvu_ansokan_inlamnad", "2026-11-10", beslut_id="v1"),
        ev("lvu_dom", _iso(start or t), utfall="bifall", beslut_id="v1", grund=grund),
    ]
    if start is not None:
        out.append(ev("lvu_omhandertagande_verkstallt", _iso(t), beslut_id="v1"))
    return out


ROWS = [
    Row("E1", lambda t: _omh(t, ordforandebeslut=True), lambda t: t + timedelta(days=30),
        "6 § andra st.", "5 kap. 3 §"),
    Row("E2", _omh, lambda t: add_weeks(t, 1), "7 §", "5 kap. 4 §, 6 § 1"),
    Row("E3", lambda t: [*_omh(D("2026-12-20")),
                         ev("lvu_omhandertagande_verkstallt", _iso(t), beslut_id="l1")],
        lambda t: add_weeks(t, 4), "8 §", "5 kap. 5 §, 6 § 2"),
    Row("E3T", lambda t: [*_omh(D("2026-11-20")),
                          ev("lvu_fortsatt_tillfallig_vard_beslutad", _iso(t), beslut_id="l1")],
        lambda t: add_months(t, 2), "9 a § fjärde st., 9 b §", "5 kap. 10-11 §§"),
    Row("E5", lambda t: _dom(t, "hem"), lambda t: add_weeks(t, 4), "5 §, 10 §",
        "6 kap. 4 § andra st."),
    Row("E6", lambda t: _dom(t, "hem", start=D("2026-12-15")), lambda t: add_months(t, 6),
        "13 § första st.", "8 kap. 2 §"),
    Row("E7", lambda t: _dom(t, "eget_beteende", start=D("2026-12-15")),
        lambda t: add_months(t, 6), "13 § andra st.", "8 kap. 3 §"),
    Row("E9", lambda t: [*_omh(D("2026-11-20")), ev("lvu_omhandertagande_verkstallt",
                         "2026-11-20", beslut_id="l1"),
                         ev("lvu_placering_paborjad", _iso(t), placering_id="p1",
                            placering="familjehem")],
        lambda t: add_years(t, 2), "13 c §", "9 kap. 1 §"),
    Row("E10", lambda t: [*_omh(D("2026-12-01")), ev("lvu_omhandertagande_verkstallt",
                          "2026-12-01", beslut_id="l1"),
                          ev("lvu_umgangesbegransning_beslutad", _iso(t), begransning_id="u1",
                             slag="hemlighallande")],
        lambda t: add_months(t, 3), "14 §", "7 kap. 2 § andra st."),
    Row("E11", lambda t: _forbud(t, "flyttningsforbud"), lambda t: add_months(t, 3), "26 §",
        "12 kap. 4 §"),
    Row("E11U", lambda t: _forbud(t, "flyttningsforbud", tillfalligt=True),
        lambda t: add_weeks(t, 1), "28 §, 7 §", "12 kap. 8 §, 10 § 1"),
    Row("E11A", lambda t: _faststallt(t, "flyttningsforbud"), lambda t: add_weeks(t, 2),
        "29 §, 30 §", "12 kap. 9 §, 10 § 2"),
    Row("E11N", lambda t: _forbud(t, "flyttningsforbud", tillfalligt=True,
                                  ordforandebeslut=True),
        lambda t: t + timedelta(days=30), "27 § andra st.", "12 kap. 7 §"),
    Row("E12", lambda t: _forbud(t, "utreseforbud"), lambda t: add_months(t, 6), "31 c §",
        "13 kap. 4 §"),
    Row("E12U", lambda t: _forbud(t, "utreseforbud", tillfalligt=True),
        lambda t: add_weeks(t, 1), "31 e §", "13 kap. 8 §, 10 § 1"),
    Row("E12A", lambda t: _faststallt(t, "utreseforbud"), lambda t: add_weeks(t, 4),
        "31 f §, 31 g §", "13 kap. 9 §, 10 § 2"),
    Row("E12N", lambda t: _forbud(t, "utreseforbud", tillfalligt=True, ordforandebeslut=True),
        lambda t: t + timedelta(days=30), "31 d § andra st.", "13 kap. 7 §"),
    Row("E13", lambda t: [opening(), ev("lvu_ansokan_inlamnad", _iso(t), beslut_id="v1",
                                        grund="hem")],
        lambda t: t, None, "11 kap. 4 §", exists_from=D("2027-01-01")),
    Row("E14", lambda t: _dom(t, "eget_beteende"), lambda t: add_years(BORN, 21),
        "21 § tredje-fjärde st.", "10 kap. 2 §"),
    Row("E15", lambda t: [opening(), ev("lvu_vard_upphort", "2026-12-01"),
                          ev("uppfoljning_inledd", _iso(t), grund="lvu_upphort",
                             uppfoljning_id="f1")],
        lambda t: add_months(t, 6), "21 b-c §§", "10 kap. 6-7 §§"),
    Row("E16", lambda t: [opening(), ev("lvu_forebyggande_insats_beslutad", _iso(t),
                                        insats_id="i1", insats="kontaktperson")],
        lambda t: add_months(t, 6), "22 § tredje st., 13 § andra st.",
        "22 § tredje st., 13 § andra st. (ÖB 5 lag 2026:1600)", law_new=LVU),
    Row("E17", lambda t: [opening(), ev("lvu_offentligt_bitrade_behov", _iso(t))],
        lambda t: t + timedelta(days=1), None, "17 kap. 6 §", exists_from=D("2027-01-01")),
    Row("N1", lambda t: [opening(), ev("insats_utan_samtycke_beslutad", _iso(t), insats_id="n1",
                                       avser="barn", giltig_till=_iso(add_months(t, 3)))],
        lambda t: t, None, "5 kap. 1 §", law_new=SAMTYCKE, exists_from=D("2027-01-02")),
    Row("N2", lambda t: [opening(), ev("insats_utan_samtycke_beslutad", _iso(t), insats_id="n1",
                                       avser="barn", giltig_till=_iso(add_months(t, 3)))],
        lambda t: add_months(t, 6), None, "9 kap. 1 §", law_new=SAMTYCKE,
        exists_from=D("2027-01-02")),
    Row("N3", lambda t: [opening(), ev("insats_utan_samtycke_beslutad", _iso(t), insats_id="n1",
                                       avser="barn", bostadsvillkor=True,
                                       giltig_till=_iso(add_months(t, 5)))],
        lambda t: add_months(t, 5), None, "7 kap. 2 §", law_new=SAMTYCKE,
        exists_from=D("2027-01-02")),
]  # fmt: skip


def _of_rule(frister: list[Frist], rid: str, trigger: date) -> list[Frist]:
    return [f for f in frister if f.rule == rid and f.trigger_date == trigger]


@pytest.mark.parametrize("day", DAYS, ids=_iso)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.rule)
def test_rule_on_each_side_of_the_switch(row: Row, day: date) -> None:
    found = _of_rule(compute_frister(row.events(day)), row.rule, day)
    if day < row.exists_from:
        assert found == [], f"{row.rule} does not exist on {day}"
        return
    assert len(found) == 1, found
    f = found[0]
    assert f.due == row.due(day)
    if day < D("2027-01-01"):
        assert (f.law, f.paragraph) == (row.law_old, row.old)
    else:
        assert (f.law, f.paragraph) == (row.law_new, row.new)
    assert f.status == OPEN


def test_every_switched_rule_is_in_the_table() -> None:
    switched = {r.rule for r in ROWS}
    for rid in ("E1", "E2", "E3", "E5", "E6", "E7", "E9", "E10", "E14", "E15", "E16"):
        assert rid in switched
        assert rule(rid).law_for(D("2026-12-31")) != rule(rid).law_for(D("2027-01-01"))


def test_law_switches_are_data() -> None:
    by_id = {s.id: s for s in LAW_SWITCHES}
    assert by_id["LVU2027"].on == D("2027-01-01")
    assert (by_id["LVU2027"].old_law, by_id["LVU2027"].new_law) == (LVU, LVU_NEW)
    assert "POL-LVU2027-E3-START" in by_id["LVU2027"].policies
    assert by_id["SAMTYCKE2027"].on == D("2027-01-02")
    versions = rule("E16").versions()
    assert [v.since for v in versions] == [date.min, D("2027-01-01")]


# --- transitional policies -----------------------------------------------------------------------


def test_switch_itself_starts_no_frist() -> None:
    """ÖB 3 / POL-LVU2027-TRIGGER: a case with nothing happening on 2027-01-01 gets no frist."""
    evs = [
        opening(),
        ev("lvu_omhandertagande_beslutat", "2026-12-20", beslut_id="l1"),
        ev("lvu_understalld", "2026-12-22", beslut_id="l1"),
        ev("lvu_omhandertagande_verkstallt", "2026-12-20", beslut_id="l1"),
    ]
    before = {f.key: f for f in compute_frister(evs, D("2026-12-31"))}
    after = {f.key: f for f in compute_frister(evs, D("2027-01-05"))}
    assert before.keys() == after.keys()
    for key, f in before.items():
        assert (after[key].due, after[key].law, after[key].paragraph) == (
            f.due,
            f.law,
            f.paragraph,
        )


def test_e3_running_over_the_switch_keeps_lvu_8() -> None:
    """POL-LVU2027-E3-START: verkställd 2026-12-20, four weeks to 2027-01-17 under LVU 8 §."""
    evs = [
        *_omh(D("2026-12-20")),
        ev("lvu_omhandertagande_verkstallt", "2026-12-20", beslut_id="l1"),
        ev("lvu_ansokan_inlamnad", "2027-01-15", beslut_id="l1", grund="hem"),
    ]
    e3 = {f.key: f for f in compute_frister(evs)}["E3:l1"]
    assert (e3.due, e3.status, e3.law, e3.paragraph) == (D("2027-01-17"), MET, LVU, "8 §")


def test_e6_cycle_running_over_the_switch_then_new_law() -> None:
    """POL-LVU2027-CYKEL: cycle 1 keeps LVU 13 §, cycle 2 (from the övervägande) cites 8:2."""
    evs = [
        opening(),
        ev("lvu_ansokan_inlamnad", "2026-11-05", beslut_id="v1"),
        ev("lvu_dom", "2026-11-10", utfall="bifall", beslut_id="v1", paragraf="2"),
        ev("lvu_omhandertagande_verkstallt", "2026-11-12", beslut_id="v1"),
        ev("overvagande_genomfort", "2027-05-10", beslut_id="v1", slutsats="fortsatt"),
    ]
    got = {f.key: f for f in compute_frister(evs)}
    c1, c2 = got["E6:v1:1"], got["E6:v1:2"]
    assert (c1.due, c1.status, c1.law, c1.paragraph) == (
        D("2027-05-12"),
        MET,
        LVU,
        "13 § första st.",
    )
    assert (c2.trigger_date, c2.due, c2.law, c2.paragraph) == (
        D("2027-05-10"),
        D("2027-11-10"),
        LVU_NEW,
        "8 kap. 2 §",
    )


def test_ob4_old_ansokan_dom_in_2027_uses_lvu_paragraf() -> None:
    """ÖB 4: ansökan 2026-12-15 (LVU 3 §), dom 2027-01-20 -> E7, counted under 8 kap. 3 §."""
    evs = [
        opening(),
        ev("lvu_ansokan_inlamnad", "2026-12-15", beslut_id="v1"),
        ev("lvu_dom", "2027-01-20", utfall="bifall", beslut_id="v1", paragraf="3"),
        ev("lvu_omhandertagande_verkstallt", "2027-01-22", beslut_id="v1"),
    ]
    state = fold(evs[:2])
    state.check(evs[2], today=D("2027-02-01"))  # allowed: LVU 2-3 §§ still govern
    got = {f.key: f for f in compute_frister(evs)}
    assert "E6:v1:1" not in got
    e7 = got["E7:v1:1"]
    assert (e7.due, e7.law, e7.paragraph) == (D("2027-07-22"), LVU_NEW, "8 kap. 3 §")
    e14 = got["E14:v1"]
    assert (e14.due, e14.paragraph) == (add_years(BORN, 21), "10 kap. 2 §")


def test_ob4_new_ansokan_needs_grund_not_paragraf() -> None:
    base = [opening()]
    no_grund = ev("lvu_ansokan_inlamnad", "2027-01-05", beslut_id="v1")
    with pytest.raises(RuleViolation) as exc:
        fold(base).check(no_grund, today=D("2027-02-01"))
    assert exc.value.rule == "P-LVU2027-GRUND"
    asked = ev("lvu_ansokan_inlamnad", "2027-01-05", beslut_id="v1", grund="eget_beteende")
    dom = ev("lvu_dom", "2027-01-25", utfall="bifall", beslut_id="v1", paragraf="3")
    with pytest.raises(RuleViolation) as exc:
        fold([*base, asked]).check(dom, today=D("2027-02-01"))
    assert exc.value.rule == "P-LVU2027-OB4"


def test_dom_without_grund_takes_the_ansokans_ground() -> None:
    evs = [
        opening(),
        ev("lvu_ansokan_inlamnad", "2027-01-05", beslut_id="v1", grund="eget_beteende"),
        ev("lvu_dom", "2027-01-25", utfall="bifall", beslut_id="v1"),
        ev("lvu_omhandertagande_verkstallt", "2027-01-26", beslut_id="v1"),
    ]
    rules = {f.rule for f in compute_frister(evs)}
    assert "E7" in rules and "E6" not in rules


def test_ob5_forebyggande_insats_keeps_lvu_22_after_the_switch() -> None:
    evs = [
        opening(),
        ev(
            "lvu_forebyggande_insats_beslutad", "2026-11-20", insats_id="i1", insats="kontaktperson"
        ),
        ev("lvu_forebyggande_insats_provad", "2027-05-15", insats_id="i1"),
    ]
    got = {f.key: f for f in compute_frister(evs)}
    assert (got["E16:i1:1"].due, got["E16:i1:1"].status) == (D("2027-05-20"), MET)
    c2 = got["E16:i1:2"]
    assert (c2.due, c2.law) == (D("2027-11-15"), LVU)
    assert "ÖB 5" in c2.paragraph
    late = ev(
        "lvu_forebyggande_insats_beslutad", "2027-01-04", insats_id="i2", insats="kontaktperson"
    )
    with pytest.raises(RuleViolation) as exc:
        fold(evs[:1]).check(late, today=D("2027-02-01"))
    assert exc.value.rule == "P-LVU2027-OB5"


def test_ob5_insats_ends_with_omhandertagande() -> None:
    evs = [
        opening(),
        ev(
            "lvu_forebyggande_insats_beslutad", "2026-11-20", insats_id="i1", insats="kontaktperson"
        ),
        ev("lvu_omhandertagande_beslutat", "2027-02-01", beslut_id="l1"),
    ]
    got = {f.key: f for f in compute_frister(evs, D("2027-12-31"))}
    assert got["E16:i1:1"].fulfilled_date == D("2027-02-01")
    assert "E16:i1:2" not in got


def test_ob6_anknytning_needs_lvu24_forbud_or_hem_care() -> None:
    asked = ev("lvu_ansokan_inlamnad", "2027-02-01", beslut_id="v2", grund="anknytning")
    with pytest.raises(RuleViolation) as exc:
        fold([opening()]).check(asked, today=D("2027-03-01"))
    assert exc.value.rule == "P-LVU2027-OB6"
    with_forbud = [
        opening(),
        ev("lvu_forbud_beslutat", "2026-11-20", forbud_id="f1", forbud="flyttningsforbud"),
    ]
    fold(with_forbud).check(asked, today=D("2027-03-01"))  # ÖB 6: allowed
    too_early = ev("lvu_ansokan_inlamnad", "2026-12-01", beslut_id="v2", grund="anknytning")
    with pytest.raises(RuleViolation) as exc:
        fold(with_forbud).check(too_early, today=D("2027-03-01"))
    assert exc.value.rule == "P-LVU2027-GRUND"


def test_e5_counts_from_laga_kraft_when_known() -> None:
    evs = [
        *_dom(D("2027-01-10"), "hem"),
        ev("lvu_laga_kraft", "2027-02-01", beslut_id="v1"),
    ]
    e5 = {f.key: f for f in compute_frister(evs)}["E5:v1"]
    assert (e5.trigger_date, e5.due, e5.paragraph) == (
        D("2027-02-01"),
        D("2027-03-01"),
        "6 kap. 4 § andra st.",
    )


def test_policy_days_for_next_meeting_and_bitrade() -> None:
    pol = policy_from_mapping(
        {"policy": {"nasta_sammantrade_dagar": 14, "offentligt_bitrade_dagar": 3}}
    )
    evs = [
        *_omh(D("2027-01-04"), ordforandebeslut=True),
        ev("lvu_offentligt_bitrade_behov", "2027-01-04"),
        ev("lvu_ordforandebeslut_anmalt", "2027-01-18", beslut_id="l1"),
    ]
    got = {f.rule: f for f in compute_frister(evs, policy=pol)}
    assert (got["E1"].due, got["E1"].status) == (D("2027-01-18"), MET)
    assert got["E17"].due == D("2027-01-07")


def test_pre_2027_lvu_history_is_unchanged() -> None:
    """Old events (no grund, no new types) compute exactly the rules they always did."""
    evs = [
        opening(),
        ev("lvu_omhandertagande_beslutat", "2026-11-03", beslut_id="l1"),
        ev("lvu_understalld", "2026-11-05", beslut_id="l1"),
        ev("lvu_omhandertagande_verkstallt", "2026-11-03", beslut_id="l1"),
        ev("lvu_ansokan_inlamnad", "2026-11-20", beslut_id="l1"),
        ev("lvu_dom", "2026-11-27", utfall="bifall", beslut_id="l1", paragraf="2"),
    ]
    got = compute_frister(evs, D("2026-12-31"))
    assert {f.rule for f in got} == {"A1", "A2", "E2", "E3", "E5", "E6"}
    assert all(f.law == LVU for f in got if f.rule.startswith("E"))


# --- guards --------------------------------------------------------------------------------------


def test_forbud_runs_in_order() -> None:
    evs = [opening()]
    state = fold(evs)
    with pytest.raises(RuleViolation) as exc:
        state.check(ev("lvu_forbud_faststallt", "2027-01-05", forbud_id="f1"), D("2027-02-01"))
    assert exc.value.rule == "P-REF"
    tillf = ev(
        "lvu_forbud_beslutat", "2027-01-04", forbud_id="f1", forbud="utreseforbud", tillfalligt=True
    )
    state = fold([*evs, tillf])
    with pytest.raises(RuleViolation) as exc:
        state.check(ev("lvu_forbud_faststallt", "2027-01-05", forbud_id="f1"), D("2027-02-01"))
    assert exc.value.rule == "P-FORBUD"
    steps = [
        ev("lvu_forbud_understallt", "2027-01-08", forbud_id="f1"),
        ev("lvu_forbud_faststallt", "2027-01-12", forbud_id="f1"),
        ev("lvu_forbud_ansokt", "2027-02-05", forbud_id="f1"),
        ev("lvu_forbud_beslutat", "2027-03-01", forbud_id="f1", forbud="utreseforbud"),
        ev("lvu_forbud_undantag_beslutat", "2027-04-01", forbud_id="f1", till="2027-04-10"),
        ev("lvu_forbud_overvagt", "2027-08-20", forbud_id="f1"),
    ]
    history = [*evs, tillf]
    for step in steps:
        fold(history).check(step, D("2027-12-31"))
        history.append(step)
    got = {f.key: f for f in compute_frister(history)}
    assert (got["E12U:f1"].status, got["E12A:f1"].due) == (MET, D("2027-02-09"))
    assert (got["E12:f1:1"].due, got["E12:f1:1"].status) == (D("2027-09-01"), MET)
    assert got["E12:f1:2"].paragraph == "13 kap. 4 §"


def test_umgange_needs_care_and_is_reviewed() -> None:
    beslut = ev(
        "lvu_umgangesbegransning_beslutad", "2027-01-10", begransning_id="u1", slag="umgange"
    )
    with pytest.raises(RuleViolation) as exc:
        fold([opening()]).check(beslut, D("2027-02-01"))
    assert exc.value.rule == "P-LVU"
    care = _omh(D("2027-01-04"))
    fold(care).check(beslut, D("2027-02-01"))


def test_samtycke_law_from_2027_01_02_and_not_in_lvu_care() -> None:
    def beslut(day: str, **data: object) -> CaseEvent:
        fields: dict[str, object] = {
            "insats_id": "n1",
            "avser": "barn",
            "giltig_till": "2027-05-01",
        }
        return ev("insats_utan_samtycke_beslutad", day, **{**fields, **data})

    with pytest.raises(RuleViolation) as exc:
        fold([opening()]).check(beslut("2027-01-01"), D("2027-02-01"))
    assert exc.value.rule == "N0"
    fold([opening()]).check(beslut("2027-01-02"), D("2027-02-01"))
    with pytest.raises(RuleViolation) as exc:
        fold([opening()]).check(
            beslut("2027-01-02", bostadsvillkor=True, giltig_till="2027-07-03"), D("2027-02-01")
        )
    assert exc.value.rule == "N3"
    with pytest.raises(RuleViolation) as exc:
        fold(_omh(D("2027-01-02"))).check(beslut("2027-01-04"), D("2027-02-01"))
    assert exc.value.rule == "N4"
    fold(_omh(D("2027-01-02"))).check(beslut("2027-01-04", avser="vardnadshavare"), D("2027-02-01"))
    placed = [
        opening(),
        ev("utredning_inledd", "2026-11-03", utredning_id="u1", grund="eget_initiativ"),
        ev("beslut_fattat", "2026-12-01", beslut_id="b1", insats="familjehem", gynnande=True),
        ev("insats_verkstalld", "2026-12-02", beslut_id="b1"),
    ]
    with pytest.raises(RuleViolation) as exc:
        fold(placed).check(beslut("2027-01-04"), D("2027-02-01"))
    assert exc.value.rule == "N4"


def test_genomforandeplan_before_the_decision_meets_n1() -> None:
    evs = [
        opening(),
        ev("sarskild_genomforandeplan_upprattad", "2027-01-03", insats_id="n1"),
        ev(
            "insats_utan_samtycke_beslutad",
            "2027-01-04",
            insats_id="n1",
            avser="vardnadshavare",
            giltig_till="2027-06-30",
        ),
    ]
    n1 = next(f for f in compute_frister(evs) if f.rule == "N1")
    assert (n1.due, n1.status, n1.paragraph) == (D("2027-01-04"), MET, "5 kap. 1 §")


def test_drogtest_fields_are_validated() -> None:
    from domain.errors import EventValidationError

    with pytest.raises(EventValidationError) as exc:
        ev("lvu_drogtest_beslutat", "2027-01-04", avser="umgange", provtyp="blod")
    assert exc.value.field == "data.syfte"


@pytest.mark.parametrize(
    ("dom_day", "trigger", "due", "law", "paragraph"),
    [
        # before the switch: unchanged (e6_start: the dom, the child was already omhändertagen)
        ("2026-12-28", "2026-12-28", "2027-06-28", LVU, "13 § första st."),
        # from the switch: 8 kap. 2 § counts from vården påbörjades (6 kap. 4 §) = 2026-12-10
        ("2027-01-20", "2026-12-10", "2027-06-10", LVU_NEW, "8 kap. 2 §"),
    ],
)
def test_e6_start_for_a_child_already_omhandertagen(
    dom_day: str, trigger: str, due: str, law: str, paragraph: str
) -> None:
    """POL-LVU2027-E6E7-START: the first övervägande after a 2027 dom counts from 6 kap. 4 §."""
    evs = [
        opening(),
        ev("lvu_omhandertagande_beslutat", "2026-12-10", beslut_id="v1"),
        ev("lvu_omhandertagande_verkstallt", "2026-12-10", beslut_id="v1"),
        ev("lvu_understalld", "2026-12-14", beslut_id="v1"),
        ev("lvu_ansokan_inlamnad", "2026-12-21", beslut_id="v1", grund="hem"),
        ev("lvu_dom", dom_day, utfall="bifall", beslut_id="v1", grund="hem"),
    ]
    e6 = {f.key: f for f in compute_frister(evs)}["E6:v1:1"]
    assert (e6.trigger_date, e6.due, e6.law, e6.paragraph) == (D(trigger), D(due), law, paragraph)


def test_anknytning_ansokan_while_hem_care_is_in_force() -> None:
    """10 kap. 3 §: care on the hem ground can be followed by anknytning; nothing else doubles."""
    evs = [
        opening(),
        ev("lvu_ansokan_inlamnad", "2026-11-05", beslut_id="v1"),
        ev("lvu_dom", "2026-11-20", utfall="bifall", beslut_id="v1", paragraf="2"),
        ev("lvu_omhandertagande_verkstallt", "2026-11-21", beslut_id="v1"),
    ]
    state = fold(evs)
    anknytning = ev("lvu_ansokan_inlamnad", "2027-03-01", beslut_id="v2", grund="anknytning")
    state.check(anknytning, D("2027-04-01"))
    hem_again = ev("lvu_ansokan_inlamnad", "2027-03-01", beslut_id="v2", grund="hem")
    with pytest.raises(RuleViolation) as exc:
        state.check(hem_again, D("2027-04-01"))
    assert exc.value.rule == "P-LVU"


def test_e9_two_years_then_yearly_until_another_placement() -> None:
    """9 kap. 1 §: 2 years in the same familjehem, then every year; a move ends the count."""
    evs = [
        *_omh(D("2026-12-20")),
        ev("lvu_omhandertagande_verkstallt", "2026-12-20", beslut_id="l1"),
        ev("lvu_placering_paborjad", "2026-12-31", placering_id="p1", placering="familjehem"),
        ev("lvu_vardnadsoverflyttning_overvagd", "2028-12-01", placering_id="p1"),
        ev("lvu_placering_paborjad", "2029-06-01", placering_id="p2", placering="hvb"),
    ]
    got = {f.key: f for f in compute_frister(evs, D("2030-12-31"))}
    first, second = got["E9:p1:1"], got["E9:p1:2"]
    assert (first.due, first.status, first.law, first.paragraph) == (
        D("2028-12-31"),
        MET,
        LVU,
        "13 c §",
    )
    assert (second.due, second.fulfilled_date, second.law) == (
        D("2029-12-31"),
        D("2029-06-01"),
        LVU_NEW,
    )
    assert "E9:p1:3" not in got and not any(k.startswith("E9:p2") for k in got)
    with pytest.raises(RuleViolation) as exc:
        fold(evs[:4]).check(
            ev("lvu_vardnadsoverflyttning_overvagd", "2029-01-02", placering_id="p9"),
            D("2030-01-01"),
        )
    assert exc.value.rule == "P-REF"


def test_case_stays_open_while_a_forbud_is_in_force() -> None:
    evs = [
        opening(),
        ev("skyddsbedomning_gjord", "2026-11-02", anmalan_id="a1", omedelbart_skydd=False),
        ev("forhandsbedomning_beslutad", "2026-11-03", anmalan_id="a1",
           beslut="inte_inleda_utredning"),
        ev("lvu_forbud_beslutat", "2027-01-10", forbud_id="f1", forbud="utreseforbud"),
    ]  # fmt: skip
    close = ev("arende_avslutat", "2027-02-01", orsak="klart")
    with pytest.raises(RuleViolation) as exc:
        fold(evs).check(close, D("2027-03-01"))
    assert exc.value.rule == "P-CLOSE" and "utreseförbud" in exc.value.en
    ended = [*evs, ev("lvu_forbud_upphort", "2027-01-20", forbud_id="f1")]
    fold(ended).check(close, D("2027-03-01"))
