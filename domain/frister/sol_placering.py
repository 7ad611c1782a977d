"""D2, D3, D4, D7, D10: a child placed under SoL (docs/law.md §3).

D2, the vårdplan revised within two years of the placement (SoL 2025:400 9 kap. 13 § andra st.;
SoL 2001:453 11 kap. 3 § andra st.); D3, övervägande at least every six months (22 kap. 13 §;
6 kap. 8 §); D4, vårdnadsöverflyttning considered after two years in the same familjehem, then
yearly (22 kap. 14 §; 6 kap. 8 b §); D7, a jourhem at most two months after the utredning
(22 kap. 4 § andra st.; 6 kap. 6 § fjärde st.); D10, the yearly list of children in familjehem
to IVO (SoF 2025:468 3 kap. 4 § andra st.; SoF 2001:937 7 kap. 1 §).
"""

from __future__ import annotations

from datetime import date

from domain.events import PLACEMENT_INSATSER, CaseEvent
from domain.frister.context import (
    Ctx,
    after,
    emit,
    emit_from,
    field_is,
    field_is_or_unset,
    fulfilment,
)
from domain.frister.cycles import anniversaries, cycles, numbered
from domain.frister.ikraft import ikraft_note, owed_from
from domain.rules import rule


def frister(ctx: Ctx) -> None:
    """D2, D3, D4, D7 and D10 for every placement beslut."""
    for bid, (i, ev) in ctx.beslut.items():
        insats = ev.data.get("insats")
        if insats not in PLACEMENT_INSATSER or ev.data.get("gynnande") is not True:
            continue
        v_idx = ctx.find(i, ("insats_verkstalld",), field_is("beslut_id", bid))
        _d3(ctx, bid, i, ev, v_idx)
        if v_idx is None:
            continue
        _d2(ctx, bid, v_idx)
        if insats == "familjehem":
            _d4(ctx, bid, v_idx)
            _d10(ctx, bid, v_idx)
        if insats == "jourhem":
            _d7(ctx, bid, i, ev, v_idx)


def _d2(ctx: Ctx, bid: str, v_idx: int) -> None:
    """Two years from the verkställighet, for placements running when the rule applied: it
    entered into force on 2021-03-01 (SFS 2020:1260), so an older placement owes the revision
    only if its second anniversary is on or after that day (POL-IKRAFT-PAGAENDE)."""
    r, ev = rule("D2"), ctx.evs[v_idx]
    start = ev.legal_date
    due = r.due_from(start)
    law_day = owed_from(ctx, r, start, due) if ctx.transitions else start
    if law_day is None or (ctx.as_of is not None and law_day > ctx.as_of):
        return
    # a revision, or the placement's end (beslut_avslutat always names its beslut)
    first = ctx.find(v_idx, r.fulfilled_by, field_is_or_unset("beslut_id", bid))
    ended = ctx.find(v_idx, ("beslut_avslutat",), field_is("beslut_id", bid))
    if ended is not None and ctx.evs[ended].legal_date < law_day:
        return  # the placement ended before the rule applied to it
    emit(
        ctx,
        r,
        ev,
        f"D2:{bid}",
        subject=bid,
        trig=law_day,
        due=due,
        fulfilled=fulfilment(ctx, first),
        counted_from=start,
        notes=ikraft_note(law_day, start),
        # before issue #14 every placement owed it, citing the old act's paragraph
        law_date=None if ctx.transitions else max(start, r.versions()[0].since),
    )


def _d3(ctx: Ctx, bid: str, i: int, ev: CaseEvent, v_idx: int | None) -> None:
    """Every six months from the decision (or, by policy ``d3_start``, the verkställighet)."""
    if ctx.policy.d3_start == "verkstallighet":
        if v_idx is None:
            return
        i, ev = v_idx, ctx.evs[v_idx]
    mine = field_is("beslut_id", bid)
    cycles(
        ctx,
        rule("D3"),
        ev,
        subject=bid,
        start_idx=i,
        trig=ev.legal_date,
        review=after(ctx, (("overvagande_genomfort",), mine)),
        end=after(ctx, (("beslut_avslutat",), mine)),
        note=numbered,
    )


def _d4(ctx: Ctx, bid: str, v_idx: int) -> None:
    """Anniversaries of verkställigheten: 2 years, then every year while the placement lasts."""
    ev = ctx.evs[v_idx]
    anniversaries(
        ctx,
        rule("D4"),
        ev,
        start_idx=v_idx,
        subject=bid,
        end=ctx.find(v_idx, ("beslut_avslutat",), field_is("beslut_id", bid)),
        done=(("vardnadsoverflyttning_overvagd",), field_is("beslut_id", bid)),
        since=f"verkställighet {ev.legal_date}",
    )


def _d7(ctx: Ctx, bid: str, i: int, ev: CaseEvent, v_idx: int) -> None:
    """Jourhem: two months from the utredning's end (the one named, else the nearest)."""
    r = rule("D7")
    closes = ctx.of_type("utredning_avslutad")
    uid = ev.data.get("utredning_id")
    named = [(j, e) for j, e in closes if uid is not None and e.data.get("utredning_id") == uid]
    later = [(j, e) for j, e in closes if j > i]
    before = [(j, e) for j, e in closes if j < i]
    candidates = named or later or before[-1:]
    if not candidates:
        return
    j, close = candidates[0]
    end = ctx.find(v_idx, r.fulfilled_by, field_is("beslut_id", bid))
    if end is not None and end < j:
        return
    emit_from(ctx, r, close, f"D7:{bid}", subject=bid, done=end)


def _d10(ctx: Ctx, bid: str, v_idx: int) -> None:
    """Yearly IVO list for children in familjehem at the start of the year (policy-gated)."""
    if not ctx.policy.d10_per_arende:
        return
    r, ev = rule("D10"), ctx.evs[v_idx]
    end_idx = ctx.find(v_idx, ("beslut_avslutat",), field_is("beslut_id", bid))
    ended = fulfilment(ctx, end_idx)
    year = ev.legal_date.year + 1
    while date(year, 1, 1) <= ctx.horizon and (ended is None or ended >= date(year, 1, 1)):
        trig = date(year, 1, 1)
        emit(
            ctx,
            r,
            ev,
            f"D10:{bid}:{year}",
            subject=bid,
            trig=trig,
            due=r.due_from(trig),
            fulfilled=None,
        )
        year += 1
