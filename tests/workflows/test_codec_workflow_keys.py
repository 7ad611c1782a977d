"""The codec encrypts a case workflow's payloads under the workflow's own key, which it learns
from the SDK's serialization context; other workflows and old histories use the cluster key; a
destroyed key is a clear "gallrad" (an error, or the codec server's marker), never plaintext.

The key source here is an in-memory stand-in for ``infra.persistence.workflowkeys`` (a pure unit
test of the codec); tests/ops/test_gallring_temporal.py runs the real one against PostgreSQL and
a real Temporal server."""

from __future__ import annotations

import uuid

import orjson
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ActivitySerializationContext,
    WorkflowSerializationContext,
)

from domain.sealing import SHREDDED
from infra.persistence.workflowkeys import WorkflowKey, WorkflowKeyError
from infra.temporal import codec
from infra.temporal.codec import (
    ENCODING,
    GALLRAD_METADATA,
    EncryptionCodec,
    PayloadGallrad,
    data_converter,
    key_id,
)

CLUSTER = b"c" * 32
CASE_WF = "barnarende-1280-abcdefghijklmnopqrstuvwx"
OTHER_CASE_WF = "barnarende-1280-zyxwvutsrqponmlkjihgfedc"
WEBHOOK_WF = "webhooks-1280"


class MemoryKeys:
    """Workflow keys in a dict: live per workflow, destroyed by ``shred``."""

    def __init__(self) -> None:
        self.by_id: dict[str, WorkflowKey] = {}

    def live_key(self, workflow_id: str) -> WorkflowKey:
        for k in self.by_id.values():
            if k.workflow_id == workflow_id and k.key is not None:
                return k
        new = WorkflowKey("wk-" + uuid.uuid4().hex[:16], workflow_id, AESGCM.generate_key(256))
        self.by_id[new.key_id] = new
        return new

    def key(self, key_id: str) -> WorkflowKey:
        if key_id not in self.by_id:
            raise WorkflowKeyError(f"workflow key {key_id} is not in the store")
        return self.by_id[key_id]

    def cached_live_key(self, workflow_id: str) -> WorkflowKey | None:
        return None  # nothing held in memory: the codec always asks ``live_key``

    def cached_key(self, key_id: str) -> WorkflowKey | None:
        return None

    def shred(self, workflow_id: str) -> None:
        for kid, k in list(self.by_id.items()):
            if k.workflow_id == workflow_id:
                self.by_id[kid] = WorkflowKey(kid, workflow_id, None, "GB-2026-01")


def _ctx(workflow_id: str) -> WorkflowSerializationContext:
    return WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)


CONTENT = {"orsak": "pappan dricker", "case_ref": "VS-1"}


async def test_a_case_workflows_payloads_use_its_key_not_the_cluster_key() -> None:
    keys = MemoryKeys()
    conv = data_converter(CLUSTER, workflow_keys=keys).with_context(_ctx(CASE_WF))
    [encoded] = await conv.encode([CONTENT])
    kid = encoded.metadata["encryption-key-id"].decode()
    assert encoded.metadata["encoding"] == ENCODING
    assert kid == keys.live_key(CASE_WF).key_id and kid.startswith("wk-")
    assert b"pappan" not in encoded.SerializeToString()
    with pytest.raises(InvalidTag):  # the cluster key does not open it
        AESGCM(CLUSTER).decrypt(encoded.data[:12], encoded.data[12:], None)
    # any codec with the key store decodes it, with or without a context (the key id tells)
    assert await data_converter(CLUSTER, workflow_keys=keys).decode([encoded], [dict]) == [CONTENT]


async def test_an_activity_of_the_case_workflow_uses_the_same_key() -> None:
    keys = MemoryKeys()
    ctx = ActivitySerializationContext(
        namespace="default",
        activity_id="1",
        activity_type="append_event",
        activity_task_queue="q",
        workflow_id=CASE_WF,
        workflow_type="ChildCaseWorkflow",
        is_local=False,
    )
    [encoded] = await data_converter(CLUSTER, workflow_keys=keys).with_context(ctx).encode([1])
    assert encoded.metadata["encryption-key-id"].decode() == keys.live_key(CASE_WF).key_id


