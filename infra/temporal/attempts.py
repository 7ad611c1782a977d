"""Activity retries, recorded by the worker so ``ops stuck`` finds them in one query.

Temporal's visibility store has no attempt counts (there is no system search attribute for a
retrying activity), so finding "an activity has failed N times" would otherwise take one
``DescribeWorkflowExecution`` per running workflow: 10,000 calls for 10,000 open cases. And a
*local* activity (barnflow's append) never shows in a describe at all: its retries live inside
the workflow task. The worker is the one place that sees every attempt, so an activity
interceptor writes what it sees to a small table next to the event store:

* an attempt fails and Temporal will retry it: upsert (workflow, run, activity) with the attempt
  Temporal makes next and the error *type* (never the message: it may quote case content);
* a retry starts (attempt > 1): upsert its attempt number (covers attempts lost with a crashed
  worker or a timeout, which no interceptor sees fail);
* an attempt > 1 succeeds, or fails for good: delete the row.

The happy path (first attempt succeeds) writes nothing. ``ops stuck`` reads the rows whose
attempt is past its threshold for the runs visibility says are running: one SELECT.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from infra.persistence.schema import ATTEMPTS_TABLE, attempts_table, is_current
from infra.persistence.store import CaseStore
from workflows.messages import REJECTION_TYPES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryingActivity:
    """One activity Temporal is still retrying, as the worker last saw it."""

    workflow_id: str
    run_id: str
    activity_type: str
    attempt: int
    error: str | None
    since: datetime


def ensure_table(store: CaseStore) -> None:
    """The attempts table (DDL in ``infra.persistence.schema``; a migrated store already has it)."""
    with store.pooled_connection() as conn:
        # migrated: it exists, and DDL again only collides with other processes
        if not is_current(conn, store.schema):
            for stmt in attempts_table(store.schema):
                conn.execute(stmt)


def retrying(
    store: CaseStore, min_attempt: int, run_ids: dict[str, str | None] | None
) -> list[RetryingActivity]:
    """Activities at attempt ``min_attempt`` or later in the given running runs (one SELECT).

    ``run_ids`` maps workflow id → the running run id (from visibility); rows of other runs
    (closed, continued-as-new) are stale and ignored. ``None``: every row at that attempt, for
    the caller to match against the runs it then asks visibility about (``ops stuck``).
    """
    with store.pooled_connection() as conn:
        exists = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL AS present",
            (f'"{store.schema}"."{ATTEMPTS_TABLE}"',),
        ).fetchone()
        if not exists or not exists["present"]:
            return []  # no worker has recorded an attempt yet
        query = sql.SQL(
            "SELECT workflow_id, run_id, activity_type, attempt, error, since FROM {}.{} "
            "WHERE attempt >= %s AND (%s::text[] IS NULL OR workflow_id = ANY(%s::text[])) "
            "ORDER BY workflow_id, since"
        ).format(sql.Identifier(store.schema), sql.Identifier(ATTEMPTS_TABLE))
        wids = None if run_ids is None else list(run_ids)
        rows = conn.execute(query, (min_attempt, wids, wids)).fetchall()
    return [
        RetryingActivity(
            r["workflow_id"], r["run_id"], r["activity_type"], r["attempt"], r["error"], r["since"]
        )
        for r in rows
        if run_ids is None or run_ids.get(r["workflow_id"]) in (None, r["run_id"])
    ]


class AttemptRecorder(Interceptor):
    """Worker interceptor: records activity retries in ``barnflow_activity_attempts``."""

    def __init__(self, store: CaseStore) -> None:
        self.store = store
        ensure_table(store)
        table = sql.SQL("{}.{}").format(
            sql.Identifier(store.schema), sql.Identifier(ATTEMPTS_TABLE)
        )
        self.upsert_sql = sql.SQL(
            "INSERT INTO {t} (workflow_id, run_id, activity_id, activity_type, attempt, error) "
            "VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (workflow_id, run_id, activity_id) DO UPDATE SET "
            "attempt = GREATEST({t}.attempt, EXCLUDED.attempt), "
            "error = COALESCE(EXCLUDED.error, {t}.error), updated_at = now()"
        ).format(t=table)
        self.delete_sql = sql.SQL(
            "DELETE FROM {} WHERE workflow_id = %s AND run_id = %s AND activity_id = %s"
        ).format(table)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(next, self)

    async def write(self, statement: sql.Composed, params: tuple[Any, ...]) -> None:
        """Off the event loop; a failed bookkeeping write is logged, never the activity's fate."""

        def run() -> None:
            with self.store.pooled_connection() as conn:
                conn.execute(statement, params)

        try:
            await asyncio.to_thread(run)
        except Exception as exc:  # the activity's own outcome must stand
            log.warning("could not record activity attempt: %s", type(exc).__name__)


class _Inbound(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, recorder: AttemptRecorder) -> None:
        super().__init__(next)
        self.recorder = recorder

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.workflow_id is None or info.workflow_run_id is None:
            return await super().execute_activity(input)  # standalone activity: no case
        key = (info.workflow_id, info.workflow_run_id, info.activity_id)
        if info.attempt > 1:
            await self.recorder.write(
                self.recorder.upsert_sql, (*key, info.activity_type, info.attempt, None)
            )
        try:
            result = await super().execute_activity(input)
        except BaseException as exc:
            if _will_retry(exc, info):
                error = (exc.type if isinstance(exc, ApplicationError) else None) or type(
                    exc
                ).__name__
                await self.recorder.write(
                    self.recorder.upsert_sql, (*key, info.activity_type, info.attempt + 1, error)
                )
            elif info.attempt > 1:
                await self.recorder.write(self.recorder.delete_sql, key)
            benign = _as_benign(exc, info)
            if benign is not None:
                raise benign from None
            raise
        if info.attempt > 1:
            await self.recorder.write(self.recorder.delete_sql, key)
        return result


#: Failures that are answers, not faults: a rule's "no" or a malformed line (the caller gets it).
EXPECTED_REJECTIONS = REJECTION_TYPES


def _as_benign(exc: BaseException, info: activity.Info) -> ApplicationError | None:
    """A rejection (e.g. an idempotency key reused with another body) is expected: logged here
    as one structured line, and re-raised as a BENIGN error so the SDK does not log it as a
    failure with a traceback. None for anything else (a fault keeps its full log)."""
    if not isinstance(exc, ApplicationError) or exc.type not in EXPECTED_REJECTIONS:
        return None
    if exc.category == ApplicationErrorCategory.BENIGN:
        return None
    details = list(exc.details)
    log.info(
        "command rejected in %s: %s %s",
        info.activity_type,
        exc.type,
        details[0] if details else "",
        extra={"workflow_id": info.workflow_id, "rejection": exc.type},
    )
    return ApplicationError(
        exc.message,
        *details,
        type=exc.type,
        non_retryable=exc.non_retryable,
        category=ApplicationErrorCategory.BENIGN,
    )


def _will_retry(exc: BaseException, info: activity.Info) -> bool:
    """Whether Temporal schedules another attempt after this failure."""
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
        return False
    name = type(exc).__name__
    if isinstance(exc, ApplicationError):
        if exc.non_retryable:
            return False
        name = exc.type or name
    policy = info.retry_policy
    if policy is not None:
        if name in (policy.non_retryable_error_types or ()):
            return False
        if policy.maximum_attempts and info.attempt >= policy.maximum_attempts:
            return False
    return True
