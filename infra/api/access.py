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
from infra.api.auth import Principal
from infra.api.problems import Problem
from infra.api.services import Services
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


async def read_case(
    services: Services, principal: Principal, kommun: str, case_ref: str, purpose: str
) -> LoadedCase:
    """A case whose content the caller may read; the read is logged before it is returned."""
    principal.require_content()
    case = await load_case(services, principal, kommun, case_ref)
    await asyncio.to_thread(
        log_access, services, principal, [(case.case_id, kommun, case_ref)], purpose
    )
    return case
