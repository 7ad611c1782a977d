"""The rebuild's COPY thread (``projections.background_copy``): items written in order, a
writer's error raised in the rebuilding thread, nothing more written once the rebuild fails."""

from __future__ import annotations

import threading

import pytest

from projections.background_copy import BackgroundCopy


def test_items_are_written_in_order_on_one_other_thread() -> None:
    written: list[int] = []
    threads: set[int] = set()

    def write(item: int) -> None:
        threads.add(threading.get_ident())
        written.append(item)

    with BackgroundCopy(write, depth=2) as copier:
        for i in range(50):
            copier.put(i)
    assert written == list(range(50))
    assert threads and threading.get_ident() not in threads and len(threads) == 1


def test_a_writers_error_reaches_the_rebuilding_thread_and_stops_the_writes() -> None:
    written: list[int] = []
    failed = threading.Event()

    def write(item: int) -> None:
        if item == 3:
            failed.set()
            raise OSError("COPY failed")
        written.append(item)

    with pytest.raises(OSError, match="COPY failed"), BackgroundCopy(write, depth=1) as copier:
        for i in range(100):
            copier.put(i)
            if failed.is_set() and i > 10:
                break
    assert written == [0, 1, 2]


def test_a_failure_in_the_rebuilding_thread_writes_nothing_more() -> None:
    """The rebuild fails while the writer is inside its first item, three more queued: the
    writer finishes that item (the transaction rolls back anyway) and writes none of the rest."""
    started = threading.Event()
    release = threading.Event()
    written: list[int] = []

    def write(item: int) -> None:
        started.set()
        release.wait(5)
        written.append(item)

    with pytest.raises(KeyError), BackgroundCopy(write, depth=4) as copier:
        for i in range(4):
            copier.put(i)
        assert started.wait(5)
        threading.Timer(0.5, release.set).start()  # after the block has been left
        raise KeyError("read failed")
    assert written == [0]
