"""Homes as their own records and the placement guard (issue 15 part A; docs/law.md §11):
HEM1-HEM6 judged on the placement's legal date, HEM7/HEM8 on a home with children placed, the
placements derived from the case's events (start, omplacering, end), all with fixed dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from domain.calendar import STOCKHOLM
from domain.errors import EventValidationError, RuleViolation
from domain.events import CaseEvent, parse_event
from domain.frister import compute_frister
from domain.frister.hem import hem_larm, placed_in
from domain.homes import HomeState, parse_home_event
from domain.identity import luhn_check_digit
from domain.placement import HEM_ID_KRAV_FROM, check_placement, placements

KOMMUN = "1280"
TODAY = date(2030, 1, 1)


def _at(day: date) -> str:
    return datetime(day.year, day.month, day.day, 10, tzinfo=STOCKHOLM).isoformat()


def _home(events: list[tuple[str, date, dict[str, Any]]], hem_id: str = "FH-1") -> HomeState:
    state = HomeState()
    for i, (t, day, data) in enumerate(events):
        ev = parse_home_event(
            {
                "kommun": KOMMUN,
                "hem_id": hem_id,
                "type": t,
                "occurred_at": _at(day),
                "actor": {"id": "u1", "roll": "familjehemssekreterare"},
                "idempotency_key": f"{hem_id}-{i}",
                "data": data,
            }
        )
        state.check(ev, TODAY)
        state.apply(ev)
    return state


def _ev(t: str, day: date, data: dict[str, Any], i: int, ref: str = "C-1") -> CaseEvent:
    return parse_event(
        {
            "kommun": KOMMUN,
            "case_ref": ref,
            "type": t,
            "occurred_at": _at(day),
            "actor": {"id": "u1", "roll": "socialsekreterare"},
            "idempotency_key": f"{ref}-{i}",
            "data": data,
        }
    )


def _case(insats: str, born: str = "2010-03-01", ref: str = "C-1") -> list[CaseEvent]:
    """A case with a gynnande placement beslut b1 of 2026-02-01 (not yet verkställd), for a
    girl born on ``born`` (the birth date of her personnummer)."""
    nine = f"{date.fromisoformat(born):%y%m%d}238"
    barn = {"personnummer": f"{born.replace('-', '')}238{luhn_check_digit(nine)}", "kon": "flicka"}
    return [
        _ev("anmalan_mottagen", date(2026, 1, 5), {"anmalan_id": "a1", "barn": barn,
                                                   "anmalare_kategori": "skola"}, 0, ref),
        _ev("beslut_fattat", date(2026, 2, 1), {"beslut_id": "b1", "lagrum": "SoL 11:1",
                                                "beslutstyp": "insats", "insats": insats,
                                                "gynnande": True, "belopp_per_dygn": 1000,
                                                "delegat": {"id": "d", "roll": "utskott"}}, 1, ref),
    ]  # fmt: skip


CHECKED = [
    ("hem_registrerat", date(2025, 1, 1), {"hemtyp": "familjehem"}),
    ("familjehemsutredning_avslutad", date(2025, 3, 1), {"utredning_id": "u", "utfall": "godkand"}),
    ("registerkontroll_gjord", date(2025, 3, 1), {"register": "belastningsregistret"}),
    ("registerkontroll_gjord", date(2025, 3, 2), {"register": "misstankeregistret"}),
    ("registerkontroll_gjord", date(2025, 3, 3), {"register": "socialtjanstens_register"}),
]


def _rule(exc: pytest.ExceptionInfo[RuleViolation]) -> str:
    return exc.value.rule


def test_the_home_must_be_approved_and_checked_on_the_placement_date() -> None:
    events = _case("familjehem")
    placing = _ev("insats_verkstalld", date(2026, 3, 1), {"beslut_id": "b1", "hem_id": "FH-1"}, 2)
    with pytest.raises(RuleViolation) as exc:
        check_placement(events, placing, _home(CHECKED[:1]))
    assert _rule(exc) == "HEM4"
    with pytest.raises(RuleViolation) as exc:
        check_placement(events, placing, _home(CHECKED[:3]))
    assert _rule(exc) == "HEM5"  # one register of three
    assert check_placement(events, placing, _home(CHECKED)) is not None
    # the check of 2025-03-01 is valid until 2027-03-01 (the oldest of the three, + 24 months)
    late = _ev("insats_verkstalld", date(2027, 3, 1), {"beslut_id": "b1", "hem_id": "FH-1"}, 2)
    with pytest.raises(RuleViolation) as exc:
        check_placement(events, late, _home(CHECKED))
    assert _rule(exc) == "HEM5"
    # a check dated after the placement does not count for it
    with pytest.raises(RuleViolation) as exc:
        check_placement(
            events,
            _ev("insats_verkstalld", date(2025, 2, 1), {"beslut_id": "b1", "hem_id": "FH-1"}, 2),
            _home(CHECKED),
        )
    assert _rule(exc) == "HEM4"


def test_a_recorded_exception_names_who_and_why() -> None:
    events = _case("familjehem")
    data = {"beslut_id": "b1", "hem_id": "FH-1", "hem_undantag_skal": "akut, natt"}
    with pytest.raises(EventValidationError):
        check_placement(
            events, _ev("insats_verkstalld", date(2026, 3, 1), data, 2), _home(CHECKED[:1])
        )
    data["hem_undantag_beslutat_av"] = {"id": "ordf", "roll": "ordforande"}
    placing = _ev("insats_verkstalld", date(2026, 3, 1), data, 2)
    assert check_placement(events, placing, _home(CHECKED[:1])) is not None
    (p,) = placements([*events, placing])
    assert p.undantag == [
        {"datum": "2026-03-01", "hem_id": "FH-1", "skal": "akut, natt",
         "beslutat_av": {"id": "ordf", "roll": "ordforande"}}
    ]  # fmt: skip


def test_unknown_wrong_kind_and_unnamed_homes() -> None:
    events = _case("familjehem")
    placing = _ev("insats_verkstalld", date(2026, 3, 1), {"beslut_id": "b1", "hem_id": "FH-9"}, 2)
    with pytest.raises(RuleViolation) as exc:
        check_placement(events, placing, None)
    assert _rule(exc) == "HEM2"
    with pytest.raises(RuleViolation) as exc:
        check_placement(
            events, placing, _home([("hem_registrerat", date(2025, 1, 1), {"hemtyp": "hvb"})])
        )
    assert _rule(exc) == "HEM3"
    before = _ev("insats_verkstalld", date(2026, 3, 1), {"beslut_id": "b1"}, 2)
    krav = {"hem_id_krav_fran": HEM_ID_KRAV_FROM}  # the kommun's POL-HEM-ID day
    assert check_placement(events, before, None, **krav) is not None  # not yet in force
    after = _ev("insats_verkstalld", HEM_ID_KRAV_FROM, {"beslut_id": "b1"}, 2)
    with pytest.raises(RuleViolation) as exc:
        check_placement(events, after, None, **krav)
    assert _rule(exc) == "HEM1"
    # a kommun that names no day never refuses a placement for lacking its home
    assert check_placement(events, after, None) is not None


@pytest.mark.parametrize(
    ("born", "skal", "rule"),
    [
        ("2010-03-02", None, "HEM6"),  # 15 on 2026-03-01: refused even with skäl
        ("2010-03-01", None, "HEM6"),  # 16 that day, no särskilda skäl
        ("2010-03-01", "ingen annan lämplig placering", None),
        ("2008-03-01", None, None),  # 18
    ],
)
def test_stodboende_by_age_from_the_birth_date(
    born: str, skal: str | None, rule: str | None
) -> None:
    events = _case("stodboende", born=born)
    data: dict[str, Any] = {"beslut_id": "b1"}
    if skal:
        data["sarskilda_skal"] = skal
    placing = _ev("insats_verkstalld", date(2026, 3, 1), data, 2)
    if rule is None:
        assert check_placement(events, placing, None) is not None
        return
    with pytest.raises(RuleViolation) as exc:
        check_placement(events, placing, None)
    assert _rule(exc) == rule


def test_placements_move_and_end_and_the_homes_list_follows() -> None:
    events = [
        *_case("familjehem"),
        _ev("insats_verkstalld", date(2026, 3, 1), {"beslut_id": "b1", "hem_id": "FH-1"}, 2),
        _ev("placering_flyttad", date(2026, 6, 1), {"beslut_id": "b1", "hem_id": "FH-2",
                                                    "belopp_per_dygn": 1200}, 3),
        _ev("beslut_avslutat", date(2026, 9, 1), {"beslut_id": "b1", "orsak": "hemgang",
                                                  "delegat": {"id": "d", "roll": "utskott"}}, 4),
    ]  # fmt: skip
    (p,) = placements(events)
    assert (p.start, p.end, p.form, p.typ) == (
        date(2026, 3, 1),
        date(2026, 9, 1),
        "SoL",
        "familjehem",
    )
    assert [(s.hem_id, s.start, s.end, s.belopp_per_dygn) for s in p.stays] == [
        ("FH-1", date(2026, 3, 1), date(2026, 6, 1), 1000),
        ("FH-2", date(2026, 6, 1), date(2026, 9, 1), 1200),
    ]
    fh1 = _home(CHECKED)
    assert placed_in(fh1, [p], date(2026, 5, 31)) == [p]
    assert placed_in(fh1, [p], date(2026, 6, 1)) == []


def test_register_older_than_two_years_alerts_while_a_child_lives_there() -> None:
    """Done-when (b), backdated: checked 2025-03-01..03, placed 2026-03-01; on 2027-02-28 all is
    well, on 2027-03-01 (24 months after the oldest read) HEM7; after the placement ended, none."""
    events = [
        *_case("familjehem"),
        _ev("insats_verkstalld", date(2026, 3, 1), {"beslut_id": "b1", "hem_id": "FH-1"}, 2),
    ]
    home = _home(CHECKED)
    placed = placements(events)
    assert hem_larm(home, placed, date(2027, 2, 28)) == []
    (larm,) = hem_larm(home, placed, date(2027, 3, 1))
    assert (larm.rule, larm.due, larm.case_refs) == ("HEM7", date(2027, 3, 1), ("C-1",))
    renewed = _home([*CHECKED, *[("registerkontroll_gjord", date(2027, 2, 1), {"register": r})
                                 for r in ("belastningsregistret", "misstankeregistret",
                                           "socialtjanstens_register")]])  # fmt: skip
    assert hem_larm(renewed, placed, date(2027, 3, 1)) == []
    ended = placements([*events, _ev("arende_avslutat", date(2026, 12, 1), {"orsak": "x"}, 3)])
    assert hem_larm(home, ended, date(2027, 3, 1)) == []


def test_konsulentstott_avtal_twelve_months_and_its_alert() -> None:
    reg = ("hem_registrerat", date(2025, 1, 1), {"hemtyp": "familjehem", "konsulentstott": True})
    with pytest.raises(RuleViolation) as exc:
        _home([reg, ("hem_avtal_tecknat", date(2025, 2, 1),
                     {"avtal_id": "a", "fran": "2025-02-01", "till": "2026-02-01"})])  # fmt: skip
    assert _rule(exc) == "HEM-AVTAL"
    avtal = {"avtal_id": "a", "fran": "2026-02-01", "till": "2027-01-31"}
    home = _home([reg, *CHECKED[1:], ("hem_avtal_tecknat", date(2026, 2, 1), avtal)])
    events = [
        *_case("familjehem"),
        _ev("insats_verkstalld", date(2026, 3, 1), {"beslut_id": "b1", "hem_id": "FH-1"}, 2),
    ]
    assert hem_larm(home, placements(events), date(2027, 1, 31)) == []
    (larm,) = hem_larm(home, placements(events), date(2027, 2, 1))
    assert (larm.rule, larm.due) == ("HEM8", date(2027, 2, 1))


def test_medgivande_needs_the_approved_utredning() -> None:
    with pytest.raises(RuleViolation) as exc:
        _home([CHECKED[0], ("medgivande_lamnat", date(2025, 2, 1), {"medgivande_id": "m"})])
    assert _rule(exc) == "HEM-MEDGIVANDE"
    assert _home([*CHECKED[:2], ("medgivande_lamnat", date(2025, 4, 1), {"medgivande_id": "m"})])


def test_forsakringskassan_and_the_vistelsekommun_are_told() -> None:
    """HEM9 at placement, move and return (due the day after, POL-FK-GENAST); HEM10 for a home
    in another kommun, due the placement's own day; none for a placement without hem_id."""
    events = [
        *_case("familjehem"),
        _ev("insats_verkstalld", date(2026, 3, 2), {"beslut_id": "b1", "hem_id": "FH-1",
                                                    "vistelsekommun": "0180"}, 2),
        _ev("vistelsekommun_underrattad", date(2026, 3, 1), {"vistelsekommun": "0180"}, 3),
        _ev("forsakringskassan_underrattad", date(2026, 3, 3), {"anledning": "placering"}, 4),
        _ev("placering_flyttad", date(2026, 6, 1), {"beslut_id": "b1", "hem_id": "FH-2"}, 5),
        _ev("beslut_avslutat", date(2026, 9, 1), {"beslut_id": "b1", "orsak": "hemgang",
                                                  "delegat": {"id": "d", "roll": "utskott"}}, 6),
        _ev("forsakringskassan_underrattad", date(2026, 9, 4), {"anledning": "aterkomst"}, 7),
    ]  # fmt: skip
    found = {
        (f.rule, f.trigger_date, f.due, f.status, f.fulfilled_date)
        for f in compute_frister(events, date(2026, 12, 31))
        if f.rule in ("HEM9", "HEM10")
    }
    assert found == {
        ("HEM10", date(2026, 3, 2), date(2026, 3, 2), "met", date(2026, 3, 1)),
        ("HEM9", date(2026, 3, 2), date(2026, 3, 3), "met", date(2026, 3, 3)),
        ("HEM9", date(2026, 6, 1), date(2026, 6, 2), "overdue", None),
        ("HEM9", date(2026, 9, 1), date(2026, 9, 2), "missed", date(2026, 9, 4)),
    }
    unnamed = [
        *_case("familjehem"),
        _ev("insats_verkstalld", date(2026, 3, 2), {"beslut_id": "b1"}, 2),
    ]
    assert not [f for f in compute_frister(unnamed, date(2026, 12, 31)) if f.rule.startswith("HEM")]


