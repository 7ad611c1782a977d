"""The environment as an operator meets it: every bad value is one line naming the variable
(secrets never echoed), and an empty value means unset where the setting has a default."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from infra.config.api import load_api_config
from infra.config.settings import SettingsError, load_settings


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"BARNFLOW_HOME": str(tmp_path / "home"), **extra}


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("BARNFLOW_MODE", "prod", ": must be 'dev' or 'production', got 'prod'"),
        ("BARNFLOW_DATABASE_URL", "nonsense", ": not a PostgreSQL connection URL"),
        ("BARNFLOW_DATABASE_SCHEMA", "Barn", ": must be a lower-case SQL identifier, got 'Barn'"),
        ("BARNFLOW_TEMPORAL_ADDRESS", "x", ": expected host:port, got 'x'"),
        ("BARNFLOW_TEMPORAL_NAMESPACE", "", ": must be a non-empty namespace name, got ''"),
        (
            "BARNFLOW_TASK_QUEUE",
            "a queue",
            ": letters, digits, '.', '_' and '-' only, got 'a queue'",
        ),
        ("BARNFLOW_CODEC_OLD_KEYS", "!!", "[0]: not valid base64"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    tmp_path: Path, name: str, value: str, line: str
) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(_env(tmp_path, **{name: value}))
    assert str(info.value) == f"{name}{line}"


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("BARNFLOW_API_MAX_BODY", "0", "expected a positive integer, got '0'"),
        ("BARNFLOW_API_MAX_IMPORT_BODY", "64M", "expected a positive integer, got '64M'"),
        ("BARNFLOW_API_MAX_INFLIGHT", "-3", "expected a positive integer, got '-3'"),
        ("BARNFLOW_API_COMMAND_TIMEOUT", "nan", "expected 0 < seconds <= 300, got 'nan'"),
        ("BARNFLOW_API_MAX_WAIT", "301", "expected 0 < seconds <= 300, got '301'"),
        ("BARNFLOW_JWT_KEY", base64.b64encode(b"k" * 31).decode(), "must decode to at least 32"),
    ],
)
def test_a_bad_api_setting_is_one_line_naming_it(
    tmp_path: Path, name: str, value: str, line: str
) -> None:
    settings = load_settings(_env(tmp_path))
    with pytest.raises(SettingsError) as info:
        load_api_config(settings, {name: value})
    assert str(info.value).startswith(f"{name}: {line}")
    assert "\n" not in str(info.value)


def test_a_bad_key_is_named_but_never_echoed(tmp_path: Path) -> None:
    secret = base64.b64encode(b"s" * 31).decode()  # one byte short: a near-miss of a real key
    for name in ("BARNFLOW_CIPHER_KEY", "BARNFLOW_JWT_KEY"):
        env = _env(tmp_path, **{name: secret})
        with pytest.raises(SettingsError) as info:
            load_api_config(load_settings(env), env)
        assert str(info.value).startswith(f"{name}: must decode to")
        assert secret not in str(info.value)


def test_empty_means_unset_where_a_default_exists(tmp_path: Path) -> None:
    empty = {
        name: ""
        for name in (
            "BARNFLOW_DATABASE_URL",
            "BARNFLOW_TEMPORAL_ADDRESS",
            "BARNFLOW_CIPHER_OLD_KEYS",
            "BARNFLOW_ALERT_SETTLE_SECONDS",
            "BARNFLOW_DELEGATION_DIR",
            "BARNFLOW_API_MAX_INFLIGHT",
        )
    }
    settings = load_settings(_env(tmp_path, **empty))
    assert settings.database.embedded and settings.temporal_address is None
    assert settings.keys.cipher_old == () and settings.alert_settle_seconds == 300.0
    assert load_api_config(settings, empty).max_inflight == 64
