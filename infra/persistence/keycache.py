"""A bounded, thread-safe map whose entries expire: the one home of every per-process cache of
keys and of what names a child (``DataKeys``, ``WorkflowKeys``, ``FirstEvents``).

Why not a plain dict with an expiry checked on read: an expired entry was never removed, so an
unwrapped key stayed in the process's memory for as long as the process ran, past the
``CACHE_SECONDS`` the docs promise, and a worker or API process kept one entry for every case it
had ever touched (a soak on 2026-12-01 saw the worker grow with every case it opened).

Entries are kept in the order they were put, which is the order they expire (every entry lives
the same ``seconds``; putting a key again moves it to the end). Every ``get`` and ``put`` first
drops the expired entries from the front, and ``put`` drops the oldest while more than ``size``
are held, so an unwrapped key leaves memory at the first use of the cache after it expired, and
the cache never holds more than ``size`` entries. A process that stops using the cache
altogether keeps its last entries until it uses it again (no timer thread).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _monotonic() -> float:
    """The caches' clock (looked up at each call, so a test can move every cache's time)."""
    return time.monotonic()


class ExpiringCache(Generic[K, V]):
    """At most ``size`` entries, each for at most ``seconds``.
    ``clock``: seconds, monotonic (default ``time.monotonic``)."""

    def __init__(
        self, seconds: float, size: int, *, clock: Callable[[], float] | None = None
    ) -> None:
        if size < 1:
            raise ValueError("an ExpiringCache holds at least one entry")
        self._seconds = seconds
        self._size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()

    def _now(self) -> float:
        return _monotonic() if self._clock is None else self._clock()

    def _drop_expired(self, now: float) -> None:
        entries = self._entries
        while entries:
            first = next(iter(entries.values()))
            if first[1] > now:
                return
            entries.popitem(last=False)

    def get(self, key: K) -> V:
        """The value put for ``key``; ``KeyError`` if none was, or it expired or was dropped."""
        with self._lock:
            now = self._now()
            self._drop_expired(now)
            return self._entries[key][0]

    def __contains__(self, key: object) -> bool:
        with self._lock:
            self._drop_expired(self._now())
            return key in self._entries

    def put(self, key: K, value: V) -> None:
        with self._lock:
            now = self._now()
            self._drop_expired(now)
            self._entries[key] = (value, now + self._seconds)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        """Forget ``key`` (nothing if it is not held)."""
        with self._lock:
            self._entries.pop(key, None)

    def drop_where(self, test: Callable[[V], bool]) -> None:
        """Forget every entry whose value passes ``test`` (those naming a destroyed key, say)."""
        with self._lock:
            for key in [k for k, (v, _) in self._entries.items() if test(v)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        """Entries held now, expired ones not yet dropped included."""
        return len(self._entries)
