"""HEM9 and HEM10: the notifications that follow a placement in a named home (docs/law.md §11).

HEM9, Försäkringskassan told "genast" when a placement begins, moves or ends (the child comes
home): POL-FK-GENAST counts "genast" as the day after the event. The duty's statute is not in
the law texts barnflow checks against (docs/law.md §11), so the rule cites the policy.
HEM10, the kommun the home lies in (`vistelsekommun`, when it is not the nämnd's own) informed
before the placement (SoL 2025:400 22 kap. 6 §; SoL 2001:453 6 kap. 6 a §): due the placement's
own day, met by a `vistelsekommun_underrattad` naming that kommun on or before it.

Only placements that name their home (``hem_id``) start these: no history recorded before homes
existed gains a frist (a workflow replaying it schedules exactly what it did).
"""

from __future__ import annotations

from domain.calendar import add_days
from domain.events import CaseEvent
from domain.frister.context import Ctx, consume, emit, field_is, fulfilment
from domain.placement import Placement, placements
from domain.rules import rule

#: The events that name the home of a placement's stay (``domain.placement.placements``).
_NAMING = ("insats_verkstalld", "lvu_placering_paborjad", "placering_flyttad")
#: POL-FK-GENAST: "genast" is the day after the placement, move or return.
FK_GENAST_DAGAR = 1


def frister(ctx: Ctx) -> None:
    """HEM9 for every start, move and end of a named placement; HEM10 for every placement in
    a home in another kommun."""
    if not any(ev.data.get("hem_id") for t in _NAMING for _, ev in ctx.by_type.get(t, ())):
        return  # no home is named (a stay's home is one of these events' hem_id)
    named = [p for p in placements(ctx.evs) if any(s.hem_id for s in p.stays)]
    if not named:
        return
    by_key = {p.key: p for p in named}
    for i, ev in enumerate(ctx.evs):
        d, day = ev.data, ev.legal_date
        if ev.type == "insats_verkstalld":
            p = by_key.get(f"sol:{d['beslut_id']}")
            if p is not None and p.start == day and d.get("hem_id") is not None:
                _hem9(ctx, i, ev, "placering", p.key)
                _hem10(ctx, ev, p.key)
        elif ev.type == "lvu_placering_paborjad":
            p = by_key.get(f"lvu:{d['placering_id']}")
            if p is not None and d.get("hem_id") is not None:
                _hem9(ctx, i, ev, "placering", p.key)
                _hem10(ctx, ev, p.key)
        elif ev.type == "placering_flyttad":
            key = f"sol:{d['beslut_id']}" if d.get("beslut_id") else f"lvu:{d.get('placering_id')}"
            p = by_key.get(key)
            if p is not None and any(s.start == day and s.hem_id == d["hem_id"] for s in p.stays):
                _hem9(ctx, i, ev, "flytt", key)
                _hem10(ctx, ev, key)
        elif ev.type in ("beslut_avslutat", "lvu_vard_upphort"):
            for p in _ended_by(named, ev):
                _hem9(ctx, i, ev, "aterkomst", p.key)


def _ended_by(named: list[Placement], ev: CaseEvent) -> list[Placement]:
    day = ev.legal_date
    if ev.type == "beslut_avslutat":
        key = f"sol:{ev.data['beslut_id']}"
        return [p for p in named if p.key == key and p.end == day]
    return [p for p in named if p.form == "LVU" and p.end == day]


def _hem9(ctx: Ctx, i: int, ev: CaseEvent, anledning: str, key: str) -> None:
    r, day = rule("HEM9"), ev.legal_date
    done = consume(ctx, "HEM9", i, r.fulfilled_by, field_is("anledning", anledning))
    emit(
        ctx,
        r,
        ev,
        f"HEM9:{key}:{anledning}:{day}",
        subject=key,
        trig=day,
        due=add_days(day, FK_GENAST_DAGAR),
        fulfilled=fulfilment(ctx, done),
    )


def _hem10(ctx: Ctx, ev: CaseEvent, key: str) -> None:
    kommun = ev.data.get("vistelsekommun")
    if kommun is None or kommun == ev.kommun:
        return
    r, day = rule("HEM10"), ev.legal_date
    told = ctx.find(0, r.fulfilled_by, field_is("vistelsekommun", kommun))
    emit(
        ctx,
        r,
        ev,
        f"HEM10:{key}:{kommun}:{day}",
        subject=key,
        trig=day,
        due=day,
        fulfilled=fulfilment(ctx, told),
    )
