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

It also **keeps the compiled code of each workflow module** it prepares (``KeptWorkflowCode``).
The sandbox imports a workflow's module afresh for every workflow instance it creates (each run,
and each replay after the sticky cache let it go), and importlib reads and unmarshals the
module's ``.pyc`` from disk each time (``child_case``'s is 50 KB), or compiles the source when
there is no bytecode (a read-only install): ``bench/instance.py``, 3.46 → 3.06 ms of CPU per
instance with bytecode on disk, 12.8 → 4.1 ms without (docs/operations.md, "Eighth round").
Kept, the module is still executed anew in each instance's sandbox, exactly as before; only
reading it from disk goes. And a worker then runs, for its whole life, the workflow
code it was started with: before, a deploy that replaced ``workflows/child_case.py`` under a
running worker made its next instances run the new file beside the old ``domain`` modules it had
already imported (those are passed through, imported once), and beside its cached instances of
the old code.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from dataclasses import dataclass
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec, SourceFileLoader
from types import CodeType
from typing import Any

from temporalio.converter import SerializationContext
from temporalio.converter._extstore import StorageDriverStoreContext
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _Instance
from temporalio.workflow import _Definition

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


class _KeptCodeLoader(SourceFileLoader):
    """The loader importlib would use for the module's source file, except that its code is the
    code compiled once, when the worker prepared the workflow."""

    def __init__(self, fullname: str, path: str, code: CodeType) -> None:
        super().__init__(fullname, path)
        self._code = code

    def get_code(self, fullname: str) -> CodeType:
        return self._code


class KeptWorkflowCode(MetaPathFinder):
    """A finder first on ``sys.meta_path`` that answers only for the workflow modules kept by
    ``keep``: their spec is the source file's, their loader hands out the kept code. Every other
    import (the sandbox's restricted standard library, passed-through modules) is not touched."""

    def __init__(self) -> None:
        self._kept: dict[str, _KeptCodeLoader] = {}
        self._lock = threading.Lock()

    def keep(self, module_name: str) -> bool:
        """Compile ``module_name``'s code now and serve it to every later import of it; true if
        kept. A module already kept from the same file stays as it was (a second worker in the
        process runs the first one's code); one not loaded from a source file (``__main__``, a
        zip) is imported as before."""
        module = sys.modules.get(module_name)
        spec = getattr(module, "__spec__", None)
        loader = getattr(spec, "loader", None)
        origin = getattr(spec, "origin", None)
        if (
            type(loader) is not SourceFileLoader
            or not isinstance(origin, str)
            or getattr(spec, "name", None) != module_name  # __main__: the sandbox renames it
        ):
            return False
        with self._lock:
            kept = self._kept.get(module_name)
            if kept is not None and kept.path == origin:
                return True
            code = loader.get_code(module_name)
            if code is None:
                return False
            self._kept[module_name] = _KeptCodeLoader(module_name, origin, code)
            if self not in sys.meta_path:
                sys.meta_path.insert(0, self)
        return True

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        kept = self._kept.get(fullname)
        if kept is None:
            return None
        return importlib.util.spec_from_file_location(fullname, kept.path, loader=kept)


#: The process's one finder (``sys.meta_path`` is the process's).
KEPT_CODE = KeptWorkflowCode()


@dataclass(frozen=True)
class ContextOutsideSandboxRunner(SandboxedWorkflowRunner):
    """``SandboxedWorkflowRunner`` (default restrictions) whose instances answer the data
    converter's serialization-context questions without entering the sandbox, and whose
    workflow modules are compiled once, when the worker prepares them (``KeptWorkflowCode``)."""

    def prepare_workflow(self, defn: _Definition) -> None:
        KEPT_CODE.keep(defn.cls.__module__)
        super().prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _ContextOutsideInstance(det, self.runner_class, self.restrictions)
