"""Stuck-case detection and repair: the operator's view of cases that silently stopped moving.

A workflow engine shows "Running" while nothing happens; operators need to know *which* cases are
stuck, *why* and *what to do*. ``find_stuck`` answers with a number of calls that grows with the
number of *kommuner and faults*, not of cases: it never lists every running workflow
(``infra.ops.narrowed``). Per kind:

* ``failing-workflow-task``: one query on Temporal's problem flag (``TemporalReportedProblems``);
* ``human-step-overdue``: one query on ``BarnflowOverdue = true``;
* ``retrying-activity``: one SELECT of the activity retries the workers recorded
  (``infra.temporal.attempts``; visibility has no attempt counts), then one list of just those
  workflows (is that run still running?);
* ``no-poller``: one ``describe_task_queue`` per task queue in use (the configured ones, plus any
  other a count finds), then one list of the unpolled queues' workflows;
* ``missing`` and ``diverged``: the store's expectations (``store_expectations``: each case's
  first and last event, decrypted and parsed, no event objects, in a thread while the queries
  above run) against lists of the workflows out of step and counts per kommun
  (``narrowed.reconcile``); only where workflows are missing are cases halved by position and
  counted, and only the few cases left are listed;
* ``no-progress``: the open cases the store has not seen move for ``no_progress_days``, asked of
  visibility by id, only those without a frist ahead coming back.

``deep`` is the periodic full check: it lists every running case workflow and compares each with
the store (what a count cannot see: a missing workflow offset by another publishing the same
position), and adds one ``describe_workflow`` per running workflow (bounded by
``describe_limit``, 32 at a time) for clusters without the problem flag or workers without the
attempt recorder.

Repairing what it finds is ``infra.ops.repair``.

Rows name the case by workflow id (``barnarende-<kommun>-<HMAC pseudonym>``) and case id, never
by the child.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from psycopg import sql
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowExecution
from temporalio.service import RPCError, RPCStatusCode

from domain.events import SYSTEM_TYPES
from domain.retention import IDENTITY
from infra.audit.verify import RunningWorkflow, running_case_workflows
from infra.config.timeouts import OPS_RPC_TIMEOUT, WEBHOOK_FAILING_MINUTES
from infra.ops import narrowed
from infra.persistence.store import CLOSING_TYPES, CaseHead, CaseStore
from infra.temporal.attempts import retrying
from infra.temporal.case_workflow import Links, all_links, stored_workflow_id
from projections.decode import StateDecoder

RETRYING = "retrying-activity"
FAILING_TASK = "failing-workflow-task"
OVERDUE = "human-step-overdue"
NO_PROGRESS = "no-progress"
NO_POLLER = "no-poller"
DIVERGED = "diverged"
MISSING = "missing"
WEBHOOK_FAILING = "webhook-failing"
KINDS = (
    RETRYING,
    FAILING_TASK,
    OVERDUE,
    NO_PROGRESS,
    NO_POLLER,
    DIVERGED,
    MISSING,
    WEBHOOK_FAILING,
)

ACTIONS = {
    RETRYING: "fix the failing dependency (see evidence); the activity resumes by itself, "
    "or `barnflow ops repair` to re-drive from the store",
    FAILING_TASK: "deploy a worker whose code replays the history (non-determinism?), "
    "or `barnflow ops repair` (terminate + adopt from the store)",
    OVERDUE: "a human step is late: tell the enhet's handläggare/arbetsledare",
    NO_PROGRESS: "nothing recorded and nothing to wait for: check the case with its enhet",
    NO_POLLER: "start a worker on the task queue (`barnflow worker`)",
    DIVERGED: "`barnflow ops repair` (the store is the record: re-adopt the workflow from it)",
    MISSING: "`barnflow ops repair` (adopt the open case from the store)",
    WEBHOOK_FAILING: "fix the receiver (see the error) or stop the subscription "
    "(DELETE /webhooks/{id}); failed deliveries are retried by themselves",
}
#: The default of ``StuckOptions.webhook_failing_for`` (``--webhook-failing-minutes``).
WEBHOOK_FAILING_DEFAULT = timedelta(minutes=WEBHOOK_FAILING_MINUTES)

#: Temporal flags a workflow after consecutive workflow task failures/timeouts (server ≥ 1.28).
REPORTED_PROBLEMS = "TemporalReportedProblems"


@dataclass(frozen=True)
class StuckRow:
    """One stuck case: pseudonymous identity, what kind, since when, evidence, what to do."""

    workflow_id: str | None
    case_id: str | None
    kommun: str | None
    kind: str
    since: datetime | None
    evidence: str
    action: str
    #: a webhook subscription (kind ``webhook-failing``), else None
    subscription_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["since"] = self.since.isoformat() if self.since else None
        return out


@dataclass(frozen=True)
class StuckOptions:
    max_attempts: int = 5
    no_progress_days: int = 30
    describe_limit: int = 2000
    now: datetime | None = None
    #: also describe every running workflow (servers without TemporalReportedProblems enabled,
    #: workers without ``infra.temporal.attempts.AttemptRecorder``): one call per workflow
    deep: bool = False
    #: report a webhook subscription whose deliveries have failed (none delivered) this long
    webhook_failing_for: timedelta = WEBHOOK_FAILING_DEFAULT
    #: the task queues the workers are configured for (``BARNFLOW_TASK_QUEUE``): running case
    #: workflows on any other queue are found by one count; empty: every workflow is listed
    task_queues: tuple[str, ...] = ()


async def find_stuck(
    client: Client,
    store: CaseStore,
    pseudonym_key: bytes,
    options: StuckOptions | None = None,
) -> list[StuckRow]:
    """Every stuck case, in kind order (see the module doc for what each costs).

    The store's expectations (a thread: decrypting is CPU and I/O the event loop need not wait
    for) are read while the flag queries run, so the whole costs about the longer of the two
    plus the counts (``infra.ops.narrowed``)."""
    opts = options or StuckOptions()
    now = opts.now or datetime.now(UTC)
    expected = asyncio.create_task(asyncio.to_thread(store_expectations, store, pseudonym_key))
    try:
        failing, late, polled = await asyncio.gather(
            _failing_tasks(client), narrowed.overdue(client), _no_poller(client, opts)
        )
    finally:
        by_wid = await expected
    rows: list[StuckRow] = [
        _row(FAILING_TASK, wf.id, by_wid.get(wf.id), since, evidence)
        for wf, since, evidence in failing
    ]
    rows += await _retrying(client, store, by_wid, opts)
    if opts.deep:
        running = await running_case_workflows(client)
        seen = {(r.kind, r.workflow_id) for r in rows}
        rows += [
            r
            for r in await _described(client, running, by_wid, opts)
            if (r.kind, r.workflow_id) not in seen
        ]
        rows += _store_vs_temporal(running, by_wid, now, opts)
    else:
        rows += await _reconciled(client, by_wid, now, opts)
    rows += _overdue(late, by_wid)
    rows += [
        _row(NO_POLLER, wid, by_wid.get(wid), None, f"no worker polls task queue {wf.task_queue}")
        for wid, wf in polled.items()
    ]
    rows += failing_webhooks(store, now - opts.webhook_failing_for)
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(rows, key=lambda r: (order[r.kind], r.workflow_id or ""))


async def _reconciled(
    client: Client, by_wid: dict[str, Expectation], now: datetime, opts: StuckOptions
) -> list[StuckRow]:
    """``missing`` and ``diverged`` from counts per kommun (``narrowed.reconcile``), and
    ``no-progress`` from the store's idle open cases, asked of visibility by id."""
    open_cases = [e for e in by_wid.values() if not e.closed]
    found = await narrowed.reconcile(
        client,
        (narrowed.Expected(e.workflow_id, e.kommun, e.last_position) for e in open_cases),
    )
    rows = [
        _row(
            MISSING,
            e.workflow_id,
            by_wid[e.workflow_id],
            by_wid[e.workflow_id].last_recorded_at,
            f"store: open, last position {e.last_position}",
        )
        for e in found.missing
    ]
    rows += [
        _row(
            DIVERGED,
            e.workflow_id,
            by_wid[e.workflow_id],
            by_wid[e.workflow_id].last_recorded_at,
            f"workflow at position {wf.last_position}, store at {e.last_position}",
        )
        for e, wf in found.diverged
    ]
    idle_since = now - timedelta(days=opts.no_progress_days)
    idle = [
        e.workflow_id
        for e in open_cases
        if e.last_recorded_at is not None and e.last_recorded_at < idle_since
    ]
    for wid in sorted(await narrowed.without_frist(client, idle, now)):
        rows.append(_no_progress(wid, by_wid[wid], now))
    return rows


