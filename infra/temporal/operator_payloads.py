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
import functools
import types
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


#: ``_shortcut``'s answer for a value it does not convert: temporalio's ``value_to_type`` does.
_SLOW: Final = object()
_Shortcut = typing.Callable[[Any], Any]


def _as_is(hint: type) -> _Shortcut:
    return lambda v: v if type(v) is hint else _SLOW


def _str_keyed(v: Any) -> Any:
    if type(v) is not dict or not all(type(k) is str for k in v):
        return _SLOW
    return dict(v)


def _shortcut(hint: Any) -> _Shortcut | None:
    """What ``value_to_type(hint, v)`` returns, for the field types the messages have, as a
    function that answers ``_SLOW`` for a value it does not judge (``value_to_type`` converts
    or refuses that one); ``None`` for any other hint. A JSON value of the hint's own type
    comes back as it is (``str``, ``bool``, ``int``, ``float``, ``Any``), a ``dict[str, Any]``
    as a copy with the same entries, a list of such element by element, ``X | None`` as
    ``None`` or as ``X`` does: exactly ``value_to_type``'s results, without its walk through
    every check (in the sandbox each ``isinstance`` is a wrapped call)."""
    if hint is Any:
        return lambda v: v
    if hint in (str, bool, int, float):
        return _as_is(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is dict and args == (str, Any):
        return _str_keyed
    if origin is list and len(args) == 1:
        element = _shortcut(args[0])
        if element is None:
            return None
        each = element

        def listed(v: Any) -> Any:
            if type(v) is not list:
                return _SLOW
            out = [each(x) for x in v]
            return _SLOW if any(x is _SLOW for x in out) else out

        return listed
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = _shortcut(next(a for a in args if a is not type(None)))
        if inner is None:
            return None
        some = inner
        return lambda v: None if v is None else some(v)
    return None


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    hint: Any
    init: bool
    shortcut: _Shortcut | None


class CachedHintsDataclasses(JSONTypeConverter):
    """temporalio's conversion of a JSON object into a dataclass (``value_to_type``), the same
    steps, with the class's field types read once per class instead of on every value, and a
    shortcut for a field whose JSON value needs no conversion (``_shortcut``). A class's
    annotations do not change; the workflow sandbox imports its own copy of the messages for
    each run, so the cache holds classes weakly and forgets a run's with it."""

    def __init__(self) -> None:
        self._fields: weakref.WeakKeyDictionary[type, tuple[_Field, ...]] = (
            weakref.WeakKeyDictionary()
        )
        self._self = [self]

    def _plan(self, hint: type) -> tuple[_Field, ...]:
        found = self._fields.get(hint)
        if found is None:
            hints = typing.get_type_hints(hint)
            found = tuple(
                _Field(f.name, hints[f.name], f.init, _shortcut(hints[f.name]))
                for f in dataclasses.fields(hint)
            )
            self._fields[hint] = found
        return found

    def to_typed_value(self, hint: type, value: Any) -> Any:
        if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
            return JSONTypeConverter.Unhandled
        if not isinstance(value, dict):
            raise TypeError(f"Cannot convert to dataclass {hint}, value is {type(value)} not dict")
        field_values: dict[str, Any] = {}
        non_init_field_values: dict[str, Any] = {}
        for f in self._plan(hint):
            field_value = value.get(f.name, dataclasses.MISSING)
            if field_value is dataclasses.MISSING:
                continue  # a missing required field: the dataclass's __init__ says so
            converted = _SLOW if f.shortcut is None else f.shortcut(field_value)
            if converted is _SLOW:
                try:
                    converted = value_to_type(f.hint, field_value, self._self)
                except Exception as err:
                    raise TypeError(
                        f"Failed converting field {f.name} on dataclass {hint}"
                    ) from err
            if f.init:
                field_values[f.name] = converted
            else:
                non_init_field_values[f.name] = converted
        obj = hint(**field_values)
        for name, field_value in non_init_field_values.items():
            object.__setattr__(obj, name, field_value)
        return obj


@functools.cache
def _converters() -> tuple[EncodingPayloadConverter, ...]:
    """temporalio's default encodings, in their order, with ``FieldsJSONEncoder`` and
    ``CachedHintsDataclasses`` for JSON; built once per process and shared by every
    ``OperatorPayloadConverter`` (all are stateless but the field-type cache). temporalio
    makes a new payload converter for every serialization context it binds, about 200 per
    case lifecycle: each built its own JSON converter, so the field types were read again
    for each (issue 19, item 2)."""
    return tuple(
        JSONPlainPayloadConverter(
            encoder=FieldsJSONEncoder, custom_type_converters=[CachedHintsDataclasses()]
        )
        if type(c) is JSONPlainPayloadConverter
        else c
        for c in DefaultPayloadConverter.default_encoding_payload_converters
    )


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
