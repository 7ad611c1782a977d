"""The request and response shapes of the API, as they appear in docs/openapi.json.

The request envelope is deliberately loose about values (strings) and strict about shape
(unknown fields refused): ``domain.events.parse_event`` is the one validator of values, so the
API, the CLI, the import and the workflow reject the same inputs naming the same field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.events import EVENT_TYPES, SYSTEM_TYPES

COMMAND_TYPES: tuple[str, ...] = tuple(t for t in EVENT_TYPES if t not in SYSTEM_TYPES)
CommandType = Literal[COMMAND_TYPES]  # type: ignore[valid-type]
EVENT_TYPE_NAMES: tuple[str, ...] = tuple(EVENT_TYPES)
EventType = Literal[EVENT_TYPE_NAMES]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActorIn(_Strict):
    id: str = Field(min_length=1, max_length=128)
    roll: str = Field(min_length=1, max_length=64)


class CommandIn(_Strict):
    """One docs/domain.md §4 event line sent as a command (``data`` per type, as listed there)."""

    kommun: str = Field(pattern=r"^\d{4}$", examples=["1280"])
    case_ref: str = Field(min_length=1, max_length=128, examples=["VS-2026-00417"])
    type: str = Field(
        min_length=1,
        max_length=64,
        description="the event type; an unknown one is answered with the closest known types",
    )
    occurred_at: str = Field(min_length=1, max_length=64, examples=["2026-03-02T09:15:00+01:00"])
    actor: ActorIn
    idempotency_key: str = Field(min_length=1, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict)


class Event(BaseModel):
    """A stored event: the §4 line plus ``case_id``, ``position``, ``recorded_at`` [, digest]
    and, for a decision, ``delegation``: its judgement against the delegationsordning.

    The runtime shape only; docs/openapi.json types it per event type (``infra.api.contract``).
    ``actor``, ``idempotency_key`` and ``data`` are null for a caller without content rights
    (an operator reading the feed)."""

    model_config = ConfigDict(extra="allow")
    kommun: str
    case_ref: str
    type: str
    occurred_at: str
    actor: dict[str, str] | None = None
    idempotency_key: str | None = None
    data: dict[str, Any] | None = None
    case_id: str | None = None
    position: int | None = None
    recorded_at: str | None = None
    digest: str | None = None
    delegation: dict[str, Any] | None = Field(
        default=None,
        description="a decision's judgement against the kommun's delegationsordning, set by "
        "barnflow when it was recorded: decision code, delegat, the configuration version "
        "(kommun_config) and ordning (version, giltig_fran) that judged it, the point, the "
        "level it needed and utfall behorig / obehorig / ej_provad "
        "(docs/delegationsordning.md)",
    )


class CommandAccepted(BaseModel):
    case_id: str
    position: int
    event: Event
    duplicate: bool = Field(description="true when this is a retry returning the original")


class WorkflowView(BaseModel):
    """The case's workflow as Temporal reports it (no identity, no content)."""

    workflow_id: str
    status: str
    stage: str | None = None
    open_frister: list[str] = Field(default_factory=list)
    overdue_frister: list[str] = Field(default_factory=list)
    next_due: str | None = None


_CONFIG = Field(
    default=None,
    description="the kommun configuration version (policy, delegationsordning) the frister of "
    "this answer were computed with; null: the documented defaults (docs/rules.md)",
)


class CaseStateOut(BaseModel):
    case_id: str
    kommun: str
    case_ref: str
    stage: str
    enhet: str | None
    event_count: int
    last_position: int
    closed: bool
    open_frister: list[str]
    overdue_frister: list[str]
    next_due: str | None
    workflow: WorkflowView | None
    kommun_config: str | None = _CONFIG


class FristOut(BaseModel):
    key: str
    rule: str
    name: str
    subject: str
    trigger_date: str
    due: str
    shifted_due: str | None
    status: str
    fulfilled_date: str | None
    days_left: int
    law: str
    paragraph: str


class FristerOut(BaseModel):
    case_ref: str
    as_of: str
    frister: list[FristOut]
    kommun_config: str | None = _CONFIG


class PreviewSideOut(BaseModel):
    """A frist on one side of a change of law."""

    trigger_date: str
    due: str
    shifted_due: str | None
    status: str
    fulfilled_date: str | None
    law: str
    paragraph: str


