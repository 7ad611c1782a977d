"""What the API needs from the rest of barnflow, passed in once (no globals, no env reads).

``projected`` says up to which store position the report views are built (the projections'
tracked position): ``?min_position=N`` waits until it reaches N, so a caller reads its own write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client

from infra.api.problems import Problem, unavailable
from infra.config.api import ApiConfig
from infra.config.retry import apoll
from infra.config.settings import Settings
from infra.persistence.store import CaseStore
from workflows.webhooks import DispatchInput


@dataclass
class Services:
    store: CaseStore
    client: Client
    settings: Settings
    config: ApiConfig
    projected: Callable[[], int] | None = None
    #: what report builders read from: a long-lived view (one pool), else the store's env
    report_source: Any = None
    dispatch_input: DispatchInput = field(default_factory=DispatchInput)
    inflight: int = field(default=0, init=False)

    @property
    def task_queue(self) -> str:
        return self.settings.task_queue

    def projected_position(self) -> int:
        """The lowest position every projection has processed (0 when none has)."""
        if self.projected is None:  # no views configured: the record itself is the read model
            return self.store.max_position()
        return self.projected()

    async def wait_for_projections(self, min_position: int | None) -> None:
        """Bounded read-your-writes: wait until projections reached ``min_position``, else 503."""
        if min_position is None or min_position <= 0:
            return
        head = await asyncio.to_thread(self.store.max_position)
        if min_position > head:  # could never be reached: a client error, not a wait
            raise Problem(
                422,
                "validation",
                f"min_position: {min_position} is beyond the newest stored position {head}",
                field="min_position",
            )
        reached = await apoll(
            lambda: asyncio.to_thread(self.projected_position),
            lambda position: position >= min_position,
            seconds=self.config.max_wait,
            every=0.02,
            longest=0.25,
        )
        if reached < min_position:
            raise unavailable(
                f"projections have not reached position {min_position} within "
                f"{self.config.max_wait:g}s",
                retry_after=2,
            )

    def acquire_command_slot(self) -> None:
        """Count one command in flight, or refuse at once (429) when the bound is reached."""
        if self.inflight >= self.config.max_inflight:
            raise Problem(
                429,
                "overloaded",
                f"more than {self.config.max_inflight} commands in flight; retry shortly",
                headers={"Retry-After": "1"},
            )
        self.inflight += 1

    def release_command_slot(self) -> None:
        self.inflight -= 1
