"""A1-A3: what an anmälan starts under SoL (docs/law.md §3).

A1, the skyddsbedömning "genast" (SoL 2025:400 20 kap. 1 §; SoL 2001:453 11 kap. 1 a § första
st.); A2, the förhandsbedömning within 14 days (20 kap. 2 §; 11 kap. 1 a §), not when an
utredning is already pending (B4); A3, information to the anmälare within a week of the
decision (19 kap. 6 § andra st., SFS 2025:1501; the old 14 kap. 1 b § had no time limit).
"""

from __future__ import annotations

from datetime import time

from domain.calendar import STOCKHOLM, add_days
from domain.events import CaseEvent
from domain.frister.context import Ctx, emit, emit_extendable, emit_from, field_is, fulfilment
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
                continue
            _a2(ctx, i, ev)
        elif ev.type == "forhandsbedomning_beslutad":
            _a3(ctx, i, ev)


def _a1(ctx: Ctx, i: int, ev: CaseEvent) -> None:
    r, aid, trig = rule("A1"), str(ev.data["anmalan_id"]), ev.legal_date
    due = trig
    notes: tuple[str, ...] = ()
    late = ctx.policy.a1_nasta_dag_efter
    if late and ev.occurred_at.astimezone(STOCKHOLM).time() >= time.fromisoformat(late):
        due, notes = add_days(trig, 1), (f"anmälan efter {late}: nästa dag (policy)",)
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
    )


def _a2(ctx: Ctx, i: int, ev: CaseEvent) -> None:
    """Extendable only for synnerliga skäl (``forhandsbedomning_forlangd``)."""
    aid = str(ev.data["anmalan_id"])
    emit_extendable(ctx, rule("A2"), i, ev, fld="anmalan_id", subject=aid, trig=ev.legal_date)


def _a3(ctx: Ctx, i: int, ev: CaseEvent) -> None:
    """When the anmälare asked (anmalan_mottagen.anmalare_begart_information), or by policy."""
    aid = str(ev.data["anmalan_id"])
    asked = any(
        e.type == "anmalan_mottagen"
        and e.data.get("anmalan_id") == aid
        and e.data.get("anmalare_begart_information") is True
        for e in ctx.evs
    )
    if not (asked or ctx.policy.a3_begaran_antas):
        return
    r = rule("A3")
    done = ctx.find(i, r.fulfilled_by, field_is("anmalan_id", aid))
    emit_from(
        ctx,
        r,
        ev,
        f"A3:{aid}",
        subject=aid,
        done=done,
        notes=() if asked else ("anmälarens begäran antas (policy a3_begaran)",),
    )
