"""HEM7 and HEM8: a home's own frister, while children are placed there (docs/law.md "Hem och
placeringar").

HEM7, the registerkontroll of a familjehem or jourhem is at most two years old while a child lives
there (SoF 2025:468 3 kap. 3 § asks for it before the placement; POL-HEM-REGISTER repeats it
every other year, as Malmö's avtal does, seed 003). HEM8, a konsulentstött familjehem with a child
placed has an avtal in force (SoL 2025:400 22 kap. 3 §, SoL 2001:453 6 kap. 6 b §;
POL-HEM-AVTAL: twelve months, seed 003).

A home is not a workflow (``infra.persistence.homes``): these are computed for any legal date
from the home's record and the children's placements, the same answer for the same records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.calendar import add_days
from domain.homes import ENSKILDA_HEM, HomeState
from domain.placement import Placement


@dataclass(frozen=True)
class HemLarm:
    """One overdue frist of a home on a date: which rule, since when, for which placements."""

    rule: str
    hem_id: str
    due: date | None
    case_refs: tuple[str, ...]
    law: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "hem_id": self.hem_id,
            "due": self.due.isoformat() if self.due else None,
            "case_refs": list(self.case_refs),
            "law": self.law,
        }


def placed_in(home: HomeState, placements: Iterable[Placement], day: date) -> list[Placement]:
    """The placements living in ``home`` on ``day`` (the home's list of placed children)."""
    return [
        p
        for p in placements
        if p.kommun == home.kommun and p.open_on(day) and p.hem_on(day) == home.hem_id
    ]


def hem_larm(home: HomeState, placements: Iterable[Placement], as_of: date) -> list[HemLarm]:
    """The home's overdue frister on ``as_of`` (empty while no child is placed there)."""
    placed = placed_in(home, placements, as_of)
    if not placed:
        return []
    refs = tuple(sorted({p.case_ref for p in placed}))
    out: list[HemLarm] = []
    if home.hemtyp in ENSKILDA_HEM:
        until = home.register_giltig_till(as_of)
        if until is None or as_of >= until:
            out.append(
                HemLarm(
                    "HEM7", home.hem_id, until, refs, "SoF 2025:468 3 kap. 3 §; POL-HEM-REGISTER"
                )
            )
    if home.konsulentstott and home.avtal_on(as_of) is None:
        last = home.senaste_avtal(as_of)
        due = add_days(last[2], 1) if last else None
        out.append(
            HemLarm("HEM8", home.hem_id, due, refs, "SoL 2025:400 22 kap. 3 §; POL-HEM-AVTAL")
        )
    return out
