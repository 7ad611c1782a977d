"""Kommun configuration files (issue 13, item 4): one TOML file per kommun in BARNFLOW_KOMMUN_DIR,
validated with pydantic at start (unknown keys and coercions refused, one line naming the key
path and the file), each version identified by its content."""

from __future__ import annotations

import copy
import shutil
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from domain.kommun import config_version
from infra.config.kommun import (
    KommunConfigError,
    load_kommun_dir,
    load_kommun_file,
    parse_kommun_config,
)
from infra.config.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "config" / "kommun.sample.toml"


def _raw_sample() -> dict[str, Any]:
    with SAMPLE.open("rb") as handle:
        return tomllib.load(handle)


def _env(tmp_path: Path, **more: str) -> dict[str, str]:
    return {"BARNFLOW_HOME": str(tmp_path / "home"), **more}


# ---------------------------------------------------------------------------- the sample
def test_the_sample_is_valid_and_carries_policy_and_delegationsordning() -> None:
    loaded = load_kommun_file(SAMPLE)
    config = loaded.config
    assert (config.kommun, config.namn) == ("1280", "Malmö")
    assert config.policy.klagomal_dagar == 14
    assert config.policy.verkstallighet_mal_dagar["oppenvard"] == 7
    assert config.policy.sondagsregel == frozenset()
    assert config.delegationsordning is not None
    assert len(config.delegationsordning.regler) == 49
    assert config.delegationsordning.source == str(SAMPLE)
    assert config.version == config_version(loaded.document)
    assert config.version.startswith("1280-") and len(config.version) == len("1280-") + 12


# ---------------------------------------------------------------------------- versions
def test_the_version_follows_the_content_not_the_spelling_of_the_file(tmp_path: Path) -> None:
    """Comments, key order, stated defaults and the order of söndagsregel ids do not make a new
    version; any change of content does."""
    base = load_kommun_file(SAMPLE).version
    respelled = tmp_path / "1280.toml"
    respelled.write_text(
        "# the same content\n"
        + SAMPLE.read_text(encoding="utf-8").replace(
            "[klagomal]\ndagar = 14", "[klagomal]\ndagar = 14  # the default, stated"
        ),
        encoding="utf-8",
    )
    assert load_kommun_file(respelled).version == base
    twice = parse_kommun_config(
        {"kommun": "0127", "sondagsregel": {"regler": ["B1", "A2", "A2"]}}, "a"
    )
    once = parse_kommun_config({"kommun": "0127", "sondagsregel": {"regler": ["A2", "B1"]}}, "b")
    assert twice.version == once.version
    changed = respelled.read_text(encoding="utf-8").replace("dagar = 14", "dagar = 10", 1)
    respelled.write_text(changed, encoding="utf-8")
    other = load_kommun_file(respelled)
    assert other.version != base and other.config.policy.klagomal_dagar == 10


def test_a_kommun_without_delegationsordning_is_not_delegation_checked() -> None:
    loaded = parse_kommun_config({"kommun": "0127", "klagomal": {"dagar": 7}}, "0127.toml")
    assert loaded.config.delegationsordning is None
    assert loaded.document["delegationsordning"] is None
    assert loaded.config.policy.klagomal_dagar == 7


# ---------------------------------------------------------------------------- BARNFLOW_KOMMUN_DIR
def test_each_kommun_file_is_loaded_once_at_start(tmp_path: Path) -> None:
    conf = tmp_path / "kommun"
    conf.mkdir()
    shutil.copy(SAMPLE, conf / "1280.toml")
    (conf / "0127.toml").write_text('kommun = "0127"\n[klagomal]\ndagar = 7\n', encoding="utf-8")
    settings = load_settings(_env(tmp_path, BARNFLOW_KOMMUN_DIR=str(conf)))
    configs = settings.kommun_configs
    assert sorted(configs.versions()) == ["0127", "1280"]
    assert settings.kommun_config("1280") == load_kommun_file(SAMPLE).version
    assert configs.policy("0127").klagomal_dagar == 7
    assert settings.kommun_config("9999") is None  # no file: the defaults, no delegation check
    assert configs.policy("9999").klagomal_dagar == 14


