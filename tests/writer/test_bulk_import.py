"""The bulk import (``infra.persistence.bulk``) stores what record-by-record appends would store:
the same global hash chain, the same events, ``audit verify`` clean; and a subprocess import killed
by its pid between two committed batches is completed by a re-run that appends exactly the lines
still missing."""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from bench.workflow import lifecycle
from domain.events import parse_event
from domain.ids import case_id_for
from infra.audit.verify import verify_store
from infra.persistence.cipher import KeyringCipher
from infra.persistence.datakeys import NONCE_LEN, DataKeys
from infra.persistence.importer import ImportRejected, import_lines, validate
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
from tests.conftest import CIPHER_KEY
from tests.factories import days_ago
from tests.projections.test_kill import _cli_env

BARNFLOW = [sys.executable, "-m", "infra.cli"]
AT = days_ago(5)


def _history(cases: int, *, first: int = 0) -> list[str]:
    """``cases`` lifecycles interleaved line by line (each batch holds many cases, a case spans
    many batches); every third case stays open (its last three lines left out)."""
    per_case = []
    for i in range(first, first + cases):
        events = lifecycle(i, AT)
        per_case.append(events[:-3] if i % 3 == 0 else events)
    rows = itertools.chain.from_iterable(itertools.zip_longest(*per_case))
    return [json.dumps(ev) for ev in rows if ev is not None]


class _RepeatableKeys(DataKeys):
    """Data keys and nonces derived from the case, bucket and plaintext instead of drawn at
    random, so two stores sealing the same events in any order store the same tokens (and so
    the same stream digests): only then can two imports' chains be compared digest by digest."""

    def _nonce(self, case_id: str, bucket: str, plaintext: bytes) -> bytes:
        return hashlib.sha256(f"{case_id}|{bucket}|".encode() + plaintext).digest()[:NONCE_LEN]

    def _new_key(self, case_id: str, bucket: str) -> tuple[str, bytes]:
        seed = hashlib.sha256(f"key|{case_id}|{bucket}".encode()).digest()
        return seed.hex()[:16], hashlib.sha256(seed).digest()


def _repeatable(store: CaseStore) -> CaseStore:
    cipher = store.mapper.cipher
    assert isinstance(cipher, KeyringCipher)
    store.__dict__["data_keys"] = _RepeatableKeys(
        store.pooled_connection, store.schema, cipher.keyring
    )
    return store


