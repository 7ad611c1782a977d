"""Inputs and results of ChildCaseWorkflow and its activities (plain dataclasses, JSON-friendly).

Events travel as DOMAIN.md §4 JSON objects: the workflow re-validates them with ``domain.events``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

APPEND_ACTIVITY = "append_event"
WORKFLOW_NAME = "ChildCaseWorkflow"
COMMAND_UPDATE = "command"
STATE_QUERY = "state"


@dataclass
class CaseWorkflowInput:
    """Start (or continue-as-new / adopt) a child's case.

    ``events`` are the case's stored events, redacted of the child's identity: empty for a new
    case, the store's history when a case is adopted, the carried state on continue-as-new.
    """

    kommun: str
    child_pseudonym: str
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CommandInput:
    """One command: a DOMAIN.md §4 event line sent by the verksamhetssystem."""

    event: dict[str, Any]


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
class CaseSummary:
    """What operators may see of a case: no identity, no content."""

    kommun: str
    stage: str
    event_count: int
    open_frister: list[str]
    overdue_frister: list[str]
    next_due: str | None
    closed: bool
