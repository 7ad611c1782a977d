"""Global positions are gap-free and unique under concurrent writers and version conflicts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
from eventsourcing.persistence import IntegrityError
from psycopg import sql

from domain.events import parse_event
from domain.ids import case_id_for
from infra.persistence.store import CaseStore
from tests.factories import (
    PNR_BOY,
    PNR_GIRL,
    anmalan,
    days_ago,
    klagomal_line,
    stockholm_today,
)

NOW = days_ago(3)


def _positions(pg_url: str, schema: str) -> list[int]:
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            sql.SQL("SELECT notification_id FROM {}.barnflow_events ORDER BY 1").format(
                sql.Identifier(schema)
            )
        ).fetchall()
    return [int(r[0]) for r in rows]


def test_concurrent_appends_leave_positions_one_to_n(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    refs = ["VS-A", "VS-B", "VS-C"]
    for i, ref in enumerate(refs):
        store.record(parse_event(anmalan(NOW, case_ref=ref, pnr=[PNR_GIRL, PNR_BOY, PNR_GIRL][i])))
    # 3 cases x 12 events from 6 threads: same-case writers collide on the stream version and
    # retry (each collision is a rolled-back insert, which used to burn a sequence value).
    jobs = [(ref, n) for ref in refs for n in range(12)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda j: store.record(parse_event(klagomal_line(*j, NOW))), jobs))

    assert sorted(r.position for r in results) == list(range(4, 4 + len(jobs)))
    assert _positions(pg_url, schema) == list(range(1, 4 + len(jobs)))
    for ref in refs:
        versions = [e.position for e in store.case_events(case_id_for("1280", ref))]
        assert len(versions) == 13


def test_forced_version_conflict_burns_no_position(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    store.record(parse_event(anmalan(NOW, case_ref="VS-X")))
    stale = store.repository.get(case_id_for("1280", "VS-X"))
    # moves the stream on: `stale` is now behind
    store.record(parse_event(klagomal_line("VS-X", 1, NOW)))
    today = stockholm_today()  # not NOW.date(): that is the UTC date, a day off at night
    stale.append(parse_event(klagomal_line("VS-X", 2, NOW)), today)
    try:
        store.save(stale)
    except IntegrityError:
        pass
    else:
        raise AssertionError("a stale aggregate must not be saved")
    after = store.record(parse_event(klagomal_line("VS-X", 3, NOW)))
    assert after.position == 3
    assert _positions(pg_url, schema) == [1, 2, 3]


def test_events_after_pages_through_the_feed_in_position_order(store: CaseStore) -> None:
    store.record(parse_event(anmalan(NOW, case_ref="VS-F1")))
    store.record(parse_event(anmalan(NOW, case_ref="VS-F2", pnr=PNR_BOY, kon="pojke")))
    for n in range(3):
        store.record(parse_event(klagomal_line("VS-F1", n, NOW)))
    first = store.events_after(0, 2)
    rest = store.events_after(first[-1].position or 0, 100)
    assert [e.position for e in first + rest] == [1, 2, 3, 4, 5]
    assert [e.case_ref for e in first] == ["VS-F1", "VS-F2"]
    assert store.events_after(5, 10) == []
