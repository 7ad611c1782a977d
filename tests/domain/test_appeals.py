"""Appeals and omprövning (förvaltningslagen 2017:900 33-48 §§; docs/law.md §9, docs/domain.md
§7.4): the appellant's three weeks, the rättidsprövning, the order of the steps, the kommun's
forwarding frist (O2) and what the court's decisions do to the beslut and its verkställighet.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from frist_builders import ev

from domain.appeals import forvaltningsbesvar, overklagandetid
from domain.case import CaseState
from domain.errors import RuleViolation
from domain.events import CaseEvent
from domain.frister import MET, MISSED, OPEN, OVERDUE, compute_frister
from domain.rules import policy_from_mapping

D = date.fromisoformat
TODAY = D("2027-06-01")


def _case(*extra: CaseEvent, insats: str | None = None) -> list[CaseEvent]:
    """An ansökan, its utredning and beslut b1 on 2026-03-02 (an avslag unless ``insats``)."""
    beslut: dict[str, Any] = {"gynnande": insats is not None}
    if insats is not None:
        beslut["insats"] = insats
    return [
        ev("ansokan_mottagen", "2026-02-02", ansokan_id="s1"),
        ev("utredning_inledd", "2026-02-02", utredning_id="u1", grund="ansokan"),
        ev("utredning_avslutad", "2026-03-02", utredning_id="u1", utfall="avslag"),
        ev("beslut_fattat", "2026-03-02", beslut_id="b1", **beslut),
        *extra,
    ]


def _state(events: list[CaseEvent]) -> CaseState:
    """The state after ``events``, each judged by the guards first (they must all pass)."""
    state = CaseState()
    for e in events:
        state.check(e, TODAY)
        state.apply(e)
    return state


def _refused(events: list[CaseEvent], last: CaseEvent) -> str:
    state = _state(events)
    with pytest.raises(RuleViolation) as info:
        state.check(last, TODAY)
    return info.value.rule


def _mottaget(day: str, **data: Any) -> CaseEvent:
    return ev("overklagande_mottaget", day, overklagande_id="o1", beslut_id="b1", **data)


def _provning(day: str, **data: Any) -> CaseEvent:
    return ev("rattidsprovning_gjord", day, overklagande_id="o1", **data)


# --- the appellant's three weeks (FL 44 §, lag 1930:173 1-2 §§) ---------------------------------


@pytest.mark.parametrize(
    ("delgiven", "last_day"),
    [
        ("2026-03-03", "2026-03-24"),  # Tuesday + 3 weeks: the same weekday
        ("2026-03-07", "2026-03-30"),  # Saturday + 3 weeks is a Saturday: next vardag Monday
        ("2026-05-29", "2026-06-22"),  # ends Fri 2026-06-19, midsommarafton: Monday
        ("2026-12-04", "2026-12-28"),  # ends Fri 2026-12-25, juldagen; 26-27 weekend
        ("2026-12-11", "2027-01-04"),  # ends Fri 2027-01-01, nyårsdagen
        ("2027-01-15", "2027-02-05"),  # a plain Friday
    ],
)
def test_the_appeal_period_is_three_weeks_moved_to_a_vardag(delgiven: str, last_day: str) -> None:
    assert overklagandetid(D(delgiven)) == D(last_day)


@pytest.mark.parametrize(("came_in", "late"), [("2026-03-24", False), ("2026-03-25", True)])
def test_an_appeal_on_the_last_day_is_in_time_and_one_a_day_later_is_not(
    came_in: str, late: bool
) -> None:
    """Delgiven 2026-03-03: the last day is 2026-03-24 (±1 day around it)."""
    events = _case(ev("beslut_delgivet", "2026-03-03", beslut_id="b1"), _mottaget(came_in))
    avvisning = _provning(came_in, i_tid=False)
    kept = _provning(came_in, i_tid=True)
    if late:
        _state([*events, avvisning])  # avvisat as late: allowed
        assert _refused(events, kept) == "O1"  # kept without an exception: refused
    else:
        assert _refused(events, avvisning) == "O1"  # in time: it may not be avvisat
        _state([*events, kept])


def test_a_late_appeal_is_kept_only_with_an_exception_of_fl_45_second_st() -> None:
    events = _case(ev("beslut_delgivet", "2026-03-03", beslut_id="b1"), _mottaget("2026-04-01"))
    _state([*events, _provning("2026-04-02", i_tid=True, undantag="felaktig_hanvisning")])
    _state([*events, _provning("2026-04-02", i_tid=True, undantag="inkom_till_overinstans")])
    wrong = _provning("2026-04-02", i_tid=False, undantag="felaktig_hanvisning")
    assert _refused(events, wrong) == "O1"


def test_without_a_recorded_delgivning_the_period_has_not_begun() -> None:
    events = _case(_mottaget("2026-09-01"))
    assert _refused(events, _provning("2026-09-02", i_tid=False)) == "O1"
    _state([*events, _provning("2026-09-02", i_tid=True)])


def test_each_partys_period_runs_from_its_own_delgivning() -> None:
    """Vårdnadshavare 1 got the beslut 2026-03-03 (last day 03-24), vårdnadshavare 2 on 03-13
    (last day 04-03); an appeal without a party is judged by the latest delgivning."""
    given = _case(
        ev("beslut_delgivet", "2026-03-03", beslut_id="b1", part="vh1"),
        ev("beslut_delgivet", "2026-03-13", beslut_id="b1", part="vh2"),
    )
    late = [*given, _mottaget("2026-03-30", part="vh1")]
    _state([*late, _provning("2026-03-31", i_tid=False)])
    in_time = [*given, _mottaget("2026-03-30", part="vh2")]
    assert _refused(in_time, _provning("2026-03-31", i_tid=False)) == "O1"
    nameless = [*given, _mottaget("2026-03-30")]
    assert _refused(nameless, _provning("2026-03-31", i_tid=False)) == "O1"


# --- the order of the steps ----------------------------------------------------------------------


def _handed_on(*extra: CaseEvent, insats: str | None = None) -> list[CaseEvent]:
    return _case(
        ev("beslut_delgivet", "2026-03-03", beslut_id="b1"),
        _mottaget("2026-03-10"),
        _provning("2026-03-11", i_tid=True),
        ev("overklagande_overlamnat", "2026-03-12", overklagande_id="o1"),
        *extra,
        insats=insats,
    )


@pytest.mark.parametrize(
    ("events", "last", "rule_id"),
    [
        (_case(), ev("overklagande_mottaget", "2026-03-10", overklagande_id="o1",
                     beslut_id="b9"), "P-REF"),
        (_case(), ev("beslut_delgivet", "2026-03-10", beslut_id="b9"), "P-REF"),
        (_case(_mottaget("2026-03-10")), _mottaget("2026-03-11"), "P-DUP-ID"),
        (_case(), ev("overklagande_mottaget", "2026-03-01", overklagande_id="o1",
                     beslut_id="b1"), "P-OVERKLAGANDE"),
        (_case(_mottaget("2026-03-10")),
         ev("overklagande_overlamnat", "2026-03-11", overklagande_id="o1"), "P-OVERKLAGANDE"),
        (_case(_mottaget("2026-03-10")),
         ev("overklagande_avgjort", "2026-03-11", overklagande_id="o1", utfall="avslag"),
         "P-OVERKLAGANDE"),
        (_case(_mottaget("2026-03-10"), _provning("2026-03-11", i_tid=True)),
         _provning("2026-03-12", i_tid=True), "P-TWICE"),
        (_handed_on(), ev("omprovning_gjord", "2026-03-13", overklagande_id="o1",
                          utfall="andrat"), "P-OMPROVNING"),
        (_handed_on(), ev("overklagande_overlamnat", "2026-03-13", overklagande_id="o1"),
         "P-TWICE"),
        (_handed_on(ev("overklagande_avgjort", "2026-04-10", overklagande_id="o1",
                       utfall="avslag")),
         ev("inhibition_beslutad", "2026-04-11", overklagande_id="o1"), "P-OVERKLAGANDE"),
        (_case(_mottaget("2026-03-10"), _provning("2026-03-11", i_tid=True),
               ev("overklagande_aterkallat", "2026-03-12", overklagande_id="o1")),
         ev("overklagande_overlamnat", "2026-03-13", overklagande_id="o1"), "P-OVERKLAGANDE"),
        (_case(_mottaget("2026-03-10")),
         ev("omprovning_gjord", "2026-03-11", overklagande_id="o1", utfall="oandrat",
            nytt_beslut_id="b1"), "P-OMPROVNING"),
        (_case(_mottaget("2026-03-10")),
         ev("omprovning_gjord", "2026-03-11", overklagande_id="o1", utfall="andrat",
            nytt_beslut_id="b9"), "P-REF"),
    ],
)  # fmt: skip
def test_the_steps_of_an_appeal_run_in_order(
    events: list[CaseEvent], last: CaseEvent, rule_id: str
) -> None:
    assert _refused(events, last) == rule_id


def test_an_appealed_beslut_is_omprovat_before_it_is_handed_on() -> None:
    _state(
        _case(
            ev("beslut_fattat", "2026-03-11", beslut_id="b2", gynnande=False),
            _mottaget("2026-03-10"),
            _provning("2026-03-11", i_tid=True),
            ev("omprovning_gjord", "2026-03-11", overklagande_id="o1", utfall="andrat",
               nytt_beslut_id="b2"),
            ev("overklagande_overlamnat", "2026-03-12", overklagande_id="o1"),
            ev("overklagande_avgjort", "2026-05-04", overklagande_id="o1", utfall="avskrivet"),
        )
    )  # fmt: skip


# --- the court's decisions and verkställighet (FL 48 §, SoL 35 kap. 5 §) --------------------------


def test_an_appeal_alone_does_not_stop_verkstallighet() -> None:
    _state(_handed_on(ev("insats_verkstalld", "2026-03-20", beslut_id="b1"), insats="oppenvard"))


def test_inhibition_stops_verkstallighet_until_the_dom() -> None:
    stopped = _handed_on(
        ev("inhibition_beslutad", "2026-03-15", overklagande_id="o1"), insats="oppenvard"
    )
    assert _refused(stopped, ev("insats_verkstalld", "2026-03-20", beslut_id="b1")) == (
        "P-INHIBITION"
    )
    decided = [
        *stopped,
        ev("overklagande_avgjort", "2026-04-20", overklagande_id="o1", utfall="avslag"),
    ]
    _state([*decided, ev("insats_verkstalld", "2026-04-21", beslut_id="b1")])


@pytest.mark.parametrize("utfall", ["bifall", "aterforvisat"])
def test_a_beslut_the_court_changed_is_not_verkstallt_as_made_but_is_ended(utfall: str) -> None:
    decided = _handed_on(
        ev("overklagande_avgjort", "2026-04-20", overklagande_id="o1", utfall=utfall),
        insats="oppenvard",
    )
    assert _refused(decided, ev("insats_verkstalld", "2026-04-21", beslut_id="b1")) == "P-DOM"
    _state([*decided, ev("beslut_avslutat", "2026-04-21", beslut_id="b1", orsak="dom")])


def test_a_running_insats_cannot_be_resumed_after_the_court_changed_it() -> None:
    events = _case(
        ev("insats_verkstalld", "2026-03-03", beslut_id="b1"),
        ev("verkstallighet_avbruten", "2026-03-05", beslut_id="b1", skal="x"),
        _mottaget("2026-03-10"),
        _provning("2026-03-11", i_tid=True),
        ev("overklagande_overlamnat", "2026-03-12", overklagande_id="o1"),
        ev("overklagande_avgjort", "2026-04-20", overklagande_id="o1", utfall="bifall"),
        insats="oppenvard",
    )
    last = ev("verkstallighet_aterupptagen", "2026-04-21", beslut_id="b1")
    assert _refused(events, last) == "P-DOM"


# --- closing: not while a period runs or an appeal is open ---------------------------------------


def _close(day: str) -> CaseEvent:
    return ev("arende_avslutat", day, orsak="klart")


@pytest.mark.parametrize(("day", "refused"), [("2026-03-24", True), ("2026-03-25", False)])
def test_a_case_is_not_closed_while_a_delgivet_beslut_may_be_appealed(
    day: str, refused: bool
) -> None:
    events = _case(ev("beslut_delgivet", "2026-03-03", beslut_id="b1"))
    if refused:
        assert _refused(events, _close(day)) == "P-CLOSE"
    else:
        _state([*events, _close(day)])


def test_a_case_is_not_closed_while_an_appeal_is_open_at_the_kommun_or_the_court() -> None:
    received = _case(_mottaget("2026-03-10"))
    assert _refused(received, _close("2026-04-10")) == "P-CLOSE"
    at_court = _handed_on()
    assert _refused(at_court, _close("2026-04-10")) == "P-CLOSE"
    decided = [
        *at_court,
        ev("overklagande_avgjort", "2026-04-20", overklagande_id="o1", utfall="avslag"),
    ]
    _state([*decided, _close("2026-04-21")])
    avvisat = _case(
        ev("beslut_delgivet", "2026-03-03", beslut_id="b1"),
        _mottaget("2026-03-30"),
        _provning("2026-03-31", i_tid=False),
    )
    _state([*avvisat, _close("2026-04-01")])


# --- O2: handed to the court "skyndsamt" (FL 46 §) -----------------------------------------------


def _o2(events: list[CaseEvent], as_of: str, **policy: Any) -> tuple[date, str, date | None]:
    pol = policy_from_mapping({"policy": policy}) if policy else None
    f = next(f for f in compute_frister(events, D(as_of), policy=pol) if f.rule == "O2")
    assert (f.key, f.law, f.paragraph) == ("O2:o1", "FL 2017:900", "45-46 §§")
    return f.due, f.status, f.fulfilled_date


@pytest.mark.parametrize(
    ("extra", "as_of", "expected"),
    [
        ((), "2026-03-17", (D("2026-03-17"), OPEN, None)),
        ((), "2026-03-18", (D("2026-03-17"), OVERDUE, None)),
        ((_provning("2026-03-11", i_tid=True),
          ev("overklagande_overlamnat", "2026-03-17", overklagande_id="o1")),
         "2026-04-01", (D("2026-03-17"), MET, D("2026-03-17"))),
        ((_provning("2026-03-11", i_tid=True),
          ev("overklagande_overlamnat", "2026-03-18", overklagande_id="o1")),
         "2026-04-01", (D("2026-03-17"), MISSED, D("2026-03-18"))),
        ((_provning("2026-03-12", i_tid=False),), "2026-04-01",
         (D("2026-03-17"), MET, D("2026-03-12"))),
        ((ev("overklagande_aterkallat", "2026-03-13", overklagande_id="o1"),), "2026-04-01",
         (D("2026-03-17"), MET, D("2026-03-13"))),
    ],
)  # fmt: skip
def test_o2_runs_seven_days_from_the_appeal_and_ends_with_its_handling(
    extra: tuple[CaseEvent, ...], as_of: str, expected: tuple[date, str, date | None]
) -> None:
    events = _case(ev("beslut_delgivet", "2026-03-03", beslut_id="b1"), _mottaget("2026-03-10"))
    assert _o2([*events, *extra], as_of) == expected


def test_o2_takes_the_kommuns_days() -> None:
    events = _case(_mottaget("2026-03-10"))
    assert _o2(events, "2026-03-12", overklagande_overlamnande_dagar=3)[0] == D("2026-03-13")


def test_the_appellants_period_is_no_frist_of_its_own() -> None:
    """O1 never alerts: it is the party's time, not a duty of the kommun."""
    events = _case(ev("beslut_delgivet", "2026-03-03", beslut_id="b1"))
    assert [f.rule for f in compute_frister(events, D("2026-06-01"))] == ["B1"]


# --- which beslut SoL lets the party appeal (35 kap. 1 §; old 16 kap. 3 §) -----------------------


@pytest.mark.parametrize(
    ("lagrum", "fattat", "expected"),
    [
        ("SoL 11:1", "2026-03-02", True),
        ("SoL 2025:400 11 kap. 1 §", "2026-03-02", True),
        ("socialtjänstlagen 22 kap. 2 §", "2026-03-02", True),
        ("SoL 20:2", "2026-03-02", False),  # förhandsbedömning: not förvaltningsbesvär
        ("SoL 4:1", "2026-03-02", False),  # old numbering on a new beslut
        ("SoL 4:1", "2025-06-30", True),  # old 16:3: bistånd enligt 4 kap. 1 §
        ("SoL 2 a kap. 8 §", "2025-06-30", True),
        ("LVU 6 §", "2026-03-02", None),  # not a SoL paragraph barnflow reads
        ("bistånd", "2026-03-02", None),
    ],
)
def test_forvaltningsbesvar_follows_sol_35_1_and_old_16_3(
    lagrum: str, fattat: str, expected: bool | None
) -> None:
    assert forvaltningsbesvar(lagrum, D(fattat)) is expected
