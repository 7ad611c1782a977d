"""The placed child (issue #15 B): what a placement requires (D1-D11), the avvikning protocol
(V1-V3), LVU's age limits and reviews after the omhändertagande (E10, E16) before and after
2027-01-01, and the guards of ``domain.case_care``.

Dates are checked by hand in the comments: the engine's own arithmetic is never the oracle.
"""

from __future__ import annotations

from datetime import date

import pytest
from frist_builders import ev, luhn_pnr

from domain.case import CaseState, fold
from domain.errors import RuleViolation
from domain.events import CaseEvent
from domain.frister import MET, MISSED, OVERDUE, Frist, compute_frister
from domain.rules import DEFAULT_POLICY, LVU, LVU_NEW, NEW_SOL, OLD_SOL, policy_from_mapping

D = date.fromisoformat
#: Born 2010-05-15: 18 on 2028-05-15, 20 on 2030-05-15.
PNR = luhn_pnr("20100515234")
BARN = {"personnummer": PNR, "kon": "pojke"}
ON = policy_from_mapping({"policy": {"placering_krav_fran": "2026-01-01"}})


def _placement(insats: str = "familjehem", *, placed: str = "2026-01-25") -> list[CaseEvent]:
    """A familjehem placement verkställd on ``placed`` (beslut b1, 2026-01-21)."""
    return [
        ev("anmalan_mottagen", "2026-01-05", anmalan_id="a1", barn=BARN),
        ev("utredning_inledd", "2026-01-06", utredning_id="u1", grund="anmalan", anmalan_id="a1"),
        ev("utredning_avslutad", "2026-01-20", utredning_id="u1", utfall="insats"),
        ev("beslut_fattat", "2026-01-21", beslut_id="b1", insats=insats, gynnande=True),
        ev("insats_verkstalld", placed, beslut_id="b1"),
    ]


def _by_key(frister: list[Frist]) -> dict[str, Frist]:
    return {f.key: f for f in frister}


def _rows(frister: list[Frist], *rules: str) -> dict[str, tuple[date, str]]:
    return {f.key: (f.due, f.status) for f in frister if f.rule in rules}


# --- POL-PLACERING-KRAV-START -------------------------------------------------------------------


def test_without_the_kommun_start_day_a_placement_owes_what_it_always_did() -> None:
    rules = {f.rule for f in compute_frister(_placement(), D("2026-12-31"))}
    assert rules == {"A1", "A2", "B1", "C2", "D2", "D3", "D4"}


def test_a_placement_verkstalld_before_the_start_day_owes_nothing_new() -> None:
    late = policy_from_mapping({"policy": {"placering_krav_fran": "2026-01-26"}})
    rules = {f.rule for f in compute_frister(_placement(), D("2026-12-31"), policy=late)}
    assert not rules & {"D1", "D1G", "D6", "D8", "D9", "D9S", "D9K", "D11", "D11V"}


# --- D1, D1G, D1A, D6, D8, D9S, D9K -------------------------------------------------------------


