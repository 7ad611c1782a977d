"""Hostile import lines: whatever the bytes, the parser answers an event or a named field error.

The import/API path is ``orjson.loads`` then ``domain.events.parse_event``. The only documented
failure is ``EventValidationError`` (a malformed JSON line is reported as one, field ``$``); any
other exception escaping would be a 500 over HTTP or a stack trace on the CLI.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import EventValidationError
from domain.events import EVENT_TYPES, CaseEvent, FieldSpec, parse_event
from tests.factories import PNR_GIRL
from tests.fuzz.profile import fuzz_settings


def parse_line(raw: bytes) -> CaseEvent:
    """One import line → event; JSON errors become ``EventValidationError('$', …)``."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EventValidationError("$", f"malformed JSON: {exc}") from exc
    return parse_event(obj, allow_system=True)


def _valid_value(spec: FieldSpec) -> Any:
    if spec.choices:
        return spec.choices[0]
    return {
        "bool": True,
        "date": "2025-03-20",
        "number": 1200,
        "barn": {"personnummer": PNR_GIRL, "kon": "flicka"},
        "delegat": {"id": "d1", "roll": "sektionschef"},
        "kvartal": "2025Q1",
        "lvu_utfall": "bifall",
        "label": "vardnadshavare_1",
        "kommunkod": "0180",
        "key_ids": "7f2e1201686449b4",
    }.get(spec.kind, "x-1")


def valid_line(etype: str) -> dict[str, Any]:
    """A valid line of ``etype`` with every field (required and optional) filled in."""
    return {
        "kommun": "1280",
        "case_ref": "VS-2025-1",
        "type": etype,
        "occurred_at": "2025-03-20T10:00:00+01:00",
        "actor": {"id": "u1", "roll": "socialsekreterare"},
        "idempotency_key": f"k-{etype}",
        "data": {name: _valid_value(spec) for name, spec in EVENT_TYPES[etype].items()},
    }


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
#: Strings that look almost right: timestamps, dates, personnummer, choices.
NEAR_MISS = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.builds(
        lambda d, h: f"{d.isoformat()}T10:00:00{h}",
        st.dates(),
        st.sampled_from(["+01:00", "Z", "", "+23:59", "-23:59", "+24:00", "+01"]),
    ),
    st.dates().map(lambda d: d.isoformat()),
    st.from_regex(r"(19|20)?[0-9]{6}[-+]?[0-9]{4}", fullmatch=True),
    st.from_regex(r"TMP-[0-9]{4}-[0-9]{8}-[0-9A-Z]{6}", fullmatch=True),
    st.sampled_from(["flicka", "pojke", "", " ", "inleda_utredning", "hvb", "1280", "lvu6"]),
    st.text(min_size=2001, max_size=2100),
)


def _paths(obj: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for k, v in obj.items():
        out.append((*prefix, k))
        if isinstance(v, dict):
            out.extend(_paths(v, (*prefix, k)))
    return out


@st.composite
def mutated_lines(draw: st.DrawFn) -> dict[str, Any]:
    """A valid line of a random type with 1–4 fields dropped, replaced or added."""
    line = valid_line(draw(st.sampled_from(sorted(EVENT_TYPES))))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(line)))
        parent = line
        for k in path[:-1]:
            parent = parent[k]
        action = draw(st.sampled_from(["drop", "json", "near", "unknown"]))
        if action == "drop":
            parent.pop(path[-1], None)
        elif action == "unknown":
            parent[draw(st.text(min_size=1, max_size=8))] = draw(JSON)
        else:
            parent[path[-1]] = draw(JSON if action == "json" else NEAR_MISS)
        if not isinstance(line.get("data", {}), dict) and draw(st.booleans()):
            line["data"] = {}
    return line


def _accepted_is_stable(ev: CaseEvent) -> None:
    """An accepted line exports and re-imports to the same event (import of an export)."""
    assert parse_event(orjson.loads(orjson.dumps(ev.to_json())), allow_system=True) == ev


@fuzz_settings(400)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_an_event_or_a_validation_error(raw: bytes) -> None:
    try:
        ev = parse_line(raw)
    except EventValidationError:
        return
    _accepted_is_stable(ev)


@fuzz_settings(400)
@given(JSON)
def test_arbitrary_json_values_give_an_event_or_a_validation_error(obj: Any) -> None:
    try:
        ev = parse_line(orjson.dumps(obj))
    except EventValidationError:
        return
    _accepted_is_stable(ev)


@fuzz_settings(1000)
@given(mutated_lines())
def test_almost_valid_lines_give_an_event_or_a_named_field_error(line: dict[str, Any]) -> None:
    try:
        ev = parse_line(orjson.dumps(line))
    except EventValidationError as exc:
        assert exc.field and "Traceback" not in str(exc)
        return
    _accepted_is_stable(ev)


def test_every_template_is_valid() -> None:
    """The mutation base is valid, so the fuzzer explores past the first check."""
    for etype in EVENT_TYPES:
        parse_line(orjson.dumps(valid_line(etype)))
