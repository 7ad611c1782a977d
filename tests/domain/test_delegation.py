"""Tests for domain.delegation: the sample ordning, the ladder policy, thresholds and the
ordförande right. (Validating a file is ``infra.config.kommun``'s job: tests/config.)"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.delegation import (
    Delegationsordning,
    delegationsordning_from_document,
    role_satisfies,
)
from domain.errors import RuleViolation
from infra.config.kommun import load_kommun_file

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "kommun.sample.toml"

# The documented policy, written out independently of the module: one total order, every
# political body above every official.
LADDER = [
    "socialsekreterare",
    "gruppledare",
    "sektionschef",
    "verksamhetschef",
    "socialchef",
    "utskott",
    "namnd",
]
OFFICIALS = LADDER[:5]


@pytest.fixture(scope="module")
def sample() -> Delegationsordning:
    ordning = load_kommun_file(SAMPLE).config.delegationsordning
    assert ordning is not None
    return ordning


def _sample_document() -> dict[str, Any]:
    document = load_kommun_file(SAMPLE).document["delegationsordning"]
    assert isinstance(document, dict)
    return copy.deepcopy(document)


def _one_rule_per_level() -> Delegationsordning:
    return delegationsordning_from_document(
        {
            "regler": [
                {
                    "id": f"R{i}",
                    "beslutstyp": f"typ_{role}",
                    "lagrum": "SoL 11:1",
                    "lagsta_delegat": role,
                }
                for i, role in enumerate(LADDER)
            ],
        },
        "test",
        kommun="0127",
    )


# --------------------------------------------------------------------------------------------
# The sample


def test_sample_loads(sample: Delegationsordning) -> None:
    assert sample.kommun == "1280"
    assert sample.giltig_fran == date(2026, 1, 1)
    assert sample.source == str(SAMPLE)
    assert sample.kommun == "1280"
    expected = {
        ("inleda_utredning", "SoL 14:2"): "socialsekreterare",
        ("inte_inleda_utredning", "SoL 14:2"): "socialsekreterare",
        ("forlangning_utredning", "SoL 20:3"): "sektionschef",
        ("insats_oppenvard", "SoL 11:1"): "socialsekreterare",
        ("placering_familjehem", "SoL 11:1"): "utskott",
        ("placering_hvb", "SoL 11:1"): "sektionschef",
        ("overvagande", "SoL 22:13"): "utskott",
        ("ansokan_om_vard", "LVU 4 §"): "utskott",
        ("omedelbart_omhandertagande", "LVU 6 §"): "utskott",
    }
    old_law = {
        (r.beslutstyp, r.lagrum): r.lagsta_delegat
        for r in sample.regler
        if not r.lagrum.startswith("lag 2026:1600")
    }
    assert old_law == expected
    assert [r.id for r in sample.regler if r.ordforande] == ["4.2", "5.2", "5.4", "5.9", "5.11"]


def test_sample_reserves_lag_2026_1600_decisions_to_the_utskott(
    sample: Delegationsordning,
) -> None:
    """SoL 30:7 mapped to lag 2026:1600 (docs/law-2027.md): no official may decide them."""
    new_law = [r for r in sample.regler if r.lagrum.startswith("lag 2026:1600")]
    assert len(new_law) == 12
    for r in new_law:
        assert r.lagsta_delegat == "utskott", r.id
        with pytest.raises(RuleViolation):
            sample.check(r.beslutstyp, r.lagrum, "socialchef")
    assert sample.check("omedelbart_omhandertagande", "lag 2026:1600 5 kap. 1 §", "utskott")


@pytest.mark.parametrize(
    ("beslutstyp", "lagrum", "lowest", "below"),
    [
        ("inleda_utredning", "SoL 14:2", "socialsekreterare", None),
        ("insats_oppenvard", "SoL 11:1", "socialsekreterare", None),
        ("forlangning_utredning", "SoL 20:3", "sektionschef", "gruppledare"),
        ("placering_familjehem", "SoL 11:1", "utskott", "socialchef"),
        ("overvagande", "SoL 22:13", "utskott", "socialchef"),
        ("ansokan_om_vard", "LVU 4 §", "utskott", "socialchef"),
    ],
)
def test_sample_rules_accept_lowest_and_reject_below(
    sample: Delegationsordning, beslutstyp: str, lagrum: str, lowest: str, below: str | None
) -> None:
    assert sample.check(beslutstyp, lagrum, lowest).lagsta_delegat == lowest
    if below is not None:
        with pytest.raises(RuleViolation) as info:
            sample.check(beslutstyp, lagrum, below)
        assert info.value.rule == "DELEG"
        assert f"requires at least {lowest}" in info.value.en
        assert f"lägst {lowest}" in info.value.sv


# --------------------------------------------------------------------------------------------
# Ladder comparison


@pytest.mark.parametrize("required", LADDER)
@pytest.mark.parametrize("roll", LADDER)
def test_ladder_comparison(roll: str, required: str) -> None:
    ordning = _one_rule_per_level()
    allowed = LADDER.index(roll) >= LADDER.index(required)
    assert role_satisfies(roll, required) is allowed
    if allowed:
        rule = ordning.check(f"typ_{required}", "SoL 11:1", roll)
        assert rule.lagsta_delegat == required
    else:
        with pytest.raises(RuleViolation, match=f"requires at least {required}"):
            ordning.check(f"typ_{required}", "SoL 11:1", roll)


def test_no_official_meets_a_political_rule_and_bodies_meet_every_official_rule() -> None:
    ordning = _one_rule_per_level()
    for official in OFFICIALS:
        with pytest.raises(RuleViolation):
            ordning.check("typ_utskott", "SoL 11:1", official)
        assert ordning.check("typ_sektionschef", "SoL 11:1", "utskott").id == "R2"
        assert ordning.check(f"typ_{official}", "SoL 11:1", "namnd").lagsta_delegat == official


def test_ordforande_only_where_the_rule_allows_it(sample: Delegationsordning) -> None:
    result = sample.assess("omedelbart_omhandertagande", "LVU 6 §", "ordforande")
    assert result.ordforande_bradskande
    assert result.requires_anmalan_till_namnden
    assert result.rule.id == "4.2"
    normal = sample.assess("omedelbart_omhandertagande", "LVU 6 §", "utskott")
    assert not normal.ordforande_bradskande
    for beslutstyp, lagrum in [("ansokan_om_vard", "LVU 4 §"), ("inleda_utredning", "SoL 14:2")]:
        with pytest.raises(RuleViolation, match="ordforande has no urgent decision right"):
            sample.check(beslutstyp, lagrum, "ordforande")
    assert not role_satisfies("ordforande", "socialsekreterare")


def test_anmalan_till_namnden(sample: Delegationsordning) -> None:
    assert sample.assess(
        "inleda_utredning", "SoL 14:2", "socialsekreterare"
    ).requires_anmalan_till_namnden
    assert sample.assess("overvagande", "SoL 22:13", "utskott").requires_anmalan_till_namnden
    # The nämnd's own decisions are not delegated, so nothing to report to it.
    assert not sample.assess("overvagande", "SoL 22:13", "namnd").requires_anmalan_till_namnden
    raw = _sample_document()
    raw["regler"][0]["anmalan_till_namnden"] = False
    ordning = delegationsordning_from_document(raw, "test", kommun="1280")
    assert not ordning.regler[0].requires_anmalan_till_namnden
    assert not ordning.assess(
        "inleda_utredning", "SoL 14:2", "socialchef"
    ).requires_anmalan_till_namnden


def test_unknown_combination_is_a_rule_violation(sample: Delegationsordning) -> None:
    with pytest.raises(RuleViolation, match="not in the delegationsordning of kommun 1280") as info:
        sample.check("placering_familjehem", "LVU 11 §", "namnd")
    assert info.value.rule == "DELEG"
    assert "finns inte i delegationsordningen" in info.value.sv
    with pytest.raises(RuleViolation, match="not in the delegationsordning"):
        sample.check("inleda_utredning", "SoL 11:1", "socialchef")


def test_lagrum_matching_ignores_spacing_and_case(sample: Delegationsordning) -> None:
    assert sample.check("omedelbart_omhandertagande", "lvu  6§", "utskott").id == "4.2"
    assert sample.check("overvagande", " SoL 22:13 ", "utskott").id == "3.9"


def test_unknown_role_is_a_rule_violation(sample: Delegationsordning) -> None:
    with pytest.raises(RuleViolation, match="role 'chef' is not a delegat role"):
        sample.check("inleda_utredning", "SoL 14:2", "chef")


def test_violation_names_the_rule_id_and_lagrum(sample: Delegationsordning) -> None:
    with pytest.raises(RuleViolation) as info:
        sample.check("forlangning_utredning", "SoL 20:3", "socialsekreterare")
    assert "rule 2.5 (SoL 20:3)" in info.value.en
    assert "punkt 2.5 (SoL 20:3)" in info.value.sv
    assert str(info.value).startswith("[DELEG] ")


# --------------------------------------------------------------------------------------------
# Amount thresholds


@pytest.mark.parametrize(
    ("belopp", "required"),
    [
        (0, "sektionschef"),
        (3999.99, "sektionschef"),
        (4000, "sektionschef"),  # "upp till 4 000" includes 4 000
        (4000.01, "verksamhetschef"),
        (8000, "verksamhetschef"),
        (8000.01, "utskott"),
        (25000, "utskott"),
    ],
)
def test_hvb_thresholds_at_the_boundary(
    sample: Delegationsordning, belopp: float, required: str
) -> None:
    assert sample.assess("placering_hvb", "SoL 11:1", required, belopp).required == required
    below = LADDER[LADDER.index(required) - 1]
    with pytest.raises(RuleViolation, match=f"requires at least {required} at {belopp:g} kr/dygn"):
        sample.check("placering_hvb", "SoL 11:1", below, belopp)


def test_threshold_rule_needs_an_amount(sample: Delegationsordning) -> None:
    with pytest.raises(RuleViolation, match="belopp_per_dygn is required"):
        sample.check("placering_hvb", "SoL 11:1", "socialchef")
    with pytest.raises(ValueError, match="non-negative"):
        sample.check("placering_hvb", "SoL 11:1", "socialchef", -1)
    with pytest.raises(ValueError, match="non-negative"):
        sample.check("placering_hvb", "SoL 11:1", "socialchef", float("nan"))


def test_amount_is_irrelevant_without_thresholds(sample: Delegationsordning) -> None:
    assert sample.check("insats_oppenvard", "SoL 11:1", "socialsekreterare", 99999).id == "3.1"