def test_the_plans_notice_and_socialsekreterare_are_due_fourteen_days_after_the_placement() -> None:
    events = [
        # the vårdplan is written before the decision and names it: it meets D1 on time
        ev("anmalan_mottagen", "2026-01-05", anmalan_id="a1", barn=BARN),
        ev("utredning_inledd", "2026-01-06", utredning_id="u1", grund="anmalan", anmalan_id="a1"),
        ev("vardplan_upprattad", "2026-01-20", beslut_id="b1"),
        ev("utredning_avslutad", "2026-01-20", utredning_id="u1", utfall="insats"),
        ev("beslut_fattat", "2026-01-21", beslut_id="b1", insats="familjehem", gynnande=True),
        ev("insats_verkstalld", "2026-01-25", beslut_id="b1"),
        ev("socialsekreterare_utsedd", "2026-02-01", socialsekreterare_id="ss-7"),
        ev("placeringsplan_godkand", "2026-02-03", plan="vardplan", beslut_id="b1"),
        # the genomförandeplan comes late: missed (due 2026-02-08)
        ev("genomforandeplan_upprattad", "2026-02-20", beslut_id="b1"),
        ev("halsoundersokning_begard", "2026-02-08", obehovlig=False),
        ev("skolgang_kartlagd", "2026-04-01", beslut_id="b1"),
    ]
    got = compute_frister(events, D("2026-06-30"), policy=ON)
    # 2026-01-25 + 14 days = 2026-02-08; + 90 days = 2026-04-25
    assert _rows(got, "D1", "D1G", "D1A", "D6", "D8", "D9S", "D9K") == {
        "D1:b1": (D("2026-02-08"), MET),
        "D1G:b1": (D("2026-02-08"), MISSED),
        "D1A:b1": (D("2026-02-08"), MET),
        "D6:b1": (D("2026-02-08"), MET),
        "D8:b1": (D("2026-02-08"), MET),
        "D9S:b1": (D("2026-04-25"), MET),
        "D9K:b1": (D("2026-04-25"), OVERDUE),
    }
    by_key = _by_key(got)
    assert (by_key["D1:b1"].law, by_key["D1:b1"].paragraph) == (NEW_SOL, "9 kap. 12 § första st.")
    assert by_key["D6:b1"].paragraph == "22 kap. 7 §"
    assert by_key["D8:b1"].paragraph == "22 kap. 12 § första st."
    assert by_key["D1A:b1"].law == "Lokal regel"


def test_a_placement_before_2025_07_01_cites_the_old_sol() -> None:
    old = policy_from_mapping({"policy": {"placering_krav_fran": "2025-01-01"}})
    events = [
        ev("anmalan_mottagen", "2025-03-03", anmalan_id="a1", barn=BARN),
        ev("utredning_inledd", "2025-03-04", utredning_id="u1", grund="anmalan", anmalan_id="a1"),
        ev("beslut_fattat", "2025-04-01", beslut_id="b1", insats="hvb", gynnande=True,
           lagrum="SoL 4:1"),
        ev("insats_verkstalld", "2025-04-02", beslut_id="b1"),
    ]  # fmt: skip
    by_key = _by_key(compute_frister(events, D("2025-06-30"), policy=old))
    assert (by_key["D1:b1"].law, by_key["D1:b1"].paragraph) == (OLD_SOL, "11 kap. 3 § första st.")
    assert by_key["D1G:b1"].paragraph == "11 kap. 3 § tredje st."
    assert by_key["D6:b1"].paragraph == "11 kap. 3 a §"
    assert by_key["D8:b1"].paragraph == "6 kap. 7 c § första st."


def test_a_jourhem_owes_no_plan_and_no_named_socialsekreterare_but_visits_and_the_notice() -> None:
    rules = {f.rule for f in compute_frister(_placement("jourhem"), D("2026-03-31"), policy=ON)}
    assert {"D6", "D9", "D9S", "D9K"} <= rules
    assert not rules & {"D1", "D1G", "D1A", "D8"}


def test_the_kommun_sets_the_days() -> None:
    pol = policy_from_mapping(
        {"policy": {"placering_krav_fran": "2026-01-01", "placering_plan_dagar": 7,
                    "placering_kartlaggning_dagar": 30}}
    )  # fmt: skip
    by_key = _by_key(compute_frister(_placement(), D("2026-03-31"), policy=pol))
    assert by_key["D1:b1"].due == D("2026-02-01")  # 2026-01-25 + 7 days
    assert by_key["D9S:b1"].due == D("2026-02-24")  # + 30 days


# --- D9: visits at the kommun's frequency -------------------------------------------------------


