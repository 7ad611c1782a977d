"""The payload converter that marks what operators may read, so the encryption codec leaves it
readable in the Temporal Web UI.

Temporal encodes a run's static summary (``start_workflow(static_summary=...)``) and its input
with the same data converter and codec as the case's payloads, so without a mark the Web UI shows
them as ciphertext like everything else. Two kinds of value are marked
(``OPERATOR_VISIBLE_METADATA`` on the payload; the codec passes such payloads through,
``infra.temporal.codec``):

- a ``domain.operator_view.OperatorText``, built only from what the plaintext search attributes
  hold (the summary);
- a ``CaseWorkflowInput`` that carries no events: the minimal input by reference, which holds
  only the kommun, the pseudonym the workflow id already shows, the case's opaque id, timing
  settings and the configuration version id. An input that carries events (runs started before
  references) stays encrypted.

Every other value converts, and is encrypted, exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from temporalio.api.common.v1 import Payload
from temporalio.converter import DefaultPayloadConverter

from domain.operator_view import OperatorText
from workflows.messages import CaseWorkflowInput

#: The metadata key (and value) of a payload an operator may read.
OPERATOR_VISIBLE_METADATA: Final = ("barnflow-visibility", b"operator")


def operator_visible(value: Any) -> bool:
    """Whether ``value`` holds only what an operator may read (see the module docstring)."""
    if isinstance(value, OperatorText):
        return True
    return isinstance(value, CaseWorkflowInput) and not value.events


class OperatorPayloadConverter(DefaultPayloadConverter):
    """Temporal's default conversion, plus the operator-visible mark."""

    def to_payloads(self, values: Sequence[Any]) -> list[Payload]:
        payloads = super().to_payloads(values)
        key, mark = OPERATOR_VISIBLE_METADATA
        for value, payload in zip(values, payloads, strict=True):
            if operator_visible(value):
                payload.metadata[key] = mark
        return payloads


def is_operator_visible(payload: Payload) -> bool:
    """Whether ``payload`` was marked by ``OperatorPayloadConverter`` (left readable)."""
    key, mark = OPERATOR_VISIBLE_METADATA
    return payload.metadata.get(key, b"") == mark
