"""Polling helpers for tests that wait on real servers (bounded; they fail, never hang)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import TypeVar

import time_machine

from infra.config.clock import ENV_PROJECTION_DAY

T = TypeVar("T")


def real_time() -> float:
    """The real clock's Unix time, also under a moved test clock (conftest, ``--clock``): what
    a server or subprocess judges by (a token's ``iat``, a certificate's validity), since the
    test clock moves only this process."""
    hatch = time_machine.escape_hatch
    return hatch.time.time() if hatch.is_travelling() else time.time()


def subprocess_env(**extra: str) -> dict[str, str]:
    """The test process's environment without its ``BARNFLOW_*`` variables (a barnflow
    subprocess is configured by what its test gives it, ``extra``), except the session's
    projection day (``BARNFLOW_PROJECTION_DAY``, set in conftest): a runner subprocess then
    writes the view rows an in-process rebuild writes, whenever the month ends."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BARNFLOW_") or k == ENV_PROJECTION_DAY
    }
    env.update(extra)
    return env


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
