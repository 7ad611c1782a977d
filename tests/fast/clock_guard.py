"""Catch any read of the clock or the environment by barnflow's own code in workflow tasks.

A workflow must take time from ``workflow.now()`` and configuration from its input: a direct
``date.today()``, ``datetime.now()``, ``time.time()`` or ``os.environ`` read makes a replay
diverge from the recorded history. Temporal's sandbox only catches such reads in modules it
re-imports; ``domain`` is passed through (``workflow.unsafe.imports_passed_through``), so a
clock read there slips by. This guard works on every module: the worker's workflow-task threads
run with a profile hook (``sys.setprofile`` via the executor's initializer) that sees each call
of a C clock function and each ``os.environ`` lookup, and records it when the nearest caller
outside the standard library is a file of ``domain/`` or ``workflows/``. The SDK's own
bookkeeping (its logger adapter stamping records, deadlock detection) is not ours and is left
alone. Reads are recorded, not raised: a raise would fail the workflow task and Temporal would
retry it forever, where a list lets the test finish and fail with every offending line.
"""

from __future__ import annotations

import datetime
import os
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: Workflow code: what runs inside a workflow task and must be deterministic.
WORKFLOW_CODE = (str(ROOT / "domain") + os.sep, str(ROOT / "workflows") + os.sep)
_STDLIB = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"], "<frozen ")

#: Wall-clock reads. ``perf_counter``/``monotonic`` are left to the static check in
#: test_no_clock.py: libraries time garbage collection with them from ``gc.callbacks``
#: (hypothesis does), and CPython 3.11 reports such a callback's call against the frame that
#: happened to trigger the collection, which may be ours.
_TIME_FUNCTIONS = {time.time, time.time_ns}
_DATETIME_CLOCKS = {"today", "now", "utcnow"}
_ENV_CODE = {os.getenv.__code__, os._Environ.__getitem__.__code__}


def _clock_name(func: Any) -> str | None:
    """``date.today``/``datetime.now``/``time.time``… as the hook sees them, else ``None``."""
    if func in _TIME_FUNCTIONS:
        return f"time.{func.__name__}"
    owner = getattr(func, "__self__", None)
    if (
        isinstance(owner, type)
        and issubclass(owner, datetime.date)
        and getattr(func, "__name__", "") in _DATETIME_CLOCKS
    ):
        return f"{owner.__name__}.{func.__name__}"
    return None


WORKFLOW_THREAD_PREFIX = "clock-guarded-wf"
_LOGGING = os.sep + "logging" + os.sep


def _first_non_stdlib(frame: FrameType | None) -> FrameType | None:
    """The nearest caller outside the standard library; ``None`` for a log record's timestamp
    (``workflow.logger`` is the SDK's sanctioned way to log, its time is no workflow input)."""
    while frame is not None and frame.f_code.co_filename.startswith(_STDLIB):
        if _LOGGING in frame.f_code.co_filename:
            return None
        frame = frame.f_back
    return frame


class ClockGuard:
    """Collects ``"<read> at <file>:<line>"`` for each read by workflow code."""

    def __init__(self, watched: tuple[str, ...] = WORKFLOW_CODE) -> None:
        self.reads: list[str] = []
        self._watched = watched
        self._lock = threading.Lock()

    def _hook(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "c_call":
            what = _clock_name(arg)
            if what is None:
                return
            caller: FrameType | None = _first_non_stdlib(frame)
        elif event == "call" and frame.f_code in _ENV_CODE:
            what = "os.environ"
            caller = _first_non_stdlib(frame)
        else:
            return
        if caller is not None and caller.f_code.co_filename.startswith(self._watched):
            where = f"{Path(caller.f_code.co_filename).relative_to(ROOT)}:{caller.f_lineno}"
            with self._lock:
                self.reads.append(f"{what} at {where}")

    def _install(self) -> None:
        sys.setprofile(self._hook)

    @contextmanager
    def executor(self) -> Iterator[ThreadPoolExecutor]:
        """The ``workflow_task_executor`` for a Worker or Replayer: every thread is hooked."""
        with ThreadPoolExecutor(
            max_workers=4, thread_name_prefix=WORKFLOW_THREAD_PREFIX, initializer=self._install
        ) as pool:
            yield pool

    def assert_no_reads(self) -> None:
        assert not self.reads, "workflow code read the clock or environment: " + "; ".join(
            sorted(set(self.reads))
        )
