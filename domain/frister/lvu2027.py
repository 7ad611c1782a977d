"""Frister of lag (2026:1600) that the LVU rules of ``domain.frister.lvu_vard`` lack: E1, E3T,
E9-E14, E16 and E17 (docs/law.md §3, docs/law-2027.md).

E1, an ordförandebeslut om omedelbart omhändertagande reported at the next meeting (LVU 6 §
andra st.; 2026:1600 5 kap. 3 §); E3T, fortsatt omhändertagande för tillfällig vård (LVU 9 a §
fjärde st., 9 b §; 5 kap. 10-11 §§); E9, vårdnadsöverflyttning considered (LVU 13 c §; 9 kap.
1 §); E10, umgängesbegränsning reviewed (LVU 14 § tredje st.; 7 kap. 2 § andra st.); E11 and E12,
flyttningsförbud and utreseförbud with their underställning, ansökan and ordförandebeslut (LVU
26-31 g §§; 12 kap. 4, 7-10 §§ and 13 kap. 4, 7-10 §§); E13, the läkarundersökning (LVU 32 §
andra st.; 11 kap. 4 §); E14, care ends at 18 or 21 (LVU 21 §; 10 kap. 2 §); E16, a förebyggande
insats prövad (LVU 22 § tredje st., kept by ÖB 5); E17, an offentligt biträde reported (17 kap.
6 §); E18, any other ordförandebeslut (a placement, a ``beslut_fattat``) that a decision's
judgement against the delegationsordning records (``domain.delegation_record``). Ordförandebeslut
are due at the nämnd's next sammanträde when the kommun has a calendar (POL-DELEG-SAMMANTRADE).

Kept apart so the LVU -> 2026:1600 switch of 2027-01-01 is one section that can be read against
docs/law-2027.md. Every frist here is started by an event type that old histories do not contain
(or by a field they do not carry), so frister computed for pre-2027 data are unchanged. Which act
and paragraph a frist cites is the catalogue's ``Rule.law_for`` of the trigger's legal date
(POL-LVU2027-TRIGGER): nothing here is started by the switch itself.
"""

from __future__ import annotations

from domain.calendar import add_days, add_years
from domain.events import CaseEvent, is_ordforandebeslut, lvu_care_ordered
from domain.frister.context import (
    Ctx,
    Pred,
    after,
    any_event,
    birth_date,
    consume,
    emit,
    emit_from,
    field_is,
    field_is_or_unset,
    first_after,
    fulfilment,
    subject_of,
)
from domain.frister.cycles import anniversaries, cycles, numbered_from
from domain.rules import LVU_NEW_FROM, SAMMANTRADE_RULES, Rule, rule, unit_text


def frister(ctx: Ctx) -> None:
    """Every E1, E3T, E9-E14, E16, E17 and E18 frist of the case."""
    _ordforande(ctx)
    _other_ordforande(ctx)
    _fortsatt_tillfallig_vard(ctx)
    _umgange(ctx)
    _vardnadsoverflyttning(ctx)
    _forbud(ctx)
    _lakarundersokning(ctx)
    _vardens_slut(ctx)
    _forebyggande(ctx)
    _bitrade(ctx)


def _policy_days(ctx: Ctx, r: Rule) -> int:
    if r.id == "E17":
        return ctx.policy.offentligt_bitrade_dagar
    return ctx.policy.nasta_sammantrade_dagar


def _days_frist(
    ctx: Ctx, r: Rule, i: int, ev: CaseEvent, *, match: Pred, key_subject: str, policy_name: str
) -> None:
    """A frist of a kommun-policy number of days, met by the first unclaimed matching event.

    An ordförandebeslut (``SAMMANTRADE_RULES``) is due at the nämnd's next sammanträde when the
    kommun's calendar has one after the decision (POL-DELEG-SAMMANTRADE)."""
    days = _policy_days(ctx, r)
    done = consume(ctx, r.id, i, r.fulfilled_by, match)
    trig = ev.legal_date
    due, note = add_days(trig, days), f"{days} dagar ({policy_name})"
    period = unit_text(days, "days")
    meeting = ctx.policy.nasta_sammantrade(trig) if r.id in SAMMANTRADE_RULES else None
    if meeting is not None:
        due, note = meeting, "nästa sammanträde enligt kalendern (POL-DELEG-SAMMANTRADE)"
        period = "nästa sammanträde"
    emit(
        ctx,
        r,
        ev,
        f"{r.id}:{key_subject}",
        subject=key_subject,
        trig=trig,
        due=due,
        fulfilled=fulfilment(ctx, done),
        notes=(note,),
        period=period,
    )


# --- E1, E11N, E12N: ordförandebeslut, E17: offentligt biträde ----------------------------------


