"""Frister of lag (2026:1600) and lag (2026:1637) that the LVU rules in ``domain.frister`` lack.

Kept apart from ``domain.frister`` so the LVU -> 2026:1600 switch of 2027-01-01 is one section
that can be read against docs/law-2027.md. Every frist here is started by an event type that old
histories do not contain (or by a field they do not carry), so frister computed for pre-2027 data
are unchanged. Which act and paragraph a frist cites is the catalogue's ``Rule.law_for`` of the
trigger's legal date (POL-LVU2027-TRIGGER): nothing here is started by the switch itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from domain.calendar import add_days, add_years
from domain.events import CaseEvent, lvu_care_ordered
from domain.frister import (
    _MAX_CYCLES,
    _anniversaries,
    _consume,
    _Ctx,
    _emit,
    _fulfilment,
    _is,
    _is_or_unset,
    _subject,
)
from domain.rules import LVU_NEW_FROM, Rule, rule

Pred = Callable[[CaseEvent], bool]


def lvu_2027(ctx: _Ctx) -> None:
    """Every E1, E3T, E9-E14, E16, E17 and N1-N3 frist of the case."""
    _ordforande(ctx)
    _fortsatt_tillfallig_vard(ctx)
    _umgange(ctx)
    _vardnadsoverflyttning(ctx)
    _forbud(ctx)
    _lakarundersokning(ctx)
    _vardens_slut(ctx)
    _forebyggande(ctx)
    _bitrade(ctx)
    _samtycke(ctx)


def _first_after(ctx: _Ctx, idx: int, ends: tuple[tuple[tuple[str, ...], Pred], ...]) -> int | None:
    """The earliest event after ``idx`` that matches any (types, predicate) pair."""
    found = [ctx.find(idx + 1, types, pred) for types, pred in ends]
    return min((f for f in found if f is not None), default=None)


def _rolling_by(
    ctx: _Ctx,
    r: Rule,
    ev: CaseEvent,
    *,
    subject: str,
    start_idx: int,
    done: tuple[tuple[str, ...], Pred],
    ends: tuple[tuple[tuple[str, ...], Pred], ...],
) -> None:
    """Cycles of ``r.length`` from the decision, then from each review, until one of ``ends``.

    Each cycle cites the law of its own start (POL-LVU2027-CYKEL): a cycle running on
    2027-01-01 keeps its LVU paragraph and due date, the next one cites lag 2026:1600.
    """
    idx, trig = start_idx, ev.legal_date
    for n in range(1, _MAX_CYCLES):
        review = ctx.find(idx + 1, done[0], done[1])
        end = _first_after(ctx, idx, ends)
        hit = min((x for x in (review, end) if x is not None), default=None)
        _emit(
            ctx,
            r,
            ev,
            f"{r.id}:{subject}:{n}",
            subject=subject,
            trig=trig,
            due=r.due_from(trig),
            fulfilled=_fulfilment(ctx, hit),
            notes=(f"cykel {n} från {trig}",),
        )
        if hit is None or hit == end:
            return
        idx, trig = hit, ctx.evs[hit].legal_date


def _policy_days(ctx: _Ctx, r: Rule) -> int:
    if r.id == "E17":
        return ctx.policy.offentligt_bitrade_dagar
    return ctx.policy.nasta_sammantrade_dagar


def _days_frist(
    ctx: _Ctx, r: Rule, i: int, ev: CaseEvent, *, match: Pred, key_subject: str, policy_name: str
) -> None:
    """A frist of a kommun-policy number of days, met by the first unclaimed matching event."""
    days = _policy_days(ctx, r)
    done = _consume(ctx, r.id, i, r.fulfilled_by, match)
    trig = ev.legal_date
    _emit(
        ctx,
        r,
        ev,
        f"{r.id}:{key_subject}",
        subject=key_subject,
        trig=trig,
        due=add_days(trig, days),
        fulfilled=_fulfilment(ctx, done),
        notes=(f"{days} dagar ({policy_name})",),
    )


# --- E1, E11N, E12N: ordförandebeslut, E17: offentligt biträde ----------------------------------


def _ordforande(ctx: _Ctx) -> None:
    """5 kap. 3 §, 12 kap. 7 §, 13 kap. 7 § (LVU 6, 27, 31 d §§): report at the next meeting."""
    for i, ev in ctx.of_type("lvu_omhandertagande_beslutat"):
        if ev.data.get("ordforandebeslut") is True:
            _days_frist(
                ctx,
                rule("E1"),
                i,
                ev,
                match=_omhandertagande_report(ev.data.get("beslut_id")),
                key_subject=_subject(ev, "beslut_id"),
                policy_name="policy nasta_sammantrade_dagar",
            )
    for i, ev in ctx.of_type("lvu_forbud_beslutat"):
        if ev.data.get("ordforandebeslut") is True and ev.data.get("tillfalligt") is True:
            rid = "E11N" if ev.data["forbud"] == "flyttningsforbud" else "E12N"
            fid = str(ev.data["forbud_id"])
            _days_frist(
                ctx,
                rule(rid),
                i,
                ev,
                match=_is("forbud_id", fid),
                key_subject=fid,
                policy_name="policy nasta_sammantrade_dagar",
            )


def _omhandertagande_report(bid: object) -> Pred:
    """An anmälan of an omhändertagande's ordförandebeslut (not of a förbud's)."""
    return lambda e: e.data.get("forbud_id") is None and e.data.get("beslut_id") in (bid, None)


def _bitrade(ctx: _Ctx) -> None:
    """2026:1600 17 kap. 6 §: the need for an offentligt biträde is reported 'så snart'."""
    r = rule("E17")
    for i, ev in ctx.triggers(r):
        _days_frist(
            ctx,
            r,
            i,
            ev,
            match=lambda e: True,
            key_subject=ev.idempotency_key,
            policy_name="policy offentligt_bitrade_dagar",
        )


# --- E3T: fortsatt omhändertagande för tillfällig vård -------------------------------------------


def _fortsatt_tillfallig_vard(ctx: _Ctx) -> None:
    """At most two months per court decision (5 kap. 10 §); without a new ansökan before the end
    the omhändertagande ends (5 kap. 11 §; LVU 9 a § fjärde st., 9 b §)."""
    r = rule("E3T")
    for i, ev in ctx.triggers(r):
        subject = _subject(ev, "beslut_id")
        trig = ev.legal_date
        bid = ev.data.get("beslut_id")
        done = _first_after(
            ctx,
            i,
            (
                (("lvu_fortsatt_tillfallig_vard_ansokt",), _is_or_unset("beslut_id", bid)),
                (("lvu_vard_upphort",), _is_or_unset("beslut_id", bid)),
            ),
        )
        _emit(
            ctx,
            r,
            ev,
            f"E3T:{subject}:{trig.isoformat()}",
            subject=subject,
            trig=trig,
            due=r.due_from(trig),
            fulfilled=_fulfilment(ctx, done),
        )


# --- E10: umgänge och hemlighållande -------------------------------------------------------------


def _umgange(ctx: _Ctx) -> None:
    """Reviewed at least every three months (LVU 14 § tredje st., 2026:1600 7 kap. 2 §)."""
    r = rule("E10")
    for i, ev in ctx.triggers(r):
        bid = str(ev.data["begransning_id"])
        _rolling_by(
            ctx,
            r,
            ev,
            subject=bid,
            start_idx=i,
            done=(("lvu_umgangesbegransning_provad",), _is("begransning_id", bid)),
            ends=(
                (("lvu_umgangesbegransning_upphort",), _is("begransning_id", bid)),
                (("lvu_vard_upphort",), lambda e: True),
            ),
        )


# --- E9: vårdnadsöverflyttning -------------------------------------------------------------------


def _other_placement(pid: str) -> Pred:
    return lambda e: e.data.get("placering_id") != pid


def _vardnadsoverflyttning(ctx: _Ctx) -> None:
    """Two years in the same familjehem, then yearly (LVU 13 c §, 2026:1600 9 kap. 1 §).

    Counted on the anniversaries of the day the placement began (like D4), until the child is
    placed elsewhere or the care ends.
    """
    r = rule("E9")
    for i, ev in ctx.of_type("lvu_placering_paborjad"):
        if ev.data["placering"] != "familjehem":
            continue
        pid, start = str(ev.data["placering_id"]), ev.legal_date
        end = _first_after(
            ctx,
            i,
            (
                (("lvu_placering_paborjad",), _other_placement(pid)),
                (("lvu_vard_upphort",), lambda e: True),
            ),
        )
        _anniversaries(
            ctx,
            r,
            ev,
            start_idx=i,
            subject=pid,
            end=end,
            done=(("lvu_vardnadsoverflyttning_overvagd",), _is("placering_id", pid)),
            since=f"placeringens början {start}",
        )


# --- E11, E12: flyttningsförbud and utreseförbud -------------------------------------------------


def _forbud(ctx: _Ctx) -> None:
    """Reviews of a förbud, the one-week underställning and the ansökan after fastställelse."""
    kinds: dict[str, str] = {}
    for i, ev in ctx.of_type("lvu_forbud_beslutat"):
        fid, kind = str(ev.data["forbud_id"]), str(ev.data["forbud"])
        kinds[fid] = kind
        mine = _is("forbud_id", fid)
        ended = (("lvu_forbud_upphort",), mine)
        flytt = kind == "flyttningsforbud"
        if ev.data.get("tillfalligt") is True:
            r = rule("E11U" if flytt else "E12U")
            done = _first_after(ctx, i, ((("lvu_forbud_understallt",), mine), ended))
            trig = ev.legal_date
            _emit(
                ctx,
                r,
                ev,
                f"{r.id}:{fid}",
                subject=fid,
                trig=trig,
                due=r.due_from(trig),
                fulfilled=_fulfilment(ctx, done),
                notes=("sen överlämning: förbudet upphör",),
            )
            continue
        # the court's förbud: reviewed from the day it was decided (12 kap. 4 §, 13 kap. 4 §)
        _rolling_by(
            ctx,
            rule("E11" if flytt else "E12"),
            ev,
            subject=fid,
            start_idx=i,
            done=(("lvu_forbud_overvagt",), mine),
            ends=(ended,),
        )
    for i, ev in ctx.of_type("lvu_forbud_faststallt"):
        fid = str(ev.data["forbud_id"])
        r = rule("E11A" if kinds.get(fid) == "flyttningsforbud" else "E12A")
        mine = _is("forbud_id", fid)
        done = _first_after(
            ctx, i, ((("lvu_forbud_ansokt",), mine), (("lvu_forbud_upphort",), mine))
        )
        trig = ev.legal_date
        _emit(
            ctx,
            r,
            ev,
            f"{r.id}:{fid}",
            subject=fid,
            trig=trig,
            due=r.due_from(trig),
            fulfilled=_fulfilment(ctx, done),
        )


# --- E13: läkarundersökning, E14: vårdens slut ---------------------------------------------------


def _lakarundersokning(ctx: _Ctx) -> None:
    """A läkarundersökning before an ansökan unless särskilda skäl (POL-LVU2027-E13)."""
    r = rule("E13")
    for i, ev in ctx.of_type("lvu_ansokan_inlamnad"):
        if ev.data.get("lakarundersokning_obehovlig") is True:
            continue
        before = [j for j, _ in ctx.of_type("lvu_lakarundersokning_genomford") if j < i]
        done = before[-1] if before else ctx.find(i + 1, r.fulfilled_by, lambda e: True)
        subject = _subject(ev, "beslut_id")
        _emit(
            ctx,
            r,
            ev,
            f"E13:{subject}",
            subject=subject,
            trig=ev.legal_date,
            due=ev.legal_date,
            fulfilled=_fulfilment(ctx, done),
        )


def _birth_date(ctx: _Ctx) -> date | None:
    """The child's fodelsedatum from the latest event that names the child (kept by redaction)."""
    born: str | None = None
    for ev in ctx.evs:
        barn = ev.data.get("barn")
        if isinstance(barn, dict) and barn.get("fodelsedatum"):
            born = str(barn["fodelsedatum"])
    return date.fromisoformat(born) if born else None


