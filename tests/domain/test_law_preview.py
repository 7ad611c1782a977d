"""``law_on`` (the catalogue as it stood on a day) and the before/after comparison of a switch.

The SoL switch of 2025-07-01 is the one that is in the catalogue for certain, so it proves the
mechanism: an utredning started 2025-07-02 cites SoL 2025:400, but with the law of 2025-06-30 it
cites SoL 2001:453 with the same due date. The LVU cases check which cases count as compulsory
care and that frister settled before the switch are left out.
"""

from __future__ import annotations

from datetime import date

from domain.events import CaseEvent
from domain.frister import compute_frister
from domain.law_preview import (
    PARAGRAPH_CHANGED,
    UNCHANGED,
    compare,
    is_compulsory_care,
    preview_case,
)
from domain.rules import NEW_SOL, OLD_SOL
from tests.domain.frist_builders import ev

SOL_SWITCH = date(2025, 7, 1)


def _utredning(start: str) -> list[CaseEvent]:
    return [
        ev("anmalan_mottagen", "2025-06-20", anmalan_id="A1"),
        ev("skyddsbedomning_gjord", "2025-06-20", anmalan_id="A1", omedelbart_skydd=False),
        ev("forhandsbedomning_beslutad", start, anmalan_id="A1", beslut="inleda_utredning"),
        ev("utredning_inledd", start, utredning_id="U1", grund="anmalan", anmalan_id="A1"),
    ]


def test_law_on_applies_the_catalogue_of_that_day() -> None:
    events = _utredning("2025-07-02")
    [b1_now] = [f for f in compute_frister(events) if f.rule == "B1"]
    [b1_then] = [f for f in compute_frister(events, law_on=date(2025, 6, 30)) if f.rule == "B1"]
    assert (b1_now.law, b1_now.paragraph) == (NEW_SOL, "20 kap. 3 §")
    assert (b1_then.law, b1_then.paragraph) == (OLD_SOL, "11 kap. 2 §")
    assert b1_now.due == b1_then.due == date(2025, 11, 2)


def test_preview_of_the_sol_switch_names_the_paragraph_change() -> None:
    events = _utredning("2025-07-02")
    rows = {c.rule: c for c in preview_case(events, SOL_SWITCH)}
    b1 = rows["B1"]
    assert b1.changes == (PARAGRAPH_CHANGED,)
    assert b1.before is not None and b1.after is not None
    assert (b1.before.law, b1.after.law) == (OLD_SOL, NEW_SOL)
    assert b1.before.due == b1.after.due == date(2025, 11, 2)
    # the skyddsbedömning was met before the switch: nothing can change for it, so it is left
    # out; the förhandsbedömning started under the old act and was met after the switch: listed,
    # still citing the old act (the trigger's date decides)
    assert "A1" not in rows
    assert rows["A2"].changes == (UNCHANGED,)
    assert rows["A2"].after is not None and rows["A2"].after.law == OLD_SOL


def test_a_frist_still_running_at_the_switch_is_listed_unchanged() -> None:
    events = _utredning("2025-06-25")
    rows = {c.rule: c for c in preview_case(events, SOL_SWITCH)}
    assert rows["B1"].changes == (UNCHANGED,)
    assert rows["B1"].after is not None and rows["B1"].after.law == OLD_SOL


def test_compare_reports_added_and_ended_frister() -> None:
    events = _utredning("2025-06-25")
    fr = compute_frister(events)
    a2 = [f for f in fr if f.rule == "A2"]
    b1 = [f for f in fr if f.rule == "B1"]
    changes = {c.rule: c.changes for c in compare(a2, b1, SOL_SWITCH)}
    assert changes == {"A2": ("frist_ended",), "B1": ("frist_added",)}
    assert [c.rule for c in compare(a2, a2, SOL_SWITCH)] == []  # met before the switch


def test_only_cases_with_lvu_events_are_compulsory_care() -> None:
    sol = _utredning("2025-06-25")
    assert not is_compulsory_care(sol)
    lvu = [*sol, ev("lvu_omhandertagande_beslutat", "2025-06-26", beslut_id="L1")]
    assert is_compulsory_care(lvu)


