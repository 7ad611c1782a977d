"""AES-GCM nonces drawn from the kernel's random source many at a time.

Every encrypted row and sealed field needs a fresh 12-byte nonce; ``os.urandom`` costs one
``getrandom`` system call each, measured 3-4.4 µs on this machine's kernel: a bulk import drew
18,000 of them for 11,000 lines (a row each, the sealed fields, the batch's wrapped data keys).
``NonceSource`` asks the kernel for ``BATCH`` nonces in one call and hands out 12-byte slices.

Why this is as safe as one call per nonce (docs/operations.md "Import CPU per line"):

* **The same distribution.** GCM with random nonces needs each nonce drawn uniformly and
  independently (NIST SP 800-38D §8.2.2, the RBG-based construction). ``getrandom`` output is
  indistinguishable from uniform bytes, and disjoint slices of a uniform string are independent
  uniform strings: 256 slices of one 3,072-byte read are distributed exactly like 256 reads of
  12 bytes. The collision bound (birthday, 2^-32 after 2^32 nonces under one key) is unchanged.
* **Never the same slice twice.** A slice is taken under a lock (threads: the import's COPY
  thread, the API's request threads) and the buffer only moves forward.
* **Never across ``fork``.** A child process would inherit the unused rest of the buffer and hand
  out the very nonces the parent is about to use, under the same key: GCM's one catastrophic
  failure (nonce reuse reveals the XOR of plaintexts and lets tags be forged). The buffer is
  emptied in the child by ``os.register_at_fork``, which every fork CPython makes runs
  (``os.fork``, ``multiprocessing``'s fork; ``subprocess`` runs no Python in its child before
  the exec). Not also by a check of ``os.getpid()`` per draw: that is a system call too (3 µs
  here), the very cost saved; a fork made in C behind CPython's back leaves a child in which no
  Python code is safe anyway.
* **Nothing secret waits in memory.** Nonces are public (stored in clear in front of each
  ciphertext); the buffer holds only values that will be published. Keys are still drawn one by
  one, never from here.
"""

from __future__ import annotations

import os
import threading
import weakref

#: Nonces fetched per system call: 3 KiB, small enough to be nothing in memory.
BATCH = 256


class NonceSource:
    """Random nonces of ``size`` bytes, ``batch`` of them per ``os.urandom`` call."""

    def __init__(self, size: int, batch: int = BATCH) -> None:
        self._size = size
        self._chunk = size * batch
        self._lock = threading.Lock()
        self._buf = b""
        self._at = 0
        _SOURCES.add(self)

    def draw(self) -> bytes:
        """A fresh nonce (no two draws in any process return the same slice)."""
        with self._lock:
            at = self._at
            end = at + self._size
            if end > len(self._buf):
                self._buf = os.urandom(self._chunk)
                at, end = 0, self._size
            self._at = end
            return self._buf[at:end]

    def _forget(self) -> None:
        """Drop the unused nonces (in a forked child: they are the parent's)."""
        self._buf = b""
        self._at = 0


#: Every source in the process, emptied in a forked child.
_SOURCES: weakref.WeakSet[NonceSource] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for source in list(_SOURCES):
        # the lock may have been held by another thread of the parent at fork: a new one
        source._lock = threading.Lock()
        source._forget()


os.register_at_fork(after_in_child=_after_fork_in_child)

#: The process's 12-byte GCM nonces (the store cipher's rows and the data keys' sealed fields).
GCM_NONCES = NonceSource(12)
