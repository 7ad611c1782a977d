"""The placed child's policy keys (issue #15 B; docs/rules.md "Kommun configuration file"):
left out of the document while unset, so an existing file keeps its version id; validated with
the key path when set; read into the ``KommunPolicy`` the engine computes with."""

from __future__ import annotations

import tomllib
from datetime import date

import pytest

from domain.kommun import kommun_config_from_document
from infra.config.kommun import KommunConfigError, parse_kommun_config

PLAIN = {"kommun": "1280"}


def test_a_file_without_the_keys_has_the_document_and_version_it_had() -> None:
    loaded = parse_kommun_config(PLAIN, "test/1280.toml")
    assert "placering_krav_fran" not in loaded.document["policy"]
    assert "besok_tat_manader" not in loaded.document["policy"]
    # the version id of this document before issue #15 (content-addressed)
    assert loaded.version == "1280-9c4ff161bcdf"


def test_the_keys_reach_the_policy_from_toml_and_from_the_stored_document() -> None:
    text = (
        'kommun = "1280"\n[policy]\nplacering_krav_fran = 2026-12-01\n'
        "besok_tat_intervall_manader = 2\nalder18_varning_manader = 9\n"
    )
    loaded = parse_kommun_config(tomllib.loads(text), "test/1280.toml")
    stored = kommun_config_from_document(loaded.document)
    for policy in (loaded.config.policy, stored.policy):
        assert policy.placering_krav_fran == date(2026, 12, 1)
        assert policy.besok_tat_intervall_manader == 2
        assert policy.alder18_varning_manader == 9
        assert policy.besok_senare_intervall_manader == 3  # unset: the default


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("besok_tat_intervall_manader", 0),
        ("placering_plan_dagar", 91),
        ("alder18_varning_manader", 25),
    ],
)
def test_out_of_range_values_are_refused_naming_the_key(key: str, value: int) -> None:
    with pytest.raises(KommunConfigError) as exc:
        parse_kommun_config({"kommun": "1280", "policy": {key: value}}, "test/1280.toml")
    assert key in str(exc.value)
