"""Inputs and results of ChildCaseWorkflow and its activities (plain dataclasses, JSON-friendly).

Events travel as docs/domain.md §4 JSON objects: the workflow re-validates them with
``domain.events``.

No ``from __future__ import annotations`` here, on purpose: temporalio converts every payload
to these dataclasses with ``typing.get_type_hints``, which compiles and evaluates each string
annotation anew on every call (inside the workflow sandbox, too); real annotations cost a fifth
of that (docs/operations.md "Lifecycle throughput").
"""

from dataclasses import dataclass, field
from typing import Any

from temporalio.exceptions import ApplicationError

from domain.errors import EventValidationError, RuleViolation
from domain.settle import DEFAULT_ALERT_SETTLE_SECONDS

APPEND_ACTIVITY = "append_event"
TRANSFER_ACTIVITY = "transfer_case"
#: Reads one version of a kommun's configuration (the document) by its version id.
KOMMUN_CONFIG_ACTIVITY = "load_kommun_config"
#: Reads a case's recorded events (redacted) by reference: a local activity, so the workflow's
#: start and continue-as-new input name the case instead of carrying its content (issue #18).
LOAD_CASE_ACTIVITY = "load_case_events"
WORKFLOW_NAME = "ChildCaseWorkflow"
COMMAND_UPDATE = "command"
STATE_QUERY = "state"
#: The ``ApplicationError`` types a refused command travels as (``rejection``): answers to the
#: caller, never faults, never retried.
REJECTION_TYPES = ("RuleViolation", "EventValidationError")


@dataclass
class CaseWorkflowInput:
    """Start (or continue-as-new / adopt) a child's case.

    The input names the case (``case_id``) and the workflow reads its recorded events through
    ``LOAD_CASE_ACTIVITY`` (a local activity), so no case content is in the input the Temporal
    Web UI shows first, nor in a continue-as-new's: such an input holds only operational facts
    (kommun, the pseudonym the workflow id has, the case's opaque id, timing settings, the
    configuration version) and is left readable by the codec
    (``infra.temporal.operator_payloads``). ``events`` is how runs started before that carried
    the case's stored events (redacted of the child's identity); kept so they replay.
    """

    kommun: str
    child_pseudonym: str
    events: list[dict[str, Any]] = field(default_factory=list)
    #: The case's id (``domain.ids.case_id_for(kommun, case_ref)``, a UUID: opaque, unlike a
    #: case_ref a verksamhetssystem chose); ``None``: a run started before references (its
    #: content in ``events``).
    case_id: str | None = None
    #: With ``case_id``: read the record only if it holds the case open (an opening command's
    #: start; a closed case with the same reference starts empty, as before).
    only_if_open: bool = False
    #: Continue-as-new at the next stage boundary once the history is longer than this (the
    #: server's own suggestion and a hard cap apply as well). Tests lower it to force one.
    continue_as_new_after: int = 200
    #: Set on continue-as-new: the transfer activity already ran for this case.
    transfer_done: bool = False
    #: Settle window: an expired frist is alerted only when no command has been accepted for
    #: this many seconds, so a command arriving late but fulfilling it in time (a burst, a
    #: backfill) never leaves a false alert. Defaulted so inputs recorded before it decode.
    alert_settle_seconds: float = DEFAULT_ALERT_SETTLE_SECONDS
    #: Carried on continue-as-new: workflow time (ISO) of the last accepted command, so a burst
    #: that spans a continue-as-new still settles before alerting.
    last_command_at: str | None = None
    #: Carried on continue-as-new: workflow time (ISO) of the first command of the current
    #: burst (commands each within the settle window of the one before), for the deferral cap.
    burst_started_at: str | None = None
    #: The version id (``domain.kommun.config_version``) of the kommun's configuration in force
    #: when the workflow was started, adopted or continued; ``None``: the documented defaults.
    #: The workflow loads the document by this reference (``KOMMUN_CONFIG_ACTIVITY``).
    kommun_config: str | None = None


@dataclass
class CaseRef:
    """Which case ``LOAD_CASE_ACTIVITY`` reads (see ``CaseWorkflowInput.only_if_open``)."""

    case_id: str
    only_if_open: bool = False


@dataclass
class CaseEvents:
    """A case's recorded events in stream order, redacted of the child's identity."""

    events: list[dict[str, Any]]


@dataclass
class CommandInput:
    """One command: a docs/domain.md §4 event line sent by the verksamhetssystem, already
    validated into its canonical form at the edge (``domain.events.parse_event``)."""

    event: dict[str, Any]
    #: Histories from before kommun configurations were referenced: the kommun's whole
    #: delegationsordning travelled inline with every command. Kept so those commands still
    #: decode and replay; new commands send ``kommun_config`` instead.
    delegationsordning: dict[str, Any] | None = None
    #: The version id of the kommun's configuration in force at the sender: the workflow judges
    #: a beslut_fattat against its delegationsordning (rule DELEG) and computes frister with its
    #: policy from then on. ``None``: the sender has no configuration for the kommun.
    kommun_config: str | None = None


@dataclass
class CommandResult:
    case_id: str
    position: int
    event: dict[str, Any]
    duplicate: bool


@dataclass
class AppendInput:
    """Ask the store to append one event; ``now`` is workflow time (the process clock)."""

    event: dict[str, Any]
    now: str
    allow_system: bool = False


@dataclass
class TransferInput:
    """Continue a case in another kommun (H2): copy its stream there and adopt it."""

    kommun: str
    case_ref: str
    till_kommun: str


@dataclass
class TransferResult:
    workflow_id: str
    copied: int


@dataclass
class CaseSummary:
    """What operators may see of a case: no identity, no content."""

    kommun: str
    stage: str
    event_count: int
    open_frister: list[str]
    overdue_frister: list[str]
    next_due: str | None
    closed: bool
    last_position: int = 0
    open_evb: int = 0
    transferred_to: str | None = None


def rejection(exc: RuleViolation | EventValidationError) -> ApplicationError:
    """The one form a refused command or event travels in through Temporal (the workflow's
    validator, the append activity and its test fake): non-retryable, typed by the error
    class, with the rule and both messages, or the field and its message, as details (the API
    and the test drivers turn it back into the rule or field)."""
    if isinstance(exc, RuleViolation):
        return ApplicationError(
            str(exc), exc.rule, exc.sv, exc.en, type="RuleViolation", non_retryable=True
        )
    return ApplicationError(
        str(exc), exc.field, exc.message, type="EventValidationError", non_retryable=True
    )


def rejected(exc: BaseException) -> RuleViolation | EventValidationError | None:
    """The inverse of ``rejection``: the refusal carried by ``exc`` or any of its causes (an
    update or activity failure wraps the ``ApplicationError``), else ``None``."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ApplicationError) and cause.type in REJECTION_TYPES:
            d = [str(x) for x in cause.details]
            if cause.type == "RuleViolation" and len(d) >= 3:
                return RuleViolation(d[0], d[1], d[2])
            if cause.type == "EventValidationError" and len(d) >= 2:
                return EventValidationError(d[0], d[1])
        cause = cause.__cause__
    return None
