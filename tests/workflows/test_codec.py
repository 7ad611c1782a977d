"""The production data converter hides payloads and error texts from the Temporal server."""

from __future__ import annotations

from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from infra.codec import ENCODING, EncryptionCodec, data_converter
from tests.factories import PNR_GIRL

KEY = b"k" * 32


async def test_payloads_are_ciphertext_and_round_trip() -> None:
    conv = data_converter(KEY)
    payloads = await conv.encode([{"barn": {"personnummer": PNR_GIRL}}])
    assert payloads[0].metadata["encoding"] == ENCODING
    assert PNR_GIRL.encode() not in payloads[0].SerializeToString()
    assert await conv.decode(payloads, [dict]) == [{"barn": {"personnummer": PNR_GIRL}}]


async def test_failure_message_and_stack_trace_are_encoded() -> None:
    failure = Failure()
    await data_converter(KEY).encode_failure(ApplicationError(f"bad {PNR_GIRL}"), failure)
    assert PNR_GIRL.encode() not in failure.SerializeToString()


async def test_old_key_still_decodes_after_rotation() -> None:
    old, new = b"o" * 32, b"n" * 32
    encoded = await EncryptionCodec(old).encode([Payload(data=b"x")])
    assert (await EncryptionCodec(new, old_keys=[old]).decode(encoded))[0].data == b"x"