def _no_progress(wid: str, head: Expectation, now: datetime) -> StuckRow:
    last_at = head.last_recorded_at
    return _row(
        NO_PROGRESS,
        wid,
        head,
        last_at,
        f"nothing recorded for {(now - last_at).days} days" if last_at else "nothing recorded",
    )


@dataclass(frozen=True)
class Expectation:
    """What the store says one case's workflow should be: its id, the position it should have
    published (``BarnflowLastPosition``), when the case last moved, and whether a workflow
    should run for it at all (not when the case is closed)."""

    case_id: UUID
    kommun: str
    case_ref: str
    workflow_id: str
    last_position: int
    last_recorded_at: datetime | None
    closed: bool


#: Cases whose opening events ``store_expectations`` unseals with one read of their data keys.
EXPECTATIONS_BATCH = 2000


def store_expectations(store: CaseStore, pseudonym_key: bytes) -> dict[str, Expectation]:
    """Workflow id -> the store's expectation, from each case's first and last stored event.

    Cheaper than ``CaseStore.case_heads`` by a wide margin, and than reading every event:
    ``CaseStore.stream_ends`` sends only the opening event (it names the child, whose pseudonym
    is the workflow id; only it is unsealed, the data keys of 2,000 cases read at once) and
    the last one (the position the workflow should
    publish, when the case last moved) of each case, decrypted and parsed
    (``projections.decode.StateDecoder``, no event objects). Whether the case is closed is read
    from the last event: nothing but a system event (``domain.events.SYSTEM_TYPES``: frister
    passing, gallring) may be recorded on a closed case (``P-CLOSED``, checked on every append),
    so a case whose last event is not a system event is closed exactly when that event closes
    it. Only a case that ends in a system event is read in full (``CaseStore.stream_rows``).

    A workflow id is shared by a child's cases in one kommun: its open case wins (the one the
    workflow drives); a closed one only where the child has no open case.

    A gallrad case's identity is destroyed, so its workflow id cannot be computed again; the
    workflow key's link to the case (``WorkflowKeys.linked_cases``, written by gallring) names
    it. A gallrad case without that link (its workflow key was held for another of the child's
    cases) has no expectation of its own: gallring only reaches a child whose every case is
    closed, so no workflow should run for it, and the child's other cases name the workflow."""
    plain = StateDecoder(store.mapper.cipher, store.mapper.compressor)
    opening_decoder = StateDecoder.of(store)
    linked = all_links(store)
    out: dict[str, Expectation] = {}

    def done(case_id: UUID, opening: dict[str, Any], last: dict[str, Any], closed: bool) -> None:
        wid = case_workflow_id(case_id, opening, pseudonym_key, linked)
        if wid is None:
            return
        exp = Expectation(
            case_id=case_id,
            kommun=str(opening["kommun"]),
            case_ref=str(opening["case_ref"]),
            workflow_id=wid,
            last_position=int(last["position"]),
            last_recorded_at=_recorded_at(last.get("recorded_at")),
            closed=closed,
        )
        if wid not in out or out[wid].closed:
            out[wid] = exp

    #: cases ending in a system event: (case id, opening, last), read in full below
    unsure: list[tuple[UUID, dict[str, Any], dict[str, Any]]] = []

    def ended(case_id: UUID, opening: dict[str, Any], last: dict[str, Any]) -> None:
        if last.get("type") in SYSTEM_TYPES:
            unsure.append((case_id, opening, last))
        else:
            done(case_id, opening, last, last.get("type") in CLOSING_TYPES)

    keys = store.data_keys
    #: a batch of streams' ends as stored: case id -> [opening (state, position), last]
    batch: dict[UUID, list[tuple[bytes, int]]] = {}

    def flush() -> None:
        if keys is not None:  # the openings' identity keys in one SELECT, not one per case
            keys.load(batch, IDENTITY)
        for case_id, rows in batch.items():
            opening = opening_decoder.envelope(*rows[0])
            ended(case_id, opening, plain.envelope(*rows[-1]) if len(rows) > 1 else opening)
        batch.clear()

    for case_id, _, state, position in store.stream_ends():
        if case_id not in batch and len(batch) >= EXPECTATIONS_BATCH:
            flush()
        batch.setdefault(case_id, []).append((state, position))
    flush()
    if unsure:
        closed: set[UUID] = set()
        for case_id, _, state, position in store.stream_rows([u[0] for u in unsure]):
            if plain.envelope(state, position).get("type") in CLOSING_TYPES:
                closed.add(case_id)
        for case_id, opening, last in unsure:
            done(case_id, opening, last, case_id in closed)
    return out


