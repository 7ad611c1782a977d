"""The record of complaints and lex Sarah (``infra.persistence.kvalitet``, migration 7) against a
real PostgreSQL: a retry is answered from the record and a changed body refused; a refused step
stores nothing; a changed byte is named by ``audit verify`` as the complaint, not a child; key
rotation re-encrypts it and the chain still verifies; a complaint about a protected case shows
``⟨skyddad⟩`` in the listing and in the report, while the counts stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from domain.errors import RuleViolation
from domain.kvalitet import parse_kvalitet_event, stream_uuid_for
from domain.protection import MARKER
from domain.rules import DEFAULT_POLICY
from infra.audit.verify import verify_store
from infra.ops.keys import rotate
from infra.persistence.cipher import Keyring
from infra.persistence.kvalitet import KvalitetStore, flow_listing, kvalitet_of
from infra.persistence.store import CaseStore, eventsourcing_env
from projections.periods import parse_period
from projections.reports import REPORTS
from projections.runner import caught_up
from tests.factories import anmalan, days_ago, line

NOW = days_ago(3)
KL_IN = {"avsandare": "vardnadshavare", "kategori": "handlaggning", "enhet": "barn-ost"}


def _kl(arende: str, etype: str, data: dict[str, Any], key: str, at: Any = NOW) -> Any:
    return parse_kvalitet_event(
        {
            "kommun": "1280",
            "arende_id": arende,
            "type": etype,
            "occurred_at": at.isoformat(),
            "actor": {"id": "kv-1", "roll": "enhetschef"},
            "idempotency_key": key,
            "data": data,
        }
    )


def _sql(pg_url: str, schema: str, statement: str, *params: object) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(s=sql.Identifier(schema)), params)


def test_a_retry_is_answered_from_the_record_and_a_refusal_stores_nothing(
    store: CaseStore,
) -> None:
    record = kvalitet_of(store)
    first, dup = record.record(_kl("KL-1", "klagomal_inkommet", KL_IN, "k1"))
    again, dup2 = record.record(_kl("KL-1", "klagomal_inkommet", KL_IN, "k1"))
    assert (dup, dup2) == (False, True) and again["position"] == first["position"]
    with pytest.raises(RuleViolation) as changed:
        record.record(_kl("KL-1", "klagomal_inkommet", {**KL_IN, "enhet": "x"}, "k1"))
    assert changed.value.rule == "P-IDEMPOTENCY"
    record.record(_kl("KL-1", "klagomal_aterkopplat", {"utfall": "befogat"}, "k2"))
    with pytest.raises(RuleViolation) as closed:
        record.record(_kl("KL-1", "klagomal_atgard", {"atgard": "utbildning"}, "k3"))
    assert closed.value.rule == "KL-AVSLUTAT"
    stored = record.stream_events("1280", "klagomal", "KL-1")
    assert [e.type for e in stored] == ["klagomal_inkommet", "klagomal_aterkopplat"]
    assert verify_store(store, kvalitet=record).ok


def test_audit_verify_names_an_altered_complaint_and_rotation_keeps_the_chain(
    pg_url: str, schema: str
) -> None:
    key_a, key_b = b"A" * 32, b"B" * 32
    cases = CaseStore(env=eventsourcing_env(pg_url, schema, key_a))
    try:
        cases.record(parse_event_line())
        record = kvalitet_of(cases)
        record.record(_kl("KL-7", "klagomal_inkommet", KL_IN, "a"))
        record.record(_kl("KL-7", "klagomal_atgard", {"atgard": "rutin_andrad"}, "b"))
        record.record(_kl("KL-7", "klagomal_aterkopplat", {"utfall": "befogat"}, "c"))
        report = verify_store(cases, kvalitet=record)
        assert report.ok, [f.line() for f in report.findings]
        assert (report.streams, report.events) == (2, 4)
    finally:
        cases.close()

    rotated = rotate(pg_url, schema, Keyring(key_b, [key_a]), apply=True)
    assert rotated.after.pending == 0 and rotated.rotated == 4
    only_b = KvalitetStore(env=eventsourcing_env(pg_url, schema, key_b))
    cases = CaseStore(env=eventsourcing_env(pg_url, schema, key_b))
    try:
        # key A is gone: the complaint reads back under B and its chains still verify
        assert [e.type for e in only_b.stream_events("1280", "klagomal", "KL-7")] == [
            "klagomal_inkommet",
            "klagomal_atgard",
            "klagomal_aterkopplat",
        ]
        assert verify_store(cases, kvalitet=only_b).ok
        _sql(
            pg_url,
            schema,
            "UPDATE {s}.barnflow_kvalitet_events SET state = overlay(state placing "
            "decode(lpad(to_hex(get_byte(state, 40) # 1), 2, '0'), 'hex') from 41 for 1) "
            "WHERE originator_id = %s AND originator_version = 2",
            stream_uuid_for("1280", "klagomal", "KL-7"),
        )
        altered = verify_store(cases, kvalitet=only_b)
        first = altered.findings[0]
        assert (first.check, first.version, first.where) == (
            "stream-chain",
            2,
            "1280/klagomal:KL-7",
        )
        assert any(f.check == "global-chain" and f.where == "kvalitet" for f in altered.findings)
        assert verify_store(cases).ok  # the cases' own record is untouched
    finally:
        only_b.close()
        cases.close()


def parse_event_line() -> Any:
    from domain.events import parse_event

    return parse_event(anmalan(NOW, case_ref="VS-1"))


def test_a_complaint_about_a_protected_case_is_masked_but_counted(store: CaseStore) -> None:
    from domain.events import parse_event

    store.record(parse_event(anmalan(NOW - timedelta(hours=1), case_ref="VS-SKYDD")))
    store.record(
        parse_event(
            line("skydd_markerat", {"skydd": "sekretessmarkering"}, at=NOW, key="s",
                 case_ref="VS-SKYDD")
        )
    )  # fmt: skip
    record = kvalitet_of(store)
    record.record(_kl("KL-S", "klagomal_inkommet", {**KL_IN, "case_ref": "VS-SKYDD"}, "s1"))
    record.record(_kl("KL-O", "klagomal_inkommet", {**KL_IN, "case_ref": "VS-OPEN"}, "o1"))

    listing = flow_listing(store, "1280", "klagomal", NOW.date(), DEFAULT_POLICY)
    by_id = {r["arende_id"]: r for r in listing["arenden"]}
    assert (by_id["KL-S"]["case_ref"], by_id["KL-S"]["enhet"]) == (MARKER, MARKER)
    assert by_id["KL-O"]["case_ref"] == "VS-OPEN"

    env = dict(store.env)
    spec = REPORTS["klagomal"]
    with caught_up(env) as runner:
        doc = spec.build(runner.view, "1280", parse_period("year", str(NOW.year)))
    open_rows = {r["arende_id"]: r for r in doc["oppna"]}
    assert open_rows["KL-S"]["case_ref"] == MARKER and open_rows["KL-S"]["enhet"] == MARKER
    assert open_rows["KL-O"]["case_ref"] == "VS-OPEN"
    assert "VS-SKYDD" not in repr(doc)
    assert doc["rows"][0]["antal"] == 2  # both counted
