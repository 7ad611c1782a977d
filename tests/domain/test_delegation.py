"""Tests for domain.delegation: sample config, ladder policy, thresholds and config errors."""

from __future__ import annotations

import copy
import re
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.delegation import (
    DelegationConfigError,
    Delegationsordning,
    load_delegationsordning,
    parse_delegationsordning,
    role_satisfies,
)
from domain.errors import RuleViolation

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "delegationsordning.sample.toml"

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
    return load_delegationsordning(SAMPLE)


def _raw_sample() -> dict[str, Any]:
    with SAMPLE.open("rb") as handle:
        return tomllib.load(handle)


def _one_rule_per_level() -> Delegationsordning:
    return parse_delegationsordning(
        {
            "kommun": "0127",
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
    )


# --------------------------------------------------------------------------------------------
# The sample


def test_sample_loads(sample: Delegationsordning) -> None:
    assert sample.kommun == "1280"
    assert sample.giltig_fran == date(2026, 1, 1)
    assert sample.source == str(SAMPLE)
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
    raw = _raw_sample()
    raw["regler"][0]["anmalan_till_namnden"] = False
    ordning = parse_delegationsordning(raw, "test")
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


# --------------------------------------------------------------------------------------------
# Config errors


def _set(path: list[Any], value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(_raw_sample())
    target: Any = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return raw


def _delete(path: list[Any]) -> dict[str, Any]:
    raw = copy.deepcopy(_raw_sample())
    target: Any = raw
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return raw


def _with_extra_rule(rule: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(_raw_sample())
    raw["regler"].append(rule)
    return raw


HVB = 5  # index of the HVB rule in the sample

CONFIG_ERRORS = [
    (
        _set(["regler", 3, "lagsta_delegat"], "chef"),
        "regler[3].lagsta_delegat: unknown role 'chef'",
    ),
    (_delete(["regler", 0, "lagrum"]), "regler[0].lagrum: missing required key"),
    (_delete(["kommun"]), "kommun: missing required key"),
    (_delete(["regler"]), "regler: missing required key"),
    (
        _set(["regler", 1, "ordforande"], "ja"),
        "regler[1].ordforande: expected a boolean, got string",
    ),
    (_set(["regler", 1, "id"], 21), "regler[1].id: expected a string, got integer"),
    (_set(["regler"], "none"), "regler: expected an array of tables, got string"),
    (_set(["regler"], []), "regler: must contain at least one rule"),
    (_set(["regler", 2], "x"), "regler[2]: expected a table, got string"),
    (_set(["kommun"], 1280), "kommun: expected a string, got integer"),
    (_set(["kommun"], "128"), "kommun: expected a 4-digit kommunkod"),
    (_set(["giltig_fran"], "2026-01-01"), "giltig_fran: expected a date, got string"),
    (_set(["giltig_fran"], datetime(2026, 1, 1)), "giltig_fran: expected a date, got datetime"),
    (_set(["regler", 0, "beslutstyp"], "  "), "regler[0].beslutstyp: must not be empty"),
    (_set(["regler", 0, "delegat"], "x"), "regler[0].delegat: unknown key"),
    (_set(["delegater"], []), "delegater: unknown key"),
    (
        _set(["regler", 1, "id"], "2.1"),
        "regler[1].id: duplicate id '2.1' (also regler[0])",
    ),
    (
        _with_extra_rule(
            {
                "id": "9.9",
                "beslutstyp": "overvagande",
                "lagrum": "SoL  22:13",
                "lagsta_delegat": "namnd",
            }
        ),
        "regler[21]: duplicate rule for beslutstyp 'overvagande' and lagrum 'SoL  22:13' "
        "(also regler[6])",
    ),
    (
        _set(["regler", 0, "lagsta_delegat"], "ordforande"),
        "regler[0].lagsta_delegat: ordforande is not a ladder level",
    ),
    (
        _set(["regler", 0, "ordforande"], True),
        "regler[0].ordforande: the ordförande's urgent decision right only complements",
    ),
    (
        _set(["regler", 4, "ordforande"], True),
        "regler[4].ordforande: only LVU decisions may be urgent",
    ),
    (
        _set(["regler", HVB, "beloppsgranser", 1, "over_kr_per_dygn"], 4000),
        f"regler[{HVB}].beloppsgranser[1].over_kr_per_dygn: thresholds must be in increasing order",
    ),
    (
        _set(["regler", HVB, "beloppsgranser", 0, "over_kr_per_dygn"], True),
        f"regler[{HVB}].beloppsgranser[0].over_kr_per_dygn: expected a number, got boolean",
    ),
    (
        _set(["regler", HVB, "beloppsgranser", 0, "over_kr_per_dygn"], -5),
        f"regler[{HVB}].beloppsgranser[0].over_kr_per_dygn: must be a non-negative number",
    ),
    (
        _delete(["regler", HVB, "beloppsgranser", 0, "over_kr_per_dygn"]),
        f"regler[{HVB}].beloppsgranser[0].over_kr_per_dygn: missing required key",
    ),
    (
        _set(["regler", HVB, "beloppsgranser", 0, "lagsta_delegat"], "gruppledare"),
        f"regler[{HVB}].beloppsgranser[0].lagsta_delegat: 'gruppledare' must be above",
    ),
    (
        _set(["regler", HVB, "beloppsgranser", 1, "lagsta_delegat"], "verksamhetschef"),
        f"regler[{HVB}].beloppsgranser[1].lagsta_delegat: 'verksamhetschef' must be above",
    ),
    (
        _set(["regler", HVB, "beloppsgranser"], []),
        f"regler[{HVB}].beloppsgranser: must not be empty",
    ),
    (
        _set(["regler", HVB, "beloppsgranser", 0, "belopp"], 1),
        f"regler[{HVB}].beloppsgranser[0].belopp: unknown key",
    ),
]


@pytest.mark.parametrize(
    ("raw", "message"), CONFIG_ERRORS, ids=[m.split(":")[0] for _, m in CONFIG_ERRORS]
)
def test_config_errors_name_the_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(DelegationConfigError) as info:
        parse_delegationsordning(raw, "kommun-1280.toml")
    assert str(info.value).startswith(message), str(info.value)
    assert str(info.value).endswith("(in kommun-1280.toml)")
    assert info.value.path == message.split(": ", maxsplit=1)[0]


def test_unmodified_sample_mapping_is_valid() -> None:
    """Guard for the table above: its errors come from the mutation, not from the sample."""
    assert len(parse_delegationsordning(_raw_sample(), "x").regler) == 21
    assert _raw_sample()["regler"][HVB]["beslutstyp"] == "placering_hvb"


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('kommun = "1280"\n[[regler]\n', encoding="utf-8")
    with pytest.raises(DelegationConfigError, match=re.escape("not valid TOML")) as info:
        load_delegationsordning(bad)
    assert info.value.source == str(bad)
