"""Stored kommun configuration versions (issue 13, item 4): every version a process starts with is
stored append-only at start, each row is checked against its version id when read, and an
auditor reads any version back with ``barnflow kommun list`` / ``show``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from infra.persistence.kommun_config import (
    UnknownKommunConfig,
    fetch,
    resolve,
    store_versions,
    verified,
)
from infra.persistence.store import eventsourcing_env
from tests.conftest import CIPHER_KEY
from tests.kommun_configs import kommun_config, store_configs
from tests.projections.test_kill import _cli_env

ROOT = Path(__file__).resolve().parents[2]
BARNFLOW = [sys.executable, "-m", "infra.cli"]


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_versions_are_stored_once_append_only_and_verified_on_read(
    pg_url: str, schema: str
) -> None:
    seven = kommun_config("0127", klagomal={"dagar": 7})
    env = store_configs(eventsourcing_env(pg_url, schema, CIPHER_KEY), seven)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert store_versions(conn, schema, [seven]) == []  # stored already: nothing new
        stored = fetch(conn, schema, seven.version)
        assert stored is not None and stored.document == seven.document
        assert verified(stored) == seven.config
        table = sql.SQL("{}.kommun_config").format(sql.Identifier(schema))
        for statement in (
            sql.SQL("UPDATE {} SET source = 'x'").format(table),
            sql.SQL("DELETE FROM {}").format(table),
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)
        with pytest.raises(UnknownKommunConfig, match="no stored kommun configuration"):
            resolve(conn, schema, "0127-000000000000")
    # a row whose content is not the one its id names is refused, never computed with
    changed = stored.__class__(**{**stored.__dict__, "document": {**stored.document, "namn": "x"}})
    with pytest.raises(UnknownKommunConfig, match="does not match its version id"):
        verified(changed)
    assert env["KOMMUN_CONFIG_VERSIONS"] == json.dumps({"0127": seven.version}).replace(" ", "")


def test_an_auditor_lists_and_reads_back_every_version(
    pg_url: str, schema: str, tmp_path: Path
) -> None:
    conf = tmp_path / "kommun"
    conf.mkdir()
    shutil.copy(ROOT / "config" / "kommun.sample.toml", conf / "1280.toml")
    env = {**_cli_env(tmp_path / "home", pg_url, schema), "BARNFLOW_KOMMUN_DIR": str(conf)}
    first = _run("kommun", "list", env=env)  # every command stores the versions it starts with
    assert first.returncode == 0, first.stderr
    [line] = first.stdout.splitlines()
    version = line.split()[0]
    assert line.endswith(f"{conf / '1280.toml'}  (in force here)")
    # the nämnd changes K1 to 10 days: a new version; the old one stays readable
    text = (conf / "1280.toml").read_text(encoding="utf-8")
    (conf / "1280.toml").write_text(text.replace("dagar = 14", "dagar = 10", 1), "utf-8")
    listed = _run("kommun", "list", "--kommun", "1280", env=env).stdout.splitlines()
    assert len(listed) == 2 and listed[0].split()[0] == version
    assert not listed[0].endswith("(in force here)") and listed[1].endswith("(in force here)")
    shown = _run("kommun", "show", version, env=env)
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert (doc["version"], doc["document"]["klagomal"]["dagar"]) == (version, 14)
    assert len(doc["document"]["delegationsordning"]["regler"]) == 21
    missing = _run("kommun", "show", "1280-000000000000", env=env)
    assert missing.returncode == 2
    assert missing.stderr == "barnflow: no stored kommun configuration '1280-000000000000'\n"
