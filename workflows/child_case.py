"""ChildCaseWorkflow: the durable process driver of one child's case in one kommun.

Commands arrive as updates. The validator judges them with the pure domain rules (a rejected
command never reaches history); the handler appends through the idempotent append activity and
folds the stored event into its state. Between commands the workflow sleeps until the next frist
computed by ``domain.frister`` expires, then appends exactly one alert event for it; the alert's
idempotency key is derived from the frist's key, so retries, restarts and replays cannot
duplicate it. Re-reporting clocks (EVB per quarter, övervägande every six months) are new frist
instances with new keys, so they re-arm by themselves.

Alerts must be true: an expired frist is alerted only once no command has arrived for the settle
window (a burst or backfill may still hold its fulfilment), and an alert that a later-arriving
fulfilment with an earlier legal date proves false is withdrawn by its own ``larm_aterkallat``
event (docs/workflow.md, "Timers and alerts").

The kommun's configuration (policy and delegationsordning) reaches the workflow by reference: its
input and each command carry a version id, and the workflow loads that version's document once
per run through an activity. Frister and alerts use the policy of the version last referenced;
a beslut is judged against the delegationsordning of the version its command names
(docs/rules.md, "Which configuration version applies").

Operators see the case through typed search attributes, the static summary its starter gives and
the current-details line, never through identity or content (``workflows.search``,
``domain.operator_view``). The input names the case and the workflow reads its record through a
local activity (``LOAD_CASE_ACTIVITY``), so the Web UI's input panel holds no case content.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.calendar import clock_date, days_between, overdue_at, start_of_day
    from domain.case import CaseState, date_order_violation, fold
    from domain.delegation import Delegationsordning, delegationsordning_from_document
    from domain.delegation_record import judge
    from domain.errors import EventValidationError, RuleViolation
    from domain.events import CaseEvent, event_from_json, parse_event
    from domain.frister import MET, MISSED, OPEN, OVERDUE, Frist, compute_frister
    from domain.ids import case_id_for
    from domain.kommun import KommunConfig, kommun_config_from_document
    from domain.operator_view import details_footer
    from domain.rules import KommunPolicy
    from workflows import search
    from workflows.messages import (
        APPEND_ACTIVITY,
        COMMAND_UPDATE,
        KOMMUN_CONFIG_ACTIVITY,
        LOAD_CASE_ACTIVITY,
        REJECTION_TYPES,
        STATE_QUERY,
        TRANSFER_ACTIVITY,
        WORKFLOW_NAME,
        AppendInput,
        CaseEvents,
        CaseRef,
        CaseSummary,
        CaseWorkflowInput,
        CommandInput,
        CommandResult,
        TransferInput,
        TransferResult,
        rejection,
    )

APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=list(REJECTION_TYPES),
)
#: The transfer copies a stream and starts a workflow: retried until it succeeds.
TRANSFER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=list(REJECTION_TYPES),
)
#: Loading a configuration version cannot fail for a reason a retry would not cure (the version
#: was stored before any command referenced it): retried until it succeeds, visible to
#: ``ops stuck`` meanwhile.
CONFIG_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
#: Continue-as-new well below Temporal's 51,200-event cap even without the server's hint.
MAX_HISTORY_EVENTS = 10_000
SYSTEM_ACTOR = {"id": "barnflow", "roll": "system"}
EVB_RULES = frozenset({"C2", "C3"})
#: workflow.patched id: one durable timer per next-expiry instead of one per loop (README,
#: "Changing workflow code": patched → deprecate_patch → removal).
TIMER_REUSE_PATCH = "reuse-frist-timer"
#: workflow.patched id: an expired frist is alerted only after the settle window (no command for
#: ``alert_settle_seconds``); histories from before it alerted at once.
ALERT_SETTLE_PATCH = "alert-settle-window"
#: workflow.patched id: an alert proved false by a later-arriving fulfilment is withdrawn.
ALERT_WITHDRAWAL_PATCH = "alert-withdrawal"
#: workflow.patched id: the handler stores canonical values (``kvartal`` as ``2026Q3``,
#: ``lvu_dom.utfall``); histories from before it stored them as sent and replay that way.
CANONICAL_VALUES_PATCH = "canonical-values"
#: workflow.patched id: a retried command does not restart the settle window, and a burst
#: defers an alert by at most ``SETTLE_CAP_WINDOWS`` windows after the later of the frist's
#: expiry and the burst's first command.
ALERT_SETTLE_CAP_PATCH = "alert-settle-cap"
SETTLE_CAP_WINDOWS = 3
WITHDRAWAL_EVENT = "larm_aterkallat"
#: workflow.patched id: a system append the store refuses is logged and skipped instead of
#: failing the case's workflow (histories from before it failed the workflow).
SYSTEM_APPEND_SURVIVES_PATCH = "system-append-failure-survives"
#: workflow.patched id: an ``arende_overflyttat`` needs the receiving kommun's acceptance (or
#: IVO's decision), the utredning taken over (B8) and the EVB duties settled
#: (``domain.case_transfer``); histories from before it accepted a bare transfer and replay so.
TRANSFER_ANSWER_PATCH = "transfer-needs-answer"
#: workflow.patched id: the kommun's configuration is referenced by version id (input and
#: commands) and loaded by an activity; histories from before it carried the delegationsordning
#: inline in every command and computed frister with the default policy.
KOMMUN_CONFIG_PATCH = "kommun-config-by-reference"
#: workflow.patched id: every decision (``domain.decisions``), not only a beslut_fattat, is
#: judged against the delegationsordning in force on its legal date and the statute's limits
#: (SoL 30:6–7), and the accepted judgement is stored with the event (``delegation``: the
#: configuration version and ordning that judged it); histories from before judged a beslut_fattat
#: against the version's one ordning and stored no judgement.
DELEGATION_PATCH = "delegation-on-every-decision"
#: workflow.patched id: the handler judges a decision's lagrum against its date (``P-LAGRUM``,
#: ``domain.lagrum``); a command accepted before the guard existed replays without it.
LAGRUM_PATCH = "lagrum-in-force"
#: workflow.patched id: the frister follow the law in force on each date (issue #14: D2, D4, E9,
#: A3 ``compute_frister(transitions=True)``); a run recorded before keeps the frister, timers and
#: alerts it had. Asked once, at the start of the run.
LAW_TRANSITIONS_PATCH = "law-transitions-exact"
#: workflow.patched id: the guards of the placed child (issue #15 B, ``domain.case_care``: LVU's
#: age limits, avvikning) judge a command; one accepted before them replays as it was judged.
CARE_GUARDS_PATCH = "placed-child-guards"
#: workflow.patched id: continue-as-new carries the case's reference, not its events; the new
#: run reads them through ``LOAD_CASE_ACTIVITY`` (issue #18 item 6: no case content in an
#: input). A run recorded before carried the events and replays so. Whether a run *reads* its
#: case is decided by its input alone (``case_id``), which no earlier history has.
MINIMAL_INPUT_PATCH = "minimal-input-by-reference"
#: workflow.patched id: a step dated before the step it follows is refused (``P-ORDER``,
#: ``domain.case.date_order_violation``); a command accepted before the guard replays as it
#: was judged. Asked only when the guard would refuse, so a history that never meets it
#: carries no marker (each marker is two more history events per run).
DATE_ORDER_PATCH = "date-order"
#: workflow.patched id asked once per run, first thing in ``__init__`` (before any handler or
#: the run method can ask another patch): true in every run started on this code, which then
#: takes every patch above's new branch without asking it (``_patched``). temporalio's core
#: writes, for every patch a new run asks, a marker and a ``TemporalChangeVersion`` upsert (two
#: history events each); one patch instead of nine or ten is 2 events instead of 18-20 per run
#: (issue 19 item 2). False when a run recorded before it replays, or a run that began on older
#: code continues here: that run asks each older patch exactly as it did. A patch added later
#: is asked with ``workflow.patched`` itself; folding it in takes a new id (``current-YYYY-MM``)
#: asked in its place, and the id it replaces is asked next (``PREVIOUS_CURRENT_PATCHES``) for
#: the runs that began on it. Never ask a current id anywhere later in a run.
#:
#: ``current-2026-12`` adds one new branch: the run reads its kommun configuration through a
#: local activity (``_load_config``), in the workflow task that needs it, instead of an activity
#: scheduled on the server (six more history events and a second workflow task for every run of
#: a configured kommun: an adopted case's first task, a new case's first command).
CURRENT_PATCH = "current-2026-12"
#: Earlier current ids, newest first: a run that began on one of them asks it (its marker is in
#: the history: sdk-core fails a replay whose code skips a recorded patch marker) and takes the
#: older patches' new branches, but not the branches added with a newer id.
PREVIOUS_CURRENT_PATCHES = ("current-2026-11",)
#: Loading the record cannot fail for a reason a retry would not cure (a database that is
#: back): retried until it succeeds, visible to ``ops stuck`` meanwhile.
LOAD_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)
#: The store's limit on an idempotency key (``domain.events.parse_event``).
MAX_IDEMPOTENCY_KEY = 200
#: Hex digits of sha256(frist key) that stand for a frist key too long to fit (160 bits).
KEY_DIGEST_CHARS = 40


def _system_key(prefix: str, frist: Frist) -> str:
    """``prefix`` + the frist's key, or + a digest of it when that would not fit the store's
    limit: a frist key is built from caller ids (up to 2000 characters). Keys that fit stay
    exactly as before, so recorded histories and stored keys keep matching."""
    key = prefix + frist.key
    if len(key) <= MAX_IDEMPOTENCY_KEY:
        return key
    return prefix + hashlib.sha256(frist.key.encode()).hexdigest()[:KEY_DIGEST_CHARS]


def alert_key(frist: Frist) -> str:
    """The idempotency key of a frist's alert event: one per frist instance, ever."""
    return _system_key(f"barnflow:{frist.alert_event}:", frist)