def test_insatser_utan_samtycke_are_compulsory_care() -> None:
    """Lag (2026:1637) lets the nämnd decide insatser without consent from 2027-01-02: such a
    case is listed by ``rules preview --on 2027-01-02`` (review finding 19)."""
    sol = _utredning("2026-12-01")
    samtycke = [
        *sol,
        ev(
            "insats_utan_samtycke_beslutad",
            "2027-01-02",
            insats_id="n1",
            avser="barn",
            giltig_till="2027-04-02",
        ),
    ]
    assert is_compulsory_care(samtycke)
    rows = {c.rule for c in preview_case(samtycke, date(2027, 1, 2))}
    assert {"N1", "N2", "N3"} <= rows


LVU_SWITCH = date(2027, 1, 1)
ORDF = {"id": "o1", "roll": "ordforande"}


def _lvu_case() -> list[CaseEvent]:
    """Omhändertagen 2026-11-30 under LVU, umgänge restricted 2026-12-10, dom 2027-01-20."""
    return [
        ev("anmalan_mottagen", "2026-11-30", anmalan_id="A1"),
        ev("skyddsbedomning_gjord", "2026-11-30", anmalan_id="A1", omedelbart_skydd=True),
        ev("lvu_omhandertagande_beslutat", "2026-11-30", beslut_id="L1", delegat=ORDF),
        ev("lvu_omhandertagande_verkstallt", "2026-11-30", beslut_id="L1"),
        ev(
            "forhandsbedomning_beslutad",
            "2026-11-30",
            anmalan_id="A1",
            beslut="inte_inleda_utredning",
        ),
        ev("lvu_understalld", "2026-12-03", beslut_id="L1"),
        ev("lvu_umgangesbegransning_beslutad", "2026-12-10", begransning_id="UB1", slag="umgange"),
        ev("lvu_ansokan_inlamnad", "2026-12-18", beslut_id="L1"),
        ev("lvu_dom", "2027-01-20", utfall="bifall", beslut_id="L1", paragraf="2"),
    ]


def test_preview_of_2027_names_policies_and_paragraph_changes() -> None:
    rows = {c.key: c for c in preview_case(_lvu_case(), LVU_SWITCH)}
    # E2 and E3 were met in December: the switch cannot touch them
    assert "E2:L1" not in rows and "E3:L1" not in rows
    # the umgänge review runs across the line: same due date, LVU paragraph, named policies
    e10 = rows["E10:UB1:1"]
    assert e10.changes == ("policy_applied",)
    assert e10.policies == ("POL-LVU2027-TRIGGER", "POL-LVU2027-CYKEL")
    assert e10.before is not None and e10.after is not None
    assert e10.before.due == e10.after.due == date(2027, 3, 10)
    assert (e10.after.law, e10.after.paragraph) == ("LVU 1990:52", "14 §")
    # the first övervägande after the dom of 2027-01-20 on a child already omhändertagen: LVU
    # counts six months from the dom (e6_start) under 13 §; lag 2026:1600 8 kap. 2 § from the day
    # vården påbörjades, the verkställighet of 2026-11-30 (POL-LVU2027-E6E7-START): two months
    # earlier
    e6 = rows["E6:L1:1"]
    assert e6.changes == ("due_moved", "paragraph_changed", "policy_applied")
    assert e6.before is not None and e6.after is not None
    assert (e6.before.trigger_date, e6.before.due) == (date(2027, 1, 20), date(2027, 7, 20))
    assert (e6.before.law, e6.before.paragraph) == ("LVU 1990:52", "13 § första st.")
    assert (e6.after.trigger_date, e6.after.due) == (date(2026, 11, 30), date(2027, 5, 30))
    assert (e6.after.law, e6.after.paragraph) == ("lag 2026:1600", "8 kap. 2 §")
    assert "POL-LVU2027-E6E7-START" in e6.policies


def test_a_date_without_a_catalogued_switch_changes_nothing() -> None:
    rows = preview_case(_lvu_case(), date(2027, 6, 1))
    assert rows and all(c.changes == ("unchanged",) for c in rows)
    assert all(c.policies == () for c in rows)


def test_a_duty_that_only_the_new_law_has_is_added() -> None:
    """2026:1600 17 kap. 6 § (E17, no LVU counterpart): the need for an offentligt biträde
    arising on 2027-01-05 is a frist with the switch and none without it."""
    events = [*_lvu_case()[:4], ev("lvu_offentligt_bitrade_behov", "2027-01-05", avser="barnet")]
    rows = {c.rule: c for c in preview_case(events, LVU_SWITCH)}
    e17 = rows["E17"]
    assert e17.changes == ("frist_added",) and e17.before is None
    assert e17.after is not None
    assert (e17.after.law, e17.after.paragraph) == ("lag 2026:1600", "17 kap. 6 §")
