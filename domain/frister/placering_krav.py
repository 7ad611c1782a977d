"""D1, D1G, D1A, D6, D8, D9, D9S, D9K, D11V, D11: what a child's SoL placement requires while it
lasts, and its end at 18 (docs/law.md §3, issue #15 B).

D1 and D1G, the vårdplan and the genomförandeplan (SoL 2025:400 9 kap. 12 §; SoL 2001:453
11 kap. 3 §), and D1A its approval (lokal regel); D6, the region told to offer a
hälsoundersökning (22 kap. 7 §; 11 kap. 3 a §); D8, the responsible socialsekreterare (22 kap.
12 § första st.; 6 kap. 7 c §); D9, visits with an enskilt samtal at the kommun's frequency
(22 kap. 11-12 §§; 6 kap. 7 b-7 c §§); D9S and D9K, schooling mapped and contact with the family
planned (22 kap. 8-9 §§, 11 § andra st.; 6 kap. 1 §, 7 §, 7 b §); D11V and D11, the 18th birthday
(barn: under 18, 3 kap. 1 §; 1 kap. 2 §).

All of them count only for placements verkställda on or after the kommun's
``placering_krav_fran`` (POL-PLACERING-KRAV-START): histories recorded before barnflow could
take these events give the frister they always did. The placement is the SoL one of
``domain.frister.sol_placering`` (a gynnande ``beslut_fattat`` whose insats is in
``PLACEMENT_INSATSER``, its ``insats_verkstalld`` and its ``beslut_avslutat``).
"""

from __future__ import annotations

from datetime import date

from domain.calendar import add_days, add_months, add_years
from domain.events import PLACEMENT_INSATSER, CaseEvent
from domain.frister.context import Ctx, Pred, birth_date, emit, field_is, fulfilment
from domain.frister.cycles import MAX_CYCLES
from domain.rules import Rule, rule, unit_text

#: Insatser the vårdplan, genomförandeplan and the named socialsekreterare are required for
#: (9 kap. 12 §, 22 kap. 12 §: familjehem, stödboende, skyddat boende, HVB; not a jourhem).
_PLAN_INSATSER = frozenset({"familjehem", "hvb", "stodboende", "skyddat_boende"})


def frister(ctx: Ctx) -> None:
    """Every requirement frist of every placement verkställd from ``placering_krav_fran``."""
    start = ctx.policy.placering_krav_fran
    if start is None:
        return
    born = birth_date(ctx)
    for bid, (i, ev) in ctx.beslut.items():
        insats = ev.data.get("insats")
        if insats not in PLACEMENT_INSATSER or ev.data.get("gynnande") is not True:
            continue
        mine = field_is("beslut_id", bid)
        v_idx = ctx.find(i, ("insats_verkstalld",), mine)
        if v_idx is None or ctx.evs[v_idx].legal_date < start:
            continue
        end = ctx.find(v_idx, ("beslut_avslutat",), mine)
        p = _Placement(ctx, bid, i, v_idx, end)
        _visits(p)
        if ev.data.get("fortsatter_beslut_id") is not None:
            continue  # a decision continuing a placement past 18: its plans continue too
        plan_days = ctx.policy.placering_plan_dagar
        if insats in _PLAN_INSATSER:
            vardplan = p.simple("D1", ("vardplan_upprattad",), plan_days)
            p.simple("D1G", ("genomforandeplan_upprattad",), plan_days)
            p.simple("D8", ("socialsekreterare_utsedd",), plan_days)
            if vardplan is not None and ctx.evs[vardplan].type == "vardplan_upprattad":
                _approval(p, vardplan)
        p.simple("D6", ("halsoundersokning_begard",), plan_days)
        days = ctx.policy.placering_kartlaggning_dagar
        p.simple("D9S", ("skolgang_kartlagd",), days)
        p.simple("D9K", ("umgange_planerat",), days)
        if born is not None:
            _eighteen(p, born)


class _Placement:
    """One placement: its beslut, its verkställighet and (if any) its end, with the helpers
    that find what meets a requirement of it."""

    def __init__(self, ctx: Ctx, bid: str, i: int, v_idx: int, end: int | None) -> None:
        self.ctx, self.bid, self.i, self.v_idx, self.end = ctx, bid, i, v_idx, end
        self.verkstalld: CaseEvent = ctx.evs[v_idx]

    def about_me(self, e: CaseEvent) -> bool:
        """An event about this placement: it names it, or names none."""
        return e.data.get("beslut_id") in (self.bid, None)

    def first(self, start: int, types: tuple[str, ...], pred: Pred) -> int | None:
        """The first matching event from ``start``, or the placement's end if that is earlier."""
        found = self.ctx.find(start, types, pred)
        candidates = [x for x in (found, self.end) if x is not None]
        return min(candidates) if candidates else None

    def simple(self, rid: str, types: tuple[str, ...], days: int) -> int | None:
        """A one-off requirement due ``days`` after the verkställighet. A document about this
        placement recorded before it (from the decision on; one naming it, any time) meets it:
        a plan is written before the child moves."""
        r = rule(rid)
        named = self.ctx.find(0, types, lambda e: e.data.get("beslut_id") == self.bid)
        unnamed = self.ctx.find(self.i, types, lambda e: e.data.get("beslut_id") is None)
        found = [x for x in (named, unnamed, self.end) if x is not None]
        done = min(found) if found else None
        day = self.verkstalld.legal_date
        emit(
            self.ctx,
            r,
            self.verkstalld,
            f"{rid}:{self.bid}",
            subject=self.bid,
            trig=day,
            due=add_days(day, days),
            fulfilled=fulfilment(self.ctx, done),
            notes=(f"{days} dagar från verkställigheten (policy)",),
            period=unit_text(days, "days"),
        )
        return done


