"""The payload converter that marks operator texts, so the encryption codec leaves them readable.

Temporal encodes a run's static summary (``start_workflow(static_summary=...)``) with the same
data converter and codec as the case's payloads, so without a mark the Web UI shows it as
ciphertext like everything else. A value of type ``domain.operator_view.OperatorText`` — built
only from what the plaintext search attributes hold — is converted as the JSON string it is and
its payload carries ``OPERATOR_TEXT_METADATA``; the codec passes such payloads through
(``infra.temporal.codec``). Every other value converts exactly as with Temporal's default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from temporalio.api.common.v1 import Payload
from temporalio.converter import DefaultPayloadConverter

from domain.operator_view import OperatorText

#: The metadata key (and value) of a payload made from an ``OperatorText``.
OPERATOR_TEXT_METADATA: Final = ("barnflow-visibility", b"operator")


class OperatorPayloadConverter(DefaultPayloadConverter):
    """Temporal's default conversion, plus the operator-text mark."""

    def to_payloads(self, values: Sequence[Any]) -> list[Payload]:
        payloads = super().to_payloads(values)
        key, mark = OPERATOR_TEXT_METADATA
        for value, payload in zip(values, payloads, strict=True):
            if isinstance(value, OperatorText):
                payload.metadata[key] = mark
        return payloads


def is_operator_text(payload: Payload) -> bool:
    """Whether ``payload`` was made from an ``OperatorText`` (left readable by the codec)."""
    key, mark = OPERATOR_TEXT_METADATA
    return payload.metadata.get(key, b"") == mark
