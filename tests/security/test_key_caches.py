"""Unwrapped keys leave a process's memory once their cache time is over, and a long-running
process holds a bounded number of them (``infra.persistence.keycache``).

Before, ``DataKeys`` kept every unwrapped key it had ever read in a plain dict, checking the
expiry only on read: a worker or API process held the key of every case it had touched, for as
long as it ran (the docs promised ``CACHE_SECONDS`` at most), and grew with each new case (the
one-hour soak of 2026-12-01)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from infra.persistence import keycache
from infra.persistence.datakeys import CACHE_SECONDS
from infra.persistence.keycache import ExpiringCache
from infra.persistence.store import CaseStore


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Clock]:
    """Every key cache's clock, moved by the test (``time.monotonic`` itself is left alone)."""
    fake = _Clock()
    monkeypatch.setattr(keycache, "_monotonic", fake)
    yield fake


def test_an_expired_entry_leaves_the_cache_at_its_next_use_and_the_size_is_bounded() -> None:
    now = [0.0]
    cache: ExpiringCache[str, bytes] = ExpiringCache(30.0, 3, clock=lambda: now[0])
    cache.put("a", b"1")
    now[0] = 10.0
    cache.put("b", b"2")
    assert cache.get("a") == b"1" and len(cache) == 2
    now[0] = 30.0  # "a" is 30 s old: expired
    with pytest.raises(KeyError):
        cache.get("a")
    assert len(cache) == 1  # gone from memory, not only refused
    cache.put("b", b"2'")  # put again: lives 30 s from now, and moves behind newer entries
    cache.put("c", b"3")
    cache.put("d", b"4")
    cache.put("e", b"5")  # a fourth: the oldest put ("b") is dropped
    assert len(cache) == 3 and "b" not in cache and cache.get("e") == b"5"
    cache.drop_where(lambda v: v in (b"3", b"4"))
    assert "c" not in cache and "d" not in cache and "e" in cache
    with pytest.raises(ValueError, match="at least one"):
        ExpiringCache(1.0, 0)


def test_data_keys_are_dropped_from_memory_after_the_cache_time(
    store: CaseStore, clock: _Clock
) -> None:
    keys = store.data_keys
    assert keys is not None
    cases = [str(uuid.uuid4()) for _ in range(40)]
    tokens = {c: keys.seal("1280", c, "identitet", {"personnummer": c[:8]}) for c in cases}
    assert len(keys._cache) == 40  # each case's unwrapped key, while in use
    clock.now += CACHE_SECONDS + 1
    other = str(uuid.uuid4())
    keys.seal("1280", other, "identitet", {"personnummer": "x"})
    assert len(keys._cache) == 1  # the forty expired keys are no longer in this process
    assert len(keys._by_bucket) == 1  # nor which key was each case's (a worker's every case)
    # they are read again when needed: the sealed fields still open, under the same keys
    assert all(keys.open(tokens[c], c, "identitet") == {"personnummer": c[:8]} for c in cases)
    assert len(keys._cache) == 41


def test_a_shredded_key_is_forgotten_with_every_bucket_that_named_it(
    store: CaseStore, clock: _Clock
) -> None:
    keys = store.data_keys
    assert keys is not None
    case = str(uuid.uuid4())
    token = keys.seal("1280", case, "identitet", {"personnummer": "p"})
    key_id = token.split(".")[1]
    assert keys.shred(key_id, "GB-1")
    assert key_id not in keys._cache and (case, "identitet") not in keys._by_bucket
    assert keys.open(token, case, "identitet") is None  # destroyed, from the table


def test_workflow_keys_are_dropped_from_memory_after_the_cache_time(
    store: CaseStore, clock: _Clock
) -> None:
    wkeys = store.workflow_keys
    assert wkeys is not None
    ids = [f"barnarende-1280-{uuid.uuid4().hex}" for _ in range(5)]
    live = {w: wkeys.live_key(w) for w in ids}
    assert all(wkeys.cached_live_key(w) == live[w] for w in ids)
    clock.now += CACHE_SECONDS + 1
    assert wkeys.cached_live_key(ids[0]) is None
    assert len(wkeys._live) == 0  # every expired live key left at that use
    assert wkeys.cached_key(live[ids[1]].key_id) is None and len(wkeys._by_id) == 0
    assert wkeys.live_key(ids[0]).key == live[ids[0]].key  # read again, the same key
    assert wkeys.shred(live[ids[0]].key_id, "GB-2")
    assert wkeys.cached_live_key(ids[0]) is None  # a destroyed key is not served from memory