def test_a_bad_file_stops_the_start_with_one_line_naming_file_and_key(tmp_path: Path) -> None:
    conf = tmp_path / "kommun"
    conf.mkdir()
    bad = SAMPLE.read_text().replace('lagsta_delegat = "utskott"', 'lagsta_delegat = "chef"', 1)
    (conf / "1280.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        load_settings(_env(tmp_path, BARNFLOW_KOMMUN_DIR=str(conf)))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("BARNFLOW_KOMMUN_DIR: delegationsordning.regler[5].lagsta_delegat: ")
    assert "unknown role 'chef'" in message
    assert message.endswith(f"(in {conf / '1280.toml'})")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "<directory>: no *.toml kommun file"),
        (
            {"a.toml": 'kommun = "0127"\n', "b.toml": 'kommun = "0127"\n'},
            "kommun: kommun 0127 is configured in",
        ),
        ({"a.toml": 'kommun = "0127"\n[klagomal\n'}, "<file>: not valid TOML"),
    ],
)
def test_a_directory_that_cannot_be_used_is_refused(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    conf = tmp_path / "kommun"
    conf.mkdir()
    for name, text in files.items():
        (conf / name).write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        load_settings(_env(tmp_path, BARNFLOW_KOMMUN_DIR=str(conf)))
    assert str(info.value).startswith(f"BARNFLOW_KOMMUN_DIR: {message}"), str(info.value)


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"<directory>: not a directory"):
        load_settings(_env(tmp_path, BARNFLOW_KOMMUN_DIR=str(tmp_path / "nope")))


def test_the_old_delegation_dir_is_refused_rather_than_silently_ignored(tmp_path: Path) -> None:
    """Ignoring it would switch every delegation check off without a word."""
    with pytest.raises(SettingsError) as info:
        load_settings(_env(tmp_path, BARNFLOW_DELEGATION_DIR=str(tmp_path)))
    assert str(info.value).startswith("BARNFLOW_DELEGATION_DIR: replaced by BARNFLOW_KOMMUN_DIR")


# ---------------------------------------------------------------------------- errors
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
    raw["delegationsordning"]["regler"].append(rule)
    return raw


D = "delegationsordning"
R = [D, "regler"]
HVB = 6  # index of the HVB rule in the sample

