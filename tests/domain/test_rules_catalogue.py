"""The rules catalogue as data and the kommun policy (docs/law.md §3, §5); validating a kommun
file is tests/config's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.events import EVENT_TYPES
from domain.kvalitet import KVALITET_EVENT_TYPES
from domain.rules import (
    DEFAULT_POLICY,
    GLOBAL_POLICIES,
    LVU,
    NEW_SOL,
    OLD_SOL,
    RULES,
    RULES_BY_ID,
    KommunPolicy,
    policy_from_mapping,
    rule,
)

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_IDS = {
    "A1", "A2", "A3", "B1", "B3", "B4", "C2", "C3", "C4", "D2", "D3", "D4", "D7", "D10",
    "E2", "E3", "E5", "E6", "E7", "E10", "E15", "F1", "F2", "H2", "K1",
    # lag 2026:1600 / 2026:1637 (docs/law-2027.md)
    "E1", "E3T", "E9", "E11", "E11U", "E11A", "E11N", "E12", "E12U", "E12A", "E12N", "E13",
    "E14", "E16", "E17", "N1", "N2", "N3",
    # ordförandebeslut recorded by a decision's judgement (docs/delegationsordning.md)
    "E18",
    # the notifications that follow a placement in a named home (docs/law.md §11)
    "HEM9", "HEM10",
    # appeals (FL 2017:900) and transfers between kommuner (SoL 29 kap.)
    "O1", "O2", "H4", "B8",
    # the placed child (issue #15 B): what a placement requires, the 18th birthday, avvikning
    "D1", "D1G", "D1A", "D6", "D8", "D9", "D9S", "D9K", "D11V", "D11", "V1", "V2", "V3",
    # complaints and lex Sarah as flows of their own (issue #17 item 4, docs/law.md §14)
    "KL1", "LS1", "LS2", "LS3",
}  # fmt: skip


def test_catalogue_has_every_rule_once() -> None:
    assert {r.id for r in RULES} == EXPECTED_IDS
    assert len(RULES) == len(EXPECTED_IDS)


@pytest.mark.parametrize("r", RULES, ids=lambda r: r.id)
def test_rule_event_types_exist_or_are_declared_missing(r: object) -> None:
    from domain.rules import Rule

    assert isinstance(r, Rule)
    for etype in (*r.trigger_types, *r.fulfilled_by):
        if etype not in r.missing_event_types:
            # a case's event, or one of the complaints' and lex Sarah flows (domain.kvalitet)
            assert etype in EVENT_TYPES or etype in KVALITET_EVENT_TYPES, f"{r.id}: {etype}"
    assert r.name and r.new_ref is not None
    assert r.alert_event in ("frist_overskriden", "evb_rapporteringsskyldighet_uppstod")
    assert r.sondagsregel is False  # off by default for the authority's own deadlines


@pytest.mark.parametrize(
    ("rule_id", "trigger", "law", "paragraph"),
    [
        ("A2", date(2025, 6, 30), OLD_SOL, "11 kap. 1 a §"),
        ("A2", date(2025, 7, 1), NEW_SOL, "20 kap. 2 §"),
        ("B1", date(2025, 6, 30), OLD_SOL, "11 kap. 2 §"),
        ("B1", date(2025, 7, 1), NEW_SOL, "20 kap. 3 §"),
        ("C2", date(2025, 6, 30), OLD_SOL, "16 kap. 6 f §"),
        ("C2", date(2025, 7, 1), NEW_SOL, "34 kap. 1 § första st."),
        ("D4", date(2024, 2, 29), OLD_SOL, "6 kap. 8 b §"),
        ("E2", date(2020, 1, 1), LVU, "7 §"),
        ("E2", date(2026, 1, 1), LVU, "7 §"),
        ("A3", date(2026, 1, 15), NEW_SOL, "19 kap. 6 §"),
        ("D10", date(2025, 1, 1), "SoF 2001:937", "7 kap. 1 §"),
        ("D10", date(2026, 1, 1), "SoF 2025:468", "3 kap. 4 §"),
    ],
)
def test_law_for_boundary(rule_id: str, trigger: date, law: str, paragraph: str) -> None:
    ref = rule(rule_id).law_for(trigger)
    assert ref is not None
    assert (ref.law, ref.paragraph) == (law, paragraph)


def test_a3_does_not_exist_before_2026_01_15() -> None:
    assert rule("A3").law_for(date(2026, 1, 14)) is None


@pytest.mark.parametrize(
    ("rule_id", "trigger", "due"),
    [
        ("A1", date(2026, 3, 2), date(2026, 3, 2)),
        ("A2", date(2026, 3, 2), date(2026, 3, 16)),
        ("A3", date(2026, 3, 2), date(2026, 3, 9)),
        ("B1", date(2025, 10, 31), date(2026, 2, 28)),
        ("C2", date(2025, 11, 30), date(2026, 2, 28)),
        ("C3", date(2025, 8, 31), date(2025, 11, 30)),
        ("D2", date(2024, 2, 29), date(2026, 2, 28)),
        ("D3", date(2026, 8, 31), date(2027, 2, 28)),
        ("D4", date(2024, 2, 29), date(2026, 2, 28)),
        ("D7", date(2026, 12, 31), date(2027, 2, 28)),
        ("D10", date(2026, 1, 1), date(2026, 1, 31)),
        ("D10", date(2026, 2, 1), date(2027, 1, 31)),
        ("E2", date(2026, 5, 15), date(2026, 5, 22)),
        ("E3", date(2026, 5, 15), date(2026, 6, 12)),
        ("E5", date(2026, 5, 15), date(2026, 6, 12)),
        ("E6", date(2026, 1, 31), date(2026, 7, 31)),
        ("E7", date(2026, 3, 31), date(2026, 9, 30)),
        ("E10", date(2026, 11, 30), date(2027, 2, 28)),
        ("E15", date(2026, 1, 1), date(2026, 7, 1)),
        ("F1", date(2026, 8, 31), date(2027, 2, 28)),
        ("F2", date(2026, 1, 1), date(2026, 7, 1)),
        ("H2", date(2026, 1, 31), date(2026, 2, 28)),
        ("K1", date(2026, 3, 2), date(2026, 3, 16)),
    ],
)
def test_due_from_per_rule(rule_id: str, trigger: date, due: date) -> None:
    assert rule(rule_id).due_from(trigger) == due


def test_extension_policies() -> None:
    a2, b1 = rule("A2").extension, rule("B1").extension
    assert a2 is not None and a2.grounds == "synnerliga skäl"
    assert a2.event_type == "forhandsbedomning_forlangd"
    assert b1 is not None and b1.grounds == "särskilda skäl"
    assert b1.before_expiry and b1.stated_end and b1.repeatable


def test_evb_rules_alert_with_evb_event() -> None:
    for rid in ("C2", "C3", "C4"):
        assert RULES_BY_ID[rid].alert_event == "evb_rapporteringsskyldighet_uppstod"
    assert RULES_BY_ID["A2"].alert_event == "frist_overskriden"


def test_uncertain_points_are_named_policies() -> None:
    policies = [p for r in RULES for p in r.uncertain] + list(GLOBAL_POLICIES)
    names = {p.name for p in policies}
    assert {"sondagsregel", "d3_start", "b2_ansokan_start", "h3_overflyttning"} <= names
    assert all(p.default and p.description for p in policies)


def test_default_policy() -> None:
    assert KommunPolicy() == DEFAULT_POLICY
    assert not DEFAULT_POLICY.sondagsregel_on("A2")


def test_sondagsregel_policy_on() -> None:
    policy = policy_from_mapping({"sondagsregel": {"regler": ["A2", "B1"]}})
    assert policy.sondagsregel_on("A2") and policy.sondagsregel_on("B1")
    assert not policy.sondagsregel_on("E2")


def test_docs_page_lists_every_rule() -> None:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for r in RULES:
        assert f"| {r.id} |" in text, r.id