def test_visits_are_monthly_the_first_year_then_every_three_months() -> None:
    events = [
        *_placement(),
        ev("barnet_besokt", "2026-02-20", enskilt_samtal=True),
        # no enskilt samtal: does not count
        ev("barnet_besokt", "2026-03-10", enskilt_samtal=False),
        ev("barnet_besokt", "2026-04-01", enskilt_samtal=True, beslut_id="b1"),
        ev("barnet_besokt", "2027-01-30", enskilt_samtal=True),
    ]
    got = _rows(compute_frister(events, D("2027-06-30"), policy=ON), "D9")
    assert got == {
        "D9:b1:1": (D("2026-02-25"), MET),  # 2026-01-25 + 1 month
        "D9:b1:2": (D("2026-03-20"), MISSED),  # 2026-02-20 + 1 month, met late 04-01
        "D9:b1:3": (D("2026-05-01"), MISSED),  # 2026-04-01 + 1 month, met late 2027-01-30
        # 2027-01-30 is after the first 12 months (2027-01-25): three months
        "D9:b1:4": (D("2027-04-30"), OVERDUE),
    }


def test_visits_end_with_the_placement() -> None:
    events = [*_placement(), ev("beslut_avslutat", "2026-02-10", beslut_id="b1", orsak="hem")]
    got = _rows(compute_frister(events, D("2026-12-31"), policy=ON), "D9")
    assert got == {"D9:b1:1": (D("2026-02-25"), MET)}


# --- D11V, D11: the 18th birthday -----------------------------------------------------------------


def test_the_18th_birthday_from_the_personnummer() -> None:
    got = compute_frister(_placement(), D("2028-06-01"), policy=ON)
    # born 2010-05-15: 18 on 2028-05-15; six months before: 2027-11-15
    assert _rows(got, "D11V", "D11") == {
        "D11V:b1": (D("2027-11-15"), OVERDUE),
        "D11:b1": (D("2028-05-15"), OVERDUE),
    }
    d11 = _by_key(got)["D11:b1"]
    assert (d11.law, d11.paragraph) == (NEW_SOL, "3 kap. 1 §")
    assert d11.arithmetic == "2010-05-15 + 18 år = 2028-05-15"


def test_utslussning_planned_and_a_decision_continuing_the_placement_meet_them() -> None:
    events = [
        *_placement(),
        ev("utslussning_planerad", "2027-10-01", beslut_id="b1"),
        ev("beslut_fattat", "2028-05-02", beslut_id="b2", insats="familjehem", gynnande=True,
           fortsatter_beslut_id="b1"),
        ev("insats_verkstalld", "2028-05-15", beslut_id="b2"),
    ]  # fmt: skip
    got = compute_frister(events, D("2028-06-01"), policy=ON)
    assert _rows(got, "D11V", "D11") == {
        "D11V:b1": (D("2027-11-15"), MET),
        "D11:b1": (D("2028-05-15"), MET),
    }
    # the continuing decision owes visits, no new plans and no 18th birthday of its own
    assert {f.rule for f in got if f.subject == "b2"} & {"D1", "D11", "D11V"} == set()
    assert any(f.key == "D9:b2:1" for f in got)


def test_a_young_person_placed_after_18_has_no_birthday_frist() -> None:
    events = _placement(placed="2028-05-20")
    assert not _rows(compute_frister(events, D("2028-12-31"), policy=ON), "D11V", "D11")


def test_the_warning_months_are_the_kommuns() -> None:
    pol = policy_from_mapping(
        {"policy": {"placering_krav_fran": "2026-01-01", "alder18_varning_manader": 3}}
    )
    by_key = _by_key(compute_frister(_placement(), D("2026-03-31"), policy=pol))
    assert by_key["D11V:b1"].due == D("2028-02-15")


# --- V1-V3: avvikning -----------------------------------------------------------------------------


def _avvikning(*steps: CaseEvent, ensamkommande: bool | None = None) -> list[CaseEvent]:
    data = {} if ensamkommande is None else {"ensamkommande": ensamkommande}
    return [
        *_placement(),
        ev("avvikning_anmald", "2026-03-10T22:30:00+01:00", avvikning_id="av1", **data),
        *steps,
    ]