def withdrawal_key(frist: Frist) -> str:
    """The idempotency key of the withdrawal of a frist's alert: derived from the alert's key,
    so each alert is withdrawn at most once, ever (retries, restarts, replays, adoption)."""
    return _system_key(f"barnflow:{WITHDRAWAL_EVENT}:{frist.alert_event}:", frist)


@workflow.defn(name=WORKFLOW_NAME)
class ChildCaseWorkflow:
    @workflow.init
    def __init__(self, inp: CaseWorkflowInput) -> None:
        #: Asked before anything else in the run's first activation (the SDK builds the
        #: instance before any update handler or ``run`` starts): see ``CURRENT_PATCH``.
        #: ``_newest``: the run began on this code; ``_current``: on this code or on an earlier
        #: current id (every patch of ``_patched`` is on). A run that began on this code asks
        #: only ``CURRENT_PATCH`` (``any`` stops at the first true).
        self._newest = workflow.patched(CURRENT_PATCH)
        self._current = self._newest or any(
            workflow.patched(previous) for previous in PREVIOUS_CURRENT_PATCHES
        )
        self._kommun = inp.kommun
        self._events: list[CaseEvent] = [event_from_json(e) for e in inp.events]
        self._state: CaseState = fold(self._events)
        self._last_position = max((e.position or 0 for e in self._events), default=0)
        self._stage_at_start = self._state.stage
        self._lock = asyncio.Lock()
        self._changed = False
        self._published: dict[str, Any] = {}
        self._frister_cache: tuple[tuple[int, date, KommunPolicy | None], list[Frist]] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._timer_at: datetime | None = None
        self._settle = timedelta(seconds=max(inp.alert_settle_seconds, 0.0))
        self._last_command_at: datetime | None = (
            None if inp.last_command_at is None else datetime.fromisoformat(inp.last_command_at)
        )
        self._burst_start: datetime | None = (
            None if inp.burst_started_at is None else datetime.fromisoformat(inp.burst_started_at)
        )
        #: System keys the store refused in this run: not retried (that would spin the loop).
        self._refused: set[str] = set()
        #: The configuration version frister use: the input's, then each accepted command's.
        self._config_ref: str | None = inp.kommun_config
        #: Configuration versions loaded in this run, by version id (content-addressed).
        self._configs: dict[str, KommunConfig] = {}
        #: LAW_TRANSITIONS_PATCH, asked at the start of ``run`` (queries cannot ask it).
        self._transitions = False
        #: The case to read through ``LOAD_CASE_ACTIVITY`` before anything judges or computes
        #: (``_resolve``); ``None`` once read, or for a run whose input carried the events.
        self._unresolved: CaseRef | None = (
            None if inp.case_id is None else CaseRef(inp.case_id, only_if_open=inp.only_if_open)
        )

    def _patched(self, patch_id: str) -> bool:
        """``workflow.patched(patch_id)``, except in a run started on this code or on an
        earlier current id (``CURRENT_PATCH``, ``PREVIOUS_CURRENT_PATCHES``): it takes the
        patch's new branch without asking it, so the patch costs that run no marker and no
        ``TemporalChangeVersion`` upsert. Only for the patches that existed when
        ``current-2026-11`` was introduced: a later patch is asked with ``workflow.patched``
        itself or folded into a newer current id (read as ``_newest``)."""
        return self._current or workflow.patched(patch_id)

    # ------------------------------------------------------------------ main loop
    @workflow.run
    async def run(self, inp: CaseWorkflowInput) -> CaseSummary:
        self._transitions = self._patched(LAW_TRANSITIONS_PATCH)
        self._frister_cache = None
        while True:
            await self._fire_expired()
            if self._state.closed_on is not None:
                break
            if self._should_continue_as_new(inp):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._carry_over(inp))
            wake_at = self._next_expiry()
            self._changed = False
            self._publish()
            if self._patched(TIMER_REUSE_PATCH):
                await self._wait_for_change_or(wake_at)
            else:  # histories recorded before the patch: a new timer per loop
                timeout = None if wake_at is None else max(wake_at - workflow.now(), timedelta(0))
                with contextlib.suppress(TimeoutError):  # the next frist expired
                    await workflow.wait_condition(lambda: self._changed, timeout=timeout)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._state.transferred_to is not None and not inp.transfer_done:
            await self._transfer()
        self._publish()
        return self.summary()

    async def _wait_for_change_or(self, wake_at: datetime | None) -> None:
        """Sleep until a command changes the case or ``wake_at`` (the next frist) comes.

        The timer is kept while the next expiry stays the same, so a command that does not move
        it costs no new timer (most commands don't: the utredning's due date stays put while
        its steps are recorded). Introduced behind ``TIMER_REUSE_PATCH``.
        """
        if wake_at != self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._timer_at = None, wake_at
            if wake_at is not None:
                delay = max(wake_at - workflow.now(), timedelta(milliseconds=1))
                self._timer = asyncio.create_task(workflow.sleep(delay))
        timer = self._timer
        await workflow.wait_condition(lambda: self._changed or (timer is not None and timer.done()))
        if timer is not None and timer.done():
            self._timer, self._timer_at = None, None

    def _should_continue_as_new(self, inp: CaseWorkflowInput) -> bool:
        """At a stage boundary once the history has grown, or when the server asks."""
        info = workflow.info()
        length = info.get_current_history_length()
        if info.is_continue_as_new_suggested() or length > MAX_HISTORY_EVENTS:
            return True
        return self._state.stage != self._stage_at_start and length > inp.continue_as_new_after

    def _carry_over(self, inp: CaseWorkflowInput) -> CaseWorkflowInput:
        by_reference = bool(self._state.case_ref) and self._patched(MINIMAL_INPUT_PATCH)
        return CaseWorkflowInput(
            kommun=inp.kommun,
            child_pseudonym=inp.child_pseudonym,
            events=[] if by_reference else [e.to_json() for e in self._events],
            case_id=str(case_id_for(inp.kommun, self._state.case_ref)) if by_reference else None,
            continue_as_new_after=inp.continue_as_new_after,
            transfer_done=inp.transfer_done,
            alert_settle_seconds=self._settle.total_seconds(),
            last_command_at=(
                None if self._last_command_at is None else self._last_command_at.isoformat()
            ),
            burst_started_at=None if self._burst_start is None else self._burst_start.isoformat(),
            kommun_config=self._config_ref,
        )

    async def _transfer(self) -> None:
        """H2: continue the case in the receiving kommun, with its original dates (H3)."""
        result: TransferResult = await workflow.execute_activity(
            TRANSFER_ACTIVITY,
            TransferInput(
                self._state.kommun, self._state.case_ref, self._state.transferred_to or ""
            ),
            result_type=TransferResult,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=TRANSFER_RETRY,
        )
        workflow.logger.info("case transferred to %s", result.workflow_id)

    # ------------------------------------------------------------------ commands
    @workflow.update(name=COMMAND_UPDATE)
    async def command(self, cmd: CommandInput) -> CommandResult:
        async with self._lock:
            await self._resolve()
            # the version the command names is judged with; the validator could not load it if
            # this run had not seen it yet, so its delegation check is made here in that case
            await self._load_config(cmd.kommun_config)
            # state may have moved while we waited for the lock; a command accepted before
            # canonical values replays with its spelling kept (the validator never replays)
            ev = self._judge(
                cmd,
                legacy_values=not self._patched(CANONICAL_VALUES_PATCH),
                handler=True,
                lagrum=self._patched(LAGRUM_PATCH),
                every_decision=self._patched(DELEGATION_PATCH),
                care=self._patched(CARE_GUARDS_PATCH),
            )
            retry = ev.idempotency_key in self._state.idempotency
            result = await self._append(ev.to_json(), allow_system=False)
            self._command_accepted(retry)
            if cmd.kommun_config in self._configs:
                self._config_ref = cmd.kommun_config  # the sender's version is in force now
            # "duplicate" tells the caller that *its command* was a retry; the store may also
            # have seen the append before when a local activity re-ran after a lost task
            return dataclasses.replace(result, duplicate=retry)

    def _command_accepted(self, retry: bool) -> None:
        """The settle window starts (again) with a new command. A retry says nothing new, so
        an integrator retrying in a loop cannot postpone alerts (``ALERT_SETTLE_CAP_PATCH``)."""
        if not self._patched(ALERT_SETTLE_CAP_PATCH):
            self._last_command_at = workflow.now()  # histories from before: every command
            return
        if retry:
            return
        now = workflow.now()
        if self._last_command_at is None or now >= self._last_command_at + self._settle:
            self._burst_start = now  # a quiet window passed: a new burst begins
        self._last_command_at = now

    @command.validator
    def validate_command(self, cmd: CommandInput) -> None:
        if self._unresolved is not None:
            return  # the case is not read yet in this run: the handler reads it, then judges
        self._judge(cmd)

    def _judge(
        self,
        cmd: CommandInput,
        *,
        legacy_values: bool = False,
        handler: bool = False,
        lagrum: bool = True,
        every_decision: bool = True,
        care: bool = True,
    ) -> CaseEvent:
        """The command's event, checked by the case's guards and (a decision) judged against
        the delegationsordning, carrying its judgement; or the refusal."""
        try:
            ev = parse_event(cmd.event, legacy_values=legacy_values)
            if ev.delegation is not None:
                ev = dataclasses.replace(ev, delegation=None)  # only barnflow judges
            if ev.idempotency_key in self._state.idempotency:
                return ev  # a retry: the store returns the original result
            # a transfer accepted before TRANSFER_ANSWER_PATCH replays without its answer (the
            # validator never replays, so it always judges by today's rules)
            legacy_transfer = (
                handler
                and ev.type == "arende_overflyttat"
                and not self._patched(TRANSFER_ANSWER_PATCH)
            )
            self._state.check(
                ev,
                clock_date(workflow.now()),
                legacy_transfer=legacy_transfer,
                lagrum=lagrum,
                care=care,
                order=not handler or self._order_guarded(ev),
            )
            if every_decision:
                ev = self._judge_decision(cmd, ev)
            elif ev.type == "beslut_fattat":  # histories from before DELEGATION_PATCH
                ordning = self._ordning(cmd, ev.kommun)
                if ordning is not None:
                    _check_delegation(ev, ordning)
        except (RuleViolation, EventValidationError) as exc:
            raise rejection(exc) from None
        return ev

    def _order_guarded(self, ev: CaseEvent) -> bool:
        """Whether the handler judges ``P-ORDER``: only where it would refuse, and then only
        for a command not accepted before ``DATE_ORDER_PATCH`` (the validator, which never
        replays, always judges it)."""
        return date_order_violation(self._state, ev) is not None and self._patched(DATE_ORDER_PATCH)

    def _judge_decision(self, cmd: CommandInput, ev: CaseEvent) -> CaseEvent:
        """docs/delegationsordning.md: a decision is judged by the ordning in force on its legal
        date in the configuration version its command names; ``ev`` with its judgement.

        In the validator a version this run has not loaded yet is not judged: the handler
        loads it and judges again, so nothing is accepted unjudged."""
        config = None if cmd.kommun_config is None else self._configs.get(cmd.kommun_config)
        if cmd.kommun_config is not None and config is None:
            return ev
        judgement = judge(ev, self._state, config)
        if judgement is None:
            return ev
        if judgement.violation is not None:
            raise judgement.violation
        return dataclasses.replace(ev, delegation=judgement.record)

    def _ordning(self, cmd: CommandInput, kommun: str) -> Delegationsordning | None:
        """The delegationsordning a command's beslut is judged against: that of the version it
        names (``None`` in the validator while this run has not loaded it: the handler loads it
        and judges again), or, for commands recorded before versions, the inline one."""
        if cmd.kommun_config is not None:
            config = self._configs.get(cmd.kommun_config)
            return None if config is None else config.delegationsordning
        if cmd.delegationsordning is not None:
            return _inline_ordning(cmd.delegationsordning, kommun)
        return None

    # ------------------------------------------------------------------ the case's record
    async def _resolve(self) -> None:
        """Read the case the input names, once per run, before anything is judged or computed
        (called under the lock by the first command and by the loop, whichever comes first)."""
        ref = self._unresolved
        if ref is None:
            return
        loaded: CaseEvents = await workflow.execute_local_activity(
            LOAD_CASE_ACTIVITY,
            ref,
            result_type=CaseEvents,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=LOAD_RETRY,
        )
        self._events = [event_from_json(e) for e in loaded.events]
        self._state = fold(self._events)
        self._last_position = max((e.position or 0 for e in self._events), default=0)
        self._stage_at_start = self._state.stage
        self._frister_cache = None
        self._unresolved = None

    # ------------------------------------------------------------------ configuration
    async def _load_config(self, version: str | None) -> None:
        """Load configuration ``version`` once per run (an activity reads the stored document;
        the version id is its digest, so the cached copy never goes stale)."""
        if version is None or version in self._configs:
            return
        if not self._patched(KOMMUN_CONFIG_PATCH):
            return
        # read in this workflow task (CURRENT_PATCH); a run that began on older code schedules
        # the activity its history holds
        execute = workflow.execute_local_activity if self._newest else workflow.execute_activity
        document: dict[str, Any] = await execute(
            KOMMUN_CONFIG_ACTIVITY,
            version,
            result_type=dict,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=CONFIG_RETRY,
        )
        config = kommun_config_from_document(document)
        if config.kommun != self._kommun or config.version != version:
            raise ApplicationError(
                f"kommun configuration {version} is not kommun {self._kommun}'s "
                f"(loaded {config.version})",
                type="KommunConfigMismatch",
                non_retryable=True,
            )
        self._configs[version] = config

    def _policy(self) -> KommunPolicy | None:
        """The policy frister are computed with (``None``: the documented defaults)."""
        config = None if self._config_ref is None else self._configs.get(self._config_ref)
        return None if config is None else config.policy

    async def _append(self, event: dict[str, object], *, allow_system: bool) -> CommandResult:
        result: CommandResult = await workflow.execute_local_activity(
            APPEND_ACTIVITY,
            AppendInput(event=event, now=workflow.now().isoformat(), allow_system=allow_system),
            result_type=CommandResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=APPEND_RETRY,
        )
        if not result.duplicate or result.event.get("idempotency_key") not in (
            self._state.idempotency
        ):
            stored = event_from_json(result.event).redacted()
            self._events.append(stored)
            self._state.apply(stored)
        self._last_position = max(self._last_position, result.position)
        self._changed = True
        return result

    # ------------------------------------------------------------------ timers
    def _frister(self) -> list[Frist]:
        """The case's frister today; recomputed only when an event or the legal date changed
        (the loop, the details line and the query all ask within one activation)."""
        policy = self._policy()
        key = (len(self._events), clock_date(workflow.now()), policy)
        if self._frister_cache is None or self._frister_cache[0] != key:
            self._frister_cache = (
                key,
                compute_frister(
                    self._events, as_of=key[1], policy=policy, transitions=self._transitions
                ),
            )
        return self._frister_cache[1]

    def _settle_end(self) -> datetime | None:
        """When the settle window after the last accepted command ends (None: no window, as in
        histories recorded before ``ALERT_SETTLE_PATCH``, or before any command in this run)."""
        if self._last_command_at is None or not self._patched(ALERT_SETTLE_PATCH):
            return None
        end = self._last_command_at + self._settle
        if self._burst_start is None:  # histories from before ALERT_SETTLE_CAP_PATCH
            return end
        # the cap: an endless stream of commands defers an expired frist's alert by at most
        # SETTLE_CAP_WINDOWS windows after its expiry or the burst's start, whichever is later
        expired = [
            overdue_at(f.due)
            for f in self._frister()
            if f.status == OVERDUE and not self._done(alert_key(f))
        ]
        since = max(self._burst_start, min(expired, default=self._burst_start))
        return min(end, since + SETTLE_CAP_WINDOWS * self._settle)

    def _settling(self) -> bool:
        """A command arrived within the settle window: expired frister wait for it to end."""
        end = self._settle_end()
        return end is not None and workflow.now() < end and self._state.closed_on is None

    async def _fire_expired(self) -> None:
        """Withdraw every alert proved false, then append one alert for every frist that has
        expired unmet and was not alerted yet, once the settle window has passed.

        A closed case takes no more commands, so it does not wait for the window."""
        async with self._lock:
            await self._resolve()
            await self._load_config(self._config_ref)
            if self._patched(ALERT_WITHDRAWAL_PATCH):
                await self._withdraw_false_alerts()
            if self._settling():
                return
            for frist in self._frister():
                if frist.status != OVERDUE or self._done(alert_key(frist)):
                    continue
                await self._append_system(self._alert_event(frist))

    def _done(self, key: str) -> bool:
        """The system event with ``key`` is stored, or the store refused it in this run."""
        return key in self._state.idempotency or key in self._refused

    async def _append_system(self, event: dict[str, object]) -> None:
        """Append an alert or withdrawal; a refusal never fails the case's own workflow.

        The refused event is logged as one structured line without content (type, rule,
        error type) and not retried in this run; the case keeps taking commands."""
        try:
            await self._append(event, allow_system=True)
        except (ActivityError, ApplicationError) as exc:
            # a local activity's failure arrives as the activity's own ApplicationError, not
            # wrapped in an ActivityError (both are caught)
            if not self._patched(SYSTEM_APPEND_SURVIVES_PATCH):
                raise
            key = str(event["idempotency_key"])
            self._refused.add(key)
            data = event.get("data")
            cause = exc.cause if isinstance(exc, ActivityError) else exc
            workflow.logger.error(
                "system event refused",
                extra={
                    "event_type": event["type"],
                    "regel": data.get("regel") if isinstance(data, dict) else None,
                    "error_type": getattr(cause, "type", None) or type(cause).__name__,
                },
            )

    async def _withdraw_false_alerts(self) -> None:
        """Append ``larm_aterkallat`` for each alert whose frist the record now shows as met:
        a fulfilment with a legal date on or before the due date arrived after the alert."""
        for frist in self._frister():
            if (
                frist.status != MET
                or alert_key(frist) not in self._state.idempotency
                or self._done(withdrawal_key(frist))
            ):
                continue
            await self._append_system(self._withdrawal_event(frist))

    def _withdrawal_event(self, frist: Frist) -> dict[str, object]:
        alert = next((e for e in self._events if e.idempotency_key == alert_key(frist)), None)
        alert_pos = 0 if alert is None else alert.position or 0
        due = frist.due.isoformat() if alert is None else str(alert.data.get("due") or frist.due)
        return {
            "kommun": self._state.kommun,
            "case_ref": self._state.case_ref,
            "type": WITHDRAWAL_EVENT,
            # legal time of the withdrawal: when barnflow learned the alert was false
            "occurred_at": workflow.now().isoformat(),
            "actor": SYSTEM_ACTOR,
            "idempotency_key": withdrawal_key(frist),
            "data": {
                "larm_typ": frist.alert_event,
                "frist": frist.key,
                "regel": frist.rule,
                "due": due,
                "larm_position": alert_pos,
                "uppfylld_position": self._fulfilling_position(frist, alert_pos),
                "uppfylld_datum": (frist.fulfilled_date or frist.due).isoformat(),
            },
        }

    def _fulfilling_position(self, frist: Frist, after: int) -> int:
        """The position of the event that met ``frist``: the first event stored after its alert
        with which the record shows it met (recomputed only here, on the rare withdrawal)."""
        ordered = sorted(self._events, key=lambda e: e.position or 0)
        for i, ev in enumerate(ordered):
            if (ev.position or 0) <= after or ev.legal_date != frist.fulfilled_date:
                continue
            met = compute_frister(
                ordered[: i + 1],
                as_of=clock_date(workflow.now()),
                policy=self._policy(),
                transitions=self._transitions,
            )
            if any(f.key == frist.key and f.status == MET for f in met):
                return ev.position or 0
        return self._last_position

    def _alert_event(self, frist: Frist) -> dict[str, object]:
        if frist.alert_event == "evb_rapporteringsskyldighet_uppstod":
            data: dict[str, object] = {"beslut_id": frist.subject, "due": frist.due.isoformat()}
        else:
            data = {"frist": frist.key, "regel": frist.rule, "due": frist.due.isoformat()}
        return {
            "kommun": self._state.kommun,
            "case_ref": self._state.case_ref,
            "type": frist.alert_event,
            # legal time of the alert: the first instant the frist was overdue
            "occurred_at": overdue_at(frist.due).isoformat(),
            "actor": SYSTEM_ACTOR,
            "idempotency_key": alert_key(frist),
            "data": data,
        }

    def _next_expiry(self) -> datetime | None:
        """When the earliest open, not yet alerted frist becomes overdue, or, while a command's
        settle window runs, when it ends: an expiry inside the window waits for its end, and an
        expired frist left unalerted by the window is alerted then (if still unmet)."""
        unalerted = [f for f in self._frister() if not self._done(alert_key(f))]
        expiries = [overdue_at(f.due) for f in unalerted if f.status == OPEN]
        end = self._settle_end() if self._state.closed_on is None else None
        if end is None:
            return min(expiries, default=None)
        waiting = any(f.status == OVERDUE for f in unalerted)
        return min([max(at, end) for at in expiries] + ([end] if waiting else []), default=None)

    # ------------------------------------------------------------------ visibility
    def _publish(self) -> None:
        """Current details for the Web UI and typed search attributes, upserted on change."""
        today = clock_date(workflow.now())
        frister = self._frister()
        open_ = [f for f in frister if f.status not in (MET, MISSED)]
        if self._state.closed_on is not None:
            details = f"{self._state.stage}: avslutat {self._state.closed_on.isoformat()}"
        elif not open_:
            details = f"{self._state.stage}: inga öppna frister"
        else:
            first = min(open_, key=lambda f: f.due)
            day = days_between(first.trigger_date, today)
            total = days_between(first.trigger_date, first.due)
            details = f"{first.name}: dag {day} av {total} (förfaller {first.due.isoformat()})"
        workflow.set_current_details(f"{details}\n\n{details_footer(self._state)}")
        next_due = min((f.due for f in open_), default=None)
        values: dict[str, Any] = {
            search.KOMMUN.name: self._kommun,
            search.STAGE.name: self._state.stage,
            search.ENHET.name: self._state.enhet or "",
            search.NEXT_DUE.name: None if next_due is None else start_of_day(next_due),
            search.OVERDUE.name: any(f.status == OVERDUE for f in open_),
            search.OPEN_EVB.name: _open_evb(frister),
            search.LAST_POSITION.name: self._last_position,
        }
        if values == self._published:
            return
        updates: list[SearchAttributeUpdate[Any]] = []
        for key in search.ALL:
            value = values[key.name]
            if value == self._published.get(key.name, object()):
                continue
            updates.append(key.value_unset() if value is None else key.value_set(value))
        workflow.upsert_search_attributes(updates)
        self._published = values

    @workflow.query(name=STATE_QUERY)
    def summary(self) -> CaseSummary:
        frister = self._frister()
        open_ = [f for f in frister if f.status not in (MET, MISSED)]
        return CaseSummary(
            kommun=self._kommun,
            stage=self._state.stage,
            event_count=self._state.event_count,
            open_frister=sorted(f.key for f in open_),
            overdue_frister=sorted(f.key for f in open_ if f.status == OVERDUE),
            next_due=min((f.due.isoformat() for f in open_), default=None),
            closed=self._state.closed_on is not None,
            last_position=self._last_position,
            open_evb=_open_evb(frister),
            transferred_to=self._state.transferred_to,
        )


def _open_evb(frister: list[Frist]) -> int:
    """Beslut whose verkställighet (C2) or resumption (C3) is overdue and still not done."""
    return len({f.subject for f in frister if f.rule in EVB_RULES and f.status == OVERDUE})


def _inline_ordning(ordning: dict[str, Any], kommun: str) -> Delegationsordning:
    """A delegationsordning that travelled inline in a command (histories from before
    ``KOMMUN_CONFIG_PATCH``; the sender validated it when it loaded the file)."""
    try:
        return delegationsordning_from_document(ordning, f"delegationsordning {kommun}")
    except (KeyError, TypeError, ValueError) as exc:
        raise RuleViolation(
            "DELEG",
            "Kommunens delegationsordning är ogiltig.",
            f"the kommun's delegationsordning is invalid: {exc!r}",
        ) from None


def _check_delegation(ev: CaseEvent, ordning: Delegationsordning) -> None:
    """docs/domain.md §6: a beslut taken by a delegat below the required level is rejected."""
    d = ev.data
    belopp = d.get("belopp_per_dygn")
    ordning.check(
        str(d["beslutstyp"]),
        str(d["lagrum"]),
        str(d["delegat"]["roll"]),
        None if belopp is None else float(belopp),
    )
