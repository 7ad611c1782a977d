"""Commands to case workflows: update-with-start for a new case, updates for the rest, adoption of
a case from the store's record (import, transfer, repair).

A command arrives here already validated into its canonical ``CaseEvent`` (parsed once, at the
edge: the HTTP route or ``barnflow case send``). It names the kommun's configuration in force by
version id (``infra.persistence.kommun_config``, from the store's environment), never the
document. A refusal comes back as ``CommandRejected`` (``infra.temporal.rejections``).

A workflow is started with a reference to its case, never its content (the workflow reads the
record through a local activity), and with a static summary an operator reads at the top of the
Web UI's workflow page (``domain.operator_view``: what the search attributes hold, no more).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from domain.case import CaseState, fold
from domain.errors import EventValidationError, RuleViolation
from domain.events import OPENING_TYPES, CaseEvent
from domain.identity import pseudonym
from domain.ids import case_id_for, workflow_id_for
from domain.operator_view import summary
from domain.placement import PLACEMENT_TYPES
from domain.settle import DEFAULT_ALERT_SETTLE_SECONDS
from infra.config.settings import Settings
from infra.config.timeouts import START_RPC_TIMEOUT
from infra.persistence.homes import homes_of, judge_placement
from infra.persistence.importer import Known
from infra.persistence.kommun_config import versions_in
from infra.persistence.store import CaseStore
from infra.temporal.case_workflow import child_identity
from infra.temporal.rejections import CommandRejected
from workflows.child_case import ChildCaseWorkflow
from workflows.messages import (
    COMMAND_UPDATE,
    CaseWorkflowInput,
    CommandInput,
    CommandResult,
    rejected,
)

__all__ = [
    "CommandRejected",
    "WorkflowMissing",
    "adopt",
    "adopt_case",
    "child_pseudonym",
    "kommun_config_of",
    "opening_event",
    "send_command",
]


def kommun_config_of(store: CaseStore, kommun: str) -> str | None:
    """The version id of ``kommun``'s configuration in force in this process (named in the
    store's environment by ``infra.bootstrap.open_store``), ``None`` when it has none."""
    return versions_in(store.env).get(kommun)


async def adopt(
    client: Client,
    store: CaseStore,
    kommun: str,
    case_ref: str,
    *,
    pseudonym_key: bytes,
    task_queue: str,
    conflict: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.FAIL,
    alert_settle_seconds: float = DEFAULT_ALERT_SETTLE_SECONDS,
    known: Known | None = None,
) -> str:
    """Start a case's workflow from the store's record of it (import, transfer, repair).

    The workflow gets the case's reference and the kommun's configuration in force by version
    id. It reads the recorded (redacted) events through a local activity, folds them and then
    behaves as if it had lived through them: frister already met stay quiet, expired unmet ones
    alert at once (unless the record already holds their alert), open ones get timers. Returns
    the workflow id.

    ``known`` is the case as an import just folded it (``ImportSummary.adoption``): its opening
    event names the child and its state gives the summary, so the case is not read and folded
    once more here (the workflow reads the record itself either way). Without it, the store.
    """
    if known is None:
        # read in a thread: the caller's event loop goes on meanwhile (``adopt_all`` has dozens
        # of starts in flight; a read on the loop held every one of them for its round trip)
        events = await asyncio.to_thread(store.case_events, case_id_for(kommun, case_ref))
        if not events:
            raise LookupError(f"no case {case_ref!r} in kommun {kommun}")
        known = Known(events[0], fold(events))
    child = child_pseudonym(known.opening, pseudonym_key)
    wid = workflow_id_for(kommun, child)
    await client.start_workflow(
        ChildCaseWorkflow.run,
        CaseWorkflowInput(
            kommun=kommun,
            child_pseudonym=child,
            case_id=str(case_id_for(kommun, case_ref)),
            alert_settle_seconds=alert_settle_seconds,
            kommun_config=kommun_config_of(store, kommun),
        ),
        id=wid,
        static_summary=summary(kommun, child, known.state),
        task_queue=task_queue,
        id_conflict_policy=conflict,
        rpc_timeout=timedelta(seconds=START_RPC_TIMEOUT),
    )
    return wid


