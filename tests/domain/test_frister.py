"""compute_frister: one table-driven case per rule, docs/domain.md §3's examples and edge cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from frist_builders import ev

from domain.events import CaseEvent
from domain.frister import MET, MISSED, OPEN, OVERDUE, Frist, compute_frister
from domain.rules import KommunPolicy, policy_from_mapping


def by_key(frister: list[Frist]) -> dict[str, Frist]:
    return {f.key: f for f in frister}


def anmalan(day: str, aid: str = "a1") -> CaseEvent:
    return ev("anmalan_mottagen", day, anmalan_id=aid)


def beslut(
    day: str, bid: str, insats: str | None = "oppenvard", gynnande: bool = True
) -> CaseEvent:
    data: dict[str, Any] = {"beslut_id": bid, "gynnande": gynnande}
    if insats:
        data["insats"] = insats
    return ev("beslut_fattat", day, **data)


@dataclass
class Case:
    """One row of the per-rule table: events, and what the named frist must look like."""

    name: str
    events: list[CaseEvent]
    key: str
    trigger: date
    due: date
    status: str
    fulfilled: date | None = None
    as_of: date | None = None
    law: str = "SoL 2025:400"
    paragraph: str | None = None
    policy: KommunPolicy | None = None
    extra: dict[str, Any] = field(default_factory=dict)


D = date.fromisoformat
A3_ON = policy_from_mapping({"policy": {"a3_begaran_antas": True}})
CASES = [
    Case("A1 same day met", [anmalan("2026-03-02"),
         ev("skyddsbedomning_gjord", "2026-03-02", anmalan_id="a1", omedelbart_skydd=False)],
         "A1:a1", D("2026-03-02"), D("2026-03-02"), MET, D("2026-03-02"), paragraph="20 kap. 1 §"),
    Case("A1 next day missed", [anmalan("2026-03-02"),
         ev("skyddsbedomning_gjord", "2026-03-03", anmalan_id="a1", omedelbart_skydd=False)],
         "A1:a1", D("2026-03-02"), D("2026-03-02"), MISSED, D("2026-03-03")),
    Case("A2 worked example open", [anmalan("2026-03-02")], "A2:a1", D("2026-03-02"),
         D("2026-03-16"), OPEN, as_of=D("2026-03-16"), paragraph="20 kap. 2 §"),
    Case("A2 overdue", [anmalan("2026-03-02")], "A2:a1", D("2026-03-02"), D("2026-03-16"),
         OVERDUE, as_of=D("2026-03-17")),
    Case("A2 met on due day", [anmalan("2026-03-02"), ev("forhandsbedomning_beslutad",
         "2026-03-16", anmalan_id="a1", beslut="inte_inleda_utredning")], "A2:a1",
         D("2026-03-02"), D("2026-03-16"), MET, D("2026-03-16")),
    Case("A2 old law 2025-06-30", [anmalan("2025-06-30")], "A2:a1", D("2025-06-30"),
         D("2025-07-14"), OPEN, law="SoL 2001:453", paragraph="11 kap. 1 a §"),
    Case("A2 new law 2025-07-01", [anmalan("2025-07-01")], "A2:a1", D("2025-07-01"),
         D("2025-07-15"), OPEN, law="SoL 2025:400", paragraph="20 kap. 2 §"),
    Case("A3 one week", [anmalan("2026-03-02"), ev("forhandsbedomning_beslutad", "2026-03-10",
         anmalan_id="a1", beslut="inleda_utredning"), ev("anmalare_informerad", "2026-03-17",
         anmalan_id="a1")], "A3:a1", D("2026-03-10"), D("2026-03-17"), MET, D("2026-03-17"),
         paragraph="19 kap. 6 §", policy=A3_ON),
    Case("B1 worked example 10-31", [anmalan("2025-10-20"), ev("utredning_inledd",
         "2025-10-31", utredning_id="u1", grund="anmalan")], "B1:u1", D("2025-10-31"),
         D("2026-02-28"), OPEN, paragraph="20 kap. 3 §"),
    Case("B1 worked example 11-30", [anmalan("2025-11-20"), ev("utredning_inledd",
         "2025-11-30", utredning_id="u1", grund="anmalan")], "B1:u1", D("2025-11-30"),
         D("2026-03-30"), OPEN),
    Case("B1 leap year", [anmalan("2027-10-20"), ev("utredning_inledd", "2027-10-31",
         utredning_id="u1", grund="anmalan")], "B1:u1", D("2027-10-31"), D("2028-02-29"), OPEN),
    Case("B1 old law", [anmalan("2025-06-01"), ev("utredning_inledd", "2025-06-30",
         utredning_id="u1", grund="anmalan"), ev("utredning_avslutad", "2025-11-01",
         utredning_id="u1", utfall="insats")], "B1:u1", D("2025-06-30"), D("2025-10-30"),
         MISSED, D("2025-11-01"), law="SoL 2001:453", paragraph="11 kap. 2 §"),
    Case("C2 worked example", [anmalan("2025-09-01"), beslut("2025-11-30", "b1")], "C2:b1",
         D("2025-11-30"), D("2026-02-28"), OVERDUE, as_of=D("2026-03-01"),
         paragraph="34 kap. 1 § första st.", extra={"alert_event":
         "evb_rapporteringsskyldighet_uppstod"}),
    Case("C2 2025-08-31", [anmalan("2025-08-01"), beslut("2025-08-31", "b1"),
         ev("insats_verkstalld", "2025-11-30", beslut_id="b1")], "C2:b1", D("2025-08-31"),
         D("2025-11-30"), MET, D("2025-11-30")),
    Case("C2 avslutat counts", [anmalan("2026-01-01"), beslut("2026-01-10", "b1"),
         ev("beslut_avslutat", "2026-02-01", beslut_id="b1", orsak="tackat_nej")], "C2:b1",
         D("2026-01-10"), D("2026-04-10"), MET, D("2026-02-01")),
    Case("C3 avbrott", [anmalan("2026-01-01"), beslut("2026-01-10", "b1"),
         ev("insats_verkstalld", "2026-01-20", beslut_id="b1"),
         ev("verkstallighet_avbruten", "2026-03-31", beslut_id="b1", skal="personal"),
         ev("verkstallighet_aterupptagen", "2026-07-01", beslut_id="b1")],
         "C3:b1:2026-03-31", D("2026-03-31"), D("2026-06-30"), MISSED, D("2026-07-01"),
         paragraph="34 kap. 1 § andra st."),
    Case("C4 first quarter", [anmalan("2025-09-01"), beslut("2025-11-30", "b1"),
         ev("evb_rapporterad", "2026-04-10", beslut_id="b1", kvartal="2026Q1",
            rapport="individrapport")], "C4:b1:2026Q1", D("2026-03-01"), D("2026-04-30"), MET,
         D("2026-04-10"), as_of=D("2026-04-20"), paragraph="34 kap. 1 § tredje st."),
    Case("D2 revision", [anmalan("2024-01-01"), beslut("2024-02-01", "b1", "hvb"),
         ev("insats_verkstalld", "2024-02-29", beslut_id="b1")], "D2:b1", D("2024-02-29"),
         D("2026-02-28"), OVERDUE, as_of=D("2026-03-01"), law="SoL 2001:453",
         paragraph="11 kap. 3 § andra st."),
    Case("D3 first övervägande", [anmalan("2026-01-01"), beslut("2026-02-28", "b1", "hvb"),
         ev("overvagande_genomfort", "2026-08-20", beslut_id="b1", slutsats="fortsatt")],
         "D3:b1:1", D("2026-02-28"), D("2026-08-28"), MET, D("2026-08-20"),
         paragraph="22 kap. 13 §"),
    Case("D4 worked example", [anmalan("2024-01-01"), beslut("2024-02-01", "b1", "familjehem"),
         ev("insats_verkstalld", "2024-02-29", beslut_id="b1")], "D4:b1:1", D("2024-02-29"),
         D("2026-02-28"), OVERDUE, as_of=D("2026-03-01"), law="SoL 2001:453",
         paragraph="6 kap. 8 b §"),
    Case("D7 jourhem", [anmalan("2026-01-01"), ev("utredning_inledd", "2026-01-02",
         utredning_id="u1", grund="anmalan"), beslut("2026-01-05", "b1", "jourhem"),
         ev("insats_verkstalld", "2026-01-05", beslut_id="b1"),
         ev("utredning_avslutad", "2026-04-30", utredning_id="u1", utfall="insats")],
         "D7:b1", D("2026-04-30"), D("2026-06-30"), OPEN, paragraph="22 kap. 4 §"),
    Case("D10 opt-in", [anmalan("2025-01-01"), beslut("2025-02-01", "b1", "familjehem"),
         ev("insats_verkstalld", "2025-03-01", beslut_id="b1")], "D10:b1:2026",
         D("2026-01-01"), D("2026-01-31"), OVERDUE, as_of=D("2026-02-01"),
         law="SoF 2025:468", paragraph="3 kap. 4 §",
         policy=policy_from_mapping({"policy": {"d10_per_arende": True}})),
    Case("E2 worked example", [anmalan("2026-05-14"),
         ev("lvu_omhandertagande_beslutat", "2026-05-15", beslut_id="l1"),
         ev("lvu_understalld", "2026-05-22", beslut_id="l1")], "E2:l1", D("2026-05-15"),
         D("2026-05-22"), MET, D("2026-05-22"), law="LVU 1990:52", paragraph="7 §"),
    Case("E3 ansökan", [anmalan("2026-05-14"),
         ev("lvu_omhandertagande_verkstallt", "2026-05-15", beslut_id="l1")], "E3:l1",
         D("2026-05-15"), D("2026-06-12"), OVERDUE, as_of=D("2026-06-13"), law="LVU 1990:52",
         paragraph="8 §"),
    Case("E5 vård starts", [anmalan("2026-01-01"),
         ev("lvu_dom", "2026-03-01", utfall="bifall", beslut_id="v1", paragraf="2"),
         ev("lvu_omhandertagande_verkstallt", "2026-03-20", beslut_id="v1")], "E5:v1",
         D("2026-03-01"), D("2026-03-29"), MET, D("2026-03-20"), law="LVU 1990:52"),
    Case("E6 övervägande", [anmalan("2026-01-01"),
         ev("lvu_dom", "2026-03-01", utfall="bifall", beslut_id="v1", paragraf="2"),
         ev("lvu_omhandertagande_verkstallt", "2026-03-31", beslut_id="v1")], "E6:v1:1",
         D("2026-03-31"), D("2026-09-30"), OPEN, law="LVU 1990:52", paragraph="13 § första st."),
    Case("E7 omprövning", [anmalan("2026-01-01"),
         ev("lvu_dom", "2026-03-01", utfall="bifall", beslut_id="v1", paragraf="3"),
         ev("lvu_omhandertagande_verkstallt", "2026-03-02", beslut_id="v1"),
         ev("overvagande_genomfort", "2026-09-01", beslut_id="v1", slutsats="fortsatt")],
         "E7:v1:1", D("2026-03-02"), D("2026-09-02"), MET, D("2026-09-01"), law="LVU 1990:52",
         paragraph="13 § andra st."),
    Case("E15 after LVU", [anmalan("2026-01-01"), ev("lvu_vard_upphort", "2026-03-01"),
         ev("uppfoljning_inledd", "2026-03-05", grund="lvu", uppfoljning_id="f1")], "E15:f1",
         D("2026-03-05"), D("2026-09-05"), OPEN, law="LVU 1990:52", paragraph="21 b-c §§"),
    Case("F1 after utredning", [anmalan("2026-01-01"), ev("utredning_inledd", "2026-01-10",
         utredning_id="u1", grund="anmalan"), ev("utredning_avslutad", "2026-02-28",
         utredning_id="u1", utfall="ingen_atgard"), ev("uppfoljning_inledd", "2026-03-10",
         grund="utredning_utan_insats", uppfoljning_id="f1"),
         ev("uppfoljning_avslutad", "2026-08-01", uppfoljning_id="f1")], "F1:f1",
         D("2026-02-28"), D("2026-08-28"), MET, D("2026-08-01"), paragraph="23 kap. 1 §, 5 §"),
    Case("F1 old law policy", [anmalan("2025-01-01"), ev("utredning_inledd", "2025-01-10",
         utredning_id="u1", grund="anmalan"), ev("utredning_avslutad", "2025-04-30",
         utredning_id="u1", utfall="ingen_atgard"), ev("uppfoljning_inledd", "2025-05-02",
         grund="x", uppfoljning_id="f1")], "F1:f1", D("2025-04-30"), D("2025-06-30"), OPEN,
         law="SoL 2001:453"),
    Case("F2 after placement", [anmalan("2026-01-01"), beslut("2026-01-10", "b1", "hvb"),
         ev("insats_verkstalld", "2026-01-11", beslut_id="b1"),
         ev("beslut_avslutat", "2026-05-31", beslut_id="b1", orsak="hem"),
         ev("uppfoljning_inledd", "2026-06-01", grund="efter", uppfoljning_id="f2")], "F2:f2",
         D("2026-05-31"), D("2026-11-30"), OPEN, paragraph="23 kap. 2 §, 5 §"),
    Case("K1 klagomål", [anmalan("2026-01-01"), ev("klagomal_mottaget", "2026-02-01",
         klagomal_id="k1"), ev("klagomal_besvarat", "2026-02-16", klagomal_id="k1")], "K1:k1",
         D("2026-02-01"), D("2026-02-15"), MISSED, D("2026-02-16"), law="Lokal regel"),
    Case("K1 local days", [anmalan("2026-01-01"), ev("klagomal_mottaget", "2026-02-01",
         klagomal_id="k1")], "K1:k1", D("2026-02-01"), D("2026-02-08"), OPEN, law="Lokal regel",
         policy=policy_from_mapping({"klagomal": {"dagar": 7}})),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_rule_table(case: Case) -> None:
    frister = by_key(compute_frister(case.events, case.as_of, policy=case.policy))
    assert case.key in frister, sorted(frister)
    f = frister[case.key]
    assert (f.trigger_date, f.due, f.status, f.fulfilled_date) == (
        case.trigger,
        case.due,
        case.status,
        case.fulfilled,
    )
    assert f.law == case.law
    if case.paragraph is not None:
        assert f.paragraph == case.paragraph
    for attr, value in case.extra.items():
        assert getattr(f, attr) == value


def test_a3_not_when_the_week_ended_before_2026_01_15() -> None:
    """The week exists from 2026-01-15 (SFS 2025:1501); a decision whose week ended before that
    day owes nothing (POL-IKRAFT-PAGAENDE; the boundary table is in test_transitions.py)."""
    evs = [anmalan("2026-01-05"), ev("forhandsbedomning_beslutad", "2026-01-07",
           anmalan_id="a1", beslut="inte_inleda_utredning")]  # fmt: skip
    assert "A3:a1" not in by_key(compute_frister(evs, policy=A3_ON))


def test_a3_off_by_default() -> None:
    evs = [anmalan("2026-03-02"), ev("forhandsbedomning_beslutad", "2026-03-10",
           anmalan_id="a1", beslut="inleda_utredning")]  # fmt: skip
    assert "A3:a1" not in by_key(compute_frister(evs))
    assert "A3:a1" in by_key(compute_frister(evs, policy=A3_ON))


def test_new_anmalan_during_pending_utredning_gets_a1_but_no_a2() -> None:
    evs = [
        anmalan("2026-01-05", "a1"),
        ev("forhandsbedomning_beslutad", "2026-01-10", anmalan_id="a1", beslut="inleda_utredning"),
        ev("utredning_inledd", "2026-01-10", utredning_id="u1", grund="anmalan"),
        anmalan("2026-02-01", "a2"),
    ]
    fs = by_key(compute_frister(evs))
    assert "A1:a2" in fs and "A2:a2" not in fs
    assert fs["B1:u1"].due == date(2026, 5, 10)
    after_close = [*evs, ev("utredning_avslutad", "2026-03-01", utredning_id="u1",
                             utfall="ingen_atgard"), anmalan("2026-03-02", "a3")]  # fmt: skip
    assert by_key(compute_frister(after_close))["A2:a3"].due == date(2026, 3, 16)


def test_b3_continued_utredning_keeps_start() -> None:
    evs = [
        anmalan("2026-01-01"),
        ev("utredning_inledd", "2026-01-10", utredning_id="u1", grund="anmalan"),
        ev("utredning_avslutad", "2026-04-01", utredning_id="u1", utfall="ingen_atgard"),
        ev("utredning_inledd", "2026-04-02", utredning_id="u2", grund="eget_initiativ",
           fortsatter_utredning_id="u1"),
    ]  # fmt: skip
    f = by_key(compute_frister(evs))["B1:u2"]
    assert f.trigger_date == date(2026, 1, 10) and f.due == date(2026, 5, 10)


def test_b2_ansokan_start_policy() -> None:
    evs = [
        ev("ansokan_mottagen", "2026-01-05", ansokan_id="s1"),
        ev("utredning_inledd", "2026-01-12", utredning_id="u1", grund="ansokan", ansokan_id="s1"),
    ]
    f = by_key(compute_frister(evs))["B1:u1"]
    assert f.trigger_date == date(2026, 1, 5) and f.due == date(2026, 5, 5)


@pytest.mark.parametrize(
    ("ext_day", "ny", "due", "extended"),
    [
        ("2026-05-01", "2026-06-30", date(2026, 6, 30), True),  # before expiry
        ("2026-05-10", "2026-06-30", date(2026, 6, 30), True),  # on the due day
        ("2026-05-11", "2026-06-30", date(2026, 5, 10), False),  # after expiry: no effect
    ],
)
def test_b1_extension_before_expiry(ext_day: str, ny: str, due: date, extended: bool) -> None:
    evs = [
        anmalan("2026-01-01"),
        ev("utredning_inledd", "2026-01-10", utredning_id="u1", grund="anmalan"),
        ev("utredning_forlangd", ext_day, utredning_id="u1", ny_slutdag=ny, skal="sakkunnig"),
    ]
    f = by_key(compute_frister(evs))["B1:u1"]
    assert f.due == due and f.original_due == date(2026, 5, 10)
    assert any(("förlänger inte" in n) != extended for n in f.notes)


def test_b1_extension_repeatable() -> None:
    evs = [
        anmalan("2026-01-01"),
        ev("utredning_inledd", "2026-01-10", utredning_id="u1", grund="anmalan"),
        ev("utredning_forlangd", "2026-05-01", utredning_id="u1", ny_slutdag="2026-06-10",
           skal="a"),
        ev("utredning_forlangd", "2026-06-01", utredning_id="u1", ny_slutdag="2026-07-10",
           skal="b"),
        ev("utredning_avslutad", "2026-07-01", utredning_id="u1", utfall="insats"),
    ]  # fmt: skip
    f = by_key(compute_frister(evs))["B1:u1"]
    assert (f.due, f.status) == (date(2026, 7, 10), MET)


def test_a2_extension() -> None:
    evs = [anmalan("2026-03-02"), ev("forhandsbedomning_forlangd", "2026-03-10",
           anmalan_id="a1", ny_slutdag="2026-03-31", skal="synnerliga")]  # fmt: skip
    f = by_key(compute_frister(evs, date(2026, 3, 20)))["A2:a1"]
    assert (f.due, f.original_due, f.status) == (date(2026, 3, 31), date(2026, 3, 16), OPEN)


def test_several_beslut_have_separate_clocks() -> None:
    evs = [
        anmalan("2026-01-01"),
        beslut("2026-01-31", "b1", "kontaktperson"),
        beslut("2026-02-15", "b2", "oppenvard"),
        ev("insats_verkstalld", "2026-03-01", beslut_id="b2"),
    ]
    fs = by_key(compute_frister(evs, date(2026, 5, 1)))
    assert (fs["C2:b1"].due, fs["C2:b1"].status) == (date(2026, 4, 30), OVERDUE)
    assert (fs["C2:b2"].due, fs["C2:b2"].status) == (date(2026, 5, 15), MET)


def test_no_c2_for_non_gynnande_or_without_insats() -> None:
    evs = [anmalan("2026-01-01"), beslut("2026-01-31", "b1", gynnande=False),
           beslut("2026-01-31", "b2", insats=None)]  # fmt: skip
    keys = by_key(compute_frister(evs, date(2026, 12, 1)))
    assert "C2:b1" not in keys and "C2:b2" not in keys


def test_c4_one_key_per_quarter_until_verkstalld() -> None:
    evs = [anmalan("2025-09-01"), beslut("2025-11-30", "b1"),
           ev("insats_verkstalld", "2026-08-15", beslut_id="b1")]  # fmt: skip
    c4 = sorted(k for k in by_key(compute_frister(evs, date(2026, 12, 31))) if k.startswith("C4"))
    assert c4 == ["C4:b1:2026Q1", "C4:b1:2026Q2", "C4:b1:2026Q3"]
    open_ended = sorted(
        k for k in by_key(compute_frister(evs[:2], date(2026, 10, 1))) if k.startswith("C4")
    )
    assert open_ended == ["C4:b1:2026Q1", "C4:b1:2026Q2", "C4:b1:2026Q3", "C4:b1:2026Q4"]


def test_c4_window_end_q4_is_january() -> None:
    evs = [anmalan("2026-01-01"), beslut("2026-08-15", "b1")]
    f = by_key(compute_frister(evs, date(2026, 11, 20)))["C4:b1:2026Q4"]
    assert (f.trigger_date, f.due) == (date(2026, 11, 16), date(2027, 1, 31))


def test_no_c4_when_c2_met() -> None:
    evs = [anmalan("2026-01-01"), beslut("2026-01-31", "b1"),
           ev("insats_verkstalld", "2026-04-30", beslut_id="b1")]  # fmt: skip
    assert not [k for k in by_key(compute_frister(evs, date(2027, 1, 1))) if k.startswith("C4")]


def test_d3_rolls_from_last_overvagande() -> None:
    evs = [
        anmalan("2026-01-01"),
        beslut("2026-01-31", "b1", "familjehem"),
        ev("overvagande_genomfort", "2026-06-15", beslut_id="b1", slutsats="fortsatt"),
        ev("overvagande_genomfort", "2026-12-20", beslut_id="b1", slutsats="fortsatt"),
    ]
    fs = by_key(compute_frister(evs))
    assert (fs["D3:b1:1"].due, fs["D3:b1:1"].status) == (date(2026, 7, 31), MET)
    assert (fs["D3:b1:2"].trigger_date, fs["D3:b1:2"].due) == (date(2026, 6, 15),
                                                                date(2026, 12, 15))  # fmt: skip
    assert fs["D3:b1:2"].status == MISSED
    assert (fs["D3:b1:3"].due, fs["D3:b1:3"].status) == (date(2027, 6, 20), OPEN)


def test_d3_start_policy_verkstallighet() -> None:
    evs = [anmalan("2026-01-01"), beslut("2026-01-31", "b1", "hvb"),
           ev("insats_verkstalld", "2026-02-10", beslut_id="b1")]  # fmt: skip
    policy = policy_from_mapping({"policy": {"d3_start": "verkstallighet"}})
    assert by_key(compute_frister(evs, policy=policy))["D3:b1:1"].due == date(2026, 8, 10)


def test_d4_then_annually() -> None:
    evs = [anmalan("2024-01-01"), beslut("2024-02-01", "b1", "familjehem"),
           ev("insats_verkstalld", "2024-02-29", beslut_id="b1"),
           ev("vardnadsoverflyttning_overvagd", "2026-02-20", beslut_id="b1")]  # fmt: skip
    fs = by_key(compute_frister(evs, date(2027, 3, 1)))
    assert fs["D4:b1:1"].status == MET
    assert (fs["D4:b1:2"].due, fs["D4:b1:2"].status) == (date(2027, 2, 28), OVERDUE)
    assert fs["D4:b1:3"].due == date(2028, 2, 29)


def test_e2_without_beslut_id_uses_idempotency_key() -> None:
    order = ev("lvu_omhandertagande_beslutat", "2026-05-15")
    fs = compute_frister([anmalan("2026-05-14"), order, ev("lvu_understalld", "2026-05-21")])
    (e2,) = [f for f in fs if f.rule == "E2"]
    assert e2.key == f"E2:{order.idempotency_key}" and e2.status == MET


def test_e5_rejected_dom_has_no_frist() -> None:
    evs = [anmalan("2026-01-01"), ev("lvu_dom", "2026-03-01", utfall="avslag")]
    assert not [f for f in compute_frister(evs) if f.rule.startswith("E")]


@pytest.mark.parametrize(
    ("rules", "due", "shifted"),
    [
        ([], date(2026, 6, 19), None),  # default off
        (["A2"], date(2026, 6, 19), date(2026, 6, 22)),  # midsommarafton → Monday
    ],
)
def test_sondagsregel_midsommarafton(rules: list[str], due: date, shifted: date | None) -> None:
    policy = policy_from_mapping({"sondagsregel": {"regler": rules}})
    f = by_key(compute_frister([anmalan("2026-06-05")], policy=policy))["A2:a1"]
    assert (f.due, f.shifted_due) == (due, shifted)


@pytest.mark.parametrize(
    ("anmalan_day", "shifted"),
    [
        ("2026-12-10", date(2026, 12, 28)),  # due julafton
        ("2025-12-22", None),  # due 2026-01-05 trettondedagsafton: a vardag
        ("2026-03-02", None),  # due Monday 2026-03-16: no shift
    ],
)
def test_sondagsregel_julafton_trettondedagsafton(anmalan_day: str, shifted: date | None) -> None:
    policy = policy_from_mapping({"sondagsregel": {"regler": ["A2"]}})
    f = by_key(compute_frister([anmalan(anmalan_day)], policy=policy))["A2:a1"]
    assert f.shifted_due == shifted


def test_sondagsregel_never_changes_status() -> None:
    policy = policy_from_mapping({"sondagsregel": {"regler": ["A2"]}})
    evs = [anmalan("2026-06-05"), ev("forhandsbedomning_beslutad", "2026-06-22",
           anmalan_id="a1", beslut="inleda_utredning")]  # fmt: skip
    assert by_key(compute_frister(evs, policy=policy))["A2:a1"].status == MISSED


@pytest.mark.parametrize(
    ("occurred_at", "day"),
    [
        ("2026-03-29T00:30:00+01:00", date(2026, 3, 29)),
        ("2026-03-28T23:30:00+00:00", date(2026, 3, 29)),
        ("2026-03-28T22:30:00+00:00", date(2026, 3, 28)),
    ],
)
def test_dst_anmalan_legal_date(occurred_at: str, day: date) -> None:
    f = by_key(compute_frister([ev("anmalan_mottagen", occurred_at, anmalan_id="a1")]))["A2:a1"]
    assert f.trigger_date == day and f.due == date.fromordinal(day.toordinal() + 14)


def test_a1_late_anmalan_policy() -> None:
    policy = policy_from_mapping({"policy": {"a1_nasta_dag_efter": "16:00"}})
    late = ev("anmalan_mottagen", "2026-03-02T16:30:00+01:00", anmalan_id="a1")
    assert by_key(compute_frister([late], policy=policy))["A1:a1"].due == date(2026, 3, 3)
    assert by_key(compute_frister([late]))["A1:a1"].due == date(2026, 3, 2)


def test_time_travel_ignores_later_events() -> None:
    evs = [anmalan("2026-03-02"), ev("forhandsbedomning_beslutad", "2026-03-20",
           anmalan_id="a1", beslut="inleda_utredning")]  # fmt: skip
    assert by_key(compute_frister(evs, date(2026, 3, 10)))["A2:a1"].status == OPEN
    assert by_key(compute_frister(evs, date(2026, 3, 19)))["A2:a1"].status == OVERDUE
    assert by_key(compute_frister(evs, date(2026, 3, 20)))["A2:a1"].status == MISSED
    assert compute_frister(evs, date(2026, 3, 1)) == []


def test_system_events_are_informational() -> None:
    evs = [anmalan("2026-03-02"),
           ev("frist_overskriden", "2026-03-17", frist="A2:a1", regel="A2", due="2026-03-16"),
           ev("evb_rapporteringsskyldighet_uppstod", "2026-03-17", beslut_id="x",
              due="2026-03-16")]  # fmt: skip
    assert compute_frister(evs) == compute_frister(evs[:1])


def test_keys_are_unique() -> None:
    evs = [anmalan("2025-01-01"), beslut("2025-01-10", "b1", "familjehem"),
           beslut("2025-01-10", "b2", "jourhem"),
           ev("verkstallighet_avbruten", "2025-03-01", beslut_id="b2", skal="x")]  # fmt: skip
    keys = [f.key for f in compute_frister(evs, date(2027, 6, 1))]
    assert len(keys) == len(set(keys))
