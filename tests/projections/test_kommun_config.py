"""The report views and a kommun's configuration versions (docs/rules.md, "Which configuration
version applies"): the views compute with the versions in force in their writer and record them;
a writer started with another version refolds the record first; readers and the as-known-at
reports compute with the views' versions, whatever their own process has in force."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from domain.calendar import STOCKHOLM
from domain.events import parse_event
from infra.persistence.store import CaseStore, eventsourcing_env
from projections.periods import parse_period
from projections.reports import REPORTS, dumps, views_config
from projections.runner import caught_up, rebuild
from projections.view import open_view
from tests.conftest import CIPHER_KEY
from tests.factories import PNR_GIRL, line
from tests.kommun_configs import kommun_config, store_configs

LOADED = datetime(2026, 4, 1, 12, 0, tzinfo=STOCKHOLM)
RECEIVED = date(2026, 3, 2)
AS_OF = parse_period("as_of", "2026-03-31")
SEVEN = kommun_config("1280", klagomal={"dagar": 7})
THREE = kommun_config("1280", klagomal={"dagar": 3})


def _case(store: CaseStore) -> None:
    def at(day: date) -> datetime:
        return datetime.combine(day, time(10), tzinfo=STOCKHOLM)

    rows: list[tuple[date, str, dict[str, Any]]] = [
        (
            RECEIVED,
            "anmalan_mottagen",
            {
                "anmalan_id": "A1",
                "barn": {"personnummer": PNR_GIRL, "kon": "flicka"},
                "anmalare_kategori": "skola",
            },
        ),
        (RECEIVED, "skyddsbedomning_gjord", {"anmalan_id": "A1", "omedelbart_skydd": False}),
        (RECEIVED, "klagomal_mottaget", {"klagomal_id": "K"}),
    ]
    for i, (day, etype, data) in enumerate(rows):
        store.record(
            parse_event(line(etype, data, at=at(day), key=f"KC-{i}", case_ref="KC")), now=LOADED
        )


def _k1_due(source: Any) -> list[str]:
    doc = REPORTS["frister"].build(source, "1280", AS_OF)
    return [r["due"] for r in doc["rows"] if r["rule"] == "K1"]


def test_views_follow_the_writers_version_and_readers_use_the_views_version(
    store: CaseStore, pg_url: str, schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    _case(store)
    plain = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    seven = store_configs(dict(plain), SEVEN)
    three = store_configs(dict(plain), THREE)

    with caught_up(seven) as runner:
        assert runner.view.versions() == {"1280": SEVEN.version}
    assert _k1_due(seven) == ["2026-03-09"]  # 7 days, not the default 14

    # a writer in force with the nämnd's new version refolds the record first (and says so)
    caplog.set_level(logging.WARNING, logger="barnflow.projections")
    with caught_up(three) as runner:
        assert runner.view.versions() == {"1280": THREE.version}
    assert f"1280: {SEVEN.version} -> {THREE.version}" in caplog.text
    assert _k1_due(three) == ["2026-03-05"]

    # a reader whose process still has the old version reads what the views computed with
    reader = open_view(seven)
    try:
        assert _k1_due(reader) == ["2026-03-05"]
        assert views_config(reader, "1280") == THREE.version
        known = REPORTS["frister"].build(reader, "1280", AS_OF, known_at=datetime.now(UTC))
        assert [r["due"] for r in known["rows"] if r["rule"] == "K1"] == ["2026-03-05"]
    finally:
        reader.datastore.close()

    # a rebuild computes with the rebuilding process's version, byte for byte the same
    before = dumps(REPORTS["frister"].build(three, "1280", AS_OF))
    rebuild(three)
    assert dumps(REPORTS["frister"].build(three, "1280", AS_OF)) == before

    # a writer without a configuration goes back to the documented defaults
    with caught_up(plain) as runner:
        assert runner.view.versions() == {}
    assert _k1_due(plain) == ["2026-03-16"]
    assert views_config(plain, "1280") is None
