"""The gallring plan as report rows (`barnflow gallring plan`; docs/law.md §10).

Not a stored view: the plan is computed from the record on demand, because it changes with the
day it is asked for and must use the whole of each person's personakt. Events are grouped by
case, cases by the child's identity (POL-GALLRING-PERSON), and ``domain.retention`` gives each
class its dates and rule. A row names the person only by a keyed pseudonym and the case by its
reference: the plan is handed to the registrator and may be kept with the gallringsbeslut.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from domain.events import CaseEvent
from domain.identity import pseudonym
from domain.retention import PersonPlan, plan_person
from infra.persistence.store import CaseStore

COLUMNS = (
    "person",
    "case_ref",
    "klass",
    "entries",
    "first_entry",
    "last_entry",
    "status",
    "due",
    "deadline",
    "rule",
    "paragraph",
    "reason",
)


def person_identifier(events: Iterable[CaseEvent]) -> str | None:
    """The case's child as the latest ``barn`` recorded names it (canonical form)."""
    found: str | None = None
    for ev in events:
        barn = ev.data.get("barn")
        if isinstance(barn, Mapping):
            found = str(barn.get("personnummer") or barn.get("tillfalligt_id") or found or "")
    return found or None


def group_by_person(events: Iterable[CaseEvent]) -> dict[tuple[str, str], list[list[CaseEvent]]]:
    """(kommun, child identifier) → that person's cases, each in stream order."""
    cases: dict[tuple[str, str], list[CaseEvent]] = defaultdict(list)
    for ev in events:
        cases[(ev.kommun, ev.case_ref)].append(ev)
    people: dict[tuple[str, str], list[list[CaseEvent]]] = defaultdict(list)
    for (kommun, ref), evs in sorted(cases.items()):
        evs.sort(key=lambda e: e.position or 0)
        ident = person_identifier(evs) or f"case:{ref}"
        people[(kommun, ident)].append(evs)
    return people


def plans(events: Iterable[CaseEvent]) -> list[tuple[str, str, PersonPlan]]:
    """(kommun, identifier, plan) for every person in ``events``."""
    return [
        (kommun, ident, plan_person(kommun, cases))
        for (kommun, ident), cases in group_by_person(events).items()
    ]


def plan_rows(
    events: Iterable[CaseEvent], *, as_of: date, pseudonym_key: bytes, due_only: bool = False
) -> list[dict[str, Any]]:
    """One row per person, case and class: status on ``as_of``, due date, deadline, rule."""
    rows: list[dict[str, Any]] = []
    for kommun, ident, plan in plans(events):
        who = pseudonym(pseudonym_key, kommun, ident)
        for c in plan.classes:
            status = c.status(as_of)
            if due_only and status != "gallras":
                continue
            rows.append(
                {
                    "person": who,
                    "kommun": kommun,
                    "case_ref": c.case_ref,
                    "case_id": c.case_id,
                    "klass": c.klass,
                    "entries": len(c.positions),
                    "positions": list(c.positions),
                    "first_entry": c.first_entry.isoformat(),
                    "last_entry": c.last_entry.isoformat(),
                    "status": status,
                    "due": c.due.isoformat() if c.due else None,
                    "deadline": c.deadline.isoformat() if c.deadline else None,
                    "rule": ",".join(x.rule for x in c.citations),
                    "paragraph": "; ".join(x.paragraph for x in c.citations),
                    "reason": c.reason,
                }
            )
    return rows


def kommun_events(store: CaseStore, kommun: str) -> list[CaseEvent]:
    """Every event of ``kommun`` in the store, opened (a full scan, decrypting each row once)."""
    out: list[CaseEvent] = []
    for row in store.stored_rows(by_position=True):
        ev = store.decode(row.originator_id, row.version, row.topic, row.state, row.position)
        if ev.kommun == kommun:
            out.append(ev)
    return out
