"""Reading a case on behalf of a caller: scope checks first, then the access-log entry.

Every read of case content goes through ``read_case`` so none can skip the access log (who,
which case, when, why). The log itself belongs to the projections (``projections.access_log``),
which also serve it as the ``access-log`` report.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from eventsourcing.postgres import PostgresApplicationRecorder

from domain.case import CaseState, fold
from domain.events import CaseEvent
from domain.ids import case_id_for
from domain.protection import MARKER, may_read
from infra.api.auth import Principal
from infra.api.problems import Problem
from infra.api.services import Services
from infra.audit.protection import PROTECTED_PURPOSE
from infra.persistence.db import schema_of
from infra.persistence.store import CaseStore


@dataclass(frozen=True)
class LoadedCase:
    case_id: str
    kommun: str
    case_ref: str
    events: list[CaseEvent]
    state: CaseState


def _load(services: Services, kommun: str, case_ref: str) -> LoadedCase | None:
    cid = case_id_for(kommun, case_ref)
    events = services.store.case_events(cid)
    if not events:
        return None
    return LoadedCase(str(cid), kommun, case_ref, events, fold(events))


async def load_case(
    services: Services, principal: Principal, kommun: str, case_ref: str
) -> LoadedCase:
    """The case if the caller may see it at all (summary level): kommun, unit, existence."""
    principal.require_kommun(kommun)
    case = await asyncio.to_thread(_load, services, kommun, case_ref)
    if case is None:
        raise Problem(404, "not-found", f"no case {case_ref!r} in kommun {kommun}")
    if not principal.sees_unit(case.state.enhet):
        raise Problem(403, "forbidden-unit", "the case belongs to a unit the caller may not see")
    return case


def log_access_as(
    store: CaseStore, who: str, role: str, cases: list[tuple[str, str]], purpose: str
) -> None:
    """Append one access-log entry per case read, given as (case_id, kommun)."""
    from infra.persistence.access_log import record_access

    now = datetime.now(UTC)
    for case_id, kommun in cases:
        record_access(
            store, who=who, role=role, kommun=kommun, case_id=case_id, purpose=purpose, at=now
        )


def log_access(
    services: Services, principal: Principal, case_ids: list[tuple[str, str, str]], purpose: str
) -> None:
    """The caller's reads: one entry per (case_id, kommun, case_ref)."""
    cases = [(case_id, kommun) for case_id, kommun, _ref in case_ids]
    log_access_as(services.store, principal.subject, principal.role, cases, purpose)


def reads_of(
    services: Services, case: LoadedCase, known_at: datetime | None = None
) -> list[dict[str, Any]]:
    """Who read the case (the access log), oldest first; as known at ``known_at`` if given."""
    from projections.access_reads import case_reads

    recorder = cast(PostgresApplicationRecorder, services.store.recorder)
    with recorder.datastore.transaction(commit=False) as curs:
        return case_reads(curs, schema_of(services.store), case.case_id, known_at)


PROTECTED_SV = "Ärendet rör skyddade personuppgifter; din roll får inte läsa dess innehåll."
PROTECTED_EN = "the case concerns protected personal data; the caller's role may not read it"


def protected_problem(role: str) -> Problem:
    """403 for a role the kommun has not named for protected cases (OSL 26:1, POL-SKYDD-ATKOMST)."""
    return Problem(
        403,
        "protected-identity",
        f"{PROTECTED_EN} (role {role})",
        rule="POL-SKYDD-ATKOMST",
        sv=PROTECTED_SV,
        en=PROTECTED_EN,
    )


def may_read_protected(services: Services, principal: Principal, kommun: str) -> bool:
    """Whether the caller's role is one the kommun names for protected cases."""
    return may_read(principal.role, services.settings.kommun_configs.skydd_roles(kommun))


def masked_enhet(services: Services, principal: Principal, case: LoadedCase) -> str | None:
    """The case's enhet, or the protected marker for a caller who may not read a protected case
    (where a protected child's case is handled is part of what must reach few people)."""
    if case.state.protected and not may_read_protected(services, principal, case.kommun):
        return MARKER
    return case.state.enhet


def protected_case_ids(services: Services, events: list[CaseEvent]) -> set[str]:
    """The case ids among ``events``' cases that are protected now (each case folded once)."""
    out: set[str] = set()
    seen: set[str] = set()
    for e in events:
        cid = case_id_for(e.kommun, e.case_ref)
        if str(cid) in seen:
            continue
        seen.add(str(cid))
        if fold(services.store.case_events(cid)).protected:
            out.add(str(cid))
    return out


def log_reads(
    services: Services,
    principal: Principal,
    cases: list[tuple[str, str, str]],
    purpose: str,
    protected: set[str],
) -> None:
    """``log_access`` with the reads of protected cases marked in their purpose."""
    plain = [c for c in cases if c[0] not in protected]
    marked = [c for c in cases if c[0] in protected]
    if plain:
        log_access(services, principal, plain, purpose)
    if marked:
        log_access(services, principal, marked, purpose + PROTECTED_PURPOSE)


async def read_case(
    services: Services, principal: Principal, kommun: str, case_ref: str, purpose: str
) -> LoadedCase:
    """A case whose content the caller may read; the read is logged before it is returned.

    A protected case (skyddade personuppgifter, domain.protection) is read only by the roles the
    kommun names; the read is logged with its purpose and marked as such.
    """
    case = await load_case(services, principal, kommun, case_ref)  # operators may see it exists
    if case.state.protected:
        if not may_read_protected(services, principal, kommun):
            raise protected_problem(principal.role)
        purpose += PROTECTED_PURPOSE
    principal.require_content()
    await asyncio.to_thread(
        log_access, services, principal, [(case.case_id, kommun, case_ref)], purpose
    )
    return case
