"""B1-B3: the utredning's four months under SoL (docs/law.md §3).

B1, an utredning slutförd within four months of being inledd, extended for särskilda skäl for
viss tid (SoL 2025:400 20 kap. 3 §; SoL 2001:453 11 kap. 2 § andra st.); B2, an utredning on an
ansökan counted from the ansökan (policy ``b2_ansokan_start``); B3, a continued utredning keeps
the first one's start, so the four months cannot be circumvented (same paragraphs).
"""

from __future__ import annotations

from datetime import date

from domain.events import CaseEvent
from domain.frister.context import Ctx, emit_extendable
from domain.rules import rule


def frister(ctx: Ctx) -> None:
    """B1 per utredning; B3 continuation keeps the start; B2 policy for ansökan-based ones."""
    starts: dict[str, date] = {}
    r = rule("B1")
    for i, ev in enumerate(ctx.evs):
        if ev.type != "utredning_inledd":
            continue
        uid = str(ev.data["utredning_id"])
        trig, notes = _utredning_start(ctx, i, ev, starts)
        starts.setdefault(uid, trig)
        emit_extendable(ctx, r, i, ev, fld="utredning_id", subject=uid, trig=trig, notes=notes)


def _utredning_start(
    ctx: Ctx, i: int, ev: CaseEvent, starts: dict[str, date]
) -> tuple[date, tuple[str, ...]]:
    trig = ev.legal_date
    prior = ev.data.get("fortsatter_utredning_id")
    if prior is not None and str(prior) in starts:
        first = starts[str(prior)]
        return min(first, trig), (f"B3: fortsätter utredning {prior}, startdag {first} behålls",)
    if ev.data.get("grund") == "ansokan":
        ans = _ansokan_for(ctx, i, ev)
        if ans is not None and ans < trig:
            return ans, (f"B2: ansökan kom in {ans} (policy b2_ansokan_start)",)
    return trig, ()


def _ansokan_for(ctx: Ctx, i: int, ev: CaseEvent) -> date | None:
    wanted = ev.data.get("ansokan_id")
    found = [
        e.legal_date
        for j, e in ctx.of_type("ansokan_mottagen")
        if j < i and (wanted is None or e.data.get("ansokan_id") == wanted)
    ]
    return found[-1] if found else None
