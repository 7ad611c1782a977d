"""The baseline workflow of bench/workflow.py, in its own module: the workflow sandbox
re-imports a workflow's module, so it must import nothing but temporalio."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow


@workflow.defn(name="BareWorkflow")
class BareWorkflow:
    """The floor: one update → one local activity that inserts one row."""

    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.update
    async def command(self, event: dict[str, Any]) -> int:
        position: int = await workflow.execute_local_activity(
            "bare_insert", event, start_to_close_timeout=timedelta(seconds=30)
        )
        if event.get("type") == "arende_avslutat":
            self._done = True
        return position
