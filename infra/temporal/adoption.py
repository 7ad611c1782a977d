"""Adoption of many open cases into workflows at once (after an import: a kommun's every open
case on one evening, issue #19 item 3).

One start after the other waits a full round trip to Temporal per case (about 300 s for 10,000
cases). Here up to ``concurrency`` starts are in flight at a time (a bounded semaphore), each
through ``infra.temporal.commands.adopt``, so what a workflow is started with stays decided
there. The cases come from the import's own fold (``ImportSummary.open_cases``): nothing is
folded again here to find out which cases are open.

Resumable: a case whose workflow already runs is counted as such (``WorkflowAlreadyStartedError``,
the start's conflict policy is FAIL) and left alone, so re-running the import after a kill starts
exactly the workflows still missing. A start that times out is tried again for a while; one that
fails otherwise is listed with its case, never hidden, and the others go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.settle import DEFAULT_ALERT_SETTLE_SECONDS
from infra.config.retry import aretry_for
from infra.persistence.importer import Known
from infra.persistence.store import CaseStore
from infra.temporal.commands import adopt

#: Starts in flight at a time: enough to hide the round trip, few enough that the Temporal
#: server (and the worker running the new workflows' first tasks) is not flooded.
ADOPT_CONCURRENCY = 32

#: A start that timed out or found the server unavailable or overloaded is tried again every
#: ``ADOPT_RETRY_EVERY`` seconds for up to ``ADOPT_RETRY_SECONDS`` (a dev server on a busy
#: machine answers slowly while thousands of new workflows run their first task).
ADOPT_RETRY_SECONDS = 60.0
ADOPT_RETRY_EVERY = 1.0
_TRANSIENT = frozenset(
    {
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.CANCELLED,  # the client's rpc_timeout ("Timeout expired")
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.RESOURCE_EXHAUSTED,
    }
)


class _Transient(Exception):
    """A start that failed in a way worth trying again (its ``__cause__`` is the RPC error)."""


#: Told ``(done, total)`` after each case.
Progress = Callable[[int, int], None]


@dataclass
class AdoptionResult:
    """What ``adopt_all`` did: workflows started, cases whose workflow already ran, and the
    cases whose start failed with the reason (kommun, case_ref, error type and message)."""

    started: int = 0
    already_running: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)


async def adopt_all(
    client: Client,
    store: CaseStore,
    cases: Sequence[tuple[str, str]],
    *,
    pseudonym_key: bytes,
    task_queue: str,
    alert_settle_seconds: float = DEFAULT_ALERT_SETTLE_SECONDS,
    concurrency: int = ADOPT_CONCURRENCY,
    progress: Progress | None = None,
    known: Mapping[tuple[str, str], Known] | None = None,
) -> AdoptionResult:
    """Start the workflow of every ``(kommun, case_ref)`` in ``cases``, ``concurrency`` at a
    time; a case already running is skipped. ``known``: the cases as the import folded them
    (``ImportSummary.adoption``); a case not in it is read from the store."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    gate = asyncio.Semaphore(concurrency)
    result = AdoptionResult()
    done = 0

    async def attempt(kommun: str, case_ref: str, tried: list[int]) -> None:
        tried.append(1)
        try:
            await adopt(
                client,
                store,
                kommun,
                case_ref,
                pseudonym_key=pseudonym_key,
                task_queue=task_queue,
                alert_settle_seconds=alert_settle_seconds,
                known=None if known is None else known.get((kommun, case_ref)),
            )
        except RPCError as exc:
            if exc.status in _TRANSIENT:
                raise _Transient(exc) from exc
            raise

    async def one(kommun: str, case_ref: str) -> None:
        nonlocal done
        async with gate:
            tried: list[int] = []
            try:
                await aretry_for(ADOPT_RETRY_SECONDS, every=ADOPT_RETRY_EVERY, on=_Transient)(
                    attempt, kommun, case_ref, tried
                )
                result.started += 1
            except WorkflowAlreadyStartedError:
                # after a timed-out attempt the start may have gone through: ours, not a rerun's
                if len(tried) > 1:
                    result.started += 1
                else:
                    result.already_running += 1
            except _Transient as exc:  # listed with its case and reported, never hidden
                cause = exc.__cause__
                result.failed.append((kommun, case_ref, f"{type(cause).__name__}: {cause}"))
            except Exception as exc:  # listed with its case and reported, never hidden
                result.failed.append((kommun, case_ref, f"{type(exc).__name__}: {exc}"))
            done += 1
            if progress is not None:
                progress(done, len(cases))

    await asyncio.gather(*(one(k, r) for k, r in cases))
    return result