def case_workflow_id(
    case_id: UUID, opening: dict[str, Any], pseudonym_key: bytes, linked: Links
) -> str | None:
    """The workflow id of a case from its opening envelope (``stored_workflow_id``): the
    pseudonym of its child's identity, else the id gallring linked to it, else ``None``."""
    return stored_workflow_id(
        case_id, str(opening["kommun"]), opening.get("data") or {}, pseudonym_key, linked
    )


def _recorded_at(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    stamp = datetime.fromisoformat(str(value))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def workflow_id_of(head: CaseHead, pseudonym_key: bytes, linked: Links) -> str | None:
    """The workflow id of a stored case (``stored_workflow_id``): ``None`` for a gallrad case
    gallring left no link for."""
    return stored_workflow_id(head.case_id, head.kommun, head.opening.data, pseudonym_key, linked)


def _row(
    kind: str, wid: str | None, head: Expectation | None, since: datetime | None, evidence: str
) -> StuckRow:
    action = ACTIONS[kind]
    # the exact command: repair accepts what stuck prints; the case id names one case, while a
    # workflow id is shared by all of a child's cases in the kommun
    target = str(head.case_id) if head is not None else wid
    if target is not None:
        action = action.replace("`barnflow ops repair`", f"`barnflow ops repair {target}`")
    return StuckRow(
        workflow_id=wid,
        case_id=str(head.case_id) if head else None,
        kommun=head.kommun if head else None,
        kind=kind,
        since=since,
        evidence=evidence,
        action=action,
    )


def failing_webhooks(store: CaseStore, failing_since: datetime) -> list[StuckRow]:
    """Active subscriptions whose deliveries have all failed since before ``failing_since``
    (nothing delivered after the first failure), with the last error. One SELECT over the
    delivery log; a store without the API's tables has no subscriptions."""
    schema = sql.Identifier(store.schema)
    with store.pooled_connection() as conn:
        exists = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL AS present",
            [f'"{store.schema}".webhook_deliveries'],
        ).fetchone()
        if not exists or not _first(exists):
            return []
        found = conn.execute(
            sql.SQL(
                "WITH ok AS (SELECT subscription_id, max(at) AS at FROM {s}.webhook_deliveries"
                " WHERE delivered GROUP BY subscription_id)"
                " SELECT d.subscription_id, s.kommun, s.url, min(d.at) AS since,"
                " count(*) AS attempts, (array_agg(d.error ORDER BY d.id DESC))[1] AS error"
                " FROM {s}.webhook_deliveries d"
                " JOIN {s}.webhook_subscriptions s ON s.id = d.subscription_id AND s.active"
                " LEFT JOIN ok ON ok.subscription_id = d.subscription_id"
                " WHERE NOT d.delivered AND (ok.at IS NULL OR d.at > ok.at)"
                " GROUP BY d.subscription_id, s.kommun, s.url"
                " HAVING min(d.at) <= %s ORDER BY min(d.at)"
            ).format(s=schema),
            [failing_since],
        ).fetchall()
    rows = []
    for r in found:
        sub, kommun, url, since, attempts, error = _columns(r)
        host = urlsplit(str(url)).netloc or "?"  # never the path or query: they may hold tokens
        rows.append(
            StuckRow(
                workflow_id=None,
                case_id=None,
                kommun=str(kommun),
                kind=WEBHOOK_FAILING,
                since=since,
                evidence=f"webhook subscription {sub} to {host}: {attempts} failed "
                f"deliveries, none delivered since; last error: {error or 'unknown'}",
                action=ACTIONS[WEBHOOK_FAILING].replace("{id}", str(sub)),
                subscription_id=str(sub),
            )
        )
    return rows


