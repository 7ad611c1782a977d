"""The worker: ChildCaseWorkflow, the webhook dispatcher and their activities on one task queue,
with the activity-attempt recorder that ``ops stuck`` reads.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import (
    Client,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from activities.kommun_config import KommunConfigActivities
from activities.record import RecordActivities
from activities.transfer import Adopt, TransferActivities
from activities.webhooks import WebhookActivities
from domain.settle import DEFAULT_ALERT_SETTLE_SECONDS
from infra.persistence.store import CaseStore
from infra.temporal.attempts import AttemptRecorder
from infra.temporal.commands import adopt
from infra.temporal.sandbox import ContextOutsideSandboxRunner
from workflows.child_case import ChildCaseWorkflow
from workflows.webhooks import WebhookDispatchWorkflow

#: temporalio's own default; bench/memory.py measures what a cached case workflow costs
DEFAULT_MAX_CACHED_WORKFLOWS = 1000


@contextlib.asynccontextmanager
async def running_worker(
    client: Client,
    store: CaseStore,
    task_queue: str,
    *,
    pseudonym_key: bytes | None = None,
    alert_settle_seconds: float = DEFAULT_ALERT_SETTLE_SECONDS,
    max_cached_workflows: int = DEFAULT_MAX_CACHED_WORKFLOWS,
) -> AsyncIterator[Worker]:
    """A worker for ChildCaseWorkflow and its activities, shut down on exit.

    ``pseudonym_key`` lets the transfer activity start the receiving kommun's workflow; a
    worker without it retries transfers until one with the key picks them up.
    ``max_cached_workflows`` is the sticky cache: case workflows kept in memory between
    commands (``barnflow worker --max-cached-workflows``; sizing in docs/operations.md,
    "Memory"). A workflow not in it is replayed from its history on its next command.
    """
    activities = RecordActivities(store)
    adopter: Adopt | None = None
    if pseudonym_key is not None:
        key = pseudonym_key

        async def adopter(kommun: str, case_ref: str) -> str:
            return await adopt(
                client,
                store,
                kommun,
                case_ref,
                pseudonym_key=key,
                task_queue=task_queue,
                conflict=WorkflowIDConflictPolicy.USE_EXISTING,
                alert_settle_seconds=alert_settle_seconds,
            )

    transfers = TransferActivities(store, adopter)
    configs = KommunConfigActivities(store)
    webhooks = WebhookActivities(store)  # API: webhook delivery (workflows/webhooks.py)
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="barnflow-activity") as pool:
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[ChildCaseWorkflow, WebhookDispatchWorkflow],
            activities=[
                activities.append_event,
                activities.load_case_events,
                transfers.transfer_case,
                configs.load_kommun_config,
                webhooks.poll,
                webhooks.deliver,
            ],
            activity_executor=pool,
            interceptors=[AttemptRecorder(store)],  # OPS: activity retries for `ops stuck`
            max_cached_workflows=max_cached_workflows,
            # the sandbox as temporalio's, without entering it for each payload's
            # serialization context (infra/temporal/sandbox.py)
            workflow_runner=ContextOutsideSandboxRunner(),
        )
        async with worker:
            yield worker
