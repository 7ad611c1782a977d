"""The workflow sandbox, without a sandbox entry for every payload's serialization context.

temporalio 1.35 encodes and decodes a workflow's payloads with a data converter that asks the
workflow instance, for **each** payload sequence of an activation and of its completion, which
serialization context applies (the workflow's, or a pending activity's): up to three times per
sequence on decode and three on encode, and once more for the external-storage context. The
sandboxed runner answers each question by entering the sandbox (``exec`` of a code string under
``Importer.applied``: the thread's ``sys.modules`` swapped, ``__import__`` and every restricted
builtin, ``isinstance`` and ``issubclass`` among them, replaced and restored). In
``bench/workflow.py``'s yappi profile that was about 140 entries per case lifecycle and a third of
the worker's profiled CPU; the question itself is a few attribute reads.

``ContextOutsideSandboxRunner`` is temporalio's ``SandboxedWorkflowRunner`` unchanged (same
restrictions, workflow code still imported and run inside the sandbox for every run and
activation), except that those two questions are answered by calling the in-sandbox instance's
method directly. That method runs no workflow code: it reads the instance's info and pending
activities and builds a context object from temporalio's own (passed-through) classes, so the
answer is the same object either way (``tests/fast/test_sandbox_context.py``). It relies on
temporalio's private runner class (``_runner._Instance``), pinned with temporalio in
pyproject.toml; if the in-sandbox object is not where this version keeps it, the sandbox is
entered as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio.converter import SerializationContext
from temporalio.converter._extstore import StorageDriverStoreContext
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _Instance

#: Where ``_runner._Instance`` keeps the in-sandbox object (``_create_instance``).
IN_SANDBOX = "__temporal_in_sandbox"


class _ContextOutsideInstance(_Instance):
    """A sandboxed workflow instance whose serialization-context questions skip the sandbox
    entry (``activate`` and the workflow's creation are temporalio's)."""

    def _in_sandbox(self) -> Any:
        return self.globals_and_locals.get(IN_SANDBOX)

    def get_serialization_context(
        self, command_info: CommandInfo | None
    ) -> SerializationContext | None:
        inner = self._in_sandbox()
        if inner is None:
            return super().get_serialization_context(command_info)
        context: SerializationContext | None = inner.get_serialization_context(command_info)
        return context

    def get_external_store_context(
        self, command_info: CommandInfo | None
    ) -> StorageDriverStoreContext:
        inner = self._in_sandbox()
        if inner is None:
            return super().get_external_store_context(command_info)
        context: StorageDriverStoreContext = inner.get_external_store_context(command_info)
        return context


@dataclass(frozen=True)
class ContextOutsideSandboxRunner(SandboxedWorkflowRunner):
    """``SandboxedWorkflowRunner`` (default restrictions) whose instances answer the data
    converter's serialization-context questions without entering the sandbox."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _ContextOutsideInstance(det, self.runner_class, self.restrictions)