def test_police_the_lvu_assessment_and_migrationsverket_within_the_next_day() -> None:
    events = _avvikning(
        ev("avvikning_polis_underrattad", "2026-03-11T09:00:00+01:00", avvikning_id="av1"),
        ev("avvikning_lvu_bedomning_gjord", "2026-03-12", avvikning_id="av1",
           slutsats="ej_omhandertagande"),
        ensamkommande=True,
    )  # fmt: skip
    got = _rows(compute_frister(events, D("2026-03-31")), "V1", "V2", "V3")
    assert got == {
        "V1:av1": (D("2026-03-11"), MET),  # the next morning: within 24 hours
        "V2:av1": (D("2026-03-11"), OVERDUE),
        "V3:av1": (D("2026-03-11"), MISSED),
    }


def test_migrationsverket_only_for_an_ensamkommande_child_flag_from_the_anmalan() -> None:
    assert "V2:av1" not in _rows(compute_frister(_avvikning(), D("2026-03-31")), "V2")
    flagged = _avvikning()
    flagged[0] = ev("anmalan_mottagen", "2026-01-05", anmalan_id="a1", barn=BARN,
                    ensamkommande=True)  # fmt: skip
    assert "V2:av1" in _rows(compute_frister(flagged, D("2026-03-31")), "V2")


def test_the_child_found_meets_what_is_still_open() -> None:
    events = _avvikning(
        ev("avvikning_avslutad", "2026-03-11T01:00:00+01:00", avvikning_id="av1",
           utfall="aterfunnen"),
    )  # fmt: skip
    got = _rows(compute_frister(events, D("2026-03-31")), "V1", "V3")
    assert got == {"V1:av1": (D("2026-03-11"), MET), "V3:av1": (D("2026-03-11"), MET)}


def test_the_lvu_assessment_days_are_the_kommuns() -> None:
    pol = policy_from_mapping({"policy": {"avvikning_lvu_bedomning_dagar": 0}})
    got = _rows(compute_frister(_avvikning(), D("2026-03-31"), policy=pol), "V3")
    assert got == {"V3:av1": (D("2026-03-10"), OVERDUE)}


# --- guards: P-AVVIKNING, P-PLACERING, P-LVU-ALDER ------------------------------------------------


def _state(events: list[CaseEvent]) -> CaseState:
    return fold(events)


def _refused(state: CaseState, event: CaseEvent, today: str = "2026-12-31") -> str:
    with pytest.raises(RuleViolation) as exc:
        state.check(event, D(today))
    return exc.value.rule


def test_an_avvikning_needs_a_placement() -> None:
    not_placed = _placement()[:4]
    state = _state(not_placed)
    assert _refused(state, ev("avvikning_anmald", "2026-03-10", avvikning_id="av1")) == (
        "P-AVVIKNING"
    )
    _state(_placement()).check(ev("avvikning_anmald", "2026-03-10", avvikning_id="av1"),
                               D("2026-12-31"))  # fmt: skip


def test_the_case_is_not_closed_within_three_months_of_the_disappearance() -> None:
    events = [
        *_avvikning(),
        ev("skyddsbedomning_gjord", "2026-03-11", anmalan_id="a1", omedelbart_skydd=False),
        ev("forhandsbedomning_beslutad", "2026-03-11", anmalan_id="a1",
           beslut="inleda_utredning"),
        ev("beslut_avslutat", "2026-03-20", beslut_id="b1", orsak="avvikit"),
    ]  # fmt: skip
    state = _state(events)
    close = ev("arende_avslutat", "2026-06-09", orsak="barnet_forsvunnet")
    assert _refused(state, close) == "P-AVVIKNING"  # 2026-03-10 + 3 months = 2026-06-10
    state.check(ev("arende_avslutat", "2026-06-10", orsak="barnet_forsvunnet"), D("2026-12-31"))
    found = _state([*events, ev("avvikning_avslutad", "2026-03-25", avvikning_id="av1",
                                utfall="atervand")])  # fmt: skip
    found.check(close, D("2026-12-31"))


