"""Complaints and lex Sarah as flows of their own (docs/law.md §14): the frister a kvalitetschef
reads (in time, late, open, overdue, on the last day), the guards that refuse a step out of
order, free text with a personnummer refused, the kommun's own days, and the pure ``summary``
the nämnd's quarterly report takes. Pure: no servers."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.errors import EventValidationError, RuleViolation
from domain.kvalitet import (
    KvalitetEvent,
    KvalitetState,
    fold_streams,
    parse_kvalitet_event,
    stream_uuid_for,
)
from domain.rules import DEFAULT_POLICY, RULES_BY_ID, policy_from_mapping
from projections.klagomal import summary
from tests.api.conftest import new_pnr

KOMMUN = "1280"
TODAY = date(2026, 11, 20)


def _line(arende: str, etype: str, day: str, data: dict[str, Any], n: int = 0) -> dict[str, Any]:
    return {
        "kommun": KOMMUN,
        "arende_id": arende,
        "type": etype,
        "occurred_at": f"{day}T10:00:00+01:00",
        "actor": {"id": "kv-1", "roll": "enhetschef"},
        "idempotency_key": f"{arende}-{etype}-{n}",
        "data": data,
    }


def _ev(arende: str, etype: str, day: str, data: dict[str, Any] | None = None) -> KvalitetEvent:
    return parse_kvalitet_event(_line(arende, etype, day, data or {}))


KL_IN = {"avsandare": "barn", "kategori": "bemotande", "enhet": "barn-ost"}
LS_IN = {"avser": "missforhallande", "enhet": "hvb-norr", "rapportor": "behandlingsassistent"}


def _run(events: list[KvalitetEvent]) -> KvalitetState:
    """Every event through the guards, as the store records them."""
    state = KvalitetState()
    for ev in events:
        state.check(ev, TODAY)
        state.apply(ev)
    return state


@pytest.mark.parametrize(
    ("answered", "as_of", "status", "days"),
    [
        ("2026-03-09", "2026-12-31", "i_tid", 7),
        ("2026-03-16", "2026-12-31", "i_tid", 14),  # the last day itself is in time
        ("2026-03-17", "2026-12-31", "sen", 15),
        (None, "2026-03-16", "oppen", None),
        (None, "2026-03-17", "forsenad", None),
        ("2026-03-20", "2026-03-18", "forsenad", None),  # not known yet on the as-of day
    ],
)
def test_a_complaint_is_answered_within_the_kommuns_fourteen_days(
    answered: str | None, as_of: str, status: str, days: int | None
) -> None:
    events = [_ev("KL-1", "klagomal_inkommet", "2026-03-02", KL_IN)]
    if answered:
        events.append(_ev("KL-1", "klagomal_aterkopplat", answered, {"utfall": "befogat"}))
    (frist,) = _run(events).frister(DEFAULT_POLICY, date.fromisoformat(as_of))
    assert (frist.rule, frist.due) == ("KL1", date(2026, 3, 16))
    assert (frist.status, frist.dagar) == (status, days)


def test_the_kommun_sets_its_own_days_for_complaints_and_lex_sarah() -> None:
    policy = policy_from_mapping(
        {
            "klagomal": {"dagar": 7},
            "policy": {
                "lex_sarah_utredning_start_dagar": 0,
                "lex_sarah_utredning_dagar": 30,
                "lex_sarah_ivo_dagar": 3,
            },
        }
    )
    kl = _run([_ev("KL-1", "klagomal_inkommet", "2026-03-02", KL_IN)])
    assert kl.frister(policy, date(2026, 3, 10))[0].status == "forsenad"  # 7 days: 03-09
    ls = _run(
        [
            _ev("LS-1", "lex_sarah_rapporterad", "2026-03-02", LS_IN),
            _ev("LS-1", "lex_sarah_utredning_startad", "2026-03-03"),
            _ev("LS-1", "lex_sarah_bedomd", "2026-03-20", {"allvarligt": True}),
        ]
    )
    by = {f.rule: f for f in ls.frister(policy, date(2026, 3, 31))}
    assert by["LS1"].status == "sen"  # 0 days: the same day
    assert (by["LS2"].due, by["LS2"].status) == (date(2026, 4, 1), "i_tid")
    assert (by["LS3"].due, by["LS3"].status) == (date(2026, 3, 23), "forsenad")


def test_a_lex_sarah_rapport_goes_through_its_frister_and_ivo_only_when_allvarligt() -> None:
    serious = _run(
        [
            _ev("LS-1", "lex_sarah_rapporterad", "2026-04-06", LS_IN),
            _ev("LS-1", "lex_sarah_utredning_startad", "2026-04-07"),
            _ev("LS-1", "lex_sarah_bedomd", "2026-04-21", {"allvarligt": True}),
            _ev("LS-1", "lex_sarah_anmald_ivo", "2026-04-28", {"utredning_bifogad": True}),
            _ev("LS-1", "lex_sarah_avslutad", "2026-05-04"),
        ]
    )
    statuses = {f.rule: f.status for f in serious.frister(DEFAULT_POLICY, date(2026, 12, 31))}
    # 1 day, 14 days (04-20: the bedömning a day late), IVO within 7 days of it (04-28: in time)
    assert statuses == {"LS1": "i_tid", "LS2": "sen", "LS3": "i_tid"}
    assert serious.closed_on(date(2026, 5, 4)) == date(2026, 5, 4)
    minor = _run(
        [
            _ev("LS-2", "lex_sarah_rapporterad", "2026-04-06", LS_IN),
            _ev("LS-2", "lex_sarah_utredning_startad", "2026-04-06"),
            _ev("LS-2", "lex_sarah_bedomd", "2026-04-10", {"allvarligt": False}),
            _ev("LS-2", "lex_sarah_avslutad", "2026-04-10"),
        ]
    )
    assert [f.rule for f in minor.frister(DEFAULT_POLICY, date(2026, 12, 31))] == ["LS1", "LS2"]


@pytest.mark.parametrize(
    ("steps", "refused", "rule"),
    [
        ([], ("lex_sarah_bedomd", {"allvarligt": True}), "KV-OPEN"),
        ([("lex_sarah_rapporterad", LS_IN)], ("lex_sarah_bedomd", {"allvarligt": True}),
         "LS-ORDNING"),
        ([("lex_sarah_rapporterad", LS_IN), ("lex_sarah_utredning_startad", {}),
          ("lex_sarah_bedomd", {"allvarligt": False})],
         ("lex_sarah_anmald_ivo", {"utredning_bifogad": True}), "LS-ANMALAN"),
        ([("lex_sarah_rapporterad", LS_IN), ("lex_sarah_utredning_startad", {}),
          ("lex_sarah_bedomd", {"allvarligt": True})],
         ("lex_sarah_anmald_ivo", {"utredning_bifogad": False}), "LS-ANMALAN"),
        ([("lex_sarah_rapporterad", LS_IN), ("lex_sarah_utredning_startad", {}),
          ("lex_sarah_bedomd", {"allvarligt": True})], ("lex_sarah_avslutad", {}), "LS-ANMALAN"),
        ([("lex_sarah_rapporterad", LS_IN)], ("lex_sarah_rapporterad", LS_IN), "KV-OPEN"),
        ([("klagomal_inkommet", KL_IN), ("klagomal_aterkopplat", {"utfall": "befogat"})],
         ("klagomal_atgard", {"atgard": "utbildning"}), "KL-AVSLUTAT"),
    ],
)  # fmt: skip
def test_a_step_out_of_order_is_refused_with_its_rule(
    steps: list[tuple[str, dict[str, Any]]], refused: tuple[str, dict[str, Any]], rule: str
) -> None:
    arende = "X-1"
    state = _run([_ev(arende, t, "2026-04-06", d) for t, d in steps])
    before = (state.event_count, state.bedomd, state.anmald_ivo, state.aterkopplat)
    with pytest.raises(RuleViolation) as exc:
        state.check(_ev(arende, refused[0], "2026-04-07", refused[1]), TODAY)
    assert exc.value.rule == rule
    assert (state.event_count, state.bedomd, state.anmald_ivo, state.aterkopplat) == before


def test_a_step_in_the_future_or_before_the_flow_began_is_refused() -> None:
    state = _run([_ev("KL-1", "klagomal_inkommet", "2026-03-02", KL_IN)])
    with pytest.raises(RuleViolation) as future:
        state.check(_ev("KL-1", "klagomal_aterkopplat", "2026-11-21", {"utfall": "befogat"}), TODAY)
    assert future.value.rule == "P-FUTURE"
    with pytest.raises(RuleViolation) as before:
        state.check(_ev("KL-1", "klagomal_aterkopplat", "2026-03-01", {"utfall": "befogat"}), TODAY)
    assert before.value.rule == "P-BEFORE-CASE"


def _dashed_pnr() -> str:
    """A personnummer written as a code would be (YYYYMMDD-NNNN)."""
    pnr = new_pnr()
    return f"{pnr[:8]}-{pnr[8:]}"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["data"].update(beskrivning=f"Gäller barnet {new_pnr()}"), "data.beskrivning"),
        (lambda d: d["data"].update(case_ref=new_pnr()), "data.case_ref"),
        (lambda d: d["data"].update(avsandare="Anna Andersson"), "data.avsandare"),
        (lambda d: d["data"].update(enhet=_dashed_pnr()), "data.enhet"),
        (lambda d: d.update(arende_id=_dashed_pnr()), "arende_id"),
        (lambda d: d["data"].pop("enhet"), "data.enhet"),
        (lambda d: d["data"].update(namn="x"), "data.namn"),
        (lambda d: d.update(type="lex_sarah_rapporterad"), "type"),
        (lambda d: d.update(kommun="128"), "kommun"),
    ],
)
def test_bad_input_names_the_field(change: Any, field: str) -> None:
    body = _line("KL-1", "klagomal_inkommet", "2026-03-02", dict(KL_IN))
    change(body)
    with pytest.raises(EventValidationError) as exc:
        parse_kvalitet_event(body, "klagomal")
    assert exc.value.field == field


def test_a_rapportor_is_a_role_label_never_a_name() -> None:
    body = _line("LS-1", "lex_sarah_rapporterad", "2026-03-02", {**LS_IN, "rapportor": "Eva B"})
    with pytest.raises(EventValidationError) as exc:
        parse_kvalitet_event(body)
    assert exc.value.field == "data.rapportor"


def test_each_complaint_and_rapport_is_its_own_stream() -> None:
    assert stream_uuid_for(KOMMUN, "klagomal", "1") != stream_uuid_for(KOMMUN, "lex_sarah", "1")
    assert stream_uuid_for(KOMMUN, "klagomal", "1") != stream_uuid_for("0127", "klagomal", "1")


def test_rules_cite_the_act_of_the_rapports_day() -> None:
    ls3 = RULES_BY_ID["LS3"]
    old, new = ls3.law_for(date(2025, 6, 30)), ls3.law_for(date(2025, 7, 1))
    assert old is not None and (old.law, old.paragraph) == ("SoL 2001:453", "14 kap. 7 §")
    assert new is not None and (new.law, new.paragraph) == ("SoL 2025:400", "27 kap. 6 §")
    assert [p.name for p in RULES_BY_ID["LS1"].uncertain] == ["POL-LEXSARAH-UTAN-DROJSMAL"]


def test_summary_counts_the_period_and_names_no_case() -> None:
    events = [
        _ev("KL-1", "klagomal_inkommet", "2026-01-05", {**KL_IN, "case_ref": "VS-1"}),
        _ev("KL-1", "klagomal_aterkopplat", "2026-01-12", {"utfall": "befogat"}),
        _ev("KL-2", "klagomal_inkommet", "2026-02-02", {**KL_IN, "avsandare": "anonym"}),
        _ev("KL-2", "klagomal_aterkopplat", "2026-02-20", {"utfall": "ej_befogat"}),
        _ev("KL-3", "klagomal_inkommet", "2026-03-25", {**KL_IN, "enhet": "barn-vast"}),
        _ev("KL-4", "klagomal_inkommet", "2026-04-01", KL_IN),  # the next quarter
        _ev("LS-1", "lex_sarah_rapporterad", "2026-03-02", {**LS_IN, "case_ref": "VS-1"}),
        _ev("LS-1", "lex_sarah_utredning_startad", "2026-03-02"),
        _ev("LS-1", "lex_sarah_bedomd", "2026-03-10", {"allvarligt": True}),
    ]
    other = parse_kvalitet_event({**_line("KL-9", "klagomal_inkommet", "2026-01-05", KL_IN),
                                  "kommun": "0127"})  # fmt: skip
    doc = summary([*events, other], KOMMUN, date(2026, 1, 1), date(2026, 3, 31))
    kl = doc["klagomal"]
    assert kl["alla"] == {
        "antal": 3, "besvarade": 2, "i_tid": 1, "sena": 1, "andel_i_tid": 0.5,
        "median_dagar": 12.5, "oppna": 1, "forsenade": 0,  # KL-3 is due 04-08
    }  # fmt: skip
    assert kl["enhet"]["barn-vast"]["oppna"] == 1
    assert kl["avsandare"]["anonym"]["sena"] == 1 and kl["avsandare"]["ombud"]["antal"] == 0
    ls = doc["lex_sarah"]
    assert (ls["antal"], ls["allvarliga"], ls["anmalda_ivo"], ls["oppna"]) == (1, 1, 0, 1)
    assert ls["frister"]["LS3"] == {"i_tid": 0, "sen": 0, "oppen": 0, "forsenad": 1}
    assert "VS-1" not in repr(doc)
    # the same answer for the same events, whatever day it is computed
    assert summary(list(reversed([*events, other])), KOMMUN, date(2026, 1, 1),
                   date(2026, 3, 31)) == doc  # fmt: skip


def test_folding_leaves_out_what_was_recorded_after_known_at() -> None:
    from datetime import datetime

    from domain.calendar import STOCKHOLM

    first = _ev("KL-1", "klagomal_inkommet", "2026-03-02", KL_IN)
    answer = _ev("KL-1", "klagomal_aterkopplat", "2026-03-05", {"utfall": "befogat"})
    at = datetime(2026, 3, 10, 12, tzinfo=STOCKHOLM)
    stored = [
        KvalitetEvent(**{**first.__dict__, "recorded_at": at}),
        KvalitetEvent(**{**answer.__dict__, "recorded_at": at.replace(day=20)}),
    ]
    (state,) = fold_streams(stored, known_at=at)
    assert state.aterkopplat is None
    (state,) = fold_streams(stored)
    assert state.aterkopplat == (date(2026, 3, 5), "befogat")