def _columns(row: Any) -> tuple[Any, ...]:
    """A row as a tuple whether the pool hands out tuple or dict rows."""
    return tuple(row.values()) if isinstance(row, dict) else tuple(row)


def _first(row: Any) -> Any:
    return _columns(row)[0]


async def _failing_tasks(client: Client) -> list[tuple[WorkflowExecution, datetime, str]]:
    """Workflows Temporal itself flags (failing workflow tasks): one narrowed query."""
    query = f"ExecutionStatus = 'Running' AND {REPORTED_PROBLEMS} IS NOT NULL"
    found = []
    async for wf in client.list_workflows(
        query, page_size=1000, rpc_timeout=timedelta(seconds=OPS_RPC_TIMEOUT)
    ):
        problems = wf.search_attributes.get(REPORTED_PROBLEMS) or []
        evidence = f"{wf.workflow_type}: " + ", ".join(str(p) for p in problems)
        found.append((wf, wf.start_time, evidence))
    return found


#: An attempt that started but was never seen to fail: its worker died or it timed out.
LOST = "timeout or lost worker"


async def _retrying(
    client: Client, store: CaseStore, by_wid: dict[str, Expectation], opts: StuckOptions
) -> list[StuckRow]:
    """Activities past ``max_attempts``, as the workers recorded them (one SELECT), of the
    workflows that still run that run (one visibility list of just those workflows)."""
    recorded = retrying(store, opts.max_attempts + 1, None)
    running = await narrowed.by_ids(client, (a.workflow_id for a in recorded))
    return [
        _row(
            RETRYING,
            a.workflow_id,
            by_wid.get(a.workflow_id),
            a.since,
            f"activity {a.activity_type} attempt {a.attempt}: {a.error or LOST}",
        )
        for a in recorded
        if a.workflow_id in running and running[a.workflow_id].run_id in (None, a.run_id)
    ]


