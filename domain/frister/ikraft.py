"""POL-IKRAFT-PAGAENDE: the first day the law in force requires a frist (docs/law.md §5).

A rule can enter into force, or change what it requires, while a case is running: the vårdplan
revision (D2) from 2021-03-01, the yearly vårdnadsöverflyttning consideration from 2021-03-01 and
its two-year start from 2022-07-01 (D4, E9), the one-week information to the anmälare (A3) from
2026-01-15. None of the amending acts has a transitional rule for running placements or pending
requests, so barnflow applies each version from its own day: a frist exists if the version in
force on some day between the frist's start and its due date requires it, it starts on the
first such day and cites that version. A due date that fell before the version requiring it
entered into force gives no frist (no duty after the fact). Where every version requires the
same thing this is simply the start day, so the trigger-day rule of docs/law.md §1 is the
special case of it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from domain.frister.context import Ctx
from domain.rules import LawVersion, Rule


def owed_from(
    ctx: Ctx,
    r: Rule,
    start: date,
    due: date,
    owes: Callable[[LawVersion], bool] | None = None,
) -> date | None:
    """The first day in ``[start, due]`` whose version of ``r`` requires the frist, if any.

    Only ``start`` and the days a version entered into force can be that day: between them the
    law does not change. ``owes`` tells whether a version requires this particular frist (D4's
    three-year version requires no two-year consideration); by default every version does.
    ``ctx.law_on`` hides versions not yet in force then (``rules preview``).
    """
    days = [start, *sorted({v.since for v in r.versions() if start < v.since <= due})]
    for day in days:
        version = r.version_on(day, ctx.law_on)
        if version is not None and (owes is None or owes(version)):
            return day
    return None


def ikraft_note(law_day: date, start: date) -> tuple[str, ...]:
    """The note a frist gets when its rule began to require it after it started counting."""
    if law_day <= start:
        return ()
    return (f"skyldigheten gäller från {law_day} (ikraftträdande, POL-IKRAFT-PAGAENDE)",)
