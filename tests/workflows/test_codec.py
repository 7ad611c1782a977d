"""The production data converter hides payloads and error texts from the Temporal server."""

from __future__ import annotations

import json

from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from infra.temporal.codec import ENCODING, EncryptionCodec, data_converter
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


async def test_only_the_web_uis_details_line_stays_readable() -> None:
    """The Web UI shows the current-details line without a codec server; nothing else is
    readable, including a protobuf of another type."""
    from temporalio.api.sdk.v1 import WorkflowMetadata

    meta = WorkflowMetadata()
    meta.current_details = "förhandsbedömning: dag 12 av 14 (förfaller 2026-03-16)"
    conv = data_converter(KEY)
    encoded = await conv.encode([meta, Failure(message=f"x {PNR_GIRL}")])
    assert encoded[0].metadata["encoding"] == b"json/protobuf"
    assert b"dag 12 av 14" in encoded[0].data
    assert encoded[1].metadata["encoding"] == ENCODING
    assert PNR_GIRL.encode() not in encoded[1].SerializeToString()
    decoded = await conv.decode(encoded, [WorkflowMetadata, Failure])
    assert decoded[0].current_details == meta.current_details


async def test_the_summary_and_a_minimal_input_stay_readable_and_nothing_else() -> None:
    """Issue #18 item 6: the static summary and an input by reference (no events) are left
    readable for the Web UI; a plain string and an input carrying events are encrypted."""
    from domain.operator_view import OperatorText
    from workflows.messages import CaseWorkflowInput

    conv = data_converter(KEY)
    summary = OperatorText("barnärende 1280-abcdefgh · steg vid start: utredning")
    minimal = CaseWorkflowInput(kommun="1280", child_pseudonym="abc", case_id="c-1")
    legacy = CaseWorkflowInput(
        kommun="1280", child_pseudonym="abc", events=[{"barn": {"personnummer": PNR_GIRL}}]
    )
    encoded = await conv.encode([summary, minimal, legacy, f"text {PNR_GIRL}"])
    assert [p.metadata["encoding"] for p in encoded] == [
        b"json/plain",
        b"json/plain",
        ENCODING,
        ENCODING,
    ]
    assert json.loads(encoded[0].data) == summary
    assert b'"case_id":"c-1"' in encoded[1].data and b'"events":[]' in encoded[1].data
    assert all(PNR_GIRL.encode() not in p.SerializeToString() for p in encoded)
    decoded = await conv.decode(encoded, [str, CaseWorkflowInput, CaseWorkflowInput, str])
    assert decoded[:2] == [summary, minimal] and decoded[2] == legacy