CONFIG_ERRORS = [
    # the delegationsordning table
    (_set([*R, 3, "lagsta_delegat"], "chef"), f"{D}.regler[3].lagsta_delegat: unknown role 'chef'"),
    (_delete([*R, 0, "lagrum"]), f"{D}.regler[0].lagrum: missing required key"),
    (_delete([D, "regler"]), f"{D}.regler: missing required key"),
    (
        _set([*R, 1, "ordforande"], "ja"),
        f"{D}.regler[1].ordforande: Input should be a valid boolean",
    ),
    (_set([*R, 1, "id"], 21), f"{D}.regler[1].id: Input should be a valid string, got 21"),
    (_set(R, "none"), f"{D}.regler: Input should be a valid list"),
    (_set(R, []), f"{D}.regler: must contain at least one rule"),
    (_set([*R, 2], "x"), f"{D}.regler[2]: Input should be a valid dictionary or instance of"),
    (_set([D, "giltig_fran"], "2026-01-01"), f"{D}.giltig_fran: Input should be a valid date"),
    (
        _set([D, "giltig_fran"], datetime(2026, 1, 1)),
        f"{D}.giltig_fran: Input should be a valid date",
    ),
    (_set([*R, 0, "beslutstyp"], "  "), f"{D}.regler[0].beslutstyp: must not be empty"),
    (_set([*R, 0, "delegat"], "x"), f"{D}.regler[0].delegat: unknown key"),
    (_set([D, "delegater"], []), f"{D}.delegater: unknown key"),
    (_set([D, "kommun"], "1280"), f"{D}.kommun: unknown key"),  # the file's kommun applies
    (_set([*R, 1, "id"], "2.1"), f"{D}.regler[1].id: duplicate id '2.1' (also regler[0])"),
    (
        _with_extra_rule(
            {
                "id": "9.9",
                "beslutstyp": "overvagande",
                "lagrum": "SoL  22:13",
                "lagsta_delegat": "namnd",
            }
        ),
        f"{D}.regler[49]: duplicate rule for beslutstyp 'overvagande' and lagrum 'SoL  22:13' "
        "(also regler[8])",
    ),
    (
        _set([*R, 0, "lagsta_delegat"], "ordforande"),
        f"{D}.regler[0].lagsta_delegat: ordforande is not a ladder level",
    ),
    (
        _set([*R, 0, "ordforande"], True),
        f"{D}.regler[0].ordforande: the ordförande's urgent decision right only complements",
    ),
    (
        _set([*R, 5, "ordforande"], True),
        f"{D}.regler[5].ordforande: only LVU decisions may be urgent",
    ),
    (
        _set([*R, HVB, "beloppsgranser", 1, "over_kr_per_dygn"], 4000),
        f"{D}.regler[{HVB}].beloppsgranser[1].over_kr_per_dygn: thresholds must be in "
        "increasing order",
    ),
    (
        _set([*R, HVB, "beloppsgranser", 0, "over_kr_per_dygn"], True),
        f"{D}.regler[{HVB}].beloppsgranser[0].over_kr_per_dygn: Input should be a valid number",
    ),
    (
        _set([*R, HVB, "beloppsgranser", 0, "over_kr_per_dygn"], -5),
        f"{D}.regler[{HVB}].beloppsgranser[0].over_kr_per_dygn: must be a non-negative number",
    ),
    (
        _set([*R, HVB, "beloppsgranser", 0, "over_kr_per_dygn"], float("nan")),
        f"{D}.regler[{HVB}].beloppsgranser[0].over_kr_per_dygn: must be a non-negative number",
    ),
    (
        _delete([*R, HVB, "beloppsgranser", 0, "over_kr_per_dygn"]),
        f"{D}.regler[{HVB}].beloppsgranser[0].over_kr_per_dygn: missing required key",
    ),
    (
        _set([*R, HVB, "beloppsgranser", 0, "lagsta_delegat"], "gruppledare"),
        f"{D}.regler[{HVB}].beloppsgranser[0].lagsta_delegat: 'gruppledare' must be above",
    ),
    (
        _set([*R, HVB, "beloppsgranser", 1, "lagsta_delegat"], "verksamhetschef"),
        f"{D}.regler[{HVB}].beloppsgranser[1].lagsta_delegat: 'verksamhetschef' must be above",
    ),
    (
        _set([*R, HVB, "beloppsgranser"], []),
        f"{D}.regler[{HVB}].beloppsgranser: must not be empty",
    ),
    (
        _set([*R, HVB, "beloppsgranser", 0, "belopp"], 1),
        f"{D}.regler[{HVB}].beloppsgranser[0].belopp: unknown key",
    ),
    # the kommun and its policy
    (_delete(["kommun"]), "kommun: missing required key"),
    (_set(["kommun"], 1280), "kommun: Input should be a valid string, got 1280"),
    (_set(["kommun"], "128"), "kommun: expected a 4-digit kommunkod"),
    (_set(["okand"], 1), "okand: unknown key"),
    (
        _set(["klagomal", "dagar"], "14"),
        "klagomal.dagar: Input should be a valid integer, got '14'",
    ),
    (_set(["klagomal", "dagar"], 0), "klagomal.dagar: Input should be greater than or equal to 1"),
    (_set(["klagomal", "timmar"], 3), "klagomal.timmar: unknown key"),
    (
        _set(["policy", "lex_sarah_ivo_dagar"], -1),
        "policy.lex_sarah_ivo_dagar: Input should be greater than or equal to 0",
    ),
    (
        _set(["policy", "lex_sarah_utredning_dagar"], "14"),
        "policy.lex_sarah_utredning_dagar: Input should be a valid integer, got '14'",
    ),
    (_set(["verkstallighet", "raket"], 3), "verkstallighet.raket: unknown insatstyp"),
    (
        _set(["verkstallighet", "oppenvard"], -1),
        "verkstallighet.oppenvard: Input should be greater",
    ),
    (_set(["sondagsregel", "regler"], ["Z9"]), "sondagsregel.regler[0]: unknown rule id 'Z9'"),
    (_set(["sondagsregel", "regler"], ["A2", "E2"]), "sondagsregel.regler[1]: E2 may not use"),
    (_set(["sondagsregel", "regler"], "A2"), "sondagsregel.regler: Input should be a valid list"),
    (_set(["policy", "d3_start"], "igar"), "policy.d3_start: Input should be 'beslut' or"),
    (
        _set(["policy", "a1_nasta_dag_efter"], "25:00"),
        "policy.a1_nasta_dag_efter: must be a time \"HH:MM\", got '25:00'",
    ),
    (
        _set(["policy", "d10_per_arende"], "ja"),
        "policy.d10_per_arende: Input should be a valid boo",
    ),
    (
        _set(["policy", "a3_begaran_antas"], 1),
        "policy.a3_begaran_antas: Input should be a valid bo",
    ),
    (
        _set(["policy", "overklagande_overlamnande_dagar"], "7"),
        "policy.overklagande_overlamnande_dagar: Input should be a valid integer, got '7'",
    ),
    (
        _set(["policy", "overklagande_overlamnande_dagar"], 0),
        "policy.overklagande_overlamnande_dagar: Input should be greater than or equal to 1",
    ),
    (
        _set(["policy", "overklagande_overlamnande_dagar"], 31),
        "policy.overklagande_overlamnande_dagar: Input should be less than or equal to 30",
    ),
    (_set(["policy"], "x"), "policy: Input should be a valid dictionary or instance of"),
]


