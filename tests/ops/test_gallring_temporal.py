"""Gallring reaches Temporal (issue 16 item 2): a closed case's workflow history, run through a
real Temporal server (the time-skipping test server) and real PostgreSQL, is encrypted under the
child's workflow key; after ``gallring run --apply`` its payloads as stored cannot be decrypted
with any key barnflow still holds, our codec answers "gallrad" instead of plaintext, and an
unshredded case's workflow still decodes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime

import httpx
import orjson
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf import json_format
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.ids import case_id_for, workflow_id_for
from domain.sealing import SHREDDED
from infra.ops.gallring import plan_run, run
from infra.persistence.store import CaseStore
from infra.persistence.workflowkeys import aad
from infra.temporal.codec import (
    ENCODING,
    GALLRAD_METADATA,
    EncryptionCodec,
    PayloadGallrad,
    data_converter,
)
from infra.temporal.codec_server import AccessLog, CodecServerConfig, _digest, create_app
from infra.temporal.commands import adopt, child_pseudonym
from infra.temporal.worker import running_worker
from tests.conftest import CODEC_KEY, PSEUDONYM_KEY
from tests.domain.test_retention import Case

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
AS_OF = date(2026, 11, 30)
SECRET = "familjen flyttade till mormor i Kiruna"
TOKEN = "anna-" + "x" * 40


def closed_case() -> Case:
    """Anmälan 2020, utredning, öppenvård, closed 2021-06-01 with a free-text reason: due."""
    c = Case(ref="VS-T", born=date(2010, 3, 4)).anmalan(date(2020, 1, 10))
    c.add("skyddsbedomning_gjord", date(2020, 1, 10), anmalan_id="a1", omedelbart_skydd=False)
    c.add("forhandsbedomning_beslutad", date(2020, 1, 20), anmalan_id="a1",
          beslut="inleda_utredning")  # fmt: skip
    c.add("utredning_inledd", date(2020, 1, 20), utredning_id="u1", grund="anmalan",
          anmalan_id="a1")  # fmt: skip
    c.add("utredning_avslutad", date(2020, 5, 1), utredning_id="u1", utfall="ingen_atgard")
    c.add("arende_avslutat", date(2021, 6, 1), orsak=SECRET)
    return c


def payloads_of(message: Message) -> Iterator[Payload]:
    """Every payload anywhere in a protobuf message (a history event), as stored."""
    if isinstance(message, Payload):
        yield message
        return
    for _field, value in message.ListFields():
        items = value if isinstance(value, (list, tuple)) or hasattr(value, "__len__") else [value]
        if isinstance(value, Message):
            items = [value]
        elif isinstance(value, (str, bytes)):
            continue
        elif hasattr(value, "values") and callable(value.values):
            items = list(value.values())
        for item in items:
            if isinstance(item, Message):
                yield from payloads_of(item)


def _stored(p: Payload) -> tuple[bytes, tuple[tuple[str, bytes], ...]]:
    """A payload as stored: its bytes and its metadata, independent of map order."""
    return p.data, tuple(sorted(p.metadata.items()))


async def stored_payloads(raw: Client, workflow_id: str) -> list[Payload]:
    """The history's payloads as the server stores them: read by a client without our codec."""
    history = await raw.get_workflow_handle(workflow_id).fetch_history()
    return [p for ev in history.events for p in payloads_of(ev)]


async def until_history_has_activity(raw: Client, workflow_id: str) -> None:
    """The worker has run the workflow's first task and scheduled what it records."""
    for _ in range(300):
        history = await raw.get_workflow_handle(workflow_id).fetch_history()
        if any(ev.HasField("workflow_task_completed_event_attributes") for ev in history.events):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{workflow_id}: no workflow task completed")


@pytest.fixture
def cases(store: CaseStore) -> CaseStore:
    for ev in closed_case().events:
        store.record(ev, lagrum=False)
    for ev in Case(ref="VS-O", born=date(2015, 9, 9)).anmalan(date(2016, 5, 1)).events:
        store.record(ev, lagrum=False)  # open: never due
    return store


