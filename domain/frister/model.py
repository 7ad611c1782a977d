"""What the deadline engine answers with: a ``Frist`` and its status on a date.

Kept apart from the rule modules so a caller that only reads frister (the workflow, the
projections, the API) depends on the result's shape, not on how any chapter computes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from domain.rules import NEW_SOL, NEW_SOL_FROM, OLD_SOL

OPEN = "open"
MET = "met"
MISSED = "missed"
OVERDUE = "overdue"


@dataclass(frozen=True)
class Frist:
    """One computed deadline of one case.

    ``key`` identifies the frist instance across recomputations (rule + subject id [+ cycle]), so
    a timer that fired for it is never armed twice; ``due`` is the legal due date after any valid
    extension, ``original_due`` the date before extensions, ``shifted_due`` the söndagsregel date
    when that policy is on and it differs. ``notes`` explain the computation and ``arithmetic``
    is the sum behind ``original_due`` ("2020-01-10 + 3 år = 2023-01-10"), counted from the day
    the statute counts from, which is not always ``trigger_date`` (a frist that started when its
    rule entered into force, an anniversary cycle); neither is compared.
    """

    key: str
    rule: str
    name: str
    case_ref: str
    subject: str
    trigger_type: str
    trigger_date: date
    due: date
    original_due: date
    shifted_due: date | None
    status: str
    fulfilled_date: date | None
    law: str
    paragraph: str
    blocks_closing: bool
    alert_event: str = "frist_overskriden"
    notes: tuple[str, ...] = field(default=(), compare=False)
    arithmetic: str = field(default="", compare=False)

    def status_as_of(self, as_of: date) -> str:
        return status_on(self.due, self.fulfilled_date, as_of)


def status_on(due: date, fulfilled: date | None, as_of: date | None) -> str:
    """Status from dates alone: met/missed once fulfilled, overdue after due, else open."""
    if fulfilled is not None and (as_of is None or fulfilled <= as_of):
        return MET if fulfilled <= due else MISSED
    if as_of is not None and as_of > due:
        return OVERDUE
    return OPEN


def law_for(trigger: date) -> str:
    """The SoL version in force on ``trigger`` (kept for callers that only need the act)."""
    return NEW_SOL if trigger >= NEW_SOL_FROM else OLD_SOL
