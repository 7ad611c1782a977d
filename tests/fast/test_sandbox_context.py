"""The worker's runner gives every payload the serialization context temporalio's sandboxed
runner gives it (``infra.temporal.sandbox``: the question is answered without entering the
sandbox, the workflow itself still runs inside it)."""

from __future__ import annotations

import dataclasses
import secrets
from collections import Counter
from collections.abc import Sequence
from typing import Any, Self

from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from infra.temporal.sandbox import ContextOutsideSandboxRunner
from tests.factories import PNR_BOY, PNR_GIRL
from tests.fast.clock_guard import ClockGuard
from tests.fast.driver import FastCase
from tests.fast.fakes import InMemoryStore
from workflows.child_case import ChildCaseWorkflow


class RecordingCodec(PayloadCodec, WithSerializationContext):
    """Passes payloads through and records the context each encode and decode was bound to."""

    def __init__(self, log: list[tuple[str, Any]], context: SerializationContext | None = None):
        self._log, self._context = log, context

    def with_context(self, context: SerializationContext) -> Self:
        return type(self)(self._log, context)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self._log.append(("encode", self._context))
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self._log.append(("decode", self._context))
        return list(payloads)


def _anonymous(entry: tuple[str, Any]) -> tuple[str, Any]:
    """The entry without the workflow id and task queue (each runner's case has its own)."""
    what, context = entry
    if isinstance(context, WorkflowSerializationContext):
        context = dataclasses.replace(context, workflow_id="W")
    if isinstance(context, ActivitySerializationContext):
        context = dataclasses.replace(context, workflow_id="W", activity_task_queue="Q")
    return what, context


async def _contexts(
    env: WorkflowEnvironment, runner: WorkflowRunner, pnr: str, guard: ClockGuard
) -> list[tuple[str, Any]]:
    log: list[tuple[str, Any]] = []
    client = Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=DataConverter(payload_codec=RecordingCodec(log)),
    )
    store = InMemoryStore()
    queue = f"fast-context-{secrets.token_hex(4)}"
    with guard.executor() as pool:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[ChildCaseWorkflow],
            activities=[store.append_event, store.load_case_events, store.transfer_case],
            workflow_task_executor=pool,
            workflow_runner=runner,
            max_cached_workflows=0,  # every command replays the history too
        ):
            d = FastCase(WorkflowEnvironment.from_client(client), store, queue, pnr=pnr)
            await d.anmalan()
            await d.send(
                "skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False}
            )
            await d.summary()
    return [_anonymous(e) for e in log]


async def test_every_payload_gets_the_context_the_sandboxed_runner_gives_it(
    fast_env: WorkflowEnvironment, clock_guard: ClockGuard
) -> None:
    ours = await _contexts(fast_env, ContextOutsideSandboxRunner(), PNR_GIRL, clock_guard)
    theirs = await _contexts(fast_env, SandboxedWorkflowRunner(), PNR_BOY, clock_guard)
    assert Counter(map(repr, ours)) == Counter(map(repr, theirs))
    # the local activities' payloads are bound to the activity, the rest to the workflow
    kinds = {type(context).__name__ for _, context in ours}
    assert {"ActivitySerializationContext", "WorkflowSerializationContext"} <= kinds
    assert any(
        isinstance(c, ActivitySerializationContext) and c.is_local and c.activity_type
        for _, c in ours
    )
