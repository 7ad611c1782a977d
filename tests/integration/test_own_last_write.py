"""A process judges its next append to a case on the case as it saved it last, without reading
the case back (``CaseStore._wrote``), and is still never wrong about a case another process
appended to since. Two ``CaseStore`` instances on one schema are two processes: each has its
own aggregate cache."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from domain.aggregate import ChildCase
from domain.errors import RuleViolation
from domain.events import parse_event
from domain.ids import case_id_for
from infra.persistence.store import CaseStore, eventsourcing_env
from tests.conftest import CIPHER_KEY
from tests.factories import anmalan, days_ago, line

NOW = days_ago(2)
REF = "OW-1"
CASE = case_id_for("1280", REF)


@pytest.fixture
def other(pg_url: str, schema: str) -> Iterator[CaseStore]:
    """A second process writing to the same store."""
    app = CaseStore(env=eventsourcing_env(pg_url, schema, CIPHER_KEY))
    yield app
    app.close()


def _ln(etype: str, data: dict[str, Any], n: int) -> dict[str, Any]:
    return line(etype, data, at=NOW + timedelta(minutes=n), key=f"{REF}-{n}", case_ref=REF)


def _klagomal(n: int) -> dict[str, Any]:
    return _ln("klagomal_mottaget", {"klagomal_id": f"kl-{n}"}, n)


class _Reads:
    """Counts the reads of a case's events through the store's event store (and does them)."""

    def __init__(self, store: CaseStore) -> None:
        self.count = 0
        self._get = store.repository.event_store.get

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.count += 1
        return self._get(*args, **kwargs)


def test_the_next_append_of_the_process_that_wrote_last_reads_nothing_back(
    store: CaseStore, other: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.record(parse_event(anmalan(NOW, case_ref=REF, anmalan_id="A1")))
    reads = _Reads(store)
    monkeypatch.setattr(store.repository.event_store, "get", reads)
    assert store.record(parse_event(_klagomal(1))).version == 2
    assert store.record(parse_event(_klagomal(2))).version == 3
    assert reads.count == 0  # before: one read back per append (eventsourcing's fast-forward)

    # another process appends: this one's next append reads the case and lands after it
    assert other.record(parse_event(_klagomal(3))).version == 4
    assert store.record(parse_event(_klagomal(4))).version == 5
    assert reads.count >= 1
    keys = [e.idempotency_key for e in store.case_events(CASE)]
    assert keys == ["k-A1", f"{REF}-1", f"{REF}-2", f"{REF}-3", f"{REF}-4"]


def test_an_append_refused_on_this_process_own_last_write_is_judged_on_the_stored_case(
    store: CaseStore, other: CaseStore
) -> None:
    store.record(parse_event(anmalan(NOW, case_ref=REF, anmalan_id="A1")))
    # another process records a second anmälan this process has not seen
    other.record(parse_event(anmalan(NOW, case_ref=REF, anmalan_id="A2", key="k-A2")))
    skydd = _ln("skyddsbedomning_gjord", {"anmalan_id": "A2", "omedelbart_skydd": False}, 5)
    # on the case as this process wrote it, A2 is unknown (P-REF); on the stored case it is not
    result = store.record(parse_event(skydd))
    assert (result.version, result.duplicate) == (3, False)


def test_a_key_another_process_recorded_since_is_answered_as_a_duplicate(
    store: CaseStore, other: CaseStore
) -> None:
    store.record(parse_event(anmalan(NOW, case_ref=REF, anmalan_id="A1")))
    first = other.record(parse_event(_klagomal(1)))
    again = store.record(parse_event(_klagomal(1)))
    assert (again.duplicate, again.version, again.position) == (True, 2, first.position)
    assert len(store.case_events(CASE)) == 2


def test_a_retried_key_leaves_the_process_own_last_write_in_place(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The own save is taken out of the cache for an append (not copied) and given back: a
    retry that appends nothing gives it back too, so the append after it reads nothing."""
    store.record(parse_event(anmalan(NOW, case_ref=REF, anmalan_id="A1")))
    store.record(parse_event(_klagomal(1)))
    reads = _Reads(store)
    monkeypatch.setattr(store.repository.event_store, "get", reads)
    again = store.record(parse_event(_klagomal(1)))
    assert (again.duplicate, again.version) == (True, 2)
    assert store.record(parse_event(_klagomal(2))).version == 3
    assert reads.count == 0


def test_a_refused_append_leaves_no_trace_in_the_next_one(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal judged on the taken case drops it (the stored case is read for the next
    append), and nothing of the refused event reaches the record or the next judgement."""
    store.record(parse_event(anmalan(NOW, case_ref=REF, anmalan_id="A1")))
    skydd = _ln("skyddsbedomning_gjord", {"anmalan_id": "nope", "omedelbart_skydd": False}, 1)
    with pytest.raises(RuleViolation):
        store.record(parse_event(skydd))
    ok = _ln("skyddsbedomning_gjord", {"anmalan_id": "A1", "omedelbart_skydd": False}, 2)
    assert store.record(parse_event(ok)).version == 2
    assert [e.idempotency_key for e in store.case_events(CASE)] == ["k-A1", f"{REF}-2"]
    case: ChildCase = store.repository.get(CASE)
    assert (case.version, case.state.event_count) == (2, 2)
