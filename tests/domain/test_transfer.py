"""Moving an ärende to another kommun (SoL 2025:400 29 kap. 9-12 §§; docs/domain.md §7.5): the
request and the answer, IVO when the kommuner disagree (H2, H4), the utredning that stays (B8),
and the EVB duty that stays with the kommun that made the beslut (POL-OVERFLYTTNING-EVB).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from frist_builders import ev

from domain.case import CaseState
from domain.case_transfer import decided_elsewhere
from domain.errors import RuleViolation
from domain.events import CaseEvent
from domain.frister import MET, OPEN, OVERDUE, compute_frister

D = date.fromisoformat
TODAY = D("2027-06-01")
TO = "0127"


def _opened(*extra: CaseEvent, kommun: str = "1280") -> list[CaseEvent]:
    """An anmälan whose utredning closed 2026-02-20 (nothing open) unless ``extra`` opens more."""
    return [
        ev("anmalan_mottagen", "2026-01-05", anmalan_id="a1", kommun=kommun),
        ev("skyddsbedomning_gjord", "2026-01-05", anmalan_id="a1", omedelbart_skydd=False,
           kommun=kommun),
        ev("forhandsbedomning_beslutad", "2026-01-10", anmalan_id="a1",
           beslut="inleda_utredning", kommun=kommun),
        ev("utredning_inledd", "2026-01-10", utredning_id="u1", grund="anmalan", kommun=kommun),
        *extra,
    ]  # fmt: skip


def _closed_utredning(*extra: CaseEvent) -> list[CaseEvent]:
    return _opened(
        ev("utredning_avslutad", "2026-02-20", utredning_id="u1", utfall="insats"), *extra
    )


def _state(events: list[CaseEvent], *, legacy: bool = False) -> CaseState:
    state = CaseState()
    for e in events:
        state.check(e, TODAY, legacy_transfer=legacy)
        state.apply(e)
    return state


def _refused(events: list[CaseEvent], last: CaseEvent) -> str:
    state = _state(events)
    with pytest.raises(RuleViolation) as info:
        state.check(last, TODAY)
    return info.value.rule


def _begard(day: str, to: str = TO) -> CaseEvent:
    return ev("overflyttning_begard", day, till_kommun=to)


def _svar(day: str, svar: str = "accepterad", **data: Any) -> CaseEvent:
    return ev("overflyttning_besvarad", day, svar=svar, **data)


def _moved(day: str, to: str = TO) -> CaseEvent:
    return ev("arende_overflyttat", day, till_kommun=to)


# --- the request, the answer, IVO (29:10-11) -----------------------------------------------------


@pytest.mark.parametrize(
    ("history", "rule_id"),
    [
        ((), "P-TRANSFER"),  # no request
        ((_begard("2026-03-01"),), "P-TRANSFER"),  # not answered
        ((_begard("2026-03-01"), _svar("2026-03-02", "avslagen")), "P-TRANSFER"),  # refused
        ((_begard("2026-03-01", to="0180"), _svar("2026-03-02")), "P-TRANSFER"),  # another kommun
    ],
)
def test_the_arende_moves_only_when_accepted(history: tuple[CaseEvent, ...], rule_id: str) -> None:
    assert _refused(_closed_utredning(*history), _moved("2026-03-05")) == rule_id


def test_an_accepted_or_ivo_decided_transfer_closes_the_sending_case() -> None:
    state = _state(_closed_utredning(_begard("2026-03-01"), _svar("2026-03-02"),
                                     _moved("2026-03-05")))  # fmt: skip
    assert state.transferred_to == TO and state.closed_on == D("2026-03-05")
    ivo = _closed_utredning(
        _begard("2026-03-01"),
        _svar("2026-03-02", "avslagen"),
        ev("overflyttning_ivo_ansokan", "2026-03-03"),
        ev("overflyttning_ivo_beslut", "2026-05-20", utfall="bifall"),
        _moved("2026-05-21"),
    )
    assert _state(ivo).transferred_to == TO


def test_a_bare_transfer_is_judged_as_before_when_the_workflow_replays_it() -> None:
    assert _state(_opened(_moved("2026-03-05")), legacy=True).transferred_to == TO


@pytest.mark.parametrize(
    ("history", "last", "rule_id"),
    [
        ((), _svar("2026-03-02"), "P-OVERFLYTTNING"),  # no request to answer
        ((_begard("2026-03-01"), _svar("2026-03-02", "avslagen")), _svar("2026-03-03"),
         "P-OVERFLYTTNING"),  # refused: nothing waits for an answer
        ((_begard("2026-03-01"),), _svar("2026-03-02", "avslagen", tar_over_utredning=True),
         "P-OVERFLYTTNING"),
        ((_begard("2026-03-01"),), _begard("2026-03-02", to="0180"), "P-OVERFLYTTNING"),
        ((_begard("2026-03-01"), _svar("2026-03-02", "avslagen"),
          ev("overflyttning_ivo_ansokan", "2026-03-03")), _begard("2026-03-04", to="0180"),
         "P-OVERFLYTTNING"),  # IVO has it
        ((), _begard("2026-03-01", to="1280"), "P-OVERFLYTTNING"),  # its own kommun
        ((_begard("2026-03-01"),), ev("overflyttning_ivo_beslut", "2026-03-02", utfall="bifall"),
         "P-OVERFLYTTNING"),  # IVO has no application
        ((_begard("2026-03-01"), _svar("2026-03-02", "avslagen"),
          ev("overflyttning_ivo_ansokan", "2026-03-03")),
         ev("overflyttning_ivo_ansokan", "2026-03-04"), "P-TWICE"),
    ],
)  # fmt: skip
def test_request_answer_and_ivo_run_in_order(
    history: tuple[CaseEvent, ...], last: CaseEvent, rule_id: str
) -> None:
    assert _refused(_closed_utredning(*history), last) == rule_id


@pytest.mark.parametrize(("day", "allowed"), [("2026-04-01", False), ("2026-04-02", True)])
def test_ivo_is_asked_after_a_month_without_an_answer(day: str, allowed: bool) -> None:
    """Request 2026-03-01: the month for the answer runs through 2026-04-01 (H2's due date), so
    IVO may be asked from 2026-04-02 (29:11 "inte inom en månad har fått svar")."""
    history = _closed_utredning(_begard("2026-03-01"))
    ansokan = ev("overflyttning_ivo_ansokan", day)
    if allowed:
        _state([*history, ansokan])
    else:
        assert _refused(history, ansokan) == "P-OVERFLYTTNING"


def test_after_a_refusal_ivo_may_be_asked_at_once_and_a_new_request_made() -> None:
    refused = _closed_utredning(_begard("2026-03-01"), _svar("2026-03-02", "avslagen"))
    _state([*refused, ev("overflyttning_ivo_ansokan", "2026-03-02")])
    _state([*refused, _begard("2026-03-03", to="0180")])


# --- B8: the utredning in progress stays (29:9) --------------------------------------------------


def test_an_utredning_in_progress_stays_unless_taken_over() -> None:
    asked = _opened(_begard("2026-03-01"))
    accepted = [*asked, _svar("2026-03-02")]
    assert _refused(accepted, _moved("2026-03-05")) == "B8"
    # the kommuner agree again, this time on the utredning too: the new request replaces the old
    again = [*accepted, _begard("2026-03-03"), _svar("2026-03-04", tar_over_utredning=True)]
    _state([*again, _moved("2026-03-05")])
    _state([*asked, _svar("2026-03-02", tar_over_utredning=True), _moved("2026-03-05")])
    by_ivo = [
        *asked,
        _svar("2026-03-02", "avslagen"),
        ev("overflyttning_ivo_ansokan", "2026-03-03"),
        ev("overflyttning_ivo_beslut", "2026-04-20", utfall="bifall"),
    ]
    _state([*by_ivo, _moved("2026-04-21")])


# --- the EVB duty stays with the kommun that made the beslut (34:1) ------------------------------


def _beslut(day: str = "2026-02-20", bid: str = "b1") -> CaseEvent:
    return ev("beslut_fattat", day, beslut_id=bid, gynnande=True, insats="kontaktperson")


def _agreed(*mid: CaseEvent) -> list[CaseEvent]:
    return _closed_utredning(_beslut(), *mid, _begard("2026-06-01"), _svar("2026-06-02"))


def test_a_beslut_not_verkstallt_is_settled_before_the_arende_moves() -> None:
    assert _refused(_agreed(), _moved("2026-06-03")) == "P-EVB-KOMMUN"
    interrupted = _agreed(
        ev("insats_verkstalld", "2026-05-20", beslut_id="b1"),
        ev("verkstallighet_avbruten", "2026-05-25", beslut_id="b1", skal="x"),
    )
    assert _refused(interrupted, _moved("2026-06-03")) == "P-EVB-KOMMUN"
    _state([*_agreed(ev("insats_verkstalld", "2026-05-20", beslut_id="b1")), _moved("2026-06-03")])
    ended = _agreed(ev("beslut_avslutat", "2026-05-20", beslut_id="b1", orsak="flytt"))
    _state([*ended, _moved("2026-06-03")])


@pytest.mark.parametrize(("day", "allowed"), [("2026-03-24", False), ("2026-03-25", True)])
def test_the_arende_moves_once_the_appeal_period_of_its_beslut_ended(
    day: str, allowed: bool
) -> None:
    """Delgiven 2026-03-03: an appeal may come in to this kommun through 2026-03-24 (FL 44 §)."""
    given = _closed_utredning(
        ev("beslut_fattat", "2026-02-20", beslut_id="b1", gynnande=False),
        ev("beslut_delgivet", "2026-03-03", beslut_id="b1"),
        _begard("2026-03-04"),
        _svar("2026-03-05"),
    )
    if allowed:
        _state([*given, _moved(day)])
    else:
        assert _refused(given, _moved(day)) == "P-TRANSFER"


def test_an_appeal_not_yet_handed_on_stays_with_the_deciding_kommun() -> None:
    appealed = _closed_utredning(
        ev("beslut_fattat", "2026-02-20", beslut_id="b1", gynnande=False),
        ev("overklagande_mottaget", "2026-03-01", overklagande_id="o1", beslut_id="b1"),
        _begard("2026-03-02"),
        _svar("2026-03-03"),
    )
    assert _refused(appealed, _moved("2026-03-05")) == "P-TRANSFER"
    handed_on = [
        *appealed,
        ev("rattidsprovning_gjord", "2026-03-04", overklagande_id="o1", i_tid=True),
        ev("overklagande_overlamnat", "2026-03-04", overklagande_id="o1"),
    ]
    _state([*handed_on, _moved("2026-03-05")])


# --- the receiving kommun's copy -----------------------------------------------------------------


def _received() -> list[CaseEvent]:
    """The receiving kommun's stream: the sending one's copy (verkställd late: an EVB duty ran
    in kommun 1280), then the marker of 2026-06-03."""
    return [
        *_opened(
            ev("utredning_avslutad", "2026-02-20", utredning_id="u1", utfall="insats", kommun=TO),
            ev("beslut_fattat", "2026-02-20", beslut_id="b1", gynnande=True,
               insats="kontaktperson", kommun=TO),
            ev("insats_verkstalld", "2026-06-01", beslut_id="b1", kommun=TO),
            kommun=TO,
        ),
        ev("arende_mottaget", "2026-06-03T11:00:00+02:00", fran_kommun="1280", kommun=TO),
    ]  # fmt: skip


def test_the_receiving_kommun_records_no_evb_step_of_the_sending_kommuns_beslut() -> None:
    received = _received()
    assert decided_elsewhere(received) == {"b1"}
    for last in (
        ev("verkstallighet_avbruten", "2026-06-10", beslut_id="b1", skal="x", kommun=TO),
        ev("evb_rapporterad", "2026-06-10", beslut_id="b1", kvartal="2026Q2",
           rapport="verkstalld", kommun=TO),
    ):  # fmt: skip
        assert _refused(received, last) == "P-EVB-KOMMUN"
    own = ev("beslut_fattat", "2026-06-10", beslut_id="b2", gynnande=True, insats="oppenvard",
             kommun=TO)  # fmt: skip
    state = _state([*received, own, ev("insats_verkstalld", "2026-06-11", beslut_id="b2",
                                       kommun=TO)])  # fmt: skip
    assert state.transfer.elsewhere == {"b1"} and state.transfer.received_from == "1280"


def test_nothing_is_dated_before_the_arende_came_to_the_receiving_kommun() -> None:
    early = ev("uppfoljning_inledd", "2026-06-03T10:59:00+02:00", grund="x", kommun=TO)
    assert _refused(_received(), early) == "P-BEFORE-CASE"
    _state([*_received(), ev("uppfoljning_inledd", "2026-06-03T11:00:00+02:00", grund="x",
                             kommun=TO)])  # fmt: skip


def test_the_sending_kommuns_beslut_gets_no_evb_frister_in_the_receiving_kommun() -> None:
    """C2 was missed in 1280 (due 2026-05-20, verkställd 2026-06-01), so C4 runs for 2026Q2 in
    1280; the copy in 0127 computes neither."""
    received = _received()
    sending = [e for e in received if e.type != "arende_mottaget"]
    evb = {"C2", "C3", "C4"}
    assert sorted(f.key for f in compute_frister(sending, TODAY) if f.rule in evb) == [
        "C2:b1",
        "C4:b1:2026Q2",
    ]
    assert [f.key for f in compute_frister(received, TODAY) if f.rule in evb] == []


# --- H2 and H4 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "as_of", "expected"),
    [
        ((_begard("2026-01-31"),), "2026-02-28", [("H2:0127:2026-01-31", "2026-02-28", OPEN)]),
        ((_begard("2026-01-31"),), "2026-03-01", [("H2:0127:2026-01-31", "2026-02-28", OVERDUE)]),
        ((_begard("2026-01-31"), _svar("2026-02-03")), "2026-03-01",
         [("H2:0127:2026-01-31", "2026-02-28", MET)]),
        ((_begard("2026-01-31"), _svar("2026-02-03", "avslagen"),
          ev("overflyttning_ivo_ansokan", "2026-02-04")), "2026-05-05",
         [("H2:0127:2026-01-31", "2026-02-28", MET), ("H4:ivo:2026-02-04", "2026-05-04", OVERDUE)]),
        ((_begard("2026-01-31"), _svar("2026-02-03", "avslagen"),
          ev("overflyttning_ivo_ansokan", "2026-02-04"),
          ev("overflyttning_ivo_beslut", "2026-04-01", utfall="avslag")), "2026-05-05",
         [("H2:0127:2026-01-31", "2026-02-28", MET), ("H4:ivo:2026-02-04", "2026-05-04", MET)]),
    ],
)  # fmt: skip
def test_h2_a_month_for_the_answer_and_h4_three_months_for_ivo(
    history: tuple[CaseEvent, ...], as_of: str, expected: list[tuple[str, str, str]]
) -> None:
    frister = compute_frister(_opened(*history), D(as_of))
    got = [(f.key, f.due.isoformat(), f.status) for f in frister if f.rule in ("H2", "H4")]
    assert got == expected
    h2 = next(f for f in frister if f.rule == "H2")
    assert (h2.law, h2.paragraph) == ("SoL 2025:400", "29 kap. 10-11 §§")
