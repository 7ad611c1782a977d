"""The workflow never reads the clock or the environment (issue 13, deliverable 6).

Every fast test runs its workflow tasks under ``ClockGuard``; these tests aim it at the place
that used to read the clock (a 10-digit personnummer, whose century was resolved against
``date.today()`` inside the update validator) and prove the guard itself sees a read.
"""

from __future__ import annotations

import ast
import os
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from infra.temporal.codec import data_converter
from tests.fast.clock_guard import ClockGuard
from tests.fast.driver import FastCase
from tests.fast.fakes import InMemoryStore
from workflows.child_case import ChildCaseWorkflow

#: tests.factories.PNR_GIRL (2012-03-04) written the short way, as many systems still send it.
PNR_SHORT = "120304-1239"
#: The codec key the committed histories were recorded with (tests/conftest.py CODEC_KEY).
REPLAY_CODEC_KEY = b"c" * 32


async def test_a_ten_digit_personnummer_is_judged_without_the_clock(
    fast_env: WorkflowEnvironment,
    fake_store: InMemoryStore,
    fast_worker: str,
    clock_guard: ClockGuard,
) -> None:
    d = FastCase(fast_env, fake_store, fast_worker, pnr=PNR_SHORT)
    opened = await d.anmalan()
    await d.anmalan("anm-2")  # a second anmälan about the same child, same short form
    clock_guard.assert_no_reads()  # the validator parsed both lines with the event's date
    barn = opened.event["data"]["barn"]
    assert (barn["personnummer"], barn["fodelsedatum"]) == ("201203041239", "2012-03-04")


@workflow.defn(sandboxed=False)
class ReadsTheClock:
    """Deliberately wrong workflow code: what the guard must catch."""

    @workflow.run
    async def run(self) -> str:
        today = date.today()
        now = datetime.now(UTC)
        home = os.environ.get("HOME", "")
        workflow.logger.warning("logged, with a timestamp: allowed")
        await workflow.sleep(timedelta(seconds=1))
        return f"{today} {now} {bool(home)}"


async def test_the_guard_sees_clock_and_environment_reads(fast_env: WorkflowEnvironment) -> None:
    guard = ClockGuard(watched=(__file__,))
    queue = f"guard-{secrets.token_hex(4)}"
    with guard.executor() as pool:
        async with Worker(
            fast_env.client,
            task_queue=queue,
            workflows=[ReadsTheClock],
            workflow_task_executor=pool,
        ):
            await fast_env.client.execute_workflow(ReadsTheClock.run, id=queue, task_queue=queue)
    reads = sorted({r.split(" at ")[0] for r in guard.reads})
    assert reads == ["date.today", "datetime.now", "os.environ"]


HISTORIES = sorted((Path(__file__).parents[1] / "replay" / "histories").glob("*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_committed_histories_replay_without_reading_the_clock(path: Path) -> None:
    """Every recorded case (all patch generations) replays on today's code without a clock read."""
    guard = ClockGuard()
    with guard.executor() as pool:
        replayer = Replayer(
            workflows=[ChildCaseWorkflow],
            data_converter=data_converter(REPLAY_CODEC_KEY),
            workflow_task_executor=pool,
        )
        await replayer.replay_workflow(WorkflowHistory.from_json(path.stem, path.read_text()))
    guard.assert_no_reads()


_CLOCK_ATTRS = {
    ("date", "today"),
    ("datetime", "today"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
    ("os", "environ"),
    ("os", "getenv"),
}
_CLOCK_IMPORTS = {("time", "time"), ("time", "time_ns"), ("os", "environ"), ("os", "getenv")}


def _clock_reads(source: str) -> list[tuple[int, str]]:
    """``date.today``-style attribute reads and ``from os import environ``-style imports."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if (name, node.attr) in _CLOCK_ATTRS:
                found.append((node.lineno, f"{name}.{node.attr}"))
        elif isinstance(node, ast.ImportFrom) and node.module in ("time", "os"):
            found += [
                (node.lineno, f"from {node.module} import {a.name}")
                for a in node.names
                if (node.module, a.name) in _CLOCK_IMPORTS
            ]
    return found


def test_no_workflow_code_path_can_read_the_clock() -> None:
    """The static half of the guard: paths no fast test runs are covered too. Workflow time is
    ``workflow.now()``; activities and infra may read the clock, ``domain``/``workflows`` not."""
    root = Path(__file__).resolve().parents[2]
    reads = [
        f"{path.relative_to(root)}:{line} {what}"
        for package in ("domain", "workflows")
        for path in sorted((root / package).rglob("*.py"))
        for line, what in _clock_reads(path.read_text())
    ]
    assert reads == []
    # and it does see one (the line domain/identity.py had before the fix)
    old = "ref = today if today is not None else date.today()"
    assert _clock_reads(old) == [(1, "date.today")]