def test_an_lvu_placement_is_judged_moved_and_ended_like_a_sol_one() -> None:
    events = _case("familjehem")[:1]
    lvu = _ev("lvu_placering_paborjad", date(2027, 2, 1),
              {"placering_id": "p1", "placering": "jourhem", "hem_id": "FH-1"}, 5)  # fmt: skip
    with pytest.raises(RuleViolation) as exc:
        check_placement(events, lvu, _home(CHECKED))
    assert _rule(exc) == "HEM3"  # FH-1 is a familjehem
    jourhem = _home([("hem_registrerat", date(2025, 1, 1), {"hemtyp": "jourhem"})], "JH-1")
    lvu = _ev("lvu_placering_paborjad", date(2027, 2, 1),
              {"placering_id": "p1", "placering": "jourhem", "hem_id": "JH-1"}, 5)  # fmt: skip
    with pytest.raises(RuleViolation) as exc:
        check_placement(events, lvu, jourhem)
    assert _rule(exc) == "HEM4"
    move = _ev("placering_flyttad", date(2027, 3, 1), {"placering_id": "p1", "hem_id": "FH-1"}, 6)
    with pytest.raises(RuleViolation) as exc:
        check_placement(events, move, _home(CHECKED))
    assert _rule(exc) == "HEM-FLYTT"  # no running placement p1 yet
    history = [*events, lvu]
    # a move keeps the placement's kind: a jourhem placement does not move to a familjehem
    with pytest.raises(RuleViolation) as exc:
        check_placement(history, move, _home(CHECKED))
    assert _rule(exc) == "HEM3"
    jh2 = _home(
        [
            ("hem_registrerat", date(2025, 1, 1), {"hemtyp": "jourhem"}),
            ("familjehemsutredning_avslutad", date(2026, 1, 1), {"utredning_id": "u",
                                                                 "utfall": "godkand"}),
            *[("registerkontroll_gjord", date(2025, 3, 1), {"register": r})
              for r in ("belastningsregistret", "misstankeregistret", "socialtjanstens_register")],
        ],
        "JH-2",
    )  # fmt: skip
    move = _ev("placering_flyttad", date(2027, 3, 1), {"placering_id": "p1", "hem_id": "JH-2"}, 6)
    with pytest.raises(RuleViolation) as exc:
        check_placement(history, move, jh2)
    assert _rule(exc) == "HEM5"  # checked 2025-03-01..: ran out on 2027-03-01, the move's day
    earlier = _ev(
        "placering_flyttad", date(2027, 2, 28), {"placering_id": "p1", "hem_id": "JH-2"}, 6
    )
    assert check_placement(history, earlier, jh2) is not None
    ended = _ev("lvu_vard_upphort", date(2027, 5, 1), {"delegat": {"id": "n", "roll": "namnd"}}, 7)
    (p,) = placements([*history, earlier, ended])
    assert (p.form, p.typ, p.end, [s.hem_id for s in p.stays]) == (
        "LVU",
        "jourhem",
        date(2027, 5, 1),
        ["JH-1", "JH-2"],
    )
