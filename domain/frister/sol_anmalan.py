"""A1-A3: what an anmälan starts under SoL (docs/law.md §3).

A1, the skyddsbedömning "genast" (SoL 2025:400 20 kap. 1 §; SoL 2001:453 11 kap. 1 a § första
st.); A2, the förhandsbedömning within 14 days (20 kap. 2 §; 11 kap. 1 a §), not when an
utredning is already pending (B4); A3, information to the anmälare within a week of the
decision, or "genast" when an utredning was already pending (19 kap. 6 § andra st., SFS
2025:1501, from 2026-01-15; the old 14 kap. 1 b § had no time limit).
"""

from __future__ import annotations

from datetime import time

from domain.calendar import STOCKHOLM, add_days
from domain.events import CaseEvent
from domain.frister.context import Ctx, emit, emit_extendable, field_is, fulfilment
from domain.frister.ikraft import ikraft_note, owed_from
from domain.rules import rule


def frister(ctx: Ctx) -> None:
    """A1 for every anmälan; A2 unless an utredning is pending (B4); A3 after each decision."""
    pending: set[str] = set()
    for i, ev in enumerate(ctx.evs):
        if ev.type == "utredning_inledd":
            pending.add(str(ev.data["utredning_id"]))
        elif ev.type == "utredning_avslutad":
            pending.discard(str(ev.data["utredning_id"]))
        elif ev.type == "anmalan_mottagen":
            _a1(ctx, i, ev)
            if pending:
                if ctx.transitions:
                    _a3_genast(ctx, i, ev)
                continue
            _a2(ctx, i, ev)
        elif ev.type == "forhandsbedomning_beslutad":
            _a3(ctx, i, ev)


def _a1(ctx: Ctx, i: int, ev: CaseEvent) -> None:
    r, aid, trig = rule("A1"), str(ev.data["anmalan_id"]), ev.legal_date
    due, period = trig, "samma dag"
    notes: tuple[str, ...] = ()
    late = ctx.policy.a1_nasta_dag_efter
    if late and ev.occurred_at.astimezone(STOCKHOLM).time() >= time.fromisoformat(late):
        due, notes = add_days(trig, 1), (f"anmälan efter {late}: nästa dag (policy)",)
        period = "1 dag (anmälan sent på dagen)"
    done = ctx.find(i, r.fulfilled_by, field_is("anmalan_id", aid))
    emit(
        ctx,
        r,
        ev,
        f"A1:{aid}",
        subject=aid,
        trig=trig,
        due=due,
        fulfilled=fulfilment(ctx, done),
        notes=notes,
        period=period,
    )


def _a2(ctx: Ctx, i: int, ev: CaseEvent) -> None:
    """Extendable only for synnerliga skäl (``forhandsbedomning_forlangd``)."""
    aid = str(ev.data["anmalan_id"])
    emit_extendable(ctx, rule("A2"), i, ev, fld="anmalan_id", subject=aid, trig=ev.legal_date)


def _a3(ctx: Ctx, i: int, ev: CaseEvent) -> None:
    """A week from the decision, when the anmälare asked (anmalan_mottagen.
    anmalare_begart_information) or by policy. The week exists from 2026-01-15 (SFS 2025:1501):
    a decision taken before that day owes it if the week ends on or after it
    (POL-IKRAFT-PAGAENDE)."""
    aid = str(ev.data["anmalan_id"])
    asked = _asked(ctx, aid)
    if not (asked or ctx.policy.a3_begaran_antas):
        return
    r = rule("A3")
    decided = ev.legal_date
    due = r.due_from(decided)
    if ctx.transitions:
        law_day = owed_from(ctx, r, decided, due)
    else:  # before issue #14: only decisions from 2026-01-15
        law_day = decided if r.law_for(decided, ctx.law_on) is not None else None
    if law_day is None or (ctx.as_of is not None and law_day > ctx.as_of):
        return
    done = ctx.find(i, r.fulfilled_by, field_is("anmalan_id", aid))
    emit(
        ctx,
        r,
        ev,
        f"A3:{aid}",
        subject=aid,
        trig=law_day,
        due=due,
        fulfilled=fulfilment(ctx, done),
        counted_from=decided,
        notes=_assumed(asked) + ikraft_note(law_day, decided),
    )


def _a3_genast(ctx: Ctx, i: int, ev: CaseEvent) -> None:
    """An anmälan while an utredning is pending: no decision to wait for, so the information
    is owed "genast" (19 kap. 6 § andra st. tredje meningen, SFS 2025:1501), read as the day
    the request came in, which is the anmälan's (POL-A3-GENAST)."""
    aid = str(ev.data["anmalan_id"])
    asked = ev.data.get("anmalare_begart_information") is True
    if not (asked or ctx.policy.a3_begaran_antas):
        return
    r, day = rule("A3"), ev.legal_date
    if owed_from(ctx, r, day, day) is None:
        return  # before 2026-01-15 the old 14 kap. 1 b § set no time
    done = ctx.find(i, r.fulfilled_by, field_is("anmalan_id", aid))
    emit(
        ctx,
        r,
        ev,
        f"A3:{aid}",
        subject=aid,
        trig=day,
        due=day,
        fulfilled=fulfilment(ctx, done),
        period="samma dag (genast)",
        notes=(
            "utredning pågår: informationen lämnas genast (POL-A3-GENAST)",
            *_assumed(asked),
        ),
    )


def _asked(ctx: Ctx, aid: str) -> bool:
    return any(
        e.type == "anmalan_mottagen"
        and e.data.get("anmalan_id") == aid
        and e.data.get("anmalare_begart_information") is True
        for e in ctx.evs
    )


def _assumed(asked: bool) -> tuple[str, ...]:
    return () if asked else ("anmälarens begäran antas (policy a3_begaran)",)