async def test_gallring_makes_a_closed_cases_temporal_history_unreadable(
    ts_env: WorkflowEnvironment, cases: CaseStore, task_queue: str, tmp_path: object
) -> None:
    store = cases
    wkeys = store.workflow_keys
    assert wkeys is not None
    ours = Client(
        ts_env.client.service_client,
        namespace=ts_env.client.namespace,
        data_converter=data_converter(CODEC_KEY, workflow_keys=wkeys),
    )
    raw = Client(ts_env.client.service_client, namespace=ts_env.client.namespace)
    async with running_worker(ours, store, task_queue):
        closed = await adopt(ours, store, "1280", "VS-T", pseudonym_key=PSEUDONYM_KEY,
                             task_queue=task_queue)  # fmt: skip
        still_open = await adopt(ours, store, "1280", "VS-O", pseudonym_key=PSEUDONYM_KEY,
                                 task_queue=task_queue)  # fmt: skip
        await until_history_has_activity(raw, closed)
        await until_history_has_activity(raw, still_open)

    # before gallring: every payload of the case workflow is under its own key, and our codec
    # (any process with the key store) reads the case's free text from it
    before = [p for p in await stored_payloads(raw, closed) if p.metadata.get("encoding")]
    encrypted = [p for p in before if p.metadata["encoding"] == ENCODING]
    assert encrypted, "the history holds encrypted payloads"
    kids = {p.metadata["encryption-key-id"].decode() for p in encrypted}
    [closed_key] = {r.key_id for r in wkeys.rows([closed])}
    assert kids == {closed_key}
    assert all(SECRET.encode() not in p.SerializeToString() for p in before)
    codec = EncryptionCodec(CODEC_KEY, workflow_keys=wkeys)
    assert any(SECRET.encode() in p.data for p in await codec.decode(encrypted))
    open_key = wkeys.live_key(still_open)
    assert open_key.key is not None and open_key.key_id != closed_key

    done = run(store, "1280", "GN 2026-11 §42", as_of=AS_OF, now=NOW, apply=True,
               pseudonym_key=PSEUDONYM_KEY)  # fmt: skip
    [identity] = [t for t in done.plan.targets if t.bucket == "identitet"]
    assert identity.case_ref == "VS-T" and identity.temporal_keys == (closed_key,)
    # the same run's event names the Temporal key beside the identity key
    recorded = [e for e in store.case_events(case_id_for("1280", "VS-T"))
                if e.type == "gallring_verkstalld" and e.data["klass"] == "identitet"]  # fmt: skip
    assert [e.data.get("temporal_nyckel") for e in recorded] == [closed_key]
    [row] = wkeys.rows([closed])
    assert row.shredded_at is not None and row.gallringsbeslut == "GN 2026-11 §42"

    # after: the stored payloads are the same bytes, and no key we hold opens them: not the
    # cluster key, not the open case's workflow key, not the key store (destroyed)
    after = [p for p in await stored_payloads(raw, closed) if p.metadata.get("encoding")]
    # (compared as data and sorted metadata, not serialised bytes: protobuf writes a map's
    # entries, the payload's metadata too, in no fixed order, so two reads of the same stored
    # payload may serialise differently; a set, since the search attributes' map has no order)
    stored_after = {_stored(p) for p in after}
    assert {_stored(p) for p in encrypted} <= stored_after
    held = [CODEC_KEY, open_key.key]
    for p in (p for p in after if p.metadata["encoding"] == ENCODING):
        for key in held:
            for assoc in (None, aad(closed), aad(still_open)):
                with pytest.raises(InvalidTag):
                    AESGCM(key).decrypt(p.data[:12], p.data[12:], assoc)
    wkeys.clear_cache()  # as another process (the worker, the codec server) reads the table
    fresh = EncryptionCodec(CODEC_KEY, workflow_keys=wkeys)
    with pytest.raises(PayloadGallrad, match="gallrad"):
        await fresh.decode(encrypted)
    markers = await EncryptionCodec(CODEC_KEY, workflow_keys=wkeys, gallrad_markers=True).decode(
        encrypted
    )
    assert {orjson.loads(m.data) for m in markers} == {SHREDDED}

    # the codec server answers the UI with the marker, and logs it, never the content
    log = AccessLog(tmp_path / "access.log")  # type: ignore[operator]
    try:
        app = create_app(
            CodecServerConfig({"anna": _digest(TOKEN)}, ("http://ui",), log.path),
            EncryptionCodec(CODEC_KEY, workflow_keys=wkeys, gallrad_markers=True),
            log,
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://codec"
        ) as http:
            answer = await http.post(
                "/decode",
                content=json_format.MessageToJson(Payloads(payloads=encrypted)),
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            )
    finally:
        log.close()
    assert answer.status_code == 200, answer.text
    shown = json_format.Parse(answer.content, Payloads()).payloads
    assert all(p.metadata[GALLRAD_METADATA].decode() == closed_key for p in shown)
    assert SECRET not in answer.text
    entry = orjson.loads(log.path.read_text().splitlines()[-1])
    assert entry["gallrad"] == len(encrypted) and entry["result"] == "ok"

    # the open case's workflow still decodes
    open_payloads = [
        p for p in await stored_payloads(raw, still_open) if p.metadata.get("encoding") == ENCODING
    ]
    assert open_payloads
    assert b"VS-O" in b"".join(p.data for p in await fresh.decode(open_payloads))


