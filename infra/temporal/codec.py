"""Encryption payload codec: the Temporal server, its database and its Web UI see only ciphertext.

AES-256-GCM with a random 96-bit nonce per payload; the key id travels in the metadata so a key
rotation can decrypt old histories with the previous key (pass it in ``old_keys``).

A case workflow's payloads (``barnarende-<kommun>-<pseudonym>``) are encrypted under that
workflow's own data key (``infra.persistence.workflowkeys``) when the codec has the key store:
the SDK hands the codec each payload's workflow id through its serialization context
(``with_context``), and gallring destroys the key with the child's identity key, so the history
becomes unreadable with every key barnflow holds (docs/security.md "Temporal payloads under data
keys"). Other workflows (webhook dispatch) and payloads without a workflow keep the cluster key.
The metadata's key id tells which: ``wk-…`` for a workflow key, a cluster key's fingerprint
otherwise, so histories written before workflow keys still decode.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Protocol, Self

import orjson
import temporalio.converter
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ActivitySerializationContext,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

from domain.sealing import SHREDDED
from infra.persistence.workflowkeys import KEY_ID_PREFIX, WorkflowKey, aad, is_case_workflow
from infra.temporal.operator_payloads import OperatorPayloadConverter, is_operator_visible

ENCODING = b"binary/encrypted"
#: Payload types left readable: the SDK's answer to the Web UI's ``__temporal_workflow_metadata``
#: query (the current-details line "förhandsbedömning: dag 12 av 14 (förfaller …)" and the names
#: of the workflow's updates/queries). It carries the same class of data as the search
#: attributes — stage, day counts, due date — never identity or case content, which the workflow
#: never puts there (``ChildCaseWorkflow._publish``).
PLAINTEXT_MESSAGE_TYPES = frozenset({b"temporal.api.sdk.v1.WorkflowMetadata"})


def key_id(key: bytes) -> bytes:
    """A short public fingerprint of a key (never the key itself)."""
    return hashlib.sha256(b"barnflow-codec:" + key).hexdigest()[:16].encode()


#: Metadata of the marker payload the codec server answers for a gallrad payload.
GALLRAD_METADATA = "barnflow-gallrad"


class WorkflowKeySource(Protocol):
    """Where the codec finds workflow keys (``infra.persistence.workflowkeys.WorkflowKeys``).

    ``live_key`` and ``key`` may read the database (the codec calls them in a thread);
    ``cached_live_key`` and ``cached_key`` answer only from memory, or ``None`` (the codec calls
    them on the event loop first: a thread hand-off per payload was the largest cost of
    encryption under workflow keys, docs/operations.md "Lifecycle throughput")."""

    def live_key(self, workflow_id: str) -> WorkflowKey: ...

    def key(self, key_id: str) -> WorkflowKey: ...

    def cached_live_key(self, workflow_id: str) -> WorkflowKey | None: ...

    def cached_key(self, key_id: str) -> WorkflowKey | None: ...


@dataclasses.dataclass(frozen=True)
class _ClusterKeys:
    """The cluster key's cipher and every decrypter, built once per data converter and shared
    by the codecs ``with_context`` binds to workflows (the SDK binds one per payload set)."""

    key: bytes
    old_keys: tuple[bytes, ...]
    key_id: bytes
    cipher: AESGCM
    decrypters: Mapping[bytes, AESGCM]

    @classmethod
    def of(cls, key: bytes, old_keys: Sequence[bytes]) -> _ClusterKeys:
        return cls(
            key,
            tuple(old_keys),
            key_id(key),
            AESGCM(key),
            {key_id(k): AESGCM(k) for k in (key, *old_keys)},
        )


class PayloadGallrad(ValueError):
    """The payload's workflow key was destroyed by gallring: its content no longer exists."""

    def __init__(self, key: WorkflowKey) -> None:
        self.key = key
        beslut = f" (gallringsbeslut {key.gallringsbeslut})" if key.gallringsbeslut else ""
        super().__init__(
            f"gallrad: the payload of workflow {key.workflow_id} was encrypted under data key "
            f"{key.key_id}, destroyed by gallring{beslut}; its content cannot be read"
        )


def gallrad_marker(key: WorkflowKey) -> Payload:
    """What the codec server shows for a gallrad payload: a JSON string, and the key id."""
    return Payload(
        metadata={"encoding": b"json/plain", GALLRAD_METADATA: key.key_id.encode()},
        data=orjson.dumps(SHREDDED),
    )


