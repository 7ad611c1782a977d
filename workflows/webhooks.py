"""WebhookDispatchWorkflow: push the event feed to subscribed URLs, at least once, with backoff.

One dispatcher per task queue follows the store's gap-free positions through a poll activity
and runs one delivery activity per (subscription, event). Temporal's retry policy is the backoff;
every attempt, failed or not, is written to the delivery log by the activity. Only ids and
positions travel through Temporal: the activity reads the event itself from the store, so no
case content or personnummer is ever in a Temporal payload.
"""

from __future__ import annotations

import asyncio
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


@workflow.defn(name=WEBHOOK_WORKFLOW)
class WebhookDispatchWorkflow:
    @workflow.run
    async def run(self, inp: DispatchInput) -> None:
        after = inp.after
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=inp.backoff.initial),
            backoff_coefficient=inp.backoff.coefficient,
            maximum_interval=timedelta(seconds=inp.backoff.maximum),
            maximum_attempts=inp.backoff.attempts,
        )
        for _ in range(inp.polls_before_continue):
            polled: PollResult = await workflow.execute_activity(
                POLL_ACTIVITY,
                PollInput(after=after, wait=inp.poll_wait),
                result_type=PollResult,
                start_to_close_timeout=timedelta(seconds=inp.poll_wait + 30),
            )
            # A delivery that exhausts its attempts is in the delivery log as failed; the
            # dispatcher moves on rather than stop every other subscriber's feed.
            await asyncio.gather(
                *(
                    workflow.execute_activity(
                        DELIVER_ACTIVITY,
                        d,
                        start_to_close_timeout=timedelta(seconds=30),
                        retry_policy=retry,
                    )
                    for d in polled.deliveries
                ),
                return_exceptions=True,
            )
            after = polled.last_position
        workflow.continue_as_new(
            DispatchInput(
                after=after,
                poll_wait=inp.poll_wait,
                polls_before_continue=inp.polls_before_continue,
                backoff=inp.backoff,
            )
        )
