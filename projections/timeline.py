"""The audit timeline (docs/domain.md §5.8): a case's full history as of a legal date and as known
at a recorded time — what happened (legal date), when barnflow learned it (recorded_at), who did it,
which law version applied, which delegationsordning judged a decision — and who has read the case.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import orjson
from psycopg import sql

from domain.calendar import legal_date
from domain.events import DELEGATION_FIELD
from domain.frister import law_for
from domain.ids import case_id_for
from projections.access_reads import case_reads
from projections.source import table_ref
from projections.tables import CASES
from projections.view import ReportsView


def case_timeline(
    view: ReportsView,
    kommun: str,
    case_ref: str,
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    """The case's events (redacted: no personnummer) and reads; ``LookupError`` if unknown."""
    case_id = str(case_id_for(kommun, case_ref))
    with view.cursor() as curs:
        curs.execute(
            sql.SQL("SELECT events FROM {} WHERE case_id = %s").format(
                table_ref(view.schema, CASES.name)
            ),
            (case_id,),
        )
        row = curs.fetchone()
        if row is None:
            raise LookupError(f"no case {case_ref!r} in kommun {kommun}")
        reads = case_reads(curs, view.schema, case_id, known_at)
    events = []
    for version, env in enumerate(orjson.loads(view.unseal(row["events"])), start=1):
        occurred = datetime.fromisoformat(env["occurred_at"])
        day = legal_date(occurred)
        if as_of is not None and day > as_of:
            continue
        if known_at is not None and datetime.fromisoformat(env["recorded_at"]) > known_at:
            continue
        events.append(
            {
                "position": env["position"],
                "version": version,
                "type": env["type"],
                "occurred_at": env["occurred_at"],
                "legal_date": day.isoformat(),
                "recorded_at": env["recorded_at"],
                "actor": env["actor"],
                "law": law_for(day),
                "data": env.get("data") or {},
                # a decision's judgement: the configuration version and ordning that judged it
                "delegation": env.get(DELEGATION_FIELD),
            }
        )
    return {
        "kommun": kommun,
        "case_ref": case_ref,
        "case_id": case_id,
        "as_of": as_of.isoformat() if as_of else None,
        "known_at": known_at.isoformat() if known_at else None,
        "events": events,
        "reads": reads,
    }