class WorkflowMissing(Exception):
    """The store says the case is open but its workflow is not running (terminated, failed or
    timed out): not the caller's fault and not a closed case; an operator re-adopts it with
    ``barnflow ops repair``. Names the case by case_ref and kommun, never by the child."""

    def __init__(self, kommun: str, case_ref: str, workflow_id: str) -> None:
        self.kommun = kommun
        self.case_ref = case_ref
        self.workflow_id = workflow_id
        super().__init__(
            f"case {case_ref} in kommun {kommun} is open but its workflow ({workflow_id}) is "
            f"not running; an operator can repair it: barnflow ops repair {case_ref} "
            f"--kommun {kommun} --reason '...' --apply"
        )


def child_pseudonym(opening: CaseEvent, pseudonym_key: bytes) -> str:
    """The keyed pseudonym of the child named in a case's opening anmälan/ansökan.

    A gallrad case names no child any more (its identity was destroyed, SoL 16 kap.): no command
    may reach or start a workflow for it (P-GALLRAD). Without this refusal the pseudonym of the
    missing identity ("None") named one workflow shared by every gallrad child of the kommun,
    and an anmälan reusing the case's reference would have started it."""
    identifier = child_identity(opening.data)
    if identifier is None:
        raise CommandRejected(
            RuleViolation(
                "P-GALLRAD",
                "Ärendet är gallrat: barnets identitet är förstörd. Inled ett nytt ärende.",
                "the case was gallrad (the child's identity was destroyed): open a new case",
            )
        )
    return pseudonym(pseudonym_key, opening.kommun, identifier)


def opening_event(ev: CaseEvent, store: CaseStore) -> CaseEvent:
    """The event that names the child: its case's first stored event, or ``ev`` if it opens one.

    The stored opening wins even for a later anmälan: the workflow id is fixed by the identity
    the case was opened with (a temporary id stays the key after identitet_uppdaterad). The store
    reads it once per case (``CaseStore.first_event``), not once per command.
    """
    stored = store.first_event(case_id_for(ev.kommun, ev.case_ref))
    if stored is not None:
        return stored
    if ev.type in OPENING_TYPES:
        return ev
    raise CommandRejected(
        RuleViolation(
            "P-OPEN",
            "Ärendet finns inte; det inleds med en anmälan eller ansökan.",
            f"no case {ev.case_ref!r} in kommun {ev.kommun}: begin with an anmälan or ansökan",
        )
    )


def _retrieve_start_failure(start: WithStartWorkflowOperation[Any, Any]) -> None:
    """Mark the start operation's outcome as seen: when update-with-start fails or is cancelled
    (a command timeout), the SDK leaves the exception in the operation's future, and asyncio
    would print "Future exception was never retrieved" for every such command."""
    future = getattr(start, "_workflow_handle", None)
    if isinstance(future, asyncio.Future):
        future.add_done_callback(lambda f: None if f.cancelled() else f.exception())


