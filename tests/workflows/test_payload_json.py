"""barnflow's payload converter writes the JSON temporalio's default converter writes, byte for
byte, for what travels through Temporal (``infra.temporal.operator_payloads.FieldsJSONEncoder``):
a recorded history's payloads and a new run's must decode alike."""

from __future__ import annotations

import typing
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.converter import DefaultPayloadConverter, _payload_converter

from domain.operator_view import OperatorText
from infra.temporal.operator_payloads import OPERATOR_VISIBLE_METADATA, OperatorPayloadConverter
from workflows.messages import (
    AppendInput,
    CaseSummary,
    CaseWorkflowInput,
    CommandInput,
    CommandResult,
)

EVENT: dict[str, Any] = {
    "kommun": "1280",
    "case_ref": "VS-1",
    "type": "klagomal_mottaget",
    "data": {"klagomal_id": "kl-1", "lista": [1, 2.5, None, True], "tom": {}},
    "actor": {"id": "u1", "roll": "socialsekreterare"},
    "position": 7,
}


@dataclass
class _Inner:
    at: datetime
    ref: uuid.UUID
    tags: set[str]
    pair: tuple[int, str]


@dataclass
class _Outer:
    inner: _Inner
    inners: list[_Inner]
    by_name: dict[str, _Inner] = field(default_factory=dict)
    nothing: None = None


class _NoCopy(str):
    """A text that refuses to be deep-copied (JSON encodes it as any str)."""

    def __deepcopy__(self, memo: Any) -> Any:
        raise AssertionError("copied")


def _values() -> list[Any]:
    inner = _Inner(datetime(2026, 11, 30, 12, 0, tzinfo=UTC), uuid.UUID(int=7), {"a"}, (1, "x"))
    return [
        CaseWorkflowInput(kommun="1280", child_pseudonym="p-1", case_id=str(uuid.UUID(int=1))),
        CaseWorkflowInput(kommun="1280", child_pseudonym="p-1", events=[EVENT, EVENT]),
        CommandInput(event=EVENT, kommun_config="cfg-1"),
        CommandResult(case_id="c", position=7, event=EVENT, duplicate=False),
        AppendInput(event=EVENT, now="2026-11-30T12:00:00+00:00", allow_system=True),
        CaseSummary("1280", "utredning", 3, ["F1"], [], None, False, 7),
        _Outer(inner, [inner, inner], {"b": inner}),
        {"nested": [CommandResult(case_id="c", position=1, event={}, duplicate=True)]},
        OperatorText("1280 · utredning"),
        "plain",
        12,
        None,
        b"bytes",
    ]


def test_payloads_are_the_bytes_of_temporalio_default_converter() -> None:
    values = _values()
    ours = OperatorPayloadConverter().to_payloads(values)
    theirs = DefaultPayloadConverter().to_payloads(values)
    key, _ = OPERATOR_VISIBLE_METADATA
    for value, a, b in zip(values, ours, theirs, strict=True):
        assert a.data == b.data, value
        assert {k: v for k, v in a.metadata.items() if k != key} == dict(b.metadata), value
    # and they decode back to the same values
    hints: list[type] = [type(v) for v in values]
    hints[7] = dict
    back = OperatorPayloadConverter().from_payloads(ours, hints)
    assert back[:6] == values[:6]


def test_a_message_is_encoded_without_copying_what_it_holds() -> None:
    event = {**EVENT, "data": {"klagomal_id": _NoCopy("kl-1")}}
    [payload] = OperatorPayloadConverter().to_payloads([CommandInput(event=event)])
    plain = {**EVENT, "data": {"klagomal_id": "kl-1"}}
    [default] = DefaultPayloadConverter().to_payloads([CommandInput(event=plain)])
    assert payload.data == default.data


@dataclass
class _WithUnion:
    at: datetime | None
    inners: list[_Inner]
    maybe: CommandResult | int = 0
    computed: str = field(default="d", init=False)