async def _described(
    client: Client,
    running: dict[str, RunningWorkflow],
    by_wid: dict[str, Expectation],
    opts: StuckOptions,
) -> list[StuckRow]:
    """``deep``: pending activities past ``max_attempts`` and repeatedly failing workflow tasks,
    from one describe per running workflow (the fallback when visibility and the attempt
    table cannot say)."""
    targets = list(running)[: opts.describe_limit]
    sem = asyncio.Semaphore(32)

    async def one(wid: str) -> list[StuckRow]:
        async with sem:
            try:
                desc = await client.get_workflow_handle(wid).describe(
                    rpc_timeout=timedelta(seconds=OPS_RPC_TIMEOUT)
                )
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    return []  # closed since the list was taken
                raise
        out = []
        wft = desc.raw_description.pending_workflow_task
        if wft.attempt >= 2:
            # Servers without the TemporalReportedProblems flag enabled: the same evidence.
            out.append(
                _row(
                    FAILING_TASK,
                    wid,
                    by_wid.get(wid),
                    wft.scheduled_time.ToDatetime(tzinfo=UTC),
                    f"workflow task attempt {wft.attempt} (failing: non-determinism or a bug)",
                )
            )
        for pa in desc.raw_description.pending_activities:
            if pa.attempt <= opts.max_attempts:
                continue
            failure = pa.last_failure
            cause = failure.application_failure_info.type or failure.message or "failure"
            since = (
                pa.scheduled_time.ToDatetime(tzinfo=UTC) if pa.HasField("scheduled_time") else None
            )
            out.append(
                _row(
                    RETRYING,
                    wid,
                    by_wid.get(wid),
                    since,
                    f"activity {pa.activity_type.name} attempt {pa.attempt}: {cause}",
                )
            )
        return out

    results = await asyncio.gather(*(one(w) for w in targets))
    return [r for rs in results for r in rs]


def _overdue(late: dict[str, RunningWorkflow], by_wid: dict[str, Expectation]) -> list[StuckRow]:
    return [
        _row(
            OVERDUE,
            wid,
            by_wid.get(wid),
            wf.next_due,
            f"BarnflowOverdue in stage {wf.stage or '?'}",
        )
        for wid, wf in late.items()
    ]


async def _no_poller(client: Client, opts: StuckOptions) -> dict[str, RunningWorkflow]:
    """The running case workflows of task queues no worker polls: one ``DescribeTaskQueue``
    per queue in use (``narrowed.task_queues``), then one list of the unpolled queues only."""
    empty = set()
    for q in sorted(await narrowed.task_queues(client, opts.task_queues)):
        resp = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=q),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            timeout=timedelta(seconds=OPS_RPC_TIMEOUT),
        )
        if not resp.pollers:
            empty.add(q)
    return await narrowed.on_queues(client, empty)


def _store_vs_temporal(
    running: dict[str, RunningWorkflow],
    by_wid: dict[str, Expectation],
    now: datetime,
    opts: StuckOptions,
) -> list[StuckRow]:
    rows = []
    for wid, head in by_wid.items():
        if head.closed:
            continue
        wf = running.get(wid)
        last_at = head.last_recorded_at
        if wf is None:
            rows.append(
                _row(
                    MISSING, wid, head, last_at, f"store: open, last position {head.last_position}"
                )
            )
            continue
        if wf.last_position is not None and wf.last_position != head.last_position:
            rows.append(
                _row(
                    DIVERGED,
                    wid,
                    head,
                    last_at,
                    f"workflow at position {wf.last_position}, store at {head.last_position}",
                )
            )
        waiting = wf.next_due is not None and wf.next_due > now
        stale = last_at is not None and now - last_at > timedelta(days=opts.no_progress_days)
        if stale and not waiting:
            rows.append(_no_progress(wid, head, now))
    return rows