def test_avvikning_steps_need_a_known_open_avvikning() -> None:
    state = _state(_avvikning())
    assert _refused(state, ev("avvikning_polis_underrattad", "2026-03-11",
                              avvikning_id="x")) == "P-REF"  # fmt: skip
    ended = _state(_avvikning(ev("avvikning_avslutad", "2026-03-11", avvikning_id="av1",
                                 utfall="aterfunnen")))  # fmt: skip
    step = ev("avvikning_polis_underrattad", "2026-03-12", avvikning_id="av1")
    assert _refused(ended, step) == "P-AVVIKNING"
    assert _refused(state, ev("avvikning_anmald", "2026-03-12", avvikning_id="av1")) == ("P-DUP-ID")


def test_a_visit_naming_a_beslut_names_a_placement() -> None:
    state = _state(_placement())
    assert _refused(state, ev("barnet_besokt", "2026-02-01", enskilt_samtal=True,
                              beslut_id="nope")) == "P-PLACERING"  # fmt: skip


def _lvu_child(born_stem: str) -> list[CaseEvent]:
    barn = {"personnummer": luhn_pnr(born_stem), "kon": "flicka"}
    return [ev("anmalan_mottagen", "2026-01-05", anmalan_id="a1", barn=barn)]


@pytest.mark.parametrize(
    ("stem", "etype", "data", "refused"),
    [
        # born 2006-06-01: 19 in 2026 -> omedelbart omhändertagande allowed (under 20)
        ("20060601238", "lvu_omhandertagande_beslutat", {}, False),
        # born 2006-01-04: 20 on 2026-01-04 -> refused (LVU 6 §)
        ("20060104238", "lvu_omhandertagande_beslutat", {}, True),
        # 19: care on the hem ground refused, eget beteende allowed
        ("20060601238", "lvu_ansokan_inlamnad", {"grund": "hem"}, True),
        ("20060601238", "lvu_ansokan_inlamnad", {"grund": "eget_beteende"}, False),
        ("20060601238", "lvu_ansokan_inlamnad", {}, False),
        # 17: every ground allowed
        ("20080601238", "lvu_ansokan_inlamnad", {"grund": "hem"}, False),
    ],
)
def test_lvu_age_limits(stem: str, etype: str, data: dict[str, str], refused: bool) -> None:
    state = _state(_lvu_child(stem))
    event = ev(etype, "2026-03-01", beslut_id="l1", **data)
    if refused:
        assert _refused(state, event) == "P-LVU-ALDER"
    else:
        state.check(event, D("2026-12-31"))


def test_a_dom_on_the_hem_ground_for_an_18_year_old_is_refused_under_both_acts() -> None:
    events = [*_lvu_child("20060601238"),
              ev("lvu_ansokan_inlamnad", "2026-03-01", beslut_id="l1")]  # fmt: skip
    state = _state(events)
    assert _refused(state, ev("lvu_dom", "2026-04-01", utfall="bifall", paragraf="2")) == (
        "P-LVU-ALDER"
    )
    state.check(ev("lvu_dom", "2026-04-01", utfall="bifall", paragraf="3"), D("2026-12-31"))
    state.check(ev("lvu_dom", "2026-04-01", utfall="avslag", paragraf="2"), D("2026-12-31"))
    # lag 2026:1600 3 kap. 1 §: the same limits from 2027-01-01 (grund instead of paragraf)
    assert (
        _refused(state, ev("lvu_dom", "2027-02-01", utfall="bifall", grund="hem"), "2027-12-31")
        == "P-LVU-ALDER"
    )


def test_a_dom_without_its_ground_is_judged_by_the_ground_of_the_ansokan() -> None:
    # born 2008-06-01: 18 in March 2027 (under 20: only the ground decides)
    def dom_after(grund: str) -> CaseState:
        ansokan = ev("lvu_ansokan_inlamnad", "2027-02-01", beslut_id="l1", grund=grund)
        return fold([*_lvu_child("20080601238"), ansokan])

    dom = ev("lvu_dom", "2027-03-01", utfall="bifall")
    assert _refused(dom_after("hem"), dom, "2027-12-31") == "P-LVU-ALDER"
    dom_after("eget_beteende").check(dom, D("2027-12-31"))


