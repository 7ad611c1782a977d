"""N1-N3: lag (2026:1637) om insatser när samtycke saknas, from 2027-01-02 (docs/law.md §3,
docs/law-2027.md).

N1, the särskild genomförandeplan exists when the insats is decided (5 kap. 1 §); N2, the insats
and its särskilda villkor övervägda every six months (9 kap. 1 §); N3, the decision's stated time
ends on ``giltig_till`` (7 kap. 2 §; a villkor om bostaden at most six months, guard ``N3``).
"""

from __future__ import annotations

from datetime import date

from domain.frister.context import Ctx, after, emit, field_is, fulfilment
from domain.frister.cycles import cycles, numbered_from
from domain.rules import rule


def frister(ctx: Ctx) -> None:
    """N1, N2 and N3 per decision: a new decision about the same insats starts them again."""
    plans: dict[str, date] = {}
    for _, p in ctx.of_type("sarskild_genomforandeplan_upprattad"):
        plans.setdefault(str(p.data["insats_id"]), p.legal_date)
    for i, ev in ctx.of_type("insats_utan_samtycke_beslutad"):
        iid = str(ev.data["insats_id"])
        trig = ev.legal_date
        mine = field_is("insats_id", iid)
        n1 = rule("N1")
        emit(
            ctx,
            n1,
            ev,
            f"N1:{iid}:{trig.isoformat()}",
            subject=iid,
            trig=trig,
            due=trig,
            fulfilled=plans.get(iid),
            notes=("planen ska finnas när beslutet fattas",),
        )
        cycles(
            ctx,
            rule("N2"),
            ev,
            subject=f"{iid}:{trig.isoformat()}",
            start_idx=i,
            trig=trig,
            review=after(ctx, (("insats_utan_samtycke_overvagd",), mine)),
            end=after(
                ctx, (("insats_utan_samtycke_upphort", "insats_utan_samtycke_beslutad"), mine)
            ),
            note=numbered_from,
        )
        n3 = rule("N3")
        end = ctx.find(i + 1, n3.fulfilled_by, mine)
        emit(
            ctx,
            n3,
            ev,
            f"N3:{iid}:{trig.isoformat()}",
            subject=iid,
            trig=trig,
            due=date.fromisoformat(str(ev.data["giltig_till"])),
            fulfilled=fulfilment(ctx, end),
            notes=("beslutet gäller till giltig_till (7 kap. 2 §)",),
            period=f"beslutets giltighetstid (giltig_till {ev.data['giltig_till']})",
        )
