"""Polling helpers for tests that wait on real servers (bounded; they fail, never hang)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(probe: Callable[[], T], *, timeout: float = 20.0, interval: float = 0.1) -> T:
    """Return ``probe()``'s first truthy value; fail with the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")
        await asyncio.sleep(interval)
        value = probe()
    return value