class FristChangeOut(BaseModel):
    """One frist before and after the switch (``null`` on the side where it does not exist)."""

    key: str
    rule: str
    name: str
    subject: str
    changes: list[
        Literal[
            "frist_added",
            "frist_ended",
            "due_moved",
            "paragraph_changed",
            "policy_applied",
            "unchanged",
        ]
    ]
    policies: list[str]
    before: PreviewSideOut | None
    after: PreviewSideOut | None


class LawSwitchOut(BaseModel):
    """The catalogued change of law on the preview's date and its named transitional policies."""

    id: str
    on: str
    old_law: str
    new_law: str
    policies: list[str]


class RulesPreviewOut(BaseModel):
    """What a change of law on ``on`` does to one case's frister (``barnflow rules preview``).

    Statuses are as of the switch day; ``law_switch`` is null when no change of law is
    catalogued for that day (then nothing changes)."""

    kommun: str
    case_ref: str
    on: str
    law_switch: LawSwitchOut | None
    open: bool
    compulsory_care: bool
    frister: list[FristChangeOut]
    kommun_config: str | None = _CONFIG


class EvbOut(BaseModel):
    case_ref: str
    as_of: str
    frister: list[FristOut]
    events: list[Event]
    kommun_config: str | None = _CONFIG


class TimelineOut(BaseModel):
    case_ref: str
    known_at: str | None
    events: list[Event]
    reads: list[dict[str, Any]] = Field(description="who read the case (the access log)")


class FeedOut(BaseModel):
    events: list[Event]
    last_position: int = Field(
        description="ask again with after=last_position; it moves past events you may not see"
    )
    head: int


class ImportFlagOut(BaseModel):
    """An imported line recorded although a new command like it would be refused: history is
    listed, not refused (today: ``P-LAGRUM``, a lagrum not in force on the decision's date)."""

    line: int
    kommun: str
    case_ref: str
    idempotency_key: str
    rule: str
    sv: str
    en: str


class ImportOut(BaseModel):
    lines: int
    appended: int
    duplicates: int
    adopted: int
    flagged: list[ImportFlagOut] = Field(
        default_factory=list,
        description="lines recorded with a problem a new command would be refused for",
    )


class ReportOut(BaseModel):
    """The report's own JSON (period, rows, totals …) plus its name and kommun."""

    model_config = ConfigDict(extra="allow")
    report: str
    kommun: str
    rows: list[dict[str, Any]]


#: Printable text: control characters (NUL above all) cannot be stored and mean a broken client.
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
Unit = Annotated[str, Field(min_length=1, max_length=64, pattern=PRINTABLE)]


WebhookFormat = Literal["cloudevents", "barnflow-v1"]


class WebhookIn(_Strict):
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://[^\x00-\x20\x7f]+$")
    event_types: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPE_NAMES))
    units: list[Unit] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="only cases of these enheter (default: the caller's units; none = all)",
    )
    format: WebhookFormat = Field(
        default="cloudevents",
        description="the body: a CloudEvents 1.0 event (structured JSON, the default) or the "
        "deprecated barnflow-v1 body {subscription_id, position, event} (docs/api.md)",
    )
    skyddade: bool = Field(
        default=False,
        description=(
            "also cases with skyddade personuppgifter: only a caller whose role the kommun "
            "names for protected cases may ask for it (default: such cases are never delivered)"
        ),
    )


class WebhookOut(BaseModel):
    id: str
    kommun: str
    url: str
    event_types: list[str]
    units: list[str] = Field(description="the enheter whose cases it receives; empty = all")
    active: bool
    after_position: int
    format: WebhookFormat = "barnflow-v1"
    skyddade: bool = Field(
        default=False, description="receives cases with skyddade personuppgifter too"
    )
    secret: str | None = Field(
        default=None, description="HMAC-SHA256 key; returned only when the subscription is created"
    )
    signing_secret: str | None = Field(
        default=None,
        description="the same key as a Standard Webhooks secret (whsec_<base64>) for the "
        "webhook-signature header; returned only when the subscription is created",
    )


class DeliveryOut(BaseModel):
    position: int
    event_type: str
    attempt: int
    status_code: int | None
    error: str | None
    delivered: bool
    at: str


class HealthOut(BaseModel):
    status: Literal["ok"]
    head: int = Field(description="the newest stored position")
    dependencies: dict[str, str] = Field(
        default_factory=dict,
        description="each dependency (postgres, temporal) and 'ok'; a 503 lists the failing ones",
    )


class LiveOut(BaseModel):
    status: Literal["ok"]


class ProblemOut(BaseModel):
    """RFC 9457 problem details (extension members: field, rule, sv, en)."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
