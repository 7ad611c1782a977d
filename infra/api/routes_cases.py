"""Reads of one case: state (operators too), frister, EVB and the audit timeline (content).

Everything is computed from the record (the store), which is always current for one case; the
workflow's own view is added to the state when Temporal answers quickly, so an operator can see
whether the process driver agrees with the record.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query

from domain.calendar import days_between
from domain.events import CaseEvent
from domain.frister import MET, MISSED, OVERDUE, Frist, compute_frister
from domain.law_preview import FristChange, is_compulsory_care, preview_case, switch_on
from infra.api.access import LoadedCase, load_case, masked_enhet, read_case, reads_of
from infra.api.deps import PrincipalDep, PurposeDep, ServicesDep
from infra.api.models import (
    CaseStateOut,
    EvbOut,
    FristChangeOut,
    FristerOut,
    FristOut,
    LawSwitchOut,
    PreviewSideOut,
    RulesPreviewOut,
    TimelineOut,
    WorkflowView,
)
from infra.api.problems import Problem
from infra.api.services import Services
from infra.config.clock import today_stockholm
from infra.temporal.case_workflow import links_of, stored_workflow_id
from workflows.messages import STATE_QUERY, CaseSummary

router = APIRouter(prefix="/cases/{kommun}/{case_ref}", tags=["cases"])

Kommun = Annotated[str, Path(pattern=r"^\d{4}$", description="4-digit kommunkod")]
CaseRef = Annotated[str, Path(min_length=1, max_length=128)]
MinPosition = Annotated[
    int | None,
    Query(ge=0, le=2**62, description="wait (bounded) until projections reached this position"),
]
AsOf = Annotated[date | None, Query(description="legal date (default today, Europe/Stockholm)")]
EVB_ALERT = "evb_rapporteringsskyldighet_uppstod"
EVB_TYPES = frozenset(
    {
        "beslut_fattat",
        "insats_verkstalld",
        "verkstallighet_avbruten",
        "verkstallighet_aterupptagen",
        "beslut_avslutat",
        "evb_skal_angivet",
        "evb_rapporterad",
        EVB_ALERT,
    }
)


def _evb_withdrawal(ev: CaseEvent) -> bool:
    """A withdrawn EVB alert (``larm_aterkallat``) belongs next to the alert it withdraws."""
    return ev.type == "larm_aterkallat" and ev.data.get("larm_typ") == EVB_ALERT


def _frist(f: Frist, as_of: date) -> FristOut:
    return FristOut(
        key=f.key,
        rule=f.rule,
        name=f.name,
        subject=f.subject,
        trigger_date=f.trigger_date.isoformat(),
        due=f.due.isoformat(),
        shifted_due=f.shifted_due.isoformat() if f.shifted_due else None,
        status=f.status,
        fulfilled_date=f.fulfilled_date.isoformat() if f.fulfilled_date else None,
        days_left=days_between(as_of, f.due),
        law=f.law,
        paragraph=f.paragraph,
    )


async def _workflow_view(services: Services, case: LoadedCase) -> WorkflowView | None:
    """The workflow's summary via its state query, or None when Temporal cannot say in 2 s, or
    when the case has no workflow id (gallrad and unlinked: ``stored_workflow_id``). A workflow
    Temporal describes but whose state query does not answer (closed, or its history gallrad)
    shows its id and status only."""
    data, case_id = case.events[0].data, UUID(case.case_id)
    key = services.settings.keys.pseudonym
    wid = stored_workflow_id(case_id, case.kommun, data, key, {})
    if wid is None:  # the identity is gone: only gallring's link can name the workflow
        links = await asyncio.to_thread(links_of, services.store, case_id)
        wid = stored_workflow_id(case_id, case.kommun, data, key, links)
    if wid is None:
        return None
    handle = services.client.get_workflow_handle(wid)
    try:
        desc = await asyncio.wait_for(handle.describe(), 2.0)
    except Exception:
        return None
    status = desc.status.name if desc.status is not None else "UNKNOWN"
    try:
        summary = await asyncio.wait_for(handle.query(STATE_QUERY, result_type=CaseSummary), 2.0)
    except Exception:
        return WorkflowView(workflow_id=wid, status=status)
    return WorkflowView(
        workflow_id=wid,
        status=status,
        stage=summary.stage,
        open_frister=summary.open_frister,
        overdue_frister=summary.overdue_frister,
        next_due=summary.next_due,
    )


@router.get("", summary="Case state (no content: operators may read it)")
async def case_state(
    *,
    kommun: Kommun,
    case_ref: CaseRef,
    services: ServicesDep,
    principal: PrincipalDep,
    min_position: MinPosition = None,
) -> CaseStateOut:
    await services.wait_for_projections(min_position)
    case = await load_case(services, principal, kommun, case_ref)
    today = today_stockholm()
    configs = services.settings.kommun_configs
    frister = compute_frister(case.events, as_of=today, policy=configs.policy(kommun))
    open_ = [f for f in frister if f.status not in (MET, MISSED)]
    return CaseStateOut(
        case_id=case.case_id,
        kommun=kommun,
        case_ref=case_ref,
        stage=case.state.stage,
        enhet=masked_enhet(services, principal, case),
        event_count=len(case.events),
        last_position=max(e.position or 0 for e in case.events),
        closed=case.state.closed_on is not None,
        open_frister=sorted(f.key for f in open_),
        overdue_frister=sorted(f.key for f in open_ if f.status == OVERDUE),
        next_due=min((f.due.isoformat() for f in open_), default=None),
        workflow=await _workflow_view(services, case),
        kommun_config=configs.version(kommun),
    )


@router.get("/frister", summary="Every frist of the case as of a legal date (content)")
async def case_frister(
    *,
    kommun: Kommun,
    case_ref: CaseRef,
    services: ServicesDep,
    principal: PrincipalDep,
    purpose: PurposeDep,
    as_of: AsOf = None,
    min_position: MinPosition = None,
) -> FristerOut:
    await services.wait_for_projections(min_position)
    case = await read_case(services, principal, kommun, case_ref, purpose)
    day = as_of or today_stockholm()
    configs = services.settings.kommun_configs
    frister = compute_frister(case.events, as_of=day, policy=configs.policy(kommun))
    return FristerOut(
        case_ref=case_ref,
        as_of=day.isoformat(),
        frister=[_frist(f, day) for f in frister],
        kommun_config=configs.version(kommun),
    )


@router.get("/evb", summary="EVB: gynnande beslut not verkställda and their IVO duties (content)")
async def case_evb(
    *,
    kommun: Kommun,
    case_ref: CaseRef,
    services: ServicesDep,
    principal: PrincipalDep,
    purpose: PurposeDep,
    as_of: AsOf = None,
    min_position: MinPosition = None,
) -> EvbOut:
    await services.wait_for_projections(min_position)
    case = await read_case(services, principal, kommun, case_ref, purpose)
    day = as_of or today_stockholm()
    configs = services.settings.kommun_configs
    frister = [
        f
        for f in compute_frister(case.events, as_of=day, policy=configs.policy(kommun))
        if f.alert_event == EVB_ALERT
    ]
    events = [e.to_json() for e in case.events if e.type in EVB_TYPES or _evb_withdrawal(e)]
    return EvbOut.model_validate(
        {
            "case_ref": case_ref,
            "as_of": day.isoformat(),
            "frister": [_frist(f, day) for f in frister],
            "events": events,
            "kommun_config": configs.version(kommun),
        }
    )


@router.get("/timeline", summary="The audit timeline: what happened, what was known when, reads")
async def case_timeline(
    *,
    kommun: Kommun,
    case_ref: CaseRef,
    services: ServicesDep,
    principal: PrincipalDep,
    purpose: PurposeDep,
    known_at: Annotated[
        datetime | None, Query(description="only what barnflow had recorded by then")
    ] = None,
    min_position: MinPosition = None,
) -> TimelineOut:
    await services.wait_for_projections(min_position)
    case = await read_case(services, principal, kommun, case_ref, purpose)
    events = case.events
    if known_at is not None:
        if known_at.tzinfo is None:
            raise Problem(422, "validation", "known_at: needs a UTC offset", field="known_at")
        events = [e for e in events if e.recorded_at is None or e.recorded_at <= known_at]
    reads: list[dict[str, Any]] = await asyncio.to_thread(reads_of, services, case, known_at)
    return TimelineOut.model_validate(
        {
            "case_ref": case_ref,
            "known_at": known_at.isoformat() if known_at else None,
            "events": [e.to_json() for e in events],
            "reads": reads,
        }
    )


def _side(f: Frist | None) -> PreviewSideOut | None:
    if f is None:
        return None
    return PreviewSideOut(
        trigger_date=f.trigger_date.isoformat(),
        due=f.due.isoformat(),
        shifted_due=f.shifted_due.isoformat() if f.shifted_due else None,
        status=f.status,
        fulfilled_date=f.fulfilled_date.isoformat() if f.fulfilled_date else None,
        law=f.law,
        paragraph=f.paragraph,
    )


def _change(c: FristChange) -> FristChangeOut:
    return FristChangeOut.model_validate(
        {
            "key": c.key,
            "rule": c.rule,
            "name": c.name,
            "subject": c.subject,
            "changes": list(c.changes),
            "policies": list(c.policies),
            "before": _side(c.before),
            "after": _side(c.after),
        }
    )


@router.get(
    "/rules-preview",
    summary="Each frist before and after a change of law on a date (content)",
)
async def case_rules_preview(
    *,
    kommun: Kommun,
    case_ref: CaseRef,
    services: ServicesDep,
    principal: PrincipalDep,
    purpose: PurposeDep,
    on: Annotated[date, Query(description="the switch date, e.g. 2027-01-01")],
    min_position: MinPosition = None,
) -> RulesPreviewOut:
    """The single-case view of ``barnflow rules preview``: the frister under the law of the day
    before ``on`` and of ``on``, paired, with what changes. A case without compulsory care has
    nothing to preview (``compulsory_care: false``, no frister)."""
    await services.wait_for_projections(min_position)
    case = await read_case(services, principal, kommun, case_ref, purpose)
    compulsory = is_compulsory_care(case.events)
    configs = services.settings.kommun_configs
    changes = preview_case(case.events, on, policy=configs.policy(kommun)) if compulsory else []
    sw = switch_on(on)
    return RulesPreviewOut(
        kommun=kommun,
        case_ref=case_ref,
        on=on.isoformat(),
        law_switch=None
        if sw is None
        else LawSwitchOut(
            id=sw.id,
            on=sw.on.isoformat(),
            old_law=sw.old_law,
            new_law=sw.new_law,
            policies=list(sw.policies),
        ),
        open=case.state.closed_on is None,
        compulsory_care=compulsory,
        frister=[_change(c) for c in changes],
        kommun_config=configs.version(kommun),
    )