async def send_command(
    client: Client,
    store: CaseStore,
    ev: CaseEvent,
    *,
    pseudonym_key: bytes,
    task_queue: str,
    alert_settle_seconds: float = DEFAULT_ALERT_SETTLE_SECONDS,
) -> CommandResult:
    """Send one validated docs/domain.md §4 event (``parse_event``'s canonical form) as a
    command to its child's workflow; it is not parsed again here.

    An anmälan/ansökan uses update-with-start (the first one starts the workflow); any other
    command updates the running workflow. The command names the kommun's configuration in force
    (its version id): the validator judges a beslut's delegat against its delegationsordning.
    ``alert_settle_seconds`` (``BARNFLOW_ALERT_SETTLE_SECONDS``) is the settle window of a
    workflow this command starts; a running workflow keeps its own. Raises ``CommandRejected``
    with the rule or field.
    """
    config = kommun_config_of(store, ev.kommun)
    command = CommandInput(event=ev.to_json(), kommun_config=config)
    # store reads run in a worker thread: they read and fold whole streams, and a blocking
    # read on the API's event loop would stall every other request meanwhile; a case this
    # process has seen needs no read (and no hand-off to a thread: docs/operations.md)
    opening = store.known_first_event(case_id_for(ev.kommun, ev.case_ref))
    if opening is None:
        opening = await asyncio.to_thread(opening_event, ev, store)
    child = child_pseudonym(opening, pseudonym_key)
    wid = workflow_id_for(ev.kommun, child)
    if ev.type in PLACEMENT_TYPES:  # H1-H6: the home as recorded on the placement's date
        try:
            await asyncio.to_thread(
                judge_placement, store, homes_of(store), ev, kommun_config=config
            )
        except (RuleViolation, EventValidationError) as exc:
            raise CommandRejected(exc) from None
    try:
        if ev.type in OPENING_TYPES:
            state = await asyncio.to_thread(_state_if_open, store, ev)
            start = WithStartWorkflowOperation(
                ChildCaseWorkflow.run,
                CaseWorkflowInput(
                    kommun=ev.kommun,
                    child_pseudonym=child,
                    case_id=str(case_id_for(ev.kommun, ev.case_ref)),
                    only_if_open=True,
                    alert_settle_seconds=alert_settle_seconds,
                    kommun_config=config,
                ),
                id=wid,
                static_summary=summary(ev.kommun, child, state),
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
            _retrieve_start_failure(start)
            result: CommandResult = await client.execute_update_with_start_workflow(
                COMMAND_UPDATE,
                command,
                start_workflow_operation=start,
                result_type=CommandResult,
            )
            return result
        handle = client.get_workflow_handle(wid)
        updated: CommandResult = await handle.execute_update(
            COMMAND_UPDATE,
            command,
            result_type=CommandResult,
        )
        return updated
    except WorkflowUpdateFailedError as exc:
        cause = rejected(exc)
        if cause is not None:
            raise CommandRejected(cause) from None
        raise
    except RPCError as exc:
        if "already completed" in str(exc) or "not found" in str(exc).lower():
            if await asyncio.to_thread(_open_in_store, store, ev):
                raise WorkflowMissing(ev.kommun, ev.case_ref, wid) from None
            raise CommandRejected(
                RuleViolation(
                    "P-CLOSED", "Ärendet är avslutat.", f"the case's workflow is closed ({exc})"
                )
            ) from None
        raise


def _state_if_open(store: CaseStore, ev: CaseEvent) -> CaseState:
    """The case as a run started by an opening command will find it, for the static summary:
    the record folded when it holds the case open, else the opening command alone.

    A running workflow ignores the start (``USE_EXISTING``). When the workflow was lost while
    the record says the case is open, the anmälan that joins the case adopts the record (the
    workflow reads it, ``only_if_open``) instead of starting an empty workflow that would judge
    later commands against a case it never saw (issue #12: say what is true).
    """
    events = store.case_events(case_id_for(ev.kommun, ev.case_ref))
    state = fold(events) if events else None
    if state is None or state.closed_on is not None:
        return fold([ev])
    return state


def _open_in_store(store: CaseStore, ev: CaseEvent) -> bool:
    """Whether the record holds this case and has not closed it (its workflow should run)."""
    events = store.case_events(case_id_for(ev.kommun, ev.case_ref))
    return bool(events) and fold(events).closed_on is None


async def adopt_case(
    client: Client, store: CaseStore, settings: Settings, kommun: str, case_ref: str
) -> str:
    """Start a case's workflow from the store's record of it (import/repair path)."""
    return await adopt(
        client,
        store,
        kommun,
        case_ref,
        pseudonym_key=settings.keys.pseudonym,
        task_queue=settings.task_queue,
        alert_settle_seconds=settings.alert_settle_seconds,
    )
