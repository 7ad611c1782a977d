"""``/klagomal`` and ``/lex-sarah``: complaints (synpunkter och klagomål) and lex Sarah rapporter
as flows of their own (``domain.kvalitet``; docs/domain.md §4.12, docs/law.md §14).

``POST /klagomal/commands`` and ``POST /lex-sarah/commands`` record one line of their flow (201,
or 200 for a retry with the same key and body; 409 with the rule, 422 naming the field). The body
is typed per event type (``type`` chooses the ``data`` model; no free-form data). Neither flow is a
workflow (``infra.persistence.kvalitet``): the line is judged by its stream's guards and
appended directly. ``GET /klagomal/{kommun}`` and ``GET /lex-sarah/{kommun}`` list every
complaint or rapport known on a legal date (``as_of``, default today) with its frister then;
a case_ref of a protected case reads ``⟨skyddad⟩``. The yearly figures are the reports
``klagomal`` and ``lex-sarah`` (``GET /reports/{name}``).
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from domain import kvalitet as kv
from domain.errors import EventValidationError, RuleViolation
from domain.event_docs import field_doc
from domain.kvalitet import Flow, parse_kvalitet_event
from infra.api.deps import PrincipalDep, ServicesDep
from infra.api.models import ActorIn
from infra.api.problems import rejection_problem
from infra.api.services import Services
from infra.config.clock import today_stockholm
from infra.persistence.kvalitet import flow_listing, kvalitet_of

klagomal_router = APIRouter(prefix="/klagomal", tags=["klagomal"])
lex_sarah_router = APIRouter(prefix="/lex-sarah", tags=["lex-sarah"])


def _choice(values: tuple[str, ...], description: str, *, optional: bool = False) -> Any:
    """A string field listed with its allowed values (the domain checks them: 422 naming it)."""
    extra: dict[str, Any] = {"enum": list(values)}
    if optional:
        return Field(default=None, description=description, json_schema_extra=extra)
    return Field(description=description, json_schema_extra=extra)


Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Label = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
FreeText = Annotated[str, Field(min_length=1, max_length=4000)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KlagomalInkommetData(_Data):
    """A complaint came in: who sent it (a category, never a name), about what and which unit."""

    avsandare: str = _choice(kv.AVSANDARE, "who sent it: a category, never a name")
    kategori: str = _choice(kv.KLAGOMAL_KATEGORIER, "what it is about")
    enhet: Code = Field(description="the unit concerned", examples=["barn-ost"])
    slag: str | None = _choice(kv.SLAG, "klagomål (default), synpunkt or beröm", optional=True)
    kanal: str | None = _choice(kv.KANALER, "how it came in", optional=True)
    case_ref: str | None = Field(default=None, max_length=128, description="a case, if any")
    beskrivning: FreeText | None = Field(default=None, description="free text; no personnummer")


class KlagomalAtgardData(_Data):
    """An åtgärd decided because of the complaint."""

    atgard: str = _choice(kv.ATGARDER, "the kind of åtgärd")
    beskrivning: FreeText | None = None


class KlagomalAterkopplatData(_Data):
    """The answer to the sender (closes the complaint; meets KL1)."""

    utfall: str = _choice(kv.UTFALL, "the complaint's outcome")
    kanal: str | None = _choice(kv.KANALER, "how the answer was given", optional=True)
    kommentar: FreeText | None = None


class LexSarahRapporteradData(_Data):
    """A missförhållande or a påtaglig risk for one was reported (SoL 2025:400 27 kap. 2 §)."""

    avser: str = _choice(kv.AVSER, "missförhållande or påtaglig risk")
    enhet: Code = Field(description="the unit concerned", examples=["hvb-norr"])
    rapportor: Label = Field(description="the reporter's role label, never a name")
    case_ref: str | None = Field(default=None, max_length=128, description="a case, if any")
    beskrivning: FreeText | None = None


class LexSarahUtredningStartadData(_Data):
    utredare: Label | None = None


class LexSarahBedomdData(_Data):
    """The utredning's bedömning: allvarligt missförhållande or not (27 kap. 6 §)."""

    allvarligt: bool
    avhjalpt: bool | None = None
    motivering: FreeText | None = None


class LexSarahAnmaldIvoData(_Data):
    """The anmälan to IVO, with the utredning attached (27 kap. 6 § första st.)."""

    utredning_bifogad: bool
    ivo_diarienummer: Code | None = None


class LexSarahAvslutadData(_Data):
    kommentar: FreeText | None = None


def _describe(model: type[_Data], etype: str) -> None:
    """Every data field described as the event contract describes it (``domain.event_docs``),
    where the model does not say more itself."""
    for name, info in model.model_fields.items():
        if not info.description:
            info.description = field_doc(etype, name)
    model.model_rebuild(force=True)


for _model, _etype in (
    (KlagomalInkommetData, "klagomal_inkommet"),
    (KlagomalAtgardData, "klagomal_atgard"),
    (KlagomalAterkopplatData, "klagomal_aterkopplat"),
    (LexSarahRapporteradData, "lex_sarah_rapporterad"),
    (LexSarahUtredningStartadData, "lex_sarah_utredning_startad"),
    (LexSarahBedomdData, "lex_sarah_bedomd"),
    (LexSarahAnmaldIvoData, "lex_sarah_anmald_ivo"),
    (LexSarahAvslutadData, "lex_sarah_avslutad"),
):
    _describe(_model, _etype)


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kommun: str = Field(pattern=r"^\d{4}$", examples=["1280"])
    arende_id: Code = Field(examples=["KL-2026-0042"])
    occurred_at: str = Field(min_length=1, max_length=64)
    actor: ActorIn
    idempotency_key: str = Field(min_length=1, max_length=200)


