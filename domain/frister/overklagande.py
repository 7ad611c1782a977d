"""O2: an överklagande checked and handed to the court "skyndsamt" (förvaltningslagen 2017:900
45-46 §§; docs/law.md §3 O2).

The beslutsmyndighet checks whether the överklagande came in on time (45 §) and, unless it
avvisar it, hands it to the court "skyndsamt" (46 §); the act names no days, so the kommun's
policy does (POL-OVERKLAGANDE-OVERLAMNANDE, ``policy.overklagande_overlamnande_dagar``). An
avvisning or a återkallelse ends the kommun's part as well. O1, the appellant's three weeks, is
the party's period and has no frist of its own (``domain.appeals``).
"""

from __future__ import annotations

from domain.events import CaseEvent
from domain.frister.context import Ctx, Pred, emit_from, field_is
from domain.rules import rule


def _avvisat(oid: str) -> Pred:
    """Match the rättidsprövning that avvisade the överklagande ``oid`` as late."""

    def pred(e: CaseEvent) -> bool:
        return e.data.get("overklagande_id") == oid and e.data.get("i_tid") is False

    return pred


def frister(ctx: Ctx) -> None:
    """O2 per överklagande, met by its överlämnande, its avvisning or its återkallelse."""
    r, days = rule("O2"), ctx.policy.overklagande_overlamnande_dagar
    for i, ev in ctx.triggers(r):
        oid = str(ev.data["overklagande_id"])
        ours = field_is("overklagande_id", oid)
        done = [
            ctx.find(i + 1, ("overklagande_overlamnat", "overklagande_aterkallat"), ours),
            ctx.find(i + 1, ("rattidsprovning_gjord",), _avvisat(oid)),
        ]
        emit_from(
            ctx,
            r,
            ev,
            f"O2:{oid}",
            subject=oid,
            done=min((d for d in done if d is not None), default=None),
            length=days,
            notes=(f"{days} dagar (kommun-policy, 'skyndsamt')",),
        )
