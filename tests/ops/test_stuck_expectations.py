"""``ops stuck`` reads the store's expectations with one light scan (decrypt + parse, only the
opening event unsealed) instead of decoding every event into objects (issue 19, item 5). What it
reads must be exactly what the full decode says: the workflow id, the last position, the time
the case last moved and whether it is closed; a child's open case wins its shared workflow id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.events import parse_event
from infra.ops import stuck
from infra.ops.stuck import store_expectations, workflow_id_of
from infra.persistence.store import CaseStore
from tests.conftest import PSEUDONYM_KEY
from tests.factories import PNR_BOY, PNR_GIRL, anmalan, fresh_pnr, line
from tests.ops.test_repair_targets import _closed_case


def test_light_scan_expects_what_the_full_decode_says(store: CaseStore) -> None:
    at = datetime.now(UTC) - timedelta(hours=2)
    # an open case with a later event; a closed one; the same child closed then open again
    store.record(parse_event(anmalan(at, kommun="9941", case_ref="E-1", pnr=fresh_pnr())))
    store.record(
        parse_event(
            line(
                "skyddsbedomning_gjord",
                {"anmalan_id": "anm-1", "omedelbart_skydd": False},
                at=at + timedelta(minutes=5),
                key="E-1-2",
                kommun="9941",
                case_ref="E-1",
            )
        )
    )
    _closed_case(store, "9941", "E-2", PNR_BOY)
    _closed_case(store, "9942", "E-3", PNR_GIRL)
    store.record(parse_event(anmalan(at, kommun="9942", case_ref="E-4", pnr=PNR_GIRL)))

    got = store_expectations(store, PSEUDONYM_KEY)

    heads = store.case_heads()
    assert len(heads) == 4
    open_first = sorted(heads, key=lambda h: not h.closed)
    expected = {workflow_id_of(h, PSEUDONYM_KEY, {}): h for h in open_first}
    assert len(expected) == 3  # E-3 and E-4 share their child's workflow id
    assert set(got) == set(expected)
    for wid, head in expected.items():
        exp = got[wid]
        assert (exp.case_id, exp.kommun, exp.case_ref) == (
            head.case_id,
            head.kommun,
            head.case_ref,
        )
        assert exp.workflow_id == wid
        assert exp.last_position == head.last_position
        assert exp.last_recorded_at == head.last.recorded_at
        assert exp.closed == head.closed
    shared = next(e for e in got.values() if e.kommun == "9942")
    assert (shared.case_ref, shared.closed) == ("E-4", False)  # the open case wins
    assert {e.case_ref: e.closed for e in got.values()} == {"E-1": False, "E-2": True, "E-4": False}


def test_an_empty_store_expects_nothing(store: CaseStore) -> None:
    assert store_expectations(store, PSEUDONYM_KEY) == {}


def test_a_case_ending_in_a_system_event_is_closed_exactly_when_it_was_closed(
    store: CaseStore,
) -> None:
    """The scan reads a case's first and last events only, and whether it is closed from the
    last: a frist passing (a system event, allowed on a closed case) recorded after the close
    must not reopen it, nor close an open case it is recorded on."""
    at = datetime.now(UTC) - timedelta(hours=2)

    def overdue(kommun: str, ref: str) -> None:
        store.record(
            parse_event(
                line(
                    "frist_overskriden",
                    {"frist": "forhandsbedomning", "regel": "A1", "due": "2026-01-01"},
                    at=datetime.now(UTC) - timedelta(minutes=1),
                    key=f"{ref}-late",
                    kommun=kommun,
                    case_ref=ref,
                ),
                allow_system=True,  # as the worker records a frist passing
            )
        )

    _closed_case(store, "9943", "S-1", fresh_pnr())
    overdue("9943", "S-1")
    store.record(parse_event(anmalan(at, kommun="9943", case_ref="S-2", pnr=fresh_pnr())))
    overdue("9943", "S-2")

    got = {e.case_ref: e for e in store_expectations(store, PSEUDONYM_KEY).values()}

    heads = {h.case_ref: h for h in store.case_heads()}
    assert {ref: e.closed for ref, e in got.items()} == {"S-1": True, "S-2": False}
    for ref, exp in got.items():
        assert heads[ref].last.type == "frist_overskriden"
        assert exp.closed == heads[ref].closed
        assert exp.last_position == heads[ref].last_position
        assert exp.last_recorded_at == heads[ref].last.recorded_at


def test_the_answer_does_not_depend_on_how_many_cases_are_unsealed_at_once(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The opening events are unsealed in batches (their data keys read in one SELECT per
    batch); a case's two ends must never be split between batches, whatever their size."""
    at = datetime.now(UTC) - timedelta(hours=2)
    for i in range(3):
        store.record(parse_event(anmalan(at, kommun="9944", case_ref=f"B-{i}", pnr=fresh_pnr())))
    _closed_case(store, "9944", "B-3", fresh_pnr())
    store.record(parse_event(anmalan(at, kommun="9944", case_ref="B-4", pnr=fresh_pnr())))
    whole = store_expectations(store, PSEUDONYM_KEY)
    assert len(whole) == 5
    for size in (1, 2, 3):
        monkeypatch.setattr(stuck, "EXPECTATIONS_BATCH", size)
        assert store_expectations(store, PSEUDONYM_KEY) == whole
