"""BARNFLOW_DELEGATION_DIR: each kommun's delegationsordning is validated at start, and a bad
file stops the start with one line naming the file and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.config.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "config" / "delegationsordning.sample.toml"


def _env(tmp_path: Path, directory: Path) -> dict[str, str]:
    return {"BARNFLOW_HOME": str(tmp_path / "home"), "BARNFLOW_DELEGATION_DIR": str(directory)}


def test_the_ordning_of_each_kommun_is_loaded(tmp_path: Path) -> None:
    conf = tmp_path / "deleg"
    conf.mkdir()
    shutil.copy(SAMPLE, conf / "1280.toml")
    settings = load_settings(_env(tmp_path, conf))
    ordning = settings.delegationsordning("1280")
    assert ordning is not None and ordning["kommun"] == "1280"
    assert ordning["giltig_fran"] == "2026-01-01"  # JSON-safe: it travels with commands
    assert settings.delegationsordning("0127") is None  # no file: no delegation check


def test_a_bad_file_stops_the_start_with_one_line(tmp_path: Path) -> None:
    conf = tmp_path / "deleg"
    conf.mkdir()
    bad = SAMPLE.read_text().replace('lagsta_delegat = "utskott"', 'lagsta_delegat = "chef"', 1)
    (conf / "1280.toml").write_text(bad)
    with pytest.raises(SettingsError, match=r"BARNFLOW_DELEGATION_DIR: regler\[\d+\]"):
        load_settings(_env(tmp_path, conf))
    with pytest.raises(SettingsError) as info:
        load_settings(_env(tmp_path, conf))
    message = str(info.value)
    assert "\n" not in message and "unknown role 'chef'" in message and "1280.toml" in message


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="is not a directory"):
        load_settings(_env(tmp_path, tmp_path / "nope"))
