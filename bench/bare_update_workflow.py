"""The floor of bench/api.py, in its own module: the workflow sandbox re-imports a workflow's
module, so it must import nothing but temporalio.

An update round trip with no activity and no database: what any design that sends a command as
a Temporal update pays before doing anything useful.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow


@workflow.defn(name="BareUpdateWorkflow")
class BareUpdateWorkflow:
    def __init__(self) -> None:
        self._count = 0
        self._done = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self._done)
        return self._count

    @workflow.update
    def command(self, event: dict[str, Any]) -> int:
        self._count += 1
        if event.get("type") == "arende_avslutat":
            self._done = True
        return self._count
