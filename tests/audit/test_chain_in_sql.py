"""The global chain linked inside PostgreSQL (``GapFreeRecorder._sql_append``) is the chain
``audit verify`` recomputes in Python: link for link, over single appends and a multi-event
batch, and a tampered link is still found."""

from __future__ import annotations

import psycopg
from psycopg import sql

from domain.events import parse_event
from domain.ids import case_id_for
from infra.audit.verify import verify_store
from infra.persistence.recorder import GENESIS, global_link
from infra.persistence.store import CaseStore
from tests.factories import PNR_BOY, anmalan, days_ago, klagomal_line

NOW = days_ago(2)


def _write(store: CaseStore) -> None:
    """Single appends of two cases, then one statement appending three events (a batch)."""
    store.record(parse_event(anmalan(NOW, case_ref="CS-1")))
    store.record(parse_event(anmalan(NOW, case_ref="CS-2", pnr=PNR_BOY, kon="pojke")))
    store.record(parse_event(klagomal_line("CS-1", 0, NOW)))
    batch = store.record_batch([parse_event(klagomal_line("CS-2", n, NOW)) for n in range(1, 4)])
    assert [r.position for r in batch] == [4, 5, 6]
    store.record(parse_event(klagomal_line("CS-1", 4, NOW)))


def test_links_written_by_postgresql_are_the_links_verify_recomputes(store: CaseStore) -> None:
    _write(store)
    rows = list(store.chain_rows())
    assert [r.position for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    prev = GENESIS
    for r in rows:
        expected = global_link(prev, r.position, str(r.originator_id), r.version, r.event_digest)
        assert r.digest == expected, f"position {r.position}"
        prev = r.digest
    # every event's stream digest is the one its chain row links
    by_position = {e.position: e.digest for e in store.events_after(0, 100)}
    assert {r.position: r.event_digest for r in rows} == by_position
    report = verify_store(store)
    assert report.ok, [f.line() for f in report.findings]
    assert (report.events, report.checkpoint.position) == (7, 7)


def test_a_tampered_link_written_by_postgresql_is_found(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    _write(store)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        # a link inside the batch recomputed over another event digest: looks well-formed
        conn.execute(
            sql.SQL(
                "UPDATE {}.barnflow_chain SET event_digest = repeat('a', 64) WHERE position = 5"
            ).format(sql.Identifier(schema))
        )
    report = verify_store(store)
    assert not report.ok
    assert any(f.check == "global-chain" and f.position == 5 for f in report.findings), [
        f.line() for f in report.findings
    ]
    assert str(case_id_for("1280", "CS-2")) in {f.case_id for f in report.findings}