def _ordforande(ctx: Ctx) -> None:
    """5 kap. 3 §, 12 kap. 7 §, 13 kap. 7 § (LVU 6, 27, 31 d §§): report at the next meeting."""
    for i, ev in ctx.of_type("lvu_omhandertagande_beslutat"):
        if is_ordforandebeslut(ev):
            _days_frist(
                ctx,
                rule("E1"),
                i,
                ev,
                match=_omhandertagande_report(ev.data.get("beslut_id")),
                key_subject=subject_of(ev, "beslut_id"),
                policy_name="policy nasta_sammantrade_dagar",
            )
    for i, ev in ctx.of_type("lvu_forbud_beslutat"):
        if is_ordforandebeslut(ev) and ev.data.get("tillfalligt") is True:
            rid = "E11N" if ev.data["forbud"] == "flyttningsforbud" else "E12N"
            fid = str(ev.data["forbud_id"])
            _days_frist(
                ctx,
                rule(rid),
                i,
                ev,
                match=field_is("forbud_id", fid),
                key_subject=fid,
                policy_name="policy nasta_sammantrade_dagar",
            )


def _other_ordforande(ctx: Ctx) -> None:
    """E18: an ordförandebeslut recorded as such by its judgement (``delegation``) on a
    placement (LVU 11 § tredje st.; 2026:1600 6 kap. 2 §) or a ``beslut_fattat``."""
    r = rule("E18")
    for i, ev in ctx.triggers(r):
        if not is_ordforandebeslut(ev):
            continue
        field_name = "placering_id" if ev.type == "lvu_placering_paborjad" else "beslut_id"
        subject = subject_of(ev, field_name)
        _days_frist(
            ctx,
            r,
            i,
            ev,
            match=field_is(field_name, subject),
            key_subject=subject,
            policy_name="policy nasta_sammantrade_dagar",
        )


def _omhandertagande_report(bid: object) -> Pred:
    """An anmälan of an omhändertagande's ordförandebeslut (not of a förbud's or a
    placement's, E18)."""
    return lambda e: (
        e.data.get("forbud_id") is None
        and e.data.get("placering_id") is None
        and e.data.get("beslut_id") in (bid, None)
    )


def _bitrade(ctx: Ctx) -> None:
    """2026:1600 17 kap. 6 §: the need for an offentligt biträde is reported 'så snart'."""
    r = rule("E17")
    for i, ev in ctx.triggers(r):
        _days_frist(
            ctx,
            r,
            i,
            ev,
            match=any_event,
            key_subject=ev.idempotency_key,
            policy_name="policy offentligt_bitrade_dagar",
        )


# --- E3T: fortsatt omhändertagande för tillfällig vård -------------------------------------------


def _fortsatt_tillfallig_vard(ctx: Ctx) -> None:
    """At most two months per court decision (5 kap. 10 §); without a new ansökan before the end
    the omhändertagande ends (5 kap. 11 §; LVU 9 a § fjärde st., 9 b §)."""
    r = rule("E3T")
    for i, ev in ctx.triggers(r):
        subject = subject_of(ev, "beslut_id")
        trig = ev.legal_date
        bid = ev.data.get("beslut_id")
        done = first_after(
            ctx,
            i,
            (
                (("lvu_fortsatt_tillfallig_vard_ansokt",), field_is_or_unset("beslut_id", bid)),
                (("lvu_vard_upphort",), field_is_or_unset("beslut_id", bid)),
            ),
        )
        emit_from(ctx, r, ev, f"E3T:{subject}:{trig.isoformat()}", subject=subject, done=done)


# --- E10: umgänge och hemlighållande -------------------------------------------------------------


def _umgange(ctx: Ctx) -> None:
    """Reviewed at least every three months (LVU 14 § tredje st., 2026:1600 7 kap. 2 §)."""
    r = rule("E10")
    for i, ev in ctx.triggers(r):
        bid = str(ev.data["begransning_id"])
        mine = field_is("begransning_id", bid)
        cycles(
            ctx,
            r,
            ev,
            subject=bid,
            start_idx=i,
            trig=ev.legal_date,
            review=after(ctx, (("lvu_umgangesbegransning_provad",), mine)),
            end=after(
                ctx,
                (("lvu_umgangesbegransning_upphort",), mine),
                (("lvu_vard_upphort",), any_event),
            ),
            note=numbered_from,
        )


# --- E9: vårdnadsöverflyttning -------------------------------------------------------------------


def _other_placement(pid: str) -> Pred:
    return lambda e: e.data.get("placering_id") != pid


def _vardnadsoverflyttning(ctx: Ctx) -> None:
    """Two years in the same familjehem, then yearly (LVU 13 c §, 2026:1600 9 kap. 1 §).

    Counted on the anniversaries of the day the placement began (like D4), until the child is
    placed elsewhere or the care ends.
    """
    r = rule("E9")
    for i, ev in ctx.of_type("lvu_placering_paborjad"):
        if ev.data["placering"] != "familjehem":
            continue
        pid, start = str(ev.data["placering_id"]), ev.legal_date
        end = first_after(
            ctx,
            i,
            (
                (("lvu_placering_paborjad",), _other_placement(pid)),
                (("lvu_vard_upphort",), any_event),
            ),
        )
        anniversaries(
            ctx,
            r,
            ev,
            start_idx=i,
            subject=pid,
            end=end,
            done=(("lvu_vardnadsoverflyttning_overvagd",), field_is("placering_id", pid)),
            since=f"placeringens början {start}",
        )


