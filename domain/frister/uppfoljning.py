"""F1, F2, E15: uppföljning after an utredning, a placement or LVU care ended (docs/law.md §3).

F1, after an utredning closed without insats (SoL 2025:400 23 kap. 1 §, 5 §: six months;
SoL 2001:453 11 kap. 4 a §, 4 c §: two months); F2, after a placement ended (23 kap. 2 §, 5 §;
11 kap. 4 b §, 4 c §); E15, after LVU care ended before 18 (LVU 21 b-c §§; lag 2026:1600
10 kap. 6-7 §§). An uppföljning also ends when a new utredning starts (23 kap. 5 §, LVU 21 c §).
"""

from __future__ import annotations

from datetime import date

from domain.events import PLACEMENT_INSATSER, CaseEvent
from domain.frister.context import Ctx, Pred, emit_from, subject_of
from domain.rules import NEW_SOL_FROM, rule

#: ``uppfoljning_inledd.grund`` -> the rule it follows (policy ``uppfoljning_grund``).
_FOLLOWUP_GRUND = {
    "utredning_utan_insats": "F1",
    "placering_upphort": "F2",
    "lvu_upphort": "E15",
}


def frister(ctx: Ctx) -> None:
    """F1, F2 or E15 per uppföljning, decided by ``grund`` or the latest preceding ending."""
    placements = {
        b for b, (_, e) in ctx.beslut.items() if e.data.get("insats") in PLACEMENT_INSATSER
    }
    for i, ev in ctx.of_type("uppfoljning_inledd"):
        rid, ref, note = _followup_basis(ctx, i, ev, placements)
        r = rule(rid)
        length = r.length
        if rid != "E15" and ref < NEW_SOL_FROM:
            length = ctx.policy.uppfoljning_gammal_sol_manader
            note += f"; gamla SoL: {length} månader (policy)"
        uid = ev.data.get("uppfoljning_id")
        subject = subject_of(ev, "uppfoljning_id")
        done = ctx.find(i + 1, r.fulfilled_by, _ends_followup(uid))
        emit_from(
            ctx,
            r,
            ev,
            f"{rid}:{subject}",
            subject=subject,
            done=done,
            trig=ref,
            length=length,
            notes=(note,),
        )


def _ends_followup(uid: object) -> Pred:
    """An uppföljning ends when it is closed or a new utredning starts (23:5, LVU 21 c §)."""
    return lambda e: e.type == "utredning_inledd" or e.data.get("uppfoljning_id") in (uid, None)


def _followup_basis(ctx: Ctx, i: int, ev: CaseEvent, placements: set[str]) -> tuple[str, date, str]:
    endings: list[tuple[int, str]] = []
    for j, e in enumerate(ctx.evs[:i]):
        if e.type == "lvu_vard_upphort":
            endings.append((j, "E15"))
        elif e.type == "beslut_avslutat" and e.data.get("beslut_id") in placements:
            endings.append((j, "F2"))
        elif e.type == "utredning_avslutad":
            endings.append((j, "F1"))
    grund = str(ev.data.get("grund", ""))
    rid = _FOLLOWUP_GRUND.get(grund) or (endings[-1][1] if endings else "F1")
    if rid == "E15":
        return rid, ev.legal_date, "E15: från uppföljningens start"
    refs = [j for j, kind in endings if kind == rid]
    if not refs:
        return rid, ev.legal_date, f"{rid}: inget avslut hittat, räknat från uppföljningens start"
    ref = ctx.evs[refs[-1]].legal_date
    return rid, ref, f"{rid}: från {ctx.evs[refs[-1]].type} {ref}"
