"""BARNFLOW_AGGREGATE_CACHE: how many cases' aggregates one process keeps in memory (default 1,000,
as many as the worker's default sticky cache holds workflows; docs/operations.md "Memory"). A
process holds no more than that, and a value out of range stops the start, naming the setting."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.events import parse_event
from domain.ids import case_id_for
from infra.bootstrap import open_store
from infra.config.settings import DEFAULT_AGGREGATE_CACHE, SettingsError, load_settings
from tests.factories import anmalan


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"BARNFLOW_HOME": str(tmp_path / "home"), **extra}


def test_default_and_configured_size(tmp_path: Path) -> None:
    assert load_settings(_env(tmp_path)).aggregate_cache == DEFAULT_AGGREGATE_CACHE == 1000
    assert load_settings(_env(tmp_path, BARNFLOW_AGGREGATE_CACHE="50")).aggregate_cache == 50


@pytest.mark.parametrize("value", ["many", "0", "-5", "2.5", "100001"])
def test_a_bad_size_is_refused_naming_the_setting(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match=r"^BARNFLOW_AGGREGATE_CACHE: a whole number of cases"):
        load_settings(_env(tmp_path, BARNFLOW_AGGREGATE_CACHE=value))


def test_a_process_keeps_no_more_cases_in_memory_than_configured(
    tmp_path: Path, pg_url: str, schema: str
) -> None:
    settings = load_settings(
        _env(
            tmp_path,
            BARNFLOW_DATABASE_SCHEMA=schema,
            BARNFLOW_AGGREGATE_CACHE="3",
        )
    )
    at = datetime.now(UTC) - timedelta(days=1)
    with open_store(settings, pg_url) as (store, _env_used):
        for i in range(5):
            store.record(parse_event(anmalan(at, case_ref=f"AGG-{i}", key=f"agg-cache-{i}")))
        cache = store.repository.cache
        assert cache is not None
        held = []
        for i in range(5):
            with contextlib.suppress(KeyError):
                held.append(cache.get(case_id_for("1280", f"AGG-{i}")).version)
        assert len(held) == 3  # the three cases written last; the first two were let go