@pytest.mark.parametrize(
    ("raw", "message"), CONFIG_ERRORS, ids=[m.split(":")[0] for _, m in CONFIG_ERRORS]
)
def test_config_errors_are_one_line_naming_key_path_and_file(
    raw: dict[str, Any], message: str
) -> None:
    with pytest.raises(KommunConfigError) as info:
        parse_kommun_config(raw, "kommun/1280.toml")
    text = str(info.value)
    assert text.startswith(message), text
    assert text.endswith("(in kommun/1280.toml)") and "\n" not in text
    assert info.value.path == message.split(": ", maxsplit=1)[0]


def test_the_unmodified_sample_mapping_is_valid() -> None:
    """Guard for the table above: its errors come from the mutation, not from the sample."""
    assert parse_kommun_config(_raw_sample(), "x").config.delegationsordning is not None
    assert _raw_sample()["delegationsordning"]["regler"][HVB]["beslutstyp"] == "placering_hvb"


def test_the_appeal_forwarding_days_reach_the_policy_and_make_a_new_version() -> None:
    """POL-OVERKLAGANDE-OVERLAMNANDE (O2): the kommun's days for "skyndsamt" (FL 46 §) are part
    of its configuration; left out, the documented 7 days apply."""
    sample = parse_kommun_config(_raw_sample(), "x")
    assert sample.config.policy.overklagande_overlamnande_dagar == 7
    left_out = parse_kommun_config(_delete(["policy", "overklagande_overlamnande_dagar"]), "x")
    assert left_out.config.policy.overklagande_overlamnande_dagar == 7
    assert left_out.version == sample.version
    faster = parse_kommun_config(_set(["policy", "overklagande_overlamnande_dagar"], 3), "x")
    assert faster.config.policy.overklagande_overlamnande_dagar == 3
    assert faster.version != sample.version


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('kommun = "1280"\n[[delegationsordning.regler]\n', encoding="utf-8")
    with pytest.raises(KommunConfigError, match="not valid TOML") as info:
        load_kommun_file(bad)
    assert info.value.source == str(bad)


def test_every_directory_file_is_checked_by_the_same_models(tmp_path: Path) -> None:
    conf = tmp_path / "kommun"
    conf.mkdir()
    (conf / "0127.toml").write_text('kommun = "0127"\nnamn = 3\n', encoding="utf-8")
    with pytest.raises(KommunConfigError, match=r"^namn: Input should be a valid string"):
        load_kommun_dir(conf)