class KlagomalInkommetIn(_Line):
    type: Literal["klagomal_inkommet"]
    data: KlagomalInkommetData


class KlagomalAtgardIn(_Line):
    type: Literal["klagomal_atgard"]
    data: KlagomalAtgardData


class KlagomalAterkopplatIn(_Line):
    type: Literal["klagomal_aterkopplat"]
    data: KlagomalAterkopplatData


class LexSarahRapporteradIn(_Line):
    type: Literal["lex_sarah_rapporterad"]
    data: LexSarahRapporteradData


class LexSarahUtredningStartadIn(_Line):
    type: Literal["lex_sarah_utredning_startad"]
    data: LexSarahUtredningStartadData = Field(default_factory=LexSarahUtredningStartadData)


class LexSarahBedomdIn(_Line):
    type: Literal["lex_sarah_bedomd"]
    data: LexSarahBedomdData


class LexSarahAnmaldIvoIn(_Line):
    type: Literal["lex_sarah_anmald_ivo"]
    data: LexSarahAnmaldIvoData


class LexSarahAvslutadIn(_Line):
    type: Literal["lex_sarah_avslutad"]
    data: LexSarahAvslutadData = Field(default_factory=LexSarahAvslutadData)


KlagomalCommandIn = Annotated[
    KlagomalInkommetIn | KlagomalAtgardIn | KlagomalAterkopplatIn, Field(discriminator="type")
]
LexSarahCommandIn = Annotated[
    LexSarahRapporteradIn
    | LexSarahUtredningStartadIn
    | LexSarahBedomdIn
    | LexSarahAnmaldIvoIn
    | LexSarahAvslutadIn,
    Field(discriminator="type"),
]


class KvalitetCommandAccepted(BaseModel):
    model_config = ConfigDict(extra="allow")
    arende_id: str
    position: int
    event: dict[str, Any]
    duplicate: bool


class KvalitetListOut(BaseModel):
    """Every complaint (or rapport) known on a legal date, each with its frister then."""

    model_config = ConfigDict(extra="allow")
    kommun: str
    as_of: str
    flow: str
    arenden: list[dict[str, Any]]


async def _record(
    body: BaseModel, flow: Flow, response: Response, services: Services, principal: Any
) -> KvalitetCommandAccepted:
    principal.require_write()
    try:
        ev = parse_kvalitet_event(body.model_dump(exclude_none=True), flow)
    except EventValidationError as exc:
        raise rejection_problem(exc) from None
    principal.require_kommun(ev.kommun)
    try:
        line, duplicate = await asyncio.to_thread(kvalitet_of(services.store).record, ev)
    except (RuleViolation, EventValidationError) as exc:
        raise rejection_problem(exc) from None
    if duplicate:
        response.status_code = 200
    return KvalitetCommandAccepted(
        arende_id=ev.arende_id,
        position=int(line.get("position") or 0),
        event=line,
        duplicate=duplicate,
    )


async def _list(
    services: Services, principal: Any, kommun: str, flow: Flow, as_of: date | None
) -> KvalitetListOut:
    principal.require_content()
    principal.require_kommun(kommun)
    day = as_of or today_stockholm()
    policy = services.settings.kommun_configs.policy(kommun)
    doc = await asyncio.to_thread(flow_listing, services.store, kommun, flow, day, policy)
    if not principal.sees_unit(None):
        doc["arenden"] = [r for r in doc["arenden"] if principal.sees_unit(r.get("enhet"))]
    return KvalitetListOut.model_validate(doc)


@klagomal_router.post("/commands", status_code=201, summary="Record one complaint line")
async def post_klagomal_command(
    body: KlagomalCommandIn, response: Response, services: ServicesDep, principal: PrincipalDep
) -> KvalitetCommandAccepted:
    return await _record(body, "klagomal", response, services, principal)


@lex_sarah_router.post("/commands", status_code=201, summary="Record one lex Sarah line")
async def post_lex_sarah_command(
    body: LexSarahCommandIn, response: Response, services: ServicesDep, principal: PrincipalDep
) -> KvalitetCommandAccepted:
    return await _record(body, "lex_sarah", response, services, principal)


@klagomal_router.get("/{kommun}", summary="The kommun's complaints with their frister (KL1)")
async def get_klagomal(
    kommun: Annotated[str, Path(pattern=r"^\d{4}$")],
    services: ServicesDep,
    principal: PrincipalDep,
    as_of: Annotated[date | None, Query(description="legal date (default: today)")] = None,
) -> KvalitetListOut:
    return await _list(services, principal, kommun, "klagomal", as_of)


@lex_sarah_router.get("/{kommun}", summary="The kommun's lex Sarah rapporter (LS1-LS3)")
async def get_lex_sarah(
    kommun: Annotated[str, Path(pattern=r"^\d{4}$")],
    services: ServicesDep,
    principal: PrincipalDep,
    as_of: Annotated[date | None, Query(description="legal date (default: today)")] = None,
) -> KvalitetListOut:
    return await _list(services, principal, kommun, "lex_sarah", as_of)