def _vardens_slut(ctx: _Ctx) -> None:
    """Care ends at 18 (hem, anknytning) or 21 (eget beteende): 10 kap. 2 §, LVU 21 §.

    Only for a dom that states ``grund`` or is dated from 2027-01-01 (POL-LVU2027-E14), so a
    pre-2027 history computes the frister it always did.
    """
    r = rule("E14")
    born = _birth_date(ctx)
    if born is None:
        return
    for i, ev in ctx.of_type("lvu_dom"):
        if not lvu_care_ordered(ev.data.get("utfall", "")):
            continue
        grund = ev.data.get("grund")
        if grund is None and ev.legal_date < LVU_NEW_FROM:
            continue
        paragraf = str(ev.data.get("paragraf") or "")
        eget = grund == "eget_beteende" or paragraf in _EGET_BETEENDE_PARAGRAFER
        age = 21 if eget else 18
        notes = [f"{age} år från födelsedatum {born}"]
        if paragraf == "2+3" and grund != "eget_beteende":
            # POL-LVU2027-E14: care on both grounds may last to 21 on the eget-beteende ground;
            # the hem ground alone ends at 18 (10 kap. 2 § första st.), shown to the handläggare.
            notes.append(f"grund 2+3: hemförhållanden upphör vid 18 år {add_years(born, 18)}")
        subject = _subject(ev, "beslut_id")
        done = ctx.find(i + 1, r.fulfilled_by, lambda e: True)
        _emit(
            ctx,
            r,
            ev,
            f"E14:{subject}",
            subject=subject,
            trig=ev.legal_date,
            due=add_years(born, age),
            fulfilled=_fulfilment(ctx, done),
            notes=tuple(notes),
        )


