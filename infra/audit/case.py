"""Audit replay of one case (docs/domain.md §5.8): the case as it legally stood on a date and as
barnflow knew it at a time, with the rule versions that applied, who did what and who read it.

Two clocks, because an auditor asks two different questions. "What was the legal position on
1 March?" filters by the events' legal dates (``occurred_at`` in Europe/Stockholm); "what did the
system show on 1 March?" filters by ``recorded_at`` and so hides events that were entered later
with an earlier date (backdated). Both filters are applied by ``projections.timeline``
(``case_timeline``, which also brings the access log); this module adds what the record implies
on top of it — the stages, the frister with their rule, law version and paragraph
(``domain.frister.compute_frister``, the one deadline calculus, with the kommun's configuration
version the views were computed with, named in the document) and the beslut — without a second
copy of any of those rules.

The document never carries the child's identifier: the timeline is redacted (kön and birth date
stay, so the age can be shown) and the case is named by kommun and the calling system's case_ref.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.calendar import add_years
from domain.case import CaseState, fold
from domain.events import CaseEvent, event_from_json
from domain.frister import MET, MISSED, OVERDUE, compute_frister
from projections.timeline import case_timeline
from projections.view import ReportsView

#: Event types whose data the beslut section lists (the decisions an auditor checks).
BESLUT_TYPES = frozenset({"beslut_fattat", "lvu_omhandertagande_beslutat"})


@dataclass(frozen=True)
class AuditQuery:
    """Which case and which two moments: legal ``as_of`` and system ``known_at`` (optional)."""

    kommun: str
    case_ref: str
    as_of: date
    known_at: datetime | None = None


def case_audit(view: ReportsView, query: AuditQuery) -> dict[str, Any]:
    """The audit document of one case (JSON-ready); ``LookupError`` if the case is unknown.

    ``view`` must be caught up with the store (``projections.runner.caught_up``), otherwise the
    newest events are missing from the answer.
    """
    if query.known_at is not None and query.known_at.tzinfo is None:
        raise ValueError("known_at needs a UTC offset")
    timeline = case_timeline(
        view, query.kommun, query.case_ref, as_of=query.as_of, known_at=query.known_at
    )
    events = [_event(query, e) for e in timeline["events"]]
    state = fold(events)
    config = view.versions().get(query.kommun)
    policy = view.policy(query.kommun)
    frister = compute_frister(events, as_of=query.as_of, policy=policy) if events else []
    frist_rows = [
        {
            "key": f.key,
            "rule": f.rule,
            "name": f.name,
            "subject": f.subject,
            "trigger_date": f.trigger_date.isoformat(),
            "due": f.due.isoformat(),
            "original_due": f.original_due.isoformat(),
            "shifted_due": f.shifted_due.isoformat() if f.shifted_due else None,
            "status": f.status_as_of(query.as_of),
            "fulfilled_date": f.fulfilled_date.isoformat() if f.fulfilled_date else None,
            "law": f.law,
            "paragraph": f.paragraph,
        }
        for f in frister
    ]
    pending = [r for r in frist_rows if r["status"] not in (MET, MISSED)]
    next_frist = min(pending, key=lambda r: (r["due"], r["rule"]), default=None)
    return {
        "kommun": query.kommun,
        "kommun_config": config,
        "case_ref": query.case_ref,
        "case_id": timeline["case_id"],
        "as_of": query.as_of.isoformat(),
        "known_at": query.known_at.isoformat() if query.known_at else None,
        "child": {"kon": state.kon, "age": _age(state.fodelsedatum, query.as_of)},
        "stage": state.stage,
        "enhet": state.enhet,
        "next_due": next_frist["due"] if next_frist else None,
        "next_frist": next_frist,
        "overdue": sum(1 for r in pending if r["status"] == OVERDUE),
        "stages": stage_periods(events, query.as_of),
        "frister": frist_rows,
        "beslut": [_beslut(e) for e in timeline["events"] if e["type"] in BESLUT_TYPES],
        "events": timeline["events"],
        "reads": timeline["reads"],
    }


def _event(query: AuditQuery, entry: dict[str, Any]) -> CaseEvent:
    """A timeline entry (redacted, no envelope ids) as a CaseEvent for the domain functions."""
    return event_from_json(
        {
            "kommun": query.kommun,
            "case_ref": query.case_ref,
            "type": entry["type"],
            "occurred_at": entry["occurred_at"],
            "actor": entry["actor"],
            "idempotency_key": f"audit-v{entry['version']}",
            "data": entry["data"],
            "position": entry["position"],
            "recorded_at": entry["recorded_at"],
        }
    )


def stage_periods(events: list[CaseEvent], as_of: date) -> list[dict[str, str]]:
    """The stages the case went through, each from the legal date it began until the next.

    Folded in legal-date order (stream order breaks ties), so a backdated event moves the stage
    change to the date it legally happened, which is what an auditor compares with the law.
    """
    ordered = sorted(enumerate(events), key=lambda p: (p[1].legal_date, p[0]))
    state = CaseState()
    periods: list[dict[str, str]] = []
    for _, ev in ordered:
        state.apply(ev)
        day = ev.legal_date.isoformat()
        if periods and periods[-1]["from"] == day:
            periods.pop()  # a stage that lasted less than a day is not a legal stage
        if periods and periods[-1]["stage"] == state.stage:
            periods[-1]["to"] = as_of.isoformat()
            continue
        if periods:
            periods[-1]["to"] = day
        periods.append({"stage": state.stage, "from": day, "to": as_of.isoformat()})
    return periods


def _age(fodelsedatum: str | None, on: date) -> int | None:
    """Whole years on ``on`` (birthday counted on the day, 29 Feb on 28 Feb: lag 1930:173)."""
    if not fodelsedatum:
        return None
    born = date.fromisoformat(fodelsedatum)
    years = on.year - born.year
    return years - 1 if add_years(born, years) > on else years


def _beslut(entry: dict[str, Any]) -> dict[str, Any]:
    data = entry["data"]
    delegat = data.get("delegat") or {}
    return {
        "legal_date": entry["legal_date"],
        "type": entry["type"],
        "beslut_id": data.get("beslut_id"),
        "beslutstyp": data.get("beslutstyp"),
        "lagrum": data.get("lagrum"),
        "insats": data.get("insats"),
        "gynnande": data.get("gynnande"),
        "delegat": delegat.get("roll"),
        "actor": entry["actor"],
    }
