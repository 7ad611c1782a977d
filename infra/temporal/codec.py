"""Encryption payload codec: the Temporal server, its database and its Web UI see only ciphertext.

AES-256-GCM with a random 96-bit nonce per payload; the key id travels in the metadata so a key
rotation can decrypt old histories with the previous key (pass it in ``old_keys``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping, Sequence

import temporalio.converter
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

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


class EncryptionCodec(PayloadCodec):
    def __init__(self, key: bytes, old_keys: Sequence[bytes] = ()) -> None:
        self._key_id = key_id(key)
        self._cipher = AESGCM(key)
        self._decrypters: Mapping[bytes, AESGCM] = {key_id(k): AESGCM(k) for k in (key, *old_keys)}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            # also left readable: what OperatorPayloadConverter marked (the static summary and a
            # minimal input by reference: the same class of data as the search attributes)
            plain = p.metadata.get("messageType", b"") in PLAINTEXT_MESSAGE_TYPES
            if plain or is_operator_visible(p):
                out.append(p)
                continue
            nonce = os.urandom(12)
            data = nonce + self._cipher.encrypt(nonce, p.SerializeToString(), None)
            out.append(
                Payload(
                    metadata={"encoding": ENCODING, "encryption-key-id": self._key_id}, data=data
                )
            )
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            if p.metadata.get("encoding", b"") != ENCODING:
                out.append(p)
                continue
            kid = p.metadata.get("encryption-key-id", b"")
            cipher = self._decrypters.get(kid)
            if cipher is None:
                raise ValueError(f"payload encrypted with unknown key id {kid.decode()!r}")
            plain = cipher.decrypt(p.data[:12], p.data[12:], None)
            out.append(Payload.FromString(plain))
        return out


def data_converter(
    key: bytes, old_keys: Sequence[bytes] = ()
) -> temporalio.converter.DataConverter:
    """The production data converter: default JSON conversion + the encryption codec.

    Failure messages and stack traces are encoded too: an error text could otherwise carry case
    content into the history in plaintext.
    """
    return dataclasses.replace(
        temporalio.converter.default(),
        payload_converter_class=OperatorPayloadConverter,
        payload_codec=EncryptionCodec(key, old_keys),
        failure_converter_class=temporalio.converter.DefaultFailureConverterWithEncodedAttributes,
    )