def test_an_interrupted_run_still_names_the_temporal_key(cases: CaseStore) -> None:
    """Interrupted after both keys were destroyed and before the event: the identity is gone,
    so the workflow cannot be found from it; the key's link to the case names it."""
    store = cases
    wkeys, keys = store.workflow_keys, store.data_keys
    assert wkeys is not None and keys is not None
    opening = store.case_events(case_id_for("1280", "VS-T"))[0]
    wid = workflow_id_for("1280", child_pseudonym(opening, PSEUDONYM_KEY))
    wkey = wkeys.live_key(wid)  # as the worker made it
    [target] = [
        t for t in plan_run(store, "1280", AS_OF, PSEUDONYM_KEY).targets if t.bucket == "identitet"
    ]
    assert target.temporal_keys == (wkey.key_id,) and target.workflow_id == wid
    # the run stopped here: both keys destroyed, no event yet
    wkeys.link(wkey.key_id, [target.case_id])
    wkeys.shred(wkey.key_id, "GN 2026-11 §42")
    keys.shred(target.key_id, "GN 2026-11 §42")

    again = run(store, "1280", "GN 2026-11 §42", as_of=AS_OF, now=NOW, apply=True,
                pseudonym_key=PSEUDONYM_KEY)  # fmt: skip
    recorded = [e for e in store.case_events(case_id_for("1280", "VS-T"))
                if e.type == "gallring_verkstalld" and e.data["klass"] == "identitet"]  # fmt: skip
    assert [e.data.get("temporal_nyckel") for e in recorded] == [wkey.key_id]
    assert again.destroyed == len(again.plan.targets) - 1  # all but the identity key, gone


def test_the_workflow_key_is_held_while_the_child_has_a_case_to_keep(
    cases: CaseStore,
) -> None:
    """The workflow is the child's: VS-T is wholly due, but the same child's placement case
    (kept forever, G-PLACERING) runs in the same workflow, so its key is held."""
    store = cases
    wkeys = store.workflow_keys
    assert wkeys is not None
    placed = Case(ref="VS-TP", born=date(2010, 3, 4)).anmalan(date(2012, 1, 10))
    placed.add("skyddsbedomning_gjord", date(2012, 1, 10), anmalan_id="a1",
               omedelbart_skydd=False)  # fmt: skip
    placed.add("forhandsbedomning_beslutad", date(2012, 1, 11), anmalan_id="a1",
               beslut="inleda_utredning")  # fmt: skip
    placed.add("utredning_inledd", date(2012, 1, 11), utredning_id="u1", grund="anmalan",
               anmalan_id="a1")  # fmt: skip
    placed.add("utredning_avslutad", date(2012, 2, 28), utredning_id="u1", utfall="insats")
    placed.add("beslut_fattat", date(2012, 3, 1), beslut_id="b9", lagrum="SoL 4:1",
               beslutstyp="bistand", insats="familjehem", gynnande=True,
               delegat={"id": "u1", "roll": "socialsekreterare"})  # fmt: skip
    placed.add("beslut_avslutat", date(2014, 3, 3), beslut_id="b9", orsak="hemflytt")
    placed.add("arende_avslutat", date(2014, 4, 1), orsak="klar")
    for ev in placed.events:
        store.record(ev, lagrum=False)
    opening = store.case_events(case_id_for("1280", "VS-T"))[0]
    wid = workflow_id_for("1280", child_pseudonym(opening, PSEUDONYM_KEY))
    wkey = wkeys.live_key(wid)
    plan = plan_run(store, "1280", AS_OF, PSEUDONYM_KEY)
    identity = {t.case_ref for t in plan.targets if t.bucket == "identitet"}
    assert "VS-T" in identity and "VS-TP" not in identity
    assert not any(t.temporal_keys for t in plan.targets)
    assert (
        "VS-T",
        "temporal",
        "the child's workflow also carries a case to keep or not yet due",
    ) in (plan.held)
    run(store, "1280", "GN 2026-11 §42", as_of=AS_OF, now=NOW, apply=True,
        pseudonym_key=PSEUDONYM_KEY)  # fmt: skip
    wkeys.clear_cache()
    assert wkeys.key(wkey.key_id).key is not None
