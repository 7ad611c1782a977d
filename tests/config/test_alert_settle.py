"""BARNFLOW_ALERT_SETTLE_SECONDS: the settle window before an expired frist is alerted (default
300 s); a value that is not a number of seconds in range stops the start, naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.config.settings import SettingsError, load_settings


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"BARNFLOW_HOME": str(tmp_path / "home"), **extra}


def test_default_and_configured_window(tmp_path: Path) -> None:
    assert load_settings(_env(tmp_path)).alert_settle_seconds == 300.0
    configured = load_settings(_env(tmp_path, BARNFLOW_ALERT_SETTLE_SECONDS="45.5"))
    assert configured.alert_settle_seconds == 45.5
    assert (
        load_settings(_env(tmp_path, BARNFLOW_ALERT_SETTLE_SECONDS="0")).alert_settle_seconds == 0
    )


@pytest.mark.parametrize("value", ["five", "-1", "nan", "inf", "86401"])
def test_a_bad_window_is_refused_naming_the_setting(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match=r"^BARNFLOW_ALERT_SETTLE_SECONDS: seconds between"):
        load_settings(_env(tmp_path, BARNFLOW_ALERT_SETTLE_SECONDS=value))