def _approval(p: _Placement, plan_idx: int) -> None:
    """D1A: the vårdplan agreed with the vårdnadshavare / the young person (lokal regel)."""
    r, ctx = rule("D1A"), p.ctx
    plan = ctx.evs[plan_idx]
    trig = max(plan.legal_date, p.verkstalld.legal_date)
    days = ctx.policy.placering_plan_dagar
    done = p.first(
        min(plan_idx, p.v_idx),
        ("placeringsplan_godkand",),
        lambda e: e.data.get("plan") == "vardplan" and p.about_me(e),
    )
    emit(
        ctx,
        r,
        plan,
        f"D1A:{p.bid}",
        subject=p.bid,
        trig=trig,
        due=add_days(trig, days),
        fulfilled=fulfilment(ctx, done),
        notes=(f"{days} dagar från vårdplanen eller verkställigheten (policy)",),
        period=unit_text(days, "days"),
    )


def _visits(p: _Placement) -> None:
    """D9: a visit with an enskilt samtal within the policy interval of the previous one (at
    first: of the verkställighet), monthly during the first months, then less often
    (POL-BESOK-FREKVENS). A late visit is a missed cycle and starts the next."""
    r, ctx, pol = rule("D9"), p.ctx, p.ctx.policy
    frequent_until = add_months(p.verkstalld.legal_date, pol.besok_tat_manader)
    idx, trig = p.v_idx, p.verkstalld.legal_date

    def visit(e: CaseEvent) -> bool:
        return e.data.get("enskilt_samtal") is True and p.about_me(e)

    for n in range(1, MAX_CYCLES):
        months = (
            pol.besok_tat_intervall_manader
            if trig < frequent_until
            else pol.besok_senare_intervall_manader
        )
        hit = p.first(idx + 1, ("barnet_besokt",), visit)
        emit(
            ctx,
            r,
            p.verkstalld,
            f"D9:{p.bid}:{n}",
            subject=p.bid,
            trig=trig,
            due=add_months(trig, months),
            fulfilled=fulfilment(ctx, hit),
            notes=(f"besök {n} från {trig}",),
            period=unit_text(months, "months"),
        )
        if hit is None or hit == p.end:
            return
        idx, trig = hit, ctx.evs[hit].legal_date


def _eighteen(p: _Placement, born: date) -> None:
    """D11V months before the 18th birthday, D11 on it, for a child under 18 when placed."""
    ctx = p.ctx
    birthday = add_years(born, 18)
    start = p.verkstalld.legal_date
    if start >= birthday:
        return

    def continues(e: CaseEvent) -> bool:
        return e.type == "beslut_fattat" and e.data.get("fortsatter_beslut_id") == p.bid

    cont = p.first(p.v_idx + 1, ("beslut_fattat",), continues)
    months = ctx.policy.alder18_varning_manader
    warn = p.first(p.v_idx + 1, ("utslussning_planerad",), p.about_me)
    planned = [x for x in (warn, cont) if x is not None]
    _birthday_frist(
        p,
        rule("D11V"),
        due=add_months(birthday, -months),
        done=min(planned) if planned else None,
        notes=(f"18 år {birthday} minus {months} månader (policy)",),
        period=f"18 år - {unit_text(months, 'months')}",
        born=born,
    )
    _birthday_frist(
        p,
        rule("D11"),
        due=birthday,
        done=cont,
        notes=(f"18 år från födelsedatum {born}",),
        period="18 år",
        born=born,
    )


def _birthday_frist(
    p: _Placement,
    r: Rule,
    *,
    due: date,
    done: int | None,
    notes: tuple[str, ...],
    period: str,
    born: date,
) -> None:
    emit(
        p.ctx,
        r,
        p.verkstalld,
        f"{r.id}:{p.bid}",
        subject=p.bid,
        trig=p.verkstalld.legal_date,
        due=max(due, p.verkstalld.legal_date),
        fulfilled=fulfilment(p.ctx, done),
        notes=notes,
        counted_from=born,
        period=period,
    )
