"""Every decision judged against the delegationsordning in force on its date (issue 14, items
1-3): the decision codes, the statute's limits (SoL 30:6-7, old 10:4) whatever a file says, a
kommun's own titles, versions over time and the record kept with the event."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from domain.calendar import STOCKHOLM
from domain.case import CaseState, fold
from domain.decisions import DECISION_CODES, DECISION_EVENT_TYPES, decision_of
from domain.delegation_record import BEHORIG, EJ_PROVAD, OBEHORIG, Judgement, judge
from domain.events import EVENT_TYPES, CaseEvent, event_from_json, parse_event
from domain.kommun import KommunConfig
from infra.config.kommun import load_kommun_file, parse_kommun_config

ROOT = Path(__file__).resolve().parents[2]
BOTKYRKA = load_kommun_file(ROOT / "config" / "kommun.0127.sample.toml").config


def _event(
    etype: str, data: dict[str, Any], day: date, roll: str = "socialsekreterare"
) -> CaseEvent:
    return parse_event(
        {
            "kommun": "0127",
            "case_ref": "R-1",
            "type": etype,
            "occurred_at": datetime.combine(day, time(12), tzinfo=STOCKHOLM).isoformat(),
            "actor": {"id": "u1", "roll": roll},
            "idempotency_key": f"{etype}-{day}",
            "data": data,
        }
    )


def _judge(
    etype: str,
    data: dict[str, Any],
    day: date,
    roll: str = "socialsekreterare",
    config: KommunConfig | None = BOTKYRKA,
    state: CaseState | None = None,
) -> Judgement:
    judged = judge(_event(etype, data, day, roll), state, config)
    assert judged is not None
    return judged


def _config(**ordning: Any) -> KommunConfig:
    return parse_kommun_config({"kommun": "0127", "delegationsordning": ordning}, "t.toml").config


def _rule(rid: str, typ: str, lagrum: str, lowest: str, **extra: Any) -> dict[str, Any]:
    return {"id": rid, "beslutstyp": typ, "lagrum": lagrum, "lagsta_delegat": lowest, **extra}


# ------------------------------------------------------------------------------ decision codes


def test_every_decision_event_type_has_a_delegat_field_and_a_documented_code() -> None:
    text = (ROOT / "docs" / "delegationsordning.md").read_text(encoding="utf-8")
    for etype in DECISION_EVENT_TYPES:
        assert "delegat" in EVENT_TYPES[etype], etype
    for code in DECISION_CODES:
        assert f"`{code}`" in text, code


def test_a_forhandsbedomning_has_one_code_per_outcome_and_the_actor_is_the_default_delegat() -> (
    None
):
    day = date(2026, 3, 2)
    inleda = decision_of(
        _event("forhandsbedomning_beslutad", {"anmalan_id": "a", "beslut": "inleda_utredning"}, day)
    )
    inte = decision_of(
        _event(
            "forhandsbedomning_beslutad",
            {
                "anmalan_id": "a",
                "beslut": "inte_inleda_utredning",
                "delegat": {"id": "d", "roll": "enhetschef"},
            },
            day,
        )
    )
    assert inleda is not None and inte is not None
    assert (inleda.code, inleda.delegat_roll, inleda.delegat_named) == (
        "inleda_utredning",
        "socialsekreterare",
        False,
    )
    assert (inte.code, inte.delegat_roll, inte.delegat_named) == (
        "inte_inleda_utredning",
        "enhetschef",
        True,
    )


def test_court_decisions_and_non_decisions_are_not_judged() -> None:
    day = date(2026, 3, 2)
    assert (
        decision_of(
            _event("lvu_forbud_beslutat", {"forbud_id": "f", "forbud": "utreseforbud"}, day)
        )
        is None
    )
    assert (
        decision_of(_event("lvu_lakarundersokning_beslutad", {"beslutad_av": "ratten"}, day))
        is None
    )
    assert decision_of(_event("insats_verkstalld", {"beslut_id": "b"}, day)) is None
    tillfalligt = decision_of(
        _event(
            "lvu_forbud_beslutat",
            {"forbud_id": "f", "forbud": "utreseforbud", "tillfalligt": True},
            day,
        )
    )
    assert tillfalligt is not None and tillfalligt.code == "tillfalligt_utreseforbud"


def test_a_forbud_event_takes_its_kind_from_the_case() -> None:
    day = date(2026, 3, 2)
    beslutat = _event("lvu_forbud_beslutat", {"forbud_id": "f", "forbud": "utreseforbud"}, day)
    state = fold([event_from_json({**beslutat.to_json()})])
    prov = decision_of(_event("lvu_forbud_overvagt", {"forbud_id": "f"}, day), state)
    assert prov is not None and prov.code == "provning_utreseforbud"


# ------------------------------------------------------------------------------ the ordning


def test_the_kommuns_own_titles_compare_on_its_ladders() -> None:
    day = date(2026, 5, 4)
    data = {"utredning_id": "u", "ny_slutdag": "2026-09-01", "skal": "s"}
    assert _judge("utredning_forlangd", data, day, "1:e Socialsekreterare").utfall == BEHORIG
    refused = _judge("utredning_forlangd", data, day, "socialsekreterare")
    assert refused.violation is not None and refused.violation.rule == "DELEG"
    assert "requires at least 1:e socialsekreterare" in refused.violation.en
    unknown = _judge("utredning_forlangd", data, day, "sektionschef")  # the 2025 title
    assert unknown.violation is not None and "is not a delegat role" in unknown.violation.en


def test_a_decision_is_judged_by_the_version_in_force_on_its_legal_date() -> None:
    data = {"utredning_id": "u", "ny_slutdag": "2026-09-01", "skal": "s"}
    old = _judge("utredning_forlangd", data, date(2025, 12, 31), "1:e socialsekreterare")
    new = _judge("utredning_forlangd", data, date(2026, 1, 1), "1:e socialsekreterare")
    assert old.utfall == OBEHORIG and "requires at least sektionschef" in str(old.record["skal"])
    assert old.record["ordning"] == {"version": "2025-01", "giltig_fran": "2025-01-01"}
    assert (new.utfall, new.record["punkt"]) == (BEHORIG, "1.4")
    assert new.record["ordning"] == {"version": "2026-01", "giltig_fran": "2026-01-01"}
    assert new.record["kommun_config"] == BOTKYRKA.version
    before = _judge("utredning_forlangd", data, date(2024, 12, 31), "socialchef")
    assert before.utfall == EJ_PROVAD and before.violation is not None
    assert "no delegationsordning of kommun 0127 was in force on 2024-12-31" in before.violation.en


def test_a_decision_the_ordning_does_not_list_is_the_namnds_own() -> None:
    config = _config(regler=[_rule("1", "inleda_utredning", "SoL 14:2", "socialsekreterare")])
    data = {"anmalan_id": "a", "ny_slutdag": "2026-04-01", "skal": "s"}
    day = date(2026, 3, 10)
    refused = _judge("forhandsbedomning_forlangd", data, day, "socialchef", config)
    assert (
        refused.violation is not None
        and "only the nämnd (namnd) may decide it" in refused.violation.en
    )
    own = _judge("forhandsbedomning_forlangd", data, day, "namnd", config)
    assert (own.utfall, own.record["anmalan_till_namnden"], own.record["punkt"]) == (
        BEHORIG,
        False,
        None,
    )


# ------------------------------------------------------------------------------ the statute


@pytest.mark.parametrize(
    ("day", "paragraph"),
    [
        (date(2025, 6, 30), "SoL 2001:453 10 kap. 4 § (6 kap. 8 §; LVU 13 §)"),
        (date(2025, 7, 1), "SoL 2025:400 30 kap. 6 § 2 (SoL 22 kap. 13 §), 7 § 5 (LVU 13 §)"),
    ],
)
def test_an_overvagande_is_refused_for_an_official_whatever_the_file_says(
    day: date, paragraph: str
) -> None:
    """SoL 30:6 2 (old 10:4): a file that delegates the övervägande to a sektionschef does not
    make it lawful."""
    config = _config(regler=[_rule("9", "overvagande", "SoL 22:13", "sektionschef")])
    refused = _judge(
        "overvagande_genomfort", {"beslut_id": "b", "slutsats": "s"}, day, "socialchef", config
    )
    assert refused.violation is not None and refused.violation.rule == "DELEG"
    assert paragraph in refused.violation.en and paragraph in refused.violation.sv
    assert refused.record["kravs"] == "utskott"
    assert (
        _judge(
            "overvagande_genomfort", {"beslut_id": "b", "slutsats": "s"}, day, "utskott", config
        ).utfall
        == BEHORIG
    )


def test_familjehem_lvu_and_2027_decisions_are_reserved_to_the_utskott() -> None:
    config = _config(
        regler=[
            _rule("1", "placering", "SoL 11:1", "sektionschef"),
            _rule("2", "omedelbart_omhandertagande", "lag 2026:1600 5 kap. 1 §", "sektionschef"),
        ]
    )
    familjehem = {
        "beslut_id": "b",
        "lagrum": "SoL 11:1",
        "beslutstyp": "placering",
        "insats": "jourhem",
        "gynnande": True,
        "delegat": {"id": "d", "roll": "socialchef"},
    }
    refused = _judge("beslut_fattat", familjehem, date(2026, 3, 2), config=config)
    assert refused.violation is not None and "30 kap. 6 § 1" in refused.violation.en
    lvu = _judge(
        "lvu_omhandertagande_beslutat", {"beslut_id": "l"}, date(2027, 2, 1), "socialchef", config
    )
    assert lvu.violation is not None
    assert "30 kap. 7 § 2, läst för lag 2026:1600 (POL-DELEG-2027)" in lvu.violation.en


def test_the_ordforande_decides_only_where_the_statute_gives_the_right() -> None:
    config = _config(
        regler=[
            _rule("1", "overvagande", "LVU 13 §", "utskott", ordforande=True),
            _rule("2", "omedelbart_omhandertagande", "LVU 6 §", "utskott", ordforande=True),
        ]
    )
    day = date(2026, 3, 2)
    refused = _judge(
        "overvagande_genomfort", {"beslut_id": "b", "slutsats": "s"}, day, "ordforande", config
    )
    assert refused.violation is not None and "LVU 6 § andra st." in refused.violation.en
    urgent = _judge("lvu_omhandertagande_beslutat", {"ordforandebeslut": True}, day, config=config)
    # the flag says the chair decided: the delegat defaults to the ordförande, not the actor
    assert urgent.utfall == BEHORIG and urgent.record["ordforandebeslut"] is True
    assert urgent.record["delegat"] == {"id": "u1", "roll": "ordforande"}
    wrong = _judge(
        "lvu_omhandertagande_beslutat",
        {"ordforandebeslut": True, "delegat": {"id": "d", "roll": "utskott"}},
        day,
        config=config,
    )
    assert wrong.violation is not None and "must name the ordförande" in wrong.violation.en


def test_without_an_ordning_nothing_is_judged_and_nothing_recorded() -> None:
    """A kommun without a delegationsordning (no file, or a file without one): no judgement and
    no record, so its events stay exactly as before (docs/delegationsordning.md)."""
    day = date(2026, 3, 2)
    ev = _event(
        "forhandsbedomning_beslutad", {"anmalan_id": "a", "beslut": "inleda_utredning"}, day
    )
    assert judge(ev, None, None) is None
    without = parse_kommun_config({"kommun": "0127", "klagomal": {"dagar": 7}}, "t.toml").config
    assert judge(ev, None, without) is None


def test_an_imported_decision_before_the_earliest_ordning_is_recorded_unjudged() -> None:
    """The refusal a command gets (no ordning on record for its date) is, on import, a record
    ``ej_provad``; a named delegat other than the nämnd puts it on the list."""
    data = {
        "anmalan_id": "a",
        "beslut": "inleda_utredning",
        "delegat": {"id": "d", "roll": "enhetschef"},
    }
    judged = _judge("forhandsbedomning_beslutad", data, date(2024, 6, 3))
    assert (judged.utfall, judged.record["kommun_config"], judged.record["ordning"]) == (
        EJ_PROVAD,
        BOTKYRKA.version,
        None,
    )
    assert judged.record["anmalan_till_namnden"] is True
