"""CPU per workflow instance the sandbox creates: the worker's runner (workflow code kept in
memory, ``infra.temporal.sandbox.KeptWorkflowCode``) against temporalio's own sandboxed runner
(the module read from disk for every instance), with and without bytecode on disk.

    .venv/bin/python bench/instance.py [--instances 400] [--pairs 3] [--no-bytecode]

The sandbox imports a workflow's module anew for every instance it creates: each new run, and
each replay of a run the sticky cache let go (with a cache smaller than the open cases, most
commands of a real kommun). Each arm runs in a process of its own, the arms alternating
(``--pairs`` times); each process creates ``--instances`` ``ChildCaseWorkflow`` instances the
way a worker validates one (``prepare_workflow``: temporalio's placeholder info), after 20 not
counted, and prints the CPU milliseconds per instance (``time.process_time``). ``--no-bytecode``
runs both arms with an empty ``PYTHONPYCACHEPREFIX`` and ``PYTHONDONTWRITEBYTECODE=1``, as a
read-only install without compiled files: every import compiles from source.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
ARMS = ("temporalio's sandbox", "worker's runner (kept code)")


def _one_arm(kept: bool, instances: int) -> float:
    """CPU ms per instance in this process (imports here, so the parent stays clean)."""
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
    from temporalio.workflow import _Definition

    from infra.temporal.sandbox import ContextOutsideSandboxRunner
    from workflows.child_case import ChildCaseWorkflow

    runner = ContextOutsideSandboxRunner() if kept else SandboxedWorkflowRunner()
    defn = _Definition.must_from_class(ChildCaseWorkflow)

    async def timed() -> float:
        for _ in range(20):
            runner.prepare_workflow(defn)
        started = time.process_time()
        for _ in range(instances):
            runner.prepare_workflow(defn)
        return (time.process_time() - started) * 1000 / instances

    return asyncio.run(timed())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--instances", type=int, default=400)
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--no-bytecode", action="store_true", help="compile from source every time")
    p.add_argument("--arm", choices=("plain", "kept"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.arm:
        print(f"{_one_arm(args.arm == 'kept', args.instances):.3f}")
        return
    with tempfile.TemporaryDirectory(prefix="bf-bench-instance-") as empty:
        env = dict(os.environ)
        if args.no_bytecode:
            env |= {"PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"}
        results: dict[str, list[float]] = {arm: [] for arm in ARMS}
        for _ in range(args.pairs):
            for arm, flag in zip(ARMS, ("plain", "kept"), strict=True):
                out = subprocess.run(
                    [sys.executable, __file__, "--arm", flag, "--instances", str(args.instances)],
                    env=env,
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                results[arm].append(float(out.stdout.strip().splitlines()[-1]))
    bytecode = "none (compiled from source)" if args.no_bytecode else "on disk (__pycache__)"
    print(f"{args.instances} ChildCaseWorkflow instances per process, bytecode {bytecode}")
    for arm, values in results.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {arm:28} {runs}  (median {statistics.median(values):.2f} ms CPU each)")
    plain, kept = (statistics.median(results[a]) for a in ARMS)
    print(f"kept / temporalio's: {kept / plain:.2f}x")


if __name__ == "__main__":
    main()