def test_payloads_decode_as_temporalio_decodes_them() -> None:
    inner = _Inner(datetime(2026, 11, 30, 12, 0, tzinfo=UTC), uuid.UUID(int=7), {"a"}, (1, "x"))
    with_union = _WithUnion(None, [inner], CommandResult("c", 1, EVENT, False))
    with_union.computed = "set"
    values: list[Any] = [*_values()[:7], with_union, _WithUnion(inner.at, [], 5)]
    hints: list[type] = [type(v) for v in values]
    payloads = DefaultPayloadConverter().to_payloads(values)
    ours = OperatorPayloadConverter().from_payloads(payloads, hints)
    theirs = DefaultPayloadConverter().from_payloads(payloads, hints)
    assert ours == theirs
    assert [type(v) for v in ours] == hints
    assert ours[7].computed == theirs[7].computed == "set"
    # a required field missing, a field of the wrong type: refused alike
    bad = DefaultPayloadConverter().to_payloads([{"case_id": "c"}, {"at": 5, "inners": []}])
    for payload, hint in zip(bad, [CommandResult, _WithUnion], strict=True):
        errors = []
        for converter in (OperatorPayloadConverter(), DefaultPayloadConverter()):
            try:
                converter.from_payloads([payload], [hint])
            except Exception as exc:
                errors.append((type(exc), str(exc)))
        assert len(errors) == 2 and errors[0] == errors[1], errors


@dataclass
class _Plain:
    """Fields the decoder takes a shortcut for (``operator_payloads._shortcut``)."""

    n: int
    x: float
    flag: bool
    text: str | None
    body: dict[str, Any] | None
    bodies: list[dict[str, Any]]
    names: list[str]
    anything: Any = None


def test_fields_without_conversion_decode_as_temporalio_decodes_them() -> None:
    values: list[dict[str, Any]] = [
        {
            "n": 1,
            "x": 2.5,
            "flag": True,
            "text": "t",
            "body": EVENT,
            "bodies": [EVENT, {}],
            "names": ["a"],
            "anything": [1, {"b": None}],
        },
        # an int for a float, a bool for an int, None for the optionals: converted alike
        {"n": True, "x": 2, "flag": False, "text": None, "body": None, "bodies": [], "names": []},
    ]
    payloads = DefaultPayloadConverter().to_payloads(values)
    ours = OperatorPayloadConverter().from_payloads(payloads, [_Plain, _Plain])
    theirs = DefaultPayloadConverter().from_payloads(payloads, [_Plain, _Plain])
    assert ours == theirs
    assert [(type(v.n), type(v.x)) for v in ours] == [(type(v.n), type(v.x)) for v in theirs]
    # values of the wrong type: refused alike
    good = values[0]
    for bad in (
        {**good, "n": "1"},
        {**good, "x": "2"},
        {**good, "flag": 1},
        {**good, "text": 3},
        {**good, "body": [1]},
        {**good, "bodies": [EVENT, 1]},
        {**good, "names": ["a", 2]},
    ):
        [payload] = DefaultPayloadConverter().to_payloads([bad])
        errors: list[tuple[Any, Any]] = []
        for converter in (OperatorPayloadConverter(), DefaultPayloadConverter()):
            try:
                errors.append(("ok", converter.from_payloads([payload], [_Plain])))
            except Exception as exc:
                errors.append((type(exc), str(exc)))
        assert errors[0] == errors[1], (bad, errors)


@dataclass
class _ReadOnce:
    event: dict[str, Any]
    n: int = 0


def test_a_message_class_field_types_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once per class and process: every converter temporalio makes (one per serialization
    context) shares the cache."""
    calls: list[type] = []
    real = typing.get_type_hints

    def counted(obj: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(obj)
        return real(obj, *args, **kwargs)

    monkeypatch.setattr(typing, "get_type_hints", counted)
    monkeypatch.setattr(_payload_converter, "get_type_hints", counted)
    for _ in range(2):
        converter = OperatorPayloadConverter()
        payloads = converter.to_payloads([_ReadOnce(event=EVENT)] * 3)
        assert len(converter.from_payloads(payloads, [_ReadOnce] * 3)) == 3
    assert calls == [_ReadOnce]
