"""Skyddade personuppgifter (issue 16 item 5; docs/security.md "Protected identities"): the
registration of Skatteverket's measures folds into the case state, is refused when it names
nothing, is not a decision, and the roles the kommun names are the only readers."""

from __future__ import annotations

from datetime import date

import pytest
from frist_builders import ev

from domain.case import CaseState, fold
from domain.errors import EventValidationError, RuleViolation
from domain.events import DECISION_EVENT_TYPES, CaseEvent, parse_event
from domain.frister import compute_frister
from domain.kommun import kommun_config_from_document
from domain.protection import DEFAULT_ROLES, is_protected, may_read, protection_of

TODAY = date(2026, 6, 1)


def _opened(*extra: CaseEvent) -> list[CaseEvent]:
    return [ev("anmalan_mottagen", "2026-01-05", anmalan_id="a1"), *extra]


def _state(events: list[CaseEvent]) -> CaseState:
    state = CaseState()
    for e in events:
        state.check(e, TODAY)
        state.apply(e)
    return state


def test_a_marking_protects_the_case_until_every_measure_of_every_person_ended() -> None:
    marked = _opened(
        ev("skydd_markerat", "2026-01-06", skydd="skyddad_folkbokforing"),
        ev("skydd_markerat", "2026-01-07", skydd="kvarskrivning", person="vardnadshavare_1"),
    )
    state = _state(marked)
    assert state.protected and state.skydd.persons() == ["barnet", "vardnadshavare_1"]
    one_ended = [*marked, ev("skydd_upphort", "2026-02-01", skydd="skyddad_folkbokforing")]
    assert _state(one_ended).protected  # the vårdnadshavare is still protected
    both = [
        *one_ended,
        ev("skydd_upphort", "2026-02-02", skydd="kvarskrivning", person="vardnadshavare_1"),
    ]
    assert not _state(both).protected and not is_protected(both)
    assert protection_of(both).persons() == []


def test_ending_a_measure_that_is_not_recorded_is_refused_with_p_skydd() -> None:
    state = _state(_opened(ev("skydd_markerat", "2026-01-06", skydd="sekretessmarkering")))
    for wrong in (
        ev("skydd_upphort", "2026-01-08", skydd="kvarskrivning"),  # another measure
        ev("skydd_upphort", "2026-01-08", skydd="sekretessmarkering", person="foralder_2"),
    ):
        with pytest.raises(RuleViolation) as info:
            state.check(wrong, TODAY)
        assert info.value.rule == "P-SKYDD"


def test_the_person_is_a_role_label_never_a_name_or_an_identity_number() -> None:
    for person in ("Anna Svensson", "19121212-1212", "Vardnadshavare"):
        with pytest.raises(EventValidationError, match=r"data\.person"):
            ev("skydd_markerat", "2026-01-06", skydd="sekretessmarkering", person=person)
    with pytest.raises(EventValidationError, match=r"data\.skydd"):
        ev("skydd_markerat", "2026-01-06", skydd="hemlig_adress")


def test_a_registration_is_not_a_decision_and_changes_no_frist() -> None:
    assert not {"skydd_markerat", "skydd_upphort"} & DECISION_EVENT_TYPES
    with pytest.raises(EventValidationError, match=r"data\.delegat"):
        ev("skydd_markerat", "2026-01-06", skydd="kvarskrivning",
           delegat={"id": "h1", "roll": "socialsekreterare"})  # fmt: skip
    plain = _opened()
    marked = [*plain, ev("skydd_markerat", "2026-01-06", skydd="kvarskrivning")]
    assert compute_frister(marked, as_of=TODAY) == compute_frister(plain, as_of=TODAY)


def test_a_closed_case_refuses_a_new_marking_like_any_other_entry() -> None:
    closed = _opened(
        ev("skyddsbedomning_gjord", "2026-01-05", anmalan_id="a1", omedelbart_skydd=False),
        ev("forhandsbedomning_beslutad", "2026-01-06", anmalan_id="a1",
           beslut="inte_inleda_utredning"),
        ev("arende_avslutat", "2026-01-07", orsak="ingen_atgard"),
    )  # fmt: skip
    with pytest.raises(RuleViolation) as info:
        _state([*closed, ev("skydd_markerat", "2026-01-08", skydd="kvarskrivning")])
    assert info.value.rule == "P-CLOSED"
    assert not fold(closed).protected


def test_only_the_named_roles_read_and_an_operator_never_does() -> None:
    assert may_read("handlaggare_skydd", DEFAULT_ROLES)
    assert not may_read("handlaggare", DEFAULT_ROLES)
    assert not may_read("operator", ("operator", "handlaggare_skydd"))
    doc = {"kommun": "1280", "skydd": {"roller": ["arbetsledare", "handlaggare_skydd"]}}
    config = kommun_config_from_document(doc)
    assert config.skydd_roller == ("arbetsledare", "handlaggare_skydd")
    assert kommun_config_from_document({"kommun": "1280"}).skydd_roller == DEFAULT_ROLES


def test_the_event_line_round_trips() -> None:
    line = ev("skydd_markerat", "2026-01-06", skydd="kvarskrivning", person="barnet").to_json()
    again = parse_event(line)
    assert again.data == {"skydd": "kvarskrivning", "person": "barnet"}
