"""orjson where it writes the standard library's bytes (``infra.persistence.jsonbytes``): the
stream digests' canonical JSON and the event rows of a bulk import stay byte for byte what the
standard library wrote, for every value an envelope can hold, floats, NaN, big integers, escapes,
subclasses and unicode keys included, so stored rows and chains written before verify after."""

from __future__ import annotations

import enum
import json
import math
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.workflow import lifecycle
from domain.aggregate import STREAM_GENESIS, canonical_json, chained, envelope_of
from domain.events import parse_event
from domain.ids import case_id_for
from infra.persistence import jsonbytes
from infra.persistence.bulk import _event, _Rows
from infra.persistence.cipher import KeyringCipher
from infra.persistence.store import CaseStore
from tests.factories import days_ago


class _Str(str):
    pass


class _Int(int):
    pass


class _Label(enum.IntEnum):
    ONE = 1


#: Every character, lone surrogates and control characters included.
_ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
_TEXT = st.one_of(
    st.text(_ANY_CHAR, max_size=12),
    st.text(st.sampled_from('aZ0 .-+:"\\/\x00\x1f\x7f\u2028åé€😀'), max_size=12),
    st.sampled_from(["", "1.5", "1e-07", "null", "true", "NaN", "-0.0", "e", "BFS1.ab.c+/="]),
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # beyond 64 bits too: orjson refuses those
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(),  # NaN and the infinities too
    st.sampled_from([0.1, 1e-07, 1e16, 1e22, -0.0, 5e-324, 1.7976931348623157e308, 100.0]),
    _TEXT,
    _TEXT.map(_Str),
    st.integers(-5, 5).map(_Int),
    st.just(_Label.ONE),
)
_KEYS = st.one_of(_TEXT, st.integers(-3, 3), st.just(None))


def _nested(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(_TEXT, children, max_size=5),
        st.dictionaries(_KEYS, children, max_size=3),  # non-string keys: the stdlib's own rules
    )


_VALUES = st.recursive(_SCALARS, _nested, max_leaves=25)
_STDLIB_SORTED = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_STDLIB = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _outcome(encode: Any, value: Any) -> tuple[str, Any]:
    try:
        return ("bytes", encode(value))
    except Exception as exc:  # the same refusal (type) as the standard library, never bytes
        return ("refused", type(exc))


#: 1,000 generated values each (3,000 cost 22 s a test on a slow CI machine); the values known to
#: differ between the encoders are also named below, so none rests on the generator finding it
@settings(max_examples=1000, deadline=None)
@given(_VALUES)
def test_canonical_writes_the_standard_librarys_bytes_or_refuses_alike(value: Any) -> None:
    assert _outcome(jsonbytes.canonical, value) == _outcome(canonical_json, value)


@settings(max_examples=1000, deadline=None)
@given(_VALUES)
def test_dumps_writes_the_unsorted_encoders_bytes_or_refuses_alike(value: Any) -> None:
    assert _outcome(lambda v: jsonbytes.dumps(v, _STDLIB), value) == _outcome(
        lambda v: _STDLIB.encode(v).encode("utf-8"), value
    )


@pytest.mark.parametrize(
    "value",
    [
        {"n": 1e-07},  # repr 1e-07, orjson 1e-7
        {"n": math.nan},  # NaN, orjson null
        {"n": 2**70},  # orjson refuses
        {"s": 'a"b\\c\n\x01'},  # escapes
        {"s": _Str("x")},
        {1: "int key"},
        {"b": [True, False, None, -12, 0]},
    ],
)
def test_the_values_orjson_would_write_otherwise_take_the_standard_library(value: Any) -> None:
    assert jsonbytes.canonical(value) == canonical_json(value)
    assert jsonbytes.dumps(value, _STDLIB) == _STDLIB.encode(value).encode()


def _envelopes() -> list[dict[str, Any]]:
    """The bench's lifecycles as the bulk import builds their envelopes (before sealing)."""
    out = []
    for i in range(3):
        for line in lifecycle(i, days_ago(4)):
            ev = parse_event(line, allow_system=True)
            out.append(envelope_of(ev, str(case_id_for(ev.kommun, ev.case_ref))))
    return out


def test_a_chain_made_by_the_standard_library_is_the_chain_made_by_jsonbytes() -> None:
    """Digest by digest: a stream written before (stdlib) continues and verifies after."""
    old = new = STREAM_GENESIS
    for env in _envelopes():
        before, after = chained(old, env), chained(new, env, jsonbytes.canonical)
        assert before == after
        old, new = str(before["digest"]), str(after["digest"])


_ENVELOPE = st.fixed_dictionaries(
    {
        "kommun": st.just("1280"),
        "case_ref": _TEXT,
        "type": st.sampled_from(["anmalan_mottagen", "beslut_fattat"]),
        "occurred_at": st.just("2026-03-04T10:00:00+01:00"),
        "actor": st.fixed_dictionaries({"id": _TEXT, "roll": _TEXT}),
        "data": st.dictionaries(_TEXT, _VALUES, max_size=4),
        "case_id": st.just("0b3c1a7e-8f57-5b0e-9a6b-1f5e0a1b2c3d"),
        "digest": st.text("0123456789abcdef", min_size=64, max_size=64),
    },
    optional={"sealed": st.dictionaries(_TEXT, _TEXT, max_size=2)},
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_ENVELOPE, st.integers(1, 3))
def test_a_bulk_row_is_the_row_the_mapper_writes(
    store: CaseStore, envelope: dict[str, Any], version: int
) -> None:
    """The row's plaintext, topic, stream and version, for a stream's first event and later."""
    rows = _Rows(store)
    assert rows._when is not None  # the store's mapper is the plain one: the direct path runs
    cipher = store.mapper.cipher
    assert isinstance(cipher, KeyringCipher)
    cid = UUID("0b3c1a7e-8f57-5b0e-9a6b-1f5e0a1b2c3d")
    at = datetime(2026, 3, 4, 9, 0, 0, 123456, tzinfo=UTC)
    mapped = _outcome(lambda e: store.mapper.to_stored_event(_event(cid, version, at, e)), envelope)
    direct = _outcome(lambda e: rows.row(cid, version, e, at), envelope)
    if mapped[0] == "refused":
        assert direct == mapped
        return
    a, b = mapped[1], direct[1]
    assert (a.originator_id, a.originator_version, a.topic) == (
        b.originator_id,
        b.originator_version,
        b.topic,
    )
    assert cipher.decrypt(a.state) == cipher.decrypt(b.state)
