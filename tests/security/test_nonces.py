"""GCM nonces drawn many per system call (``infra.persistence.nonces``) are never handed out
twice: not by two draws, not by two threads, not by a parent and its forked child; and the rows
and sealed fields encrypted with them still open."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from infra.persistence.cipher import HEADER_LEN, NONCE_LEN, Keyring
from infra.persistence.nonces import GCM_NONCES, NonceSource


def test_draws_are_distinct_across_many_refills() -> None:
    source = NonceSource(12, batch=8)
    drawn = [source.draw() for _ in range(1000)]
    assert all(len(n) == 12 for n in drawn)
    assert len(set(drawn)) == len(drawn)


def test_threads_never_share_a_nonce() -> None:
    source = NonceSource(12, batch=16)
    barrier = threading.Barrier(4)

    def many(_: int) -> list[bytes]:
        barrier.wait()
        return [source.draw() for _ in range(2000)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        drawn = [n for part in pool.map(many, range(4)) for n in part]
    assert len(set(drawn)) == len(drawn) == 8000


def _draw_in_child(source: NonceSource, count: int) -> list[bytes]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its draws, through the pipe, then gone without cleanup
        try:
            os.close(read)
            os.write(write, b"".join(source.draw() for _ in range(count)))
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    return [data[i : i + 12] for i in range(0, len(data), 12)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_child_does_not_reuse_the_parents_buffered_nonces() -> None:
    """The buffer's unused rest at fork would be drawn by both processes under the same key."""
    source = NonceSource(12, batch=64)
    source.draw()  # the buffer now holds 63 unused nonces
    child = _draw_in_child(source, 63)
    parent = [source.draw() for _ in range(63)]
    assert len(child) == 63
    assert not set(child) & set(parent)


def test_rows_encrypted_with_drawn_nonces_open_and_each_has_its_own_nonce() -> None:
    ring = Keyring(b"k" * 32)
    rows = [ring.encrypt(f"row {i}".encode()) for i in range(600)]  # more than one buffer
    assert [ring.decrypt(r) for r in rows] == [f"row {i}".encode() for i in range(600)]
    nonces = {r[HEADER_LEN : HEADER_LEN + NONCE_LEN] for r in rows}
    assert len(nonces) == len(rows)
    assert len(GCM_NONCES.draw()) == NONCE_LEN