async def test_other_workflows_and_no_context_keep_the_cluster_key() -> None:
    keys = MemoryKeys()
    base = data_converter(CLUSTER, workflow_keys=keys)
    for conv in (base, base.with_context(_ctx(WEBHOOK_WF))):
        [encoded] = await conv.encode([CONTENT])
        assert encoded.metadata["encryption-key-id"] == key_id(CLUSTER)
    assert keys.by_id == {}


async def test_a_payload_moved_to_another_workflow_fails_to_open() -> None:
    keys = MemoryKeys()
    [encoded] = (
        await data_converter(CLUSTER, workflow_keys=keys)
        .with_context(_ctx(CASE_WF))
        .encode([CONTENT])
    )
    other = keys.live_key(OTHER_CASE_WF)
    stolen = keys.by_id[encoded.metadata["encryption-key-id"].decode()]
    keys.by_id[stolen.key_id] = WorkflowKey(stolen.key_id, OTHER_CASE_WF, stolen.key)
    with pytest.raises(InvalidTag):
        await EncryptionCodec(CLUSTER, workflow_keys=keys).decode([encoded])
    assert other.key is not None


async def test_old_cluster_key_histories_still_decode() -> None:
    old = b"o" * 32
    [before] = await EncryptionCodec(old).encode([Payload(data=b"x")])
    codec = EncryptionCodec(CLUSTER, old_keys=[old], workflow_keys=MemoryKeys())
    assert (await codec.decode([before]))[0].data == b"x"


async def test_a_destroyed_key_is_gallrad_never_plaintext() -> None:
    keys = MemoryKeys()
    [encoded] = (
        await data_converter(CLUSTER, workflow_keys=keys)
        .with_context(_ctx(CASE_WF))
        .encode([CONTENT])
    )
    keys.shred(CASE_WF)
    with pytest.raises(PayloadGallrad, match=r"gallrad: .* destroyed by gallring .*GB-2026-01"):
        await EncryptionCodec(CLUSTER, workflow_keys=keys).decode([encoded])
    [marker] = await EncryptionCodec(CLUSTER, workflow_keys=keys, gallrad_markers=True).decode(
        [encoded]
    )
    assert orjson.loads(marker.data) == SHREDDED
    assert marker.metadata[GALLRAD_METADATA] == encoded.metadata["encryption-key-id"]
    # a new start of the workflow (the child comes back) gets a new key generation
    [again] = (
        await data_converter(CLUSTER, workflow_keys=keys)
        .with_context(_ctx(CASE_WF))
        .encode([CONTENT])
    )
    assert again.metadata["encryption-key-id"] != encoded.metadata["encryption-key-id"]


async def test_without_the_key_store_a_workflow_keyed_payload_is_a_clear_error() -> None:
    keys = MemoryKeys()
    [encoded] = (
        await data_converter(CLUSTER, workflow_keys=keys)
        .with_context(_ctx(CASE_WF))
        .encode([CONTENT])
    )
    with pytest.raises(ValueError, match="no key store"):
        await EncryptionCodec(CLUSTER).decode([encoded])


async def test_a_converter_bound_once_per_context_still_encrypts_each_workflow_under_its_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``BoundOnceDataConverter`` hands out the converter it bound for an equal context again
    (temporalio binds one per payload set), never one bound to another workflow, and forgets
    the oldest once it holds ``BOUND_CONVERTERS``."""
    monkeypatch.setattr(codec, "BOUND_CONVERTERS", 3)
    keys = MemoryKeys()
    base = data_converter(CLUSTER, workflow_keys=keys)
    first = base.with_context(_ctx(CASE_WF))
    assert base.with_context(_ctx(CASE_WF)) is first  # an equal context, not the same object
    other = base.with_context(_ctx(OTHER_CASE_WF))
    assert other is not first
    for conv, wid in ((first, CASE_WF), (other, OTHER_CASE_WF), (first, CASE_WF)):
        [encoded] = await conv.encode([CONTENT])
        assert encoded.metadata["encryption-key-id"].decode() == keys.live_key(wid).key_id
        assert await base.decode([encoded], [dict]) == [CONTENT]
    for n in range(3):  # three more contexts push the first one out
        base.with_context(_ctx(f"barnarende-1280-{n:024d}"))
    again = base.with_context(_ctx(CASE_WF))
    assert again is not first
    [encoded] = await again.encode([CONTENT])
    assert encoded.metadata["encryption-key-id"].decode() == keys.live_key(CASE_WF).key_id