@pytest.fixture
def other_store(pg_url: str) -> Iterator[CaseStore]:
    """A second store in its own schema, for the one-by-one import of the same file."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    ensure_schema(pg_url, name)
    app = CaseStore(env=eventsourcing_env(pg_url, name, CIPHER_KEY))
    yield app
    app.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def _chain(store: CaseStore) -> list[tuple[Any, ...]]:
    return [
        (r.position, r.originator_id, r.version, r.event_digest, r.digest)
        for r in store.chain_rows()
    ]


def _events(store: CaseStore) -> list[dict[str, Any]]:
    out = []
    for row in store.stored_rows(by_position=True):
        ev = store.decode(row.originator_id, row.version, row.topic, row.state, row.position)
        body = ev.to_json()
        body.pop("recorded_at")
        out.append(body)
    return out


def _plaintexts(store: CaseStore) -> list[tuple[Any, ...]]:
    """Each row as stored, decrypted: its topic and its transcoded state with the keys in their
    stored order (only the event's creation time told apart: two runs cannot share a clock)."""
    cipher = store.mapper.cipher
    assert isinstance(cipher, KeyringCipher)
    out = []
    for row in store.stored_rows(by_position=True):
        state = json.loads(cipher.keyring.decrypt(row.state))
        assert set(state["timestamp"]) == {"_type_", "_data_"}  # eventsourcing's datetime
        state["timestamp"] = "..."
        out.append((row.position, row.originator_id, row.version, row.topic, json.dumps(state)))
    return out


def test_bulk_import_makes_the_chain_one_by_one_appends_make(
    store: CaseStore, other_store: CaseStore
) -> None:
    earlier = _history(2, first=90)  # two cases already stored: the import chains onto them
    lines = _history(24) + _history(2, first=90)
    bulk, single = _repeatable(store), _repeatable(other_store)
    for s in (bulk, single):
        for raw in earlier[:9]:
            s.record(parse_event(json.loads(raw)), lagrum=False)

    summary = import_lines(bulk, lines, batch=7)  # batches split cases and hold several

    for ev in validate(single, lines).todo:  # the old path: one append per event, file order
        single.record(ev, lagrum=False)
    assert summary.appended == len(lines) - 9 and summary.skipped_duplicates == 9
    chain = _chain(bulk)
    assert len(chain) == len(lines)
    assert chain == _chain(single)  # positions, streams, versions, stream and global digests
    assert _events(bulk) == _events(single)
    assert _plaintexts(bulk) == _plaintexts(single)  # the stored bytes, key order and all
    report = verify_store(bulk)
    assert report.ok, [f.line() for f in report.findings]
    assert report.checkpoint.position == len(lines)
    # a case written in bulk is a case like any other: the next command joins its stream
    ref = "BENCH-000003"  # left open (3 lines short)
    nxt = parse_event(lifecycle(3, AT)[-3])
    result = bulk.record(nxt, lagrum=False)
    assert (result.duplicate, result.version) == (False, 9)
    assert [e.type for e in bulk.case_events(case_id_for("1280", ref))][-1] == nxt.type
    assert verify_store(bulk).ok


def test_another_writer_between_validation_and_write_falls_back_without_loss(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream version taken by another writer mid-import: the batch rolls back whole and the
    rest of the file is appended one case at a time, judged against the case as it is now."""
    lines = _history(6)
    from infra.persistence import bulk as bulk_module

    real = bulk_module._stored
    raced = False

    def racing(s: CaseStore, planned: Any, heads: Any) -> Any:
        nonlocal raced
        out = real(s, planned, heads)
        if not raced:  # another process stores the first line of this batch first
            raced = True
            s.record(planned[0].event, lagrum=False)
        return out

    monkeypatch.setattr(bulk_module, "_stored", racing)
    summary = import_lines(store, lines, batch=10)
    assert (summary.appended, summary.skipped_duplicates) == (len(lines) - 1, 1)
    assert len(_chain(store)) == len(lines)
    assert verify_store(store).ok


def _stored_count(pg_url: str, schema: str) -> int:
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.barnflow_events").format(sql.Identifier(schema))
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_import_killed_by_pid_between_batches_is_completed_by_a_rerun(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    lines = _history(30)
    path = tmp_path / "historik.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = _cli_env(tmp_path, pg_url, schema)
    args = [*BARNFLOW, "import", str(path), "--no-workflows", "--quiet", "--batch-size", "40"]
    proc = subprocess.Popen(
        [*args, "--trace", "--hold", "120"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the first batch is committed; the import now holds
        assert first.split() == ["committed", "40", str(len(lines))], first
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _stored_count(pg_url, schema) == 40  # the first batch, whole; nothing of the second

    rerun = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(lines) - 40} appended, 40 duplicates skipped" in rerun.stdout
    assert _stored_count(pg_url, schema) == len(lines)
    report = verify_store(store)
    assert report.ok, [f.line() for f in report.findings]
    # positions follow the file: each case's versions in its lines' order, no line twice
    stored = [(r.originator_id, r.version) for r in store.chain_rows()]
    expected, versions = [], dict[uuid.UUID, int]()
    for raw in lines:
        obj = json.loads(raw)
        cid = case_id_for(obj["kommun"], obj["case_ref"])
        versions[cid] = versions.get(cid, 0) + 1
        expected.append((cid, versions[cid]))
    assert stored == expected


def test_the_garbage_collector_is_back_on_after_an_import_stored_or_refused(
    store: CaseStore,
) -> None:
    """The import pauses the cyclic collector (a third of its CPU went to re-scanning its own
    growing heap); the process it runs in (the API's among them) gets it back either way."""
    assert gc.isenabled()
    assert import_lines(store, _history(2)).appended > 0
    assert gc.isenabled()
    with pytest.raises(ImportRejected):
        import_lines(store, [*_history(2, first=10), "{not json"])
    assert gc.isenabled()
