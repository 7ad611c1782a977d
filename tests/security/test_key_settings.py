"""Keys: generated safely in dev, required in production, retired keys validated too."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import orjson
import pytest

from infra.config.settings import SettingsError, load_settings
from tests.security.cli import b64, barnflow, cli_env

THREE = {
    "BARNFLOW_CODEC_KEY": b64(b"c" * 32),
    "BARNFLOW_PSEUDONYM_KEY": b64(b"p" * 32),
    "BARNFLOW_CIPHER_KEY": b64(b"s" * 32),
}


def test_dev_default_generates_a_private_key_file_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = load_settings({"BARNFLOW_HOME": str(home)})
    key_file = home / "keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    stored = orjson.loads(key_file.read_bytes())
    assert base64.b64decode(stored["cipher"]) == first.keys.cipher
    assert len({first.keys.codec, first.keys.pseudonym, first.keys.cipher}) == 3
    again = load_settings({"BARNFLOW_HOME": str(home)})
    assert again.keys == first.keys


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    load_settings({"BARNFLOW_HOME": str(tmp_path)})
    (tmp_path / "keys.json").chmod(0o640)
    with pytest.raises(SettingsError, match="chmod 600"):
        load_settings({"BARNFLOW_HOME": str(tmp_path)})


@pytest.mark.parametrize("missing", sorted(THREE))
def test_production_refuses_to_start_without_each_key(tmp_path: Path, missing: str) -> None:
    env = {
        "BARNFLOW_HOME": str(tmp_path),
        "BARNFLOW_MODE": "production",
        "BARNFLOW_DATABASE_URL": "postgresql://u@db.example:5432/barnflow",
        **{k: v for k, v in THREE.items() if k != missing},
    }
    with pytest.raises(SettingsError, match=f"^{missing}: required when BARNFLOW_MODE=production"):
        load_settings(env)
    assert not (tmp_path / "keys.json").exists()  # production never falls back to a key file


def test_production_command_without_keys_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = cli_env(
        tmp_path,
        BARNFLOW_MODE="production",
        BARNFLOW_DATABASE_URL="postgresql://u@127.0.0.1:1/none",
    )
    run = barnflow("keys", "rotate", env=env)
    assert run.returncode == 2
    assert run.stderr == "barnflow: BARNFLOW_CODEC_KEY: required when BARNFLOW_MODE=production\n"


def test_retired_keys_are_parsed_and_validated(tmp_path: Path) -> None:
    old = [b"o" * 32, b"q" * 32]
    env = {
        "BARNFLOW_HOME": str(tmp_path),
        **THREE,
        "BARNFLOW_CIPHER_OLD_KEYS": ",".join(b64(k) for k in old),
        "BARNFLOW_CODEC_OLD_KEYS": b64(b"r" * 32),
    }
    keys = load_settings(env).keys
    assert keys.cipher_old == tuple(old) and keys.codec_old == (b"r" * 32,)
    env["BARNFLOW_CIPHER_OLD_KEYS"] = f"{b64(old[0])},{b64(b'short')}"
    with pytest.raises(SettingsError, match=r"^BARNFLOW_CIPHER_OLD_KEYS\[1\]: must decode to 32"):
        load_settings(env)


def test_keys_generate_prints_three_fresh_keys(tmp_path: Path) -> None:
    runs = [barnflow("keys", "generate", env=cli_env(tmp_path)) for _ in range(2)]
    outputs = []
    for run in runs:
        assert run.returncode == 0, run.stderr
        pairs = dict(line.split("=", 1) for line in run.stdout.splitlines())
        assert sorted(pairs) == sorted(THREE)
        assert all(len(base64.b64decode(v, validate=True)) == 32 for v in pairs.values())
        outputs.append(pairs)
    assert outputs[0]["BARNFLOW_CIPHER_KEY"] != outputs[1]["BARNFLOW_CIPHER_KEY"]
    # what it prints is accepted as configuration
    assert load_settings({"BARNFLOW_HOME": str(tmp_path / "h"), **outputs[0]}).keys.cipher
