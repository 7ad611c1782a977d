"""Cipher key rotation: old rows stay readable, ``keys rotate`` moves them, the old key can go."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import MapperDeserialisationError
from psycopg import sql

from domain.events import CaseEvent
from domain.ids import case_id_for
from infra.ops.keys import Inventory, RotationError, rotate
from infra.persistence.cipher import Keyring, key_id
from infra.persistence.store import EVENTS_TABLE, CaseStore, eventsourcing_env
from tests.factories import PNR_GIRL, PNR_THIRD
from tests.security.cli import b64, barnflow, cli_env
from tests.security.records import anmalan_case, ansokan_case

KEY_A = b"A" * 32
KEY_B = b"B" * 32
KEY_WRONG = b"W" * 32
OTHER = {"BARNFLOW_CODEC_KEY": b64(b"c" * 32), "BARNFLOW_PSEUDONYM_KEY": b64(b"p" * 32)}


def _store(pg_url: str, schema: str, key: bytes, old: tuple[bytes, ...] = ()) -> CaseStore:
    return CaseStore(env=eventsourcing_env(pg_url, schema, key, old))


def _read_all(store: CaseStore, refs: list[str]) -> list[CaseEvent]:
    return [e for ref in refs for e in store.case_events(case_id_for("1280", ref))]


@pytest.fixture
def recorded_under_a(pg_url: str, schema: str) -> Iterator[tuple[list[str], list[CaseEvent]]]:
    """Two cases recorded with key A; yields their refs and the events as stored."""
    refs = ["VS-2025-00201", "VS-2025-00202"]
    store = _store(pg_url, schema, KEY_A)
    try:
        for ev in [*anmalan_case(refs[0]), *ansokan_case(refs[1])]:
            store.record(ev)
        yield refs, _read_all(store, refs)
    finally:
        store.close()


def _kids(pg_url: str, schema: str) -> list[str]:
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            sql.SQL("SELECT substring(state FROM 5 FOR 8) FROM {}.{} ORDER BY 1").format(
                sql.Identifier(schema), sql.Identifier(EVENTS_TABLE)
            )
        ).fetchall()
    return sorted({bytes(r[0]).hex() for r in rows})


def test_rotate_to_b_then_drop_a_and_everything_still_reads(
    pg_url: str, schema: str, recorded_under_a: tuple[list[str], list[CaseEvent]]
) -> None:
    refs, original = recorded_under_a
    # Step 1: B is current, A retired. Old rows read; a new row is written under B.
    store = _store(pg_url, schema, KEY_B, (KEY_A,))
    try:
        assert _read_all(store, refs) == original
        store.record(anmalan_case("VS-2025-00203", pnr=PNR_THIRD)[0])
        refs.append("VS-2025-00203")
        both = _read_all(store, refs)
    finally:
        store.close()
    assert _kids(pg_url, schema) == sorted({key_id(KEY_A).hex(), key_id(KEY_B).hex()})

    # Step 2: dry run changes nothing and counts the rows still under A.
    dry = rotate(pg_url, schema, Keyring(KEY_B, [KEY_A]))
    assert dry.before.pending == len(original) and dry.rotated == 0
    assert _kids(pg_url, schema) == sorted({key_id(KEY_A).hex(), key_id(KEY_B).hex()})

    # Step 3: apply, in batches of 3.
    done = rotate(pg_url, schema, Keyring(KEY_B, [KEY_A]), batch_size=3, apply=True)
    assert done.rotated == len(original)
    assert done.batches == -(-len(original) // 3)
    assert done.after == Inventory({key_id(KEY_B).hex(): len(both)}, key_id(KEY_B).hex())
    assert _kids(pg_url, schema) == [key_id(KEY_B).hex()]

    # Step 4: A is destroyed; every event still reads, unchanged (positions, times, content).
    store = _store(pg_url, schema, KEY_B)
    try:
        assert _read_all(store, refs) == both
        assert both[0].data["barn"]["personnummer"] == PNR_GIRL
    finally:
        store.close()


def test_rotation_interrupted_resumes_where_it_stopped(
    pg_url: str, schema: str, recorded_under_a: tuple[list[str], list[CaseEvent]]
) -> None:
    refs, original = recorded_under_a

    class Stop(Exception):
        pass

    def stop_after_first_batch(done: int) -> None:
        raise Stop(done)

    with pytest.raises(Stop):
        rotate(
            pg_url,
            schema,
            Keyring(KEY_B, [KEY_A]),
            batch_size=4,
            apply=True,
            progress=stop_after_first_batch,
        )
    halfway = rotate(pg_url, schema, Keyring(KEY_B, [KEY_A]))
    assert halfway.before.by_key == {
        key_id(KEY_B).hex(): 4,
        key_id(KEY_A).hex(): len(original) - 4,
    }
    rest = rotate(pg_url, schema, Keyring(KEY_B, [KEY_A]), batch_size=4, apply=True)
    assert rest.rotated == len(original) - 4 and rest.after.pending == 0
    store = _store(pg_url, schema, KEY_B)
    try:
        assert _read_all(store, refs) == original
    finally:
        store.close()


def test_rows_of_eventsourcings_plain_aes_cipher_are_read_and_rotated(
    pg_url: str, schema: str
) -> None:
    """Stores created before key ids existed (eventsourcing ``AESCipher``) keep working."""
    env = eventsourcing_env(pg_url, schema, KEY_A)
    env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
    legacy = CaseStore(env=env)
    try:
        for ev in anmalan_case("VS-2025-00301"):
            legacy.record(ev)
        original = _read_all(legacy, ["VS-2025-00301"])
    finally:
        legacy.close()
    store = _store(pg_url, schema, KEY_A)
    try:
        assert _read_all(store, ["VS-2025-00301"]) == original
    finally:
        store.close()
    result = rotate(pg_url, schema, Keyring(KEY_B, [KEY_A]), apply=True)
    assert result.before.by_key == {"legacy": len(original)}
    assert result.after.pending == 0
    store = _store(pg_url, schema, KEY_B)
    try:
        assert _read_all(store, ["VS-2025-00301"]) == original
    finally:
        store.close()


def test_wrong_key_is_a_clear_error_naming_the_key_id(
    pg_url: str, schema: str, recorded_under_a: tuple[list[str], list[CaseEvent]]
) -> None:
    refs, _ = recorded_under_a
    store = _store(pg_url, schema, KEY_WRONG)
    try:
        with pytest.raises(MapperDeserialisationError) as err:
            _read_all(store, refs)
    finally:
        store.close()
    message = str(err.value)
    assert f"cipher key id {key_id(KEY_A).hex()}, which is not configured" in message
    assert "\n" not in message and PNR_GIRL not in message
    with pytest.raises(RotationError, match="not configured"):
        rotate(pg_url, schema, Keyring(KEY_WRONG), apply=True)
    assert _kids(pg_url, schema) == [key_id(KEY_A).hex()]  # nothing was changed


def test_keys_rotate_command_dry_run_apply_and_wrong_key(
    pg_url: str, schema: str, tmp_path: Path, recorded_under_a: tuple[list[str], list[CaseEvent]]
) -> None:
    _, original = recorded_under_a
    base = {**OTHER, "BARNFLOW_DATABASE_URL": pg_url, "BARNFLOW_DATABASE_SCHEMA": schema}

    wrong = barnflow(
        "keys", "rotate", env=cli_env(tmp_path, **base, BARNFLOW_CIPHER_KEY=b64(KEY_WRONG))
    )
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("barnflow: ") and wrong.stderr.count("\n") == 1
    assert "Traceback" not in wrong.stderr and "not configured" in wrong.stderr

    env = cli_env(
        tmp_path, **base, BARNFLOW_CIPHER_KEY=b64(KEY_B), BARNFLOW_CIPHER_OLD_KEYS=b64(KEY_A)
    )
    dry = barnflow("keys", "rotate", env=env)
    assert dry.returncode == 0, dry.stderr
    assert f"dry run: {len(original)} event(s) would be re-encrypted" in dry.stdout
    assert _kids(pg_url, schema) == [key_id(KEY_A).hex()]

    applied = barnflow("keys", "rotate", "--apply", "--batch-size", "5", env=env)
    assert applied.returncode == 0, applied.stderr
    assert f"re-encrypted {len(original)} event(s) in 3 batch(es); 0 remain" in applied.stdout
    assert _kids(pg_url, schema) == [key_id(KEY_B).hex()]


async def test_rotation_rewraps_the_temporal_workflow_keys(pg_url: str, schema: str) -> None:
    """A case workflow's payload encrypted under its workflow key (wrapped by cipher key A)
    still decodes after `keys rotate --apply` to B with A dropped; a destroyed key stays so."""
    from temporalio.converter import WorkflowSerializationContext

    from infra.temporal.codec import PayloadGallrad, data_converter

    wid, gone = (
        "barnarende-1280-abcdefghijklmnopqrstuvwx",
        "barnarende-1280-zyxwvutsrqponmlkjihgfedc",
    )
    store_a = _store(pg_url, schema, KEY_A)
    try:
        keys_a = store_a.workflow_keys
        assert keys_a is not None
        encoded = {}
        for w in (wid, gone):
            conv = data_converter(b"c" * 32, workflow_keys=keys_a).with_context(
                WorkflowSerializationContext(namespace="default", workflow_id=w)
            )
            encoded[w] = await conv.encode([{"orsak": "hemlig"}])
        keys_a.shred(keys_a.live_key(gone).key_id, "GB-1")
    finally:
        store_a.close()

    rotate(pg_url, schema, Keyring(KEY_B, [KEY_A]), apply=True)
    store_b = _store(pg_url, schema, KEY_B)  # A is gone
    try:
        conv = data_converter(b"c" * 32, workflow_keys=store_b.workflow_keys)
        assert await conv.decode(encoded[wid], [dict]) == [{"orsak": "hemlig"}]
        with pytest.raises(PayloadGallrad):
            await conv.decode(encoded[gone], [dict])
    finally:
        store_b.close()
