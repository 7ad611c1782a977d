"""WebhookDispatchWorkflow: push the event feed to subscribed URLs, at least once, with backoff.

One dispatcher per task queue follows the store's gap-free positions through a poll activity
and runs one delivery activity per (subscription, event). Temporal's retry policy is the backoff;
every attempt, failed or not, is written to the delivery log by the activity. Only ids and
positions travel through Temporal: the activity reads the event itself from the store, so no
case content or personnummer is ever in a Temporal payload.

Deliveries run while the dispatcher goes on polling, so one receiver that is down (retried for
up to an hour with the default backoff) does not hold back every other subscriber's events; at
most ``max_pending`` deliveries are outstanding, and all of them finish before the dispatcher
continues as new.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

WEBHOOK_WORKFLOW = "WebhookDispatchWorkflow"
POLL_ACTIVITY = "webhook_poll"
DELIVER_ACTIVITY = "webhook_deliver"


def dispatcher_id(task_queue: str) -> str:
    return f"barnflow-webhooks-{task_queue}"


@dataclass
class Backoff:
    """Retry schedule of one delivery (seconds); tests shorten it."""

    initial: float = 1.0
    coefficient: float = 2.0
    maximum: float = 300.0
    attempts: int = 15


@dataclass
class DispatchInput:
    """``after`` = last position handled (-1: start from the oldest subscription's position)."""

    after: int = -1
    poll_wait: float = 5.0
    polls_before_continue: int = 500
    backoff: Backoff = field(default_factory=Backoff)
    max_pending: int = 1000


@dataclass
class PollInput:
    after: int
    wait: float


@dataclass
class Delivery:
    subscription_id: str
    position: int
    event_type: str


@dataclass
class PollResult:
    deliveries: list[Delivery]
    last_position: int


#: Deliveries overlap the next polls (no head-of-line blocking by one failing receiver).
OVERLAP_PATCH = "webhooks-overlapping-deliveries"


@workflow.defn(name=WEBHOOK_WORKFLOW)
class WebhookDispatchWorkflow:
    def __init__(self) -> None:
        self._pending: set[asyncio.Task[None]] = set()

    def _deliver(self, d: Delivery, retry: RetryPolicy) -> Awaitable[None]:
        return workflow.execute_activity(
            DELIVER_ACTIVITY,
            d,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=retry,
        )

    def _finished(self, task: asyncio.Task[None]) -> None:
        # A delivery that exhausts its attempts is in the delivery log as failed; the
        # dispatcher moves on rather than stop every other subscriber's feed.
        self._pending.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: its failure is already in the delivery log

    @workflow.run
    async def run(self, inp: DispatchInput) -> None:
        after = inp.after
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=inp.backoff.initial),
            backoff_coefficient=inp.backoff.coefficient,
            maximum_interval=timedelta(seconds=inp.backoff.maximum),
            maximum_attempts=inp.backoff.attempts,
        )
        overlap = workflow.patched(OVERLAP_PATCH)
        for _ in range(inp.polls_before_continue):
            polled: PollResult = await workflow.execute_activity(
                POLL_ACTIVITY,
                PollInput(after=after, wait=inp.poll_wait),
                result_type=PollResult,
                start_to_close_timeout=timedelta(seconds=inp.poll_wait + 30),
            )
            if overlap:
                for d in polled.deliveries:
                    task = asyncio.ensure_future(self._deliver(d, retry))
                    self._pending.add(task)
                    task.add_done_callback(self._finished)
                await workflow.wait_condition(lambda: len(self._pending) < inp.max_pending)
            else:  # dispatchers started before the patch: a batch at a time, as recorded
                await asyncio.gather(
                    *(self._deliver(d, retry) for d in polled.deliveries),
                    return_exceptions=True,
                )
            after = polled.last_position
        await workflow.wait_condition(lambda: not self._pending)
        workflow.continue_as_new(
            DispatchInput(
                after=after,
                poll_wait=inp.poll_wait,
                polls_before_continue=inp.polls_before_continue,
                backoff=inp.backoff,
                max_pending=inp.max_pending,
            )
        )