def _workflow_of(context: SerializationContext) -> str | None:
    if isinstance(context, (WorkflowSerializationContext, ActivitySerializationContext)):
        return context.workflow_id
    return None


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """AES-256-GCM under the cluster key, or a case workflow's key (``workflow_keys``)."""

    def __init__(
        self,
        key: bytes,
        old_keys: Sequence[bytes] = (),
        workflow_keys: WorkflowKeySource | None = None,
        *,
        workflow_id: str | None = None,
        gallrad_markers: bool = False,
        _cluster: _ClusterKeys | None = None,
    ) -> None:
        cluster = _cluster if _cluster is not None else _ClusterKeys.of(key, old_keys)
        self._cluster = cluster
        self._key_id = cluster.key_id
        self._cipher = cluster.cipher
        self._decrypters = cluster.decrypters
        self._workflow_keys = workflow_keys
        self._workflow_id = workflow_id
        self._markers = gallrad_markers

    def with_context(self, context: SerializationContext) -> Self:
        """This codec bound to the workflow the SDK is encoding for (its key, if a case's)."""
        wid = _workflow_of(context)
        if self._workflow_keys is None or wid == self._workflow_id:
            return self
        return type(self)(
            self._cluster.key,
            self._cluster.old_keys,
            self._workflow_keys,
            workflow_id=wid,
            gallrad_markers=self._markers,
            _cluster=self._cluster,
        )

    @property
    def workflow_keys(self) -> WorkflowKeySource | None:
        return self._workflow_keys

    async def _encrypter(self) -> tuple[bytes, AESGCM, bytes | None]:
        """(key id, cipher, associated data) for this codec's workflow."""
        wid = self._workflow_id
        if self._workflow_keys is None or wid is None or not is_case_workflow(wid):
            return self._key_id, self._cipher, None
        found = self._workflow_keys.cached_live_key(wid)
        if found is None:
            found = await asyncio.to_thread(self._workflow_keys.live_key, wid)
        if found.key is None:  # live_key never answers a destroyed key
            raise PayloadGallrad(found)
        return found.key_id.encode(), AESGCM(found.key), aad(wid)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        chosen: tuple[bytes, AESGCM, bytes | None] | None = None
        for p in payloads:
            # also left readable: what OperatorPayloadConverter marked (the static summary and a
            # minimal input by reference: the same class of data as the search attributes)
            plain = p.metadata.get("messageType", b"") in PLAINTEXT_MESSAGE_TYPES
            if plain or is_operator_visible(p):
                out.append(p)
                continue
            if chosen is None:
                chosen = await self._encrypter()
            kid, cipher, assoc = chosen
            nonce = os.urandom(12)
            data = nonce + cipher.encrypt(nonce, p.SerializeToString(), assoc)
            meta = {"encoding": ENCODING, "encryption-key-id": kid}
            out.append(Payload(metadata=meta, data=data))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            if p.metadata.get("encoding", b"") != ENCODING:
                out.append(p)
                continue
            kid = p.metadata.get("encryption-key-id", b"")
            if kid.startswith(KEY_ID_PREFIX.encode()):
                out.append(await self._decode_workflow_payload(kid.decode(), p))
                continue
            cipher = self._decrypters.get(kid)
            if cipher is None:
                raise ValueError(f"payload encrypted with unknown key id {kid.decode()!r}")
            plain = cipher.decrypt(p.data[:12], p.data[12:], None)
            out.append(Payload.FromString(plain))
        return out

    async def _decode_workflow_payload(self, kid: str, p: Payload) -> Payload:
        if self._workflow_keys is None:
            raise ValueError(
                f"payload encrypted with workflow data key {kid!r}: this codec has no key store "
                "(connect the client with the store's workflow keys)"
            )
        found = self._workflow_keys.cached_key(kid)
        if found is None:
            found = await asyncio.to_thread(self._workflow_keys.key, kid)
        if found.key is None:
            if self._markers:
                return gallrad_marker(found)
            raise PayloadGallrad(found)
        plain = AESGCM(found.key).decrypt(p.data[:12], p.data[12:], aad(found.workflow_id))
        return Payload.FromString(plain)


#: How many bound converters ``BoundOnceDataConverter`` keeps (oldest dropped first). A bound
#: context is asked again within one activation or one activity's run (about eleven times per
#: distinct context in ``bench/workflow.py``), so a window of this size keeps nearly every repeat.
BOUND_CONVERTERS = 1024


@dataclasses.dataclass(frozen=True)
class BoundOnceDataConverter(temporalio.converter.DataConverter):
    """temporalio's ``DataConverter`` that binds each serialization context once and keeps it.

    temporalio binds the converter to a context (a workflow's, or one activity's) for **every**
    payload set it encodes or decodes, and each binding is a ``dataclasses.replace`` whose
    ``__init__`` builds a payload converter and a failure converter only to overwrite them
    (``DataConverter.with_context``): about 165 bindings per case lifecycle in
    ``bench/workflow.py``, for about one distinct context in eleven. The bound converter depends
    on nothing but the context (the codec finds a workflow's key when it encodes, not when it is
    bound: ``EncryptionCodec.with_context``), so the one made for an equal context is handed out
    again. Contexts are frozen dataclasses; one that cannot be hashed is bound as temporalio
    does. A binding costs 5 µs, a kept one 0.2 µs: under 1 ms of a lifecycle's 90–130 ms of
    worker CPU (a yappi profile, whose per-call overhead inflates exactly such code, had put it
    at 7 %; docs/operations.md, "Seventh round"). At most ``BOUND_CONVERTERS`` are kept (about
    0.75 MiB).
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "_bound", {})
        object.__setattr__(self, "_bound_lock", threading.Lock())

    def with_context(self, context: SerializationContext) -> Self:
        bound: dict[SerializationContext, Self] = self.__dict__["_bound"]
        try:
            found = bound.get(context)
        except TypeError:  # an unhashable context: nothing to key it by
            return super().with_context(context)
        if found is not None:
            return found
        made = super().with_context(context)
        with self.__dict__["_bound_lock"]:
            if len(bound) >= BOUND_CONVERTERS:
                del bound[next(iter(bound))]
            bound[context] = made
        return made


def data_converter(
    key: bytes,
    old_keys: Sequence[bytes] = (),
    workflow_keys: WorkflowKeySource | None = None,
) -> temporalio.converter.DataConverter:
    """The production data converter: default JSON conversion + the encryption codec.

    Failure messages and stack traces are encoded too: an error text could otherwise carry case
    content into the history in plaintext. With ``workflow_keys`` a case workflow's payloads are
    encrypted under its own data key (gallring destroys it). Each serialization context is bound
    once (``BoundOnceDataConverter``).
    """
    return BoundOnceDataConverter(
        payload_converter_class=OperatorPayloadConverter,
        payload_codec=EncryptionCodec(key, old_keys, workflow_keys),
        failure_converter_class=temporalio.converter.DefaultFailureConverterWithEncodedAttributes,
    )
