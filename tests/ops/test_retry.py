"""The one retry helper (``infra.config.retry``): the bounds it promises hold, the last error
reaches the caller unchanged, and stopping a runner interrupts its backoff at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable

import pytest

from infra.config.retry import (
    apoll,
    aretry_for,
    backoff_until_stopped,
    poll,
    retry_at_once,
    retry_for,
)


class Refused(ConnectionError):
    pass


def test_retry_for_stays_within_its_bound_and_raises_the_last_error() -> None:
    calls: list[float] = []
    told: list[tuple[str, float]] = []

    def attempt() -> None:
        calls.append(time.monotonic())
        raise Refused(f"refused #{len(calls)}")

    started = time.monotonic()
    with pytest.raises(Refused, match=r"refused #(\d+)") as info:
        retry_for(1.0, every=0.25, on=Refused, on_retry=lambda e, s: told.append((str(e), s)))(
            attempt
        )
    took = time.monotonic() - started
    assert took < 1.0  # no wait was begun that would end past the bound (about 0.75 s)
    assert 2 <= len(calls) <= 4 and info.value.args[0] == f"refused #{len(calls)}"
    assert told[0] == ("refused #1", 0.25) and len(told) == len(calls) - 1


def test_retry_for_zero_seconds_is_one_attempt_and_other_errors_pass_at_once() -> None:
    calls = 0

    def refused() -> None:
        nonlocal calls
        calls += 1
        raise Refused

    with pytest.raises(Refused):
        retry_for(0, every=1.0, on=Refused)(refused)
    assert calls == 1

    def broken() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("a bug, not a dependency starting")

    with pytest.raises(KeyError):
        retry_for(10, every=1.0, on=Refused)(broken)
    assert calls == 2


async def test_aretry_for_returns_once_the_dependency_is_up() -> None:
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise Refused
        return "up"

    assert await aretry_for(5, every=0.01, on=Refused)(attempt) == "up"
    assert calls == 3


def test_retry_at_once_gives_up_with_its_own_error_after_n_attempts() -> None:
    calls = 0

    def lost_race() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("version conflict")

    retrying = retry_at_once(4, on=ValueError, gave_up=lambda: RuntimeError("gave up after 4"))
    with pytest.raises(RuntimeError, match="gave up after 4") as info:
        retrying(lost_race)
    assert calls == 4 and isinstance(info.value.__cause__, ValueError)


def test_stopping_interrupts_the_backoff_at_once() -> None:
    stopped = threading.Event()
    waits: list[float] = []

    attempts = 0

    def down() -> int:
        nonlocal attempts
        attempts += 1
        raise Refused

    started = time.monotonic()
    threading.Timer(0.7, stopped.set).start()
    result = backoff_until_stopped(down, stopped, on=Refused, on_retry=lambda e, s: waits.append(s))
    took = time.monotonic() - started
    assert result is None and attempts == 2  # none after the stop
    assert waits == [0.5, 1.0]  # 0.5 s, then doubling (to at most 10 s)
    assert 0.7 <= took < 1.3, took  # the 1 s wait from 0.5 s (to 1.5 s) ended at the stop


def test_poll_returns_the_last_value_when_time_is_up() -> None:
    values = iter(range(100))
    assert poll(lambda: next(values), lambda v: v >= 3, seconds=5, every=0.01) == 3
    started = time.monotonic()
    last = poll(lambda: next(values), lambda v: v < 0, seconds=0.2, every=0.05)
    assert 0.2 <= time.monotonic() - started < 0.5
    assert 4 <= last < 100


async def test_apoll_awaits_what_a_plain_function_returns() -> None:
    """``fetch`` may be a plain function returning an awaitable (``asyncio.to_thread``, as the
    API's read-your-writes wait uses it): the wait is on its value, never a coroutine object."""
    positions = iter(range(100))

    def fetch() -> Awaitable[int]:
        return asyncio.to_thread(next, positions)

    assert await apoll(fetch, lambda p: p >= 3, seconds=5, every=0.01) == 3
    late = await apoll(fetch, lambda p: p < 0, seconds=0.1, every=0.02, longest=0.04)
    assert isinstance(late, int) and late > 3
