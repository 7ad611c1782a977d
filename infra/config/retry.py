"""Retrying and waiting, the one way barnflow does it: ``tenacity``, with the bounds of
``infra.config.timeouts``.

Four shapes cover every wait and retry outside workflow code (Temporal retries activities):

- ``retry_for`` / ``aretry_for``: an attempt that fails while a dependency starts or recovers
  (a refused connection) is repeated at a fixed interval; no wait is begun that would end past
  the total bound, and then the last error is raised as it is.
- ``retry_at_once``: an optimistic write that lost a race is repeated at once, a fixed number of
  times; then ``gave_up`` says so.
- ``backoff_until_stopped``: a long-running loop's step that fails transiently (PostgreSQL
  restarting) is repeated with exponential backoff, 0.5 s doubling to 10 s, until it succeeds
  or the loop is stopped; the wait is on the stop event, so stopping interrupts it.
- ``poll`` / ``apoll``: a value fetched until it satisfies a condition or the bound passes; the
  last value is returned either way and the caller says what a timeout means.

Why tenacity rather than stamina: stamina (itself built on tenacity) has sane defaults for
flaky calls (exponential backoff with jitter, an attempt cap) and a global switch that makes
tests instant, but barnflow's waits are of another kind: fixed intervals and total bounds that
``tests/ops/test_bounded_waits.py`` measures against real servers, a backoff that sleeps on a
``threading.Event`` so a stop interrupts it, polling on a result rather than an exception, and a
log line of each caller's own. tenacity takes each of these as an argument (``stop``, ``wait``,
``sleep``, ``retry_if_result``, ``before_sleep``); stamina would need its defaults overridden at
every call and has neither a custom sleep nor retry-on-result.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
    stop_before_delay,
    wait_exponential,
    wait_fixed,
)

T = TypeVar("T")
Errors = type[BaseException] | tuple[type[BaseException], ...]
#: Told of each failed attempt before the wait: its error and the seconds until the next one.
OnRetry = Callable[[BaseException, float], None]

#: ``backoff_until_stopped``: the first wait and the longest (seconds)
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 10.0


def _told(on_retry: OnRetry | None) -> Callable[[RetryCallState], None] | None:
    if on_retry is None:
        return None

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        sleep = state.next_action.sleep if state.next_action is not None else 0.0
        if error is not None:
            on_retry(error, sleep)

    return before_sleep


def retry_for(
    seconds: float, *, every: float, on: Errors, on_retry: OnRetry | None = None
) -> Retrying:
    """Call ``retry_for(...)(fn, *args)``: ``fn`` again every ``every`` s while it raises
    ``on``, for at most ``seconds`` in all (0: one attempt); then its last error."""
    return Retrying(
        stop=stop_before_delay(seconds),
        wait=wait_fixed(every),
        retry=retry_if_exception_type(on),
        before_sleep=_told(on_retry),
        reraise=True,
    )


def aretry_for(
    seconds: float, *, every: float, on: Errors, on_retry: OnRetry | None = None
) -> AsyncRetrying:
    """``retry_for`` for coroutines (``await aretry_for(...)(fn, *args)``; waits with
    ``asyncio.sleep``)."""
    return AsyncRetrying(
        stop=stop_before_delay(seconds),
        wait=wait_fixed(every),
        retry=retry_if_exception_type(on),
        before_sleep=_told(on_retry),
        reraise=True,
    )


def retry_at_once(attempts: int, *, on: Errors, gave_up: Callable[[], Exception]) -> Retrying:
    """``fn`` again at once while it raises ``on``, ``attempts`` times in all; then
    ``gave_up()`` is raised (with the last error as its cause)."""

    def give_up(state: RetryCallState) -> NoReturn:
        last = state.outcome.exception() if state.outcome is not None else None
        raise gave_up() from last

    return Retrying(
        stop=stop_after_attempt(attempts),
        retry=retry_if_exception_type(on),
        retry_error_callback=give_up,
    )


def backoff_until_stopped(
    fn: Callable[[], T], stopped: threading.Event, *, on: Errors, on_retry: OnRetry | None = None
) -> T | None:
    """``fn()`` again while it raises ``on``, waiting 0.5 s, 1 s, 2 s … at most 10 s between
    attempts, until it returns or ``stopped`` is set: then None, without another attempt."""

    def unless_stopped() -> T | None:
        return None if stopped.is_set() else fn()

    def sleep(seconds: float) -> None:
        stopped.wait(seconds)  # returns at once when the loop is stopped

    retrying = Retrying(
        stop=lambda _state: stopped.is_set(),
        wait=wait_exponential(multiplier=BACKOFF_FIRST, max=BACKOFF_MAX),
        sleep=sleep,
        retry=retry_if_exception_type(on),
        before_sleep=_told(on_retry),
        retry_error_callback=lambda _state: None,
    )
    result: T | None = retrying(unless_stopped)
    return result


def _last_value(state: RetryCallState) -> Any:
    return state.outcome.result() if state.outcome is not None else None


def poll(fetch: Callable[[], T], until: Callable[[T], bool], *, seconds: float, every: float) -> T:
    """``fetch()`` every ``every`` s until ``until`` holds for its value or, after a fetch,
    ``seconds`` have passed; the last value either way (an error of ``fetch`` is raised at
    once)."""
    retrying = Retrying(
        stop=stop_after_delay(seconds),
        wait=wait_fixed(every),
        retry=retry_if_result(lambda value: not until(value)),
        retry_error_callback=_last_value,
    )
    result: T = retrying(fetch)
    return result


async def apoll(
    fetch: Callable[[], Awaitable[T]],
    until: Callable[[T], bool],
    *,
    seconds: float,
    every: float,
    longest: float | None = None,
) -> T:
    """``poll`` for coroutines; with ``longest`` the interval doubles from ``every`` up to it."""
    retrying = AsyncRetrying(
        stop=stop_after_delay(seconds),
        wait=wait_fixed(every)
        if longest is None
        else wait_exponential(multiplier=every, max=longest),
        retry=retry_if_result(lambda value: not until(value)),
        retry_error_callback=_last_value,
    )

    async def attempt() -> T:  # a coroutine function: tenacity awaits only those
        return await fetch()

    result: T = await retrying(attempt)
    return result
