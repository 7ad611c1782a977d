"""V1, V2, V3: a placed child who goes missing (avvikning), the kommun's protocol as frister
(docs/law.md §3, issue #15 B).

V1, the police told; V2, for an ensamkommande child, Migrationsverket told, both within 24
hours counted as the same or the next calendar day (POL-AVVIKNING-24H); V3, the assessment
whether the child is to be omedelbart omhändertagen (LVU 6 §, lag 2026:1600 5 kap. 1 §) within
policy days (POL-AVVIKNING-LVU). The child found or back (``avvikning_avslutad``) before a step
was taken meets it: there is no one left to report missing. The three-month rule on closing the
case is a guard (``domain.case_care``, P-AVVIKNING), not a frist.
"""

from __future__ import annotations

from domain.events import CaseEvent
from domain.frister.context import Ctx, Match, any_event, emit_from, field_is, first_after
from domain.rules import rule

#: Events that record whether the child is ensamkommande (the latest before an avvikning wins;
#: ``avvikning_anmald.ensamkommande`` overrides for that avvikning).
_FLAG_TYPES = ("anmalan_mottagen", "ansokan_mottagen", "identitet_uppdaterad")


def frister(ctx: Ctx) -> None:
    """V1 and V3 for every avvikning; V2 when the child is ensamkommande."""
    for i, ev in ctx.of_type("avvikning_anmald"):
        aid = str(ev.data["avvikning_id"])
        mine = field_is("avvikning_id", aid)
        back: Match = (("avvikning_avslutad",), mine)
        steps: list[tuple[str, tuple[Match, ...], int]] = [
            ("V1", ((("avvikning_polis_underrattad",), mine), back), 1),
        ]
        if is_ensamkommande(ctx, i, ev):
            steps.append(("V2", ((("avvikning_migrationsverket_underrattat",), mine), back), 1))
        steps.append(
            (
                "V3",
                (
                    (("avvikning_lvu_bedomning_gjord",), mine),
                    (("lvu_omhandertagande_beslutat",), any_event),
                    back,
                ),
                ctx.policy.avvikning_lvu_bedomning_dagar,
            )
        )
        for rid, matches, days in steps:
            done = first_after(ctx, i, matches)
            emit_from(
                ctx,
                rule(rid),
                ev,
                f"{rid}:{aid}",
                subject=aid,
                done=done,
                length=days,
            )


def is_ensamkommande(ctx: Ctx, i: int, ev: CaseEvent) -> bool:
    """Whether the child was registered as ensamkommande when the avvikning at ``i`` began."""
    own = ev.data.get("ensamkommande")
    if own is not None:
        return bool(own)
    flag = False
    for e in ctx.evs[:i]:
        if e.type in _FLAG_TYPES and e.data.get("ensamkommande") is not None:
            flag = bool(e.data["ensamkommande"])
    return flag
