"""Tamper evidence: one changed byte, a deleted tail or a truncated store is found and named."""

from __future__ import annotations

from datetime import timedelta

import psycopg
from psycopg import sql

from domain.events import parse_event
from domain.ids import case_id_for
from infra.audit.verify import Checkpoint, verify_store
from infra.ops.keys import rotate
from infra.persistence.cipher import Keyring
from infra.persistence.store import CaseStore, eventsourcing_env
from tests.factories import PNR_BOY, anmalan, days_ago, line

NOW = days_ago(3)


def _fill(store: CaseStore) -> None:
    store.record(parse_event(anmalan(NOW, case_ref="VS-1")))
    store.record(parse_event(anmalan(NOW, case_ref="VS-2", pnr=PNR_BOY, kon="pojke")))
    for n in range(3):
        for ref in ("VS-1", "VS-2"):
            store.record(
                parse_event(
                    line(
                        "klagomal_mottaget",
                        {"klagomal_id": f"kl-{n}"},
                        at=NOW + timedelta(minutes=n),
                        key=f"{ref}-{n}",
                        case_ref=ref,
                    )
                )
            )


def _sql(pg_url: str, schema: str, statement: str, *params: object) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(s=sql.Identifier(schema)), params)


def test_untouched_store_verifies_and_events_carry_their_digest(store: CaseStore) -> None:
    _fill(store)
    report = verify_store(store)
    assert report.ok, [f.line() for f in report.findings]
    assert (report.streams, report.events, report.checkpoint.position) == (2, 8, 8)
    events = store.case_events(case_id_for("1280", "VS-1"))
    assert all(e.digest and len(e.digest) == 64 for e in events)
    assert len({e.digest for e in events}) == 4


def test_one_changed_byte_fails_verify_and_names_the_event(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    _fill(store)
    case = case_id_for("1280", "VS-2")
    _sql(
        pg_url,
        schema,
        "UPDATE {s}.barnflow_events SET state = overlay(state placing "
        "decode(lpad(to_hex(get_byte(state, 40) # 1), 2, '0'), 'hex') from 41 for 1) "
        "WHERE originator_id = %s AND originator_version = 3",
        case,
    )
    report = verify_store(store)
    assert not report.ok
    first = report.findings[0]
    assert (first.check, first.case_id, first.version, first.position) == (
        "stream-chain",
        str(case),
        3,
        6,
    )
    assert first.where == "1280/VS-2"  # the case_ref of the stream, never the child
    assert "cannot be read back" in first.problem
    assert any(f.check == "global-chain" and f.position == 6 for f in report.findings)


def test_deleted_stream_tail_and_truncated_store_are_detected(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    _fill(store)
    checkpoint = verify_store(store).checkpoint
    case = case_id_for("1280", "VS-1")
    _sql(
        pg_url,
        schema,
        "DELETE FROM {s}.barnflow_events WHERE originator_id = %s AND originator_version = 4",
        case,
    )
    report = verify_store(store)
    assert [(f.check, f.problem, f.position) for f in report.findings] == [
        ("global-chain", "event deleted", 7)
    ]
    # the chain rows go too: only the checkpoint kept elsewhere shows the loss
    _sql(pg_url, schema, "DELETE FROM {s}.barnflow_chain WHERE position >= 7")
    _sql(pg_url, schema, "DELETE FROM {s}.barnflow_events WHERE notification_id >= 7")
    assert verify_store(store).ok
    truncated = verify_store(store, Checkpoint.parse(str(checkpoint)))
    assert [f.problem for f in truncated.findings] == [
        "store ends at position 6, checkpoint says 8 (tail truncated)"
    ]


def test_chain_survives_key_rotation_and_still_names_an_altered_row(
    pg_url: str, schema: str
) -> None:
    key_a, key_b = b"A" * 32, b"B" * 32
    store = CaseStore(env=eventsourcing_env(pg_url, schema, key_a))
    try:
        _fill(store)
        before = verify_store(store).checkpoint
    finally:
        store.close()
    rotated = rotate(pg_url, schema, Keyring(key_b, [key_a]), apply=True)
    assert rotated.rotated == 8 and rotated.after.pending == 0

    # key A is gone: every row was re-encrypted, yet the record (and its checkpoint) is unchanged
    store = CaseStore(env=eventsourcing_env(pg_url, schema, key_b))
    try:
        report = verify_store(store, before)
        assert report.ok, [f.line() for f in report.findings]
        assert report.checkpoint == before

        case = case_id_for("1280", "VS-1")
        # a row's bytes replaced by another (valid, decryptable) row of the same stream
        _sql(
            pg_url,
            schema,
            "UPDATE {s}.barnflow_events SET state = (SELECT state FROM {s}.barnflow_events "
            "WHERE originator_id = %s AND originator_version = 2) "
            "WHERE originator_id = %s AND originator_version = 3",
            case,
            case,
        )
        report = verify_store(store)
        assert [(f.check, f.case_id, f.version, f.position) for f in report.findings] == [
            ("stream-chain", str(case), 3, 5),
            ("global-chain", str(case), 3, 5),
        ]
        assert report.findings[1].problem == "event does not match its chain link"
    finally:
        store.close()


def _home_line(hem_id: str, etype: str, data: dict[str, object], key: str) -> dict[str, object]:
    body = line(etype, data, at=NOW, key=key)
    body.pop("case_ref")
    return {**body, "hem_id": hem_id}


def test_the_homes_chains_are_verified_and_an_altered_home_event_is_named(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    """The homes' stream (issue 15) has its own per-stream and global chains: verified with
    the cases', and a changed byte in a home's registerkontroll names the home, not a child."""
    from domain.homes import hem_uuid_for, parse_home_event
    from infra.persistence.homes import homes_of

    _fill(store)
    homes = homes_of(store)
    for key, (etype, data) in enumerate(
        (
            ("hem_registrerat", {"hemtyp": "familjehem"}),
            ("registerkontroll_gjord", {"register": "belastningsregistret"}),
            ("registerkontroll_gjord", {"register": "misstankeregistret"}),
        )
    ):
        homes.record(parse_home_event(_home_line("FH-7", etype, data, f"h{key}")))
    report = verify_store(store, homes=homes)
    assert report.ok, [f.line() for f in report.findings]
    assert (report.streams, report.events, report.checkpoint.position) == (3, 11, 8)
    _sql(
        pg_url,
        schema,
        "UPDATE {s}.barnflow_hem_events SET state = overlay(state placing "
        "decode(lpad(to_hex(get_byte(state, 40) # 1), 2, '0'), 'hex') from 41 for 1) "
        "WHERE originator_id = %s AND originator_version = 2",
        hem_uuid_for("1280", "FH-7"),
    )
    altered = verify_store(store, homes=homes)
    first = altered.findings[0]
    assert (first.check, first.version, first.where) == ("stream-chain", 2, "1280/hem:FH-7")
    assert any(f.check == "global-chain" and f.where == "homes" for f in altered.findings)
    assert verify_store(store).ok  # the cases' own record is untouched