# --- E11, E12: flyttningsförbud and utreseförbud -------------------------------------------------


def _forbud(ctx: Ctx) -> None:
    """Reviews of a förbud, the one-week underställning and the ansökan after fastställelse."""
    kinds: dict[str, str] = {}
    for i, ev in ctx.of_type("lvu_forbud_beslutat"):
        fid, kind = str(ev.data["forbud_id"]), str(ev.data["forbud"])
        kinds[fid] = kind
        mine = field_is("forbud_id", fid)
        ended = (("lvu_forbud_upphort",), mine)
        flytt = kind == "flyttningsforbud"
        if ev.data.get("tillfalligt") is True:
            r = rule("E11U" if flytt else "E12U")
            done = first_after(ctx, i, ((("lvu_forbud_understallt",), mine), ended))
            emit_from(
                ctx,
                r,
                ev,
                f"{r.id}:{fid}",
                subject=fid,
                done=done,
                notes=("sen överlämning: förbudet upphör",),
            )
            continue
        # the court's förbud: reviewed from the day it was decided (12 kap. 4 §, 13 kap. 4 §)
        cycles(
            ctx,
            rule("E11" if flytt else "E12"),
            ev,
            subject=fid,
            start_idx=i,
            trig=ev.legal_date,
            review=after(ctx, (("lvu_forbud_overvagt",), mine)),
            end=after(ctx, ended),
            note=numbered_from,
        )
    for i, ev in ctx.of_type("lvu_forbud_faststallt"):
        fid = str(ev.data["forbud_id"])
        r = rule("E11A" if kinds.get(fid) == "flyttningsforbud" else "E12A")
        mine = field_is("forbud_id", fid)
        done = first_after(
            ctx, i, ((("lvu_forbud_ansokt",), mine), (("lvu_forbud_upphort",), mine))
        )
        emit_from(ctx, r, ev, f"{r.id}:{fid}", subject=fid, done=done)


# --- E13: läkarundersökning, E14: vårdens slut ---------------------------------------------------


def _lakarundersokning(ctx: Ctx) -> None:
    """A läkarundersökning before an ansökan unless särskilda skäl (POL-LVU2027-E13)."""
    r = rule("E13")
    for i, ev in ctx.of_type("lvu_ansokan_inlamnad"):
        if ev.data.get("lakarundersokning_obehovlig") is True:
            continue
        before = [j for j, _ in ctx.of_type("lvu_lakarundersokning_genomford") if j < i]
        done = before[-1] if before else ctx.find(i + 1, r.fulfilled_by, any_event)
        subject = subject_of(ev, "beslut_id")
        emit(
            ctx,
            r,
            ev,
            f"E13:{subject}",
            subject=subject,
            trig=ev.legal_date,
            due=ev.legal_date,
            fulfilled=fulfilment(ctx, done),
        )


def _vardens_slut(ctx: Ctx) -> None:
    """Care ends at 18 (hem, anknytning) or 21 (eget beteende): 10 kap. 2 §, LVU 21 §.

    Only for a dom that states ``grund`` or is dated from 2027-01-01 (POL-LVU2027-E14), so a
    pre-2027 history computes the frister it always did.
    """
    r = rule("E14")
    born = birth_date(ctx)
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
        subject = subject_of(ev, "beslut_id")
        done = ctx.find(i + 1, r.fulfilled_by, any_event)
        emit(
            ctx,
            r,
            ev,
            f"E14:{subject}",
            subject=subject,
            trig=ev.legal_date,
            due=add_years(born, age),
            fulfilled=fulfilment(ctx, done),
            notes=tuple(notes),
            counted_from=born,
            period=unit_text(age, "years"),
        )


# The dom's paragraf values (domain.events) that include the eget-beteende ground (LVU 3 §,
# 2026:1600 3 kap. 3 §): compared exactly, never by substring.
_EGET_BETEENDE_PARAGRAFER = frozenset({"3", "2+3"})


# --- E16: förebyggande insatser enligt LVU 22 § (ÖB 5) -------------------------------------------


def _forebyggande(ctx: Ctx) -> None:
    """Prövning within six months, first from the decision (LVU 22 § tredje st.), kept by ÖB 5.

    The insats ends with an omedelbart omhändertagande or a dom granting care (LVU 23 §).
    """
    r = rule("E16")
    for i, ev in ctx.of_type("lvu_forebyggande_insats_beslutad"):
        iid = str(ev.data["insats_id"])
        mine = field_is("insats_id", iid)
        cycles(
            ctx,
            r,
            ev,
            subject=iid,
            start_idx=i,
            trig=ev.legal_date,
            review=after(ctx, (("lvu_forebyggande_insats_provad",), mine)),
            end=after(
                ctx,
                (("lvu_forebyggande_insats_upphort",), mine),
                (("lvu_omhandertagande_beslutat",), any_event),
                (("lvu_dom",), lambda e: lvu_care_ordered(e.data.get("utfall", ""))),
            ),
            note=numbered_from,
        )