def test_the_guards_of_the_placed_child_are_left_out_for_replayed_commands() -> None:
    state = _state(_lvu_child("20060104238"))
    late = ev("lvu_omhandertagande_beslutat", "2026-03-01", beslut_id="l1")
    state.check(late, D("2026-12-31"), care=False)


def test_recorded_history_is_not_judged_on_age_but_on_avvikning() -> None:
    """An import or a transfer's copy (``lagrum=False``) keeps what was decided then."""
    state = _state(_lvu_child("20060104238"))
    late = ev("lvu_omhandertagande_beslutat", "2026-03-01", beslut_id="l1")
    state.check(late, D("2026-12-31"), lagrum=False)
    missing = _state(_placement())
    step = ev("avvikning_polis_underrattad", "2026-03-11", avvikning_id="x")
    with pytest.raises(RuleViolation):
        missing.check(step, D("2026-12-31"), lagrum=False)


# --- E10, E16: reviews after the omhändertagande, under LVU 1990:52 and lag 2026:1600 -----------


def _in_care(day: str) -> list[CaseEvent]:
    return [
        ev("anmalan_mottagen", "2025-01-07", anmalan_id="a1", barn=BARN),
        ev("lvu_omhandertagande_beslutat", day, beslut_id="l1"),
        ev("lvu_omhandertagande_verkstallt", day, beslut_id="l1"),
    ]


def test_e10_fires_under_lvu_1990_before_2027_and_under_2026_1600_after() -> None:
    events = [
        *_in_care("2025-02-03"),
        ev("lvu_umgangesbegransning_beslutad", "2025-03-01", begransning_id="u1", slag="umgange"),
        ev("lvu_umgangesbegransning_provad", "2025-05-20", begransning_id="u1"),
        ev("lvu_umgangesbegransning_provad", "2026-12-01", begransning_id="u1"),
    ]
    state = CaseState()
    for e in events:
        state.check(e, D("2027-06-30"))
        state.apply(e)
    got = _by_key(compute_frister(events, D("2027-06-30")))
    e10 = {k: (f.due, f.status, f.law, f.paragraph) for k, f in got.items() if f.rule == "E10"}
    assert e10 == {
        "E10:u1:1": (D("2025-06-01"), MET, LVU, "14 §"),  # 2025-03-01 + 3 months
        "E10:u1:2": (D("2025-08-20"), MISSED, LVU, "14 §"),  # 2025-05-20 + 3 months
        # the cycle that starts on 2026-12-01 under LVU keeps LVU (POL-LVU2027-CYKEL)
        "E10:u1:3": (D("2027-03-01"), OVERDUE, LVU, "14 §"),
    }


def test_e16_fires_under_lvu_22_before_2027() -> None:
    events = [
        ev("anmalan_mottagen", "2025-01-07", anmalan_id="a1", barn=BARN),
        ev("lvu_forebyggande_insats_beslutad", "2025-03-01", insats_id="i1",
           insats="kontaktperson"),
        ev("lvu_forebyggande_insats_provad", "2025-08-15", insats_id="i1"),
    ]  # fmt: skip
    got = compute_frister(events, D("2026-06-30"))
    e16 = {f.key: (f.due, f.status, f.law) for f in got if f.rule == "E16"}
    assert e16 == {
        "E16:i1:1": (D("2025-09-01"), MET, LVU),
        "E16:i1:2": (D("2026-02-15"), OVERDUE, LVU),
    }


def test_the_2027_act_is_cited_for_an_umgangesbegransning_decided_in_2027() -> None:
    events = [
        *_in_care("2026-12-20"),
        ev("lvu_umgangesbegransning_beslutad", "2027-01-10", begransning_id="u1",
           slag="hemlighallande"),
    ]  # fmt: skip
    e10 = _by_key(compute_frister(events, D("2027-06-30")))["E10:u1:1"]
    assert (e10.due, e10.law, e10.paragraph) == (D("2027-04-10"), LVU_NEW, "7 kap. 2 § andra st.")


def test_default_policy_has_no_start_day() -> None:
    assert DEFAULT_POLICY.placering_krav_fran is None