# The dom's paragraf values (domain.events) that include the eget-beteende ground (LVU 3 §,
# 2026:1600 3 kap. 3 §): compared exactly, never by substring.
_EGET_BETEENDE_PARAGRAFER = frozenset({"3", "2+3"})


# --- E16: förebyggande insatser enligt LVU 22 § (ÖB 5) -------------------------------------------


def _forebyggande(ctx: _Ctx) -> None:
    """Prövning within six months, first from the decision (LVU 22 § tredje st.), kept by ÖB 5.

    The insats ends with an omedelbart omhändertagande or a dom granting care (LVU 23 §).
    """
    r = rule("E16")
    for i, ev in ctx.of_type("lvu_forebyggande_insats_beslutad"):
        iid = str(ev.data["insats_id"])
        _rolling_by(
            ctx,
            r,
            ev,
            subject=iid,
            start_idx=i,
            done=(("lvu_forebyggande_insats_provad",), _is("insats_id", iid)),
            ends=(
                (("lvu_forebyggande_insats_upphort",), _is("insats_id", iid)),
                (("lvu_omhandertagande_beslutat",), lambda e: True),
                (
                    ("lvu_dom",),
                    lambda e: lvu_care_ordered(e.data.get("utfall", "")),
                ),
            ),
        )


# --- N1-N3: lag (2026:1637) om insatser när samtycke saknas ---------------------------------------


