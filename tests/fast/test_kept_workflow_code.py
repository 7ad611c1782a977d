"""A worker runs, for its whole life, the workflow code it was started with
(``infra.temporal.sandbox.KeptWorkflowCode``): temporalio's sandbox imports a workflow's module
anew for every instance, from disk, so without it a file replaced under a running worker (a
deploy that copies before it restarts) changes what the worker's next instances run."""

from __future__ import annotations

import importlib
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from infra.temporal.sandbox import KEPT_CODE, ContextOutsideSandboxRunner

SOURCE = """
from temporalio import workflow


@workflow.defn(name="{name}")
class Answer:
    @workflow.run
    async def run(self) -> str:
        return "{answer}"
"""


def _write(folder: Path, module: str, answer: str) -> None:
    path = folder / f"{module}.py"
    path.write_text(SOURCE.format(name=module, answer=answer), encoding="utf-8")
    # a newer mtime than the .pyc the first import wrote, whatever the file system's resolution
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)


@pytest.fixture
def workflow_module(tmp_path: Path) -> Iterator[tuple[ModuleType, Path]]:
    """A one-workflow module of its own name (the finder is the process's), importable."""
    name = f"kept_code_{secrets.token_hex(4)}"
    _write(tmp_path, name, "first")
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(name), tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


async def _answers_before_and_after_a_change(
    env: WorkflowEnvironment, runner: WorkflowRunner, module: ModuleType, folder: Path
) -> tuple[str, str]:
    queue = f"kept-code-{secrets.token_hex(4)}"
    name = module.__name__
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[module.Answer],
        workflow_runner=runner,
        max_cached_workflows=0,  # every task creates the instance: the module is imported again
    ):
        before: str = await env.client.execute_workflow(
            name, id=f"{name}-1", task_queue=queue, result_type=str
        )
        _write(folder, name, "second")
        after: str = await env.client.execute_workflow(
            name, id=f"{name}-2", task_queue=queue, result_type=str
        )
    return before, after


@pytest.mark.parametrize(
    ("runner", "answers"),
    [
        # the worker's runner: the code the worker was started with
        (ContextOutsideSandboxRunner(), ("first", "first")),
        # what it guards against: temporalio's own runner reads the replaced file
        (SandboxedWorkflowRunner(), ("first", "second")),
    ],
    ids=["worker-keeps-its-code", "temporalio-sandbox-rereads-the-file"],
)
async def test_a_worker_keeps_running_the_workflow_code_it_started_with(
    fast_env: WorkflowEnvironment,
    workflow_module: tuple[ModuleType, Path],
    runner: WorkflowRunner,
    answers: tuple[str, str],
) -> None:
    module, folder = workflow_module
    assert await _answers_before_and_after_a_change(fast_env, runner, module, folder) == answers
    kept = KEPT_CODE.find_spec(module.__name__) is not None
    assert kept == isinstance(runner, ContextOutsideSandboxRunner)


def test_a_module_not_loaded_from_a_source_file_is_imported_as_before() -> None:
    assert KEPT_CODE.keep("__main__") is False
    assert KEPT_CODE.keep("no_such_module_" + secrets.token_hex(4)) is False
