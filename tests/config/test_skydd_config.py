"""``[skydd] roller`` of a kommun file (docs/rules.md "Kommun configuration file"): the roles that
read a protected case; an operator is refused, and a file without the table keeps its version."""

from __future__ import annotations

import pytest

from domain.protection import DEFAULT_ROLES
from infra.config.kommun import KommunConfigError, KommunConfigs, parse_kommun_config


def test_a_file_names_its_roles_and_without_them_the_default_and_the_same_version() -> None:
    plain = parse_kommun_config({"kommun": "1280", "klagomal": {"dagar": 7}}, "a.toml")
    assert "skydd" not in plain.document  # no new key in the document: the version id stays
    assert plain.config.skydd_roller == DEFAULT_ROLES
    named = parse_kommun_config(
        {"kommun": "1280", "klagomal": {"dagar": 7},
         "skydd": {"roller": ["handlaggare_skydd", "arbetsledare", "arbetsledare"]}},
        "b.toml",
    )  # fmt: skip
    assert named.config.skydd_roller == ("arbetsledare", "handlaggare_skydd")
    assert named.version != plain.version
    configs = KommunConfigs({"1280": named})
    assert configs.skydd_roles("1280") == ("arbetsledare", "handlaggare_skydd")
    assert configs.skydd_roles("0180") == DEFAULT_ROLES  # no file: the default


@pytest.mark.parametrize(
    ("roller", "message"),
    [(["operator"], "skydd.roller[0]: operator never reads"), ([], "skydd.roller: must name")],
)
def test_an_operator_or_no_role_is_refused_in_one_line(roller: list[str], message: str) -> None:
    with pytest.raises(KommunConfigError) as info:
        parse_kommun_config({"kommun": "1280", "skydd": {"roller": roller}}, "c.toml")
    assert str(info.value).startswith(message) and str(info.value).endswith("(in c.toml)")
