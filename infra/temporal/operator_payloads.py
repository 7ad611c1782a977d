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

Dataclasses become JSON without ``dataclasses.asdict`` (``FieldsJSONEncoder``): the same bytes,
without the deep copy of every nested value that ``asdict`` makes before the encoder walks them
again. The workflow's messages and the append activity's input and result are dataclasses
holding an event each, about fifty conversions per case lifecycle, and in the workflow sandbox
every ``isinstance`` of that copy is a wrapped call: ``asdict`` was ≈10 % of the worker's
Python CPU in a lifecycle profile (issue 19, item 2). Decoding into a dataclass asks
``typing.get_type_hints`` of its class each time, about seventy times per lifecycle (≈8 % of that
profile); ``CachedHintsDataclasses`` asks once per class.
"""

from __future__ import annotations

import dataclasses
import typing
import weakref
from collections.abc import Sequence
from typing import Any, Final

from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    AdvancedJSONEncoder,
    CompositePayloadConverter,
    DefaultPayloadConverter,
    EncodingPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
    value_to_type,
)

from domain.operator_view import OperatorText
from workflows.messages import CaseWorkflowInput

#: The metadata key (and value) of a payload an operator may read.
OPERATOR_VISIBLE_METADATA: Final = ("barnflow-visibility", b"operator")


def operator_visible(value: Any) -> bool:
    """Whether ``value`` holds only what an operator may read (see the module docstring)."""
    if isinstance(value, OperatorText):
        return True
    return isinstance(value, CaseWorkflowInput) and not value.events


class FieldsJSONEncoder(AdvancedJSONEncoder):
    """temporalio's JSON encoder, with a dataclass handed to the encoder as its fields (one
    level, not copied): the encoder meets nested dataclasses, datetimes and UUIDs itself and
    asks ``default`` again, so the JSON is what ``dataclasses.asdict`` gives (the payload
    converter sorts keys)."""

    def default(self, o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return {f.name: getattr(o, f.name) for f in dataclasses.fields(o)}
        return super().default(o)


class CachedHintsDataclasses(JSONTypeConverter):
    """temporalio's conversion of a JSON object into a dataclass (``value_to_type``), the same
    steps, with the class's field types read once per class instead of on every value. A
    class's annotations do not change; the workflow sandbox imports its own copy of the
    messages for each run, so the cache holds classes weakly and forgets a run's with it."""

    def __init__(self) -> None:
        self._hints: weakref.WeakKeyDictionary[type, dict[str, Any]] = weakref.WeakKeyDictionary()
        self._self = [self]

    def _field_hints(self, hint: type) -> dict[str, Any]:
        found = self._hints.get(hint)
        if found is None:
            found = typing.get_type_hints(hint)
            self._hints[hint] = found
        return found

    def to_typed_value(self, hint: type, value: Any) -> Any:
        if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
            return JSONTypeConverter.Unhandled
        if not isinstance(value, dict):
            raise TypeError(f"Cannot convert to dataclass {hint}, value is {type(value)} not dict")
        field_hints = self._field_hints(hint)
        field_values: dict[str, Any] = {}
        non_init_field_values: dict[str, Any] = {}
        for f in dataclasses.fields(hint):
            field_value = value.get(f.name, dataclasses.MISSING)
            if field_value is dataclasses.MISSING:
                continue  # a missing required field: the dataclass's __init__ says so
            try:
                converted = value_to_type(field_hints[f.name], field_value, self._self)
            except Exception as err:
                raise TypeError(f"Failed converting field {f.name} on dataclass {hint}") from err
            if f.init:
                field_values[f.name] = converted
            else:
                non_init_field_values[f.name] = converted
        obj = hint(**field_values)
        for name, field_value in non_init_field_values.items():
            object.__setattr__(obj, name, field_value)
        return obj


def _converters() -> list[EncodingPayloadConverter]:
    """temporalio's default encodings, in their order, with ``FieldsJSONEncoder`` and
    ``CachedHintsDataclasses`` for JSON."""
    return [
        JSONPlainPayloadConverter(
            encoder=FieldsJSONEncoder, custom_type_converters=[CachedHintsDataclasses()]
        )
        if type(c) is JSONPlainPayloadConverter
        else c
        for c in DefaultPayloadConverter.default_encoding_payload_converters
    ]


class OperatorPayloadConverter(DefaultPayloadConverter):
    """Temporal's default conversion, plus the operator-visible mark."""

    def __init__(self) -> None:
        CompositePayloadConverter.__init__(self, *_converters())

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
