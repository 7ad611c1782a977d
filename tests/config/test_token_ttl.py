"""Token lifetime per role (BARNFLOW_API_TOKEN_TTL, BARNFLOW_API_TOKEN_TTL_ROLES): a bad value
stops the command with one line; ``barnflow token create`` issues the role's lifetime by default
and refuses a longer ``--ttl``; the API refuses a token valid for longer than its role may be."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import jwt
import pytest

from infra.api.auth import authenticate, create_jwt
from infra.api.problems import Problem
from infra.cli.main import main
from infra.config.api import TokenLifetimes, load_api_config, token_lifetimes
from infra.config.settings import SettingsError, load_settings
from infra.persistence.store import CaseStore

KEY = b"k" * 32


def test_default_is_an_hour_for_every_role() -> None:
    lifetimes = token_lifetimes({})
    assert lifetimes.for_role("operator") == 3600 and lifetimes.for_role("system") == 3600


def test_per_role_lifetimes_override_the_default() -> None:
    lifetimes = token_lifetimes(
        {
            "BARNFLOW_API_TOKEN_TTL": "1800",
            "BARNFLOW_API_TOKEN_TTL_ROLES": "operator=900, system=86400",
        }
    )
    assert lifetimes.for_role("operator") == 900
    assert lifetimes.for_role("system") == 86400
    assert lifetimes.for_role("handlaggare") == 1800


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("BARNFLOW_API_TOKEN_TTL", "0", "expected whole seconds, 1 to 2592000, got '0'"),
        ("BARNFLOW_API_TOKEN_TTL", "1h", "expected whole seconds, 1 to 2592000, got '1h'"),
        (
            "BARNFLOW_API_TOKEN_TTL_ROLES",
            "operater=900",
            "expected role=seconds with a role among system, handlaggare",
        ),
        ("BARNFLOW_API_TOKEN_TTL_ROLES", "operator", "expected role=seconds"),
        ("BARNFLOW_API_TOKEN_TTL_ROLES", "operator=15m", "operator: expected whole seconds"),
        ("BARNFLOW_API_TOKEN_TTL_ROLES", "system=9999999", "system: expected whole seconds"),
        ("BARNFLOW_API_TOKEN_TTL_ROLES", "system=60,system=90", "role 'system' is given twice"),
    ],
)
def test_a_bad_lifetime_stops_the_api_with_one_line(
    tmp_path: Path, name: str, value: str, line: str
) -> None:
    settings = load_settings({"BARNFLOW_HOME": str(tmp_path / "home")})
    with pytest.raises(SettingsError) as info:
        load_api_config(settings, {name: value})
    assert str(info.value).startswith(f"{name}: {line}")
    assert "\n" not in str(info.value)


def _exp_minus_iat(token: str) -> int:
    claims = jwt.decode(token, options={"verify_signature": False})
    return int(claims["exp"]) - int(claims["iat"])


def _token_create(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    *extra: str,
    env: dict[str, str] | None = None,
) -> tuple[int, str, str]:
    monkeypatch.setenv("BARNFLOW_HOME", str(tmp_path / "home"))
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    code = main(
        ["token", "create", "--kommun", "0180", "--subject", "s", "--role", "operator", *extra]
    )
    out, err = capsys.readouterr()
    return code, out.strip(), err


def test_token_create_issues_the_roles_lifetime(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    roles = {"BARNFLOW_API_TOKEN_TTL_ROLES": "operator=900"}
    code, token, _ = _token_create(monkeypatch, capsys, tmp_path, env=roles)
    assert code == 0 and _exp_minus_iat(token) == 900
    code, token, _ = _token_create(monkeypatch, capsys, tmp_path, "--ttl", "600", env=roles)
    assert code == 0 and _exp_minus_iat(token) == 600


def test_token_create_refuses_a_ttl_above_the_roles_maximum(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    roles = {"BARNFLOW_API_TOKEN_TTL_ROLES": "operator=900"}
    code, token, err = _token_create(monkeypatch, capsys, tmp_path, "--ttl", "901", env=roles)
    assert code == 2 and token == ""
    assert err.strip() == (
        "barnflow: --ttl 901: operator tokens live 1 to 900 seconds "
        "(BARNFLOW_API_TOKEN_TTL, BARNFLOW_API_TOKEN_TTL_ROLES)"
    )


def test_token_create_stops_on_a_bad_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = {"BARNFLOW_API_TOKEN_TTL_ROLES": "operator=soon"}
    code, token, err = _token_create(monkeypatch, capsys, tmp_path, env=bad)
    assert code == 2 and token == ""
    assert err.startswith("barnflow: BARNFLOW_API_TOKEN_TTL_ROLES: operator: expected whole")


def test_the_api_refuses_a_token_living_longer_than_its_role_may() -> None:
    lifetimes = TokenLifetimes(3600, {"operator": 900})
    store = cast(CaseStore, None)  # a JWT is checked without the store (API keys need it)
    day = create_jwt(KEY, subject="s", role="operator", kommun="0180", ttl_seconds=86400)
    with pytest.raises(Problem) as info:
        authenticate(store, KEY, f"Bearer {day}", lifetimes)
    assert info.value.status == 401
    assert "token lives longer than role operator may (900 s)" in str(info.value.detail)
    short = create_jwt(KEY, subject="s", role="operator", kommun="0180", ttl_seconds=900)
    assert authenticate(store, KEY, f"Bearer {short}", lifetimes).role == "operator"
    hour = create_jwt(KEY, subject="s", role="system", kommun="0180", ttl_seconds=3600)
    assert authenticate(store, KEY, f"Bearer {hour}", lifetimes).role == "system"