def _samtycke(ctx: _Ctx) -> None:
    """Särskild genomförandeplan (5 kap. 1 §), övervägande every six months (9 kap. 1 §) and the
    decision's stated end (7 kap. 2 §)."""
    plans: dict[str, date] = {}
    for _, p in ctx.of_type("sarskild_genomforandeplan_upprattad"):
        plans.setdefault(str(p.data["insats_id"]), p.legal_date)
    for i, ev in ctx.of_type("insats_utan_samtycke_beslutad"):
        iid = str(ev.data["insats_id"])
        trig = ev.legal_date
        mine = _is("insats_id", iid)
        n1 = rule("N1")
        _emit(
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
        _rolling_by(
            ctx,
            rule("N2"),
            ev,
            subject=f"{iid}:{trig.isoformat()}",
            start_idx=i,
            done=(("insats_utan_samtycke_overvagd",), mine),
            ends=((("insats_utan_samtycke_upphort", "insats_utan_samtycke_beslutad"), mine),),
        )
        n3 = rule("N3")
        end = ctx.find(i + 1, n3.fulfilled_by, mine)
        _emit(
            ctx,
            n3,
            ev,
            f"N3:{iid}:{trig.isoformat()}",
            subject=iid,
            trig=trig,
            due=date.fromisoformat(str(ev.data["giltig_till"])),
            fulfilled=_fulfilment(ctx, end),
            notes=("beslutet gäller till giltig_till (7 kap. 2 §)",),
        )
