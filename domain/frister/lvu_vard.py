"""E2, E3, E5, E6, E7: omhändertagande, the start of care and its övervägande under LVU
(1990:52) and, from 2027-01-01, lag 2026:1600 (docs/law.md §3, docs/law-2027.md).

E2, an omedelbart omhändertagande underställt within a week (LVU 7 §; 2026:1600 5 kap. 4 §,
6 § 1); E3, the ansökan om vård within four weeks of its verkställighet (LVU 8 §; 5 kap. 5 §,
6 § 2); E5, care started within four weeks of the dom's laga kraft, or of the dom when none is
recorded (LVU 5 §, 10 §; 6 kap. 4 § andra st.; policy ``e5_start``);
E6, övervägande of care on the hem ground every six months (LVU 13 § första st.; 8 kap. 2 §);
E7, prövning of care on the eget-beteende ground every six months (LVU 13 § andra st.;
8 kap. 3 §). The same functions compute both acts: which one a frist cites is the catalogue's
reading of its trigger date (POL-LVU2027-TRIGGER).
"""

from __future__ import annotations

from datetime import date

from domain.events import CaseEvent, lvu_care_ordered
from domain.frister.context import (
    Ctx,
    after,
    any_event,
    consume,
    emit_from,
    field_is,
    field_is_or_unset,
    field_not_in,
    subject_of,
)
from domain.frister.cycles import cycles, numbered
from domain.rules import LVU_NEW_FROM, rule

#: lvu_dom.grund -> the old LVU paragraph whose frister it has (E6: 2 §, E7: 3 §).
_GRUND_PARAGRAF = {"hem": "2", "anknytning": "2", "eget_beteende": "3"}


def frister(ctx: Ctx) -> None:
    """E2 and E3 per omhändertagande; E5, E6/E7 per dom granting vård."""
    for rid, etype in (
        ("E2", "lvu_omhandertagande_beslutat"),
        ("E3", "lvu_omhandertagande_verkstallt"),
    ):
        r = rule(rid)
        for i, ev in ctx.of_type(etype):
            if rid == "E3" and not _verkstaller_omedelbart(ctx, i):
                continue  # the verkställighet of a dom is E5's fulfilment, not a new E3
            subject = subject_of(ev, "beslut_id")
            done = consume(
                ctx,
                rid,
                i,
                r.fulfilled_by,
                field_is_or_unset("beslut_id", ev.data.get("beslut_id")),
            )
            emit_from(ctx, r, ev, f"{rid}:{subject}", subject=subject, done=done)
    for i, ev in ctx.of_type("lvu_dom"):
        if not lvu_care_ordered(ev.data.get("utfall", "")):
            continue
        _lvu_vard(ctx, i, ev, set(ctx.beslut))


def _verkstaller_omedelbart(ctx: Ctx, i: int) -> bool:
    """Whether the verkställighet at ``i`` is of an omedelbart omhändertagande (E3's start).

    LVU 8 § and 2026:1600 5 kap. 5 § run only from the verkställighet of an omedelbart
    omhändertagande; once a dom granting vård exists, a verkställighet carries out the dom
    (E5's fulfilment, 6 kap. 4 §). So the latest decision before ``i`` decides: a granted dom
    means no E3; an omhändertagande beslut, or no decision recorded at all, means E3.
    """
    for ev in reversed(ctx.evs[:i]):
        if ev.type == "lvu_omhandertagande_beslutat":
            return True
        if ev.type == "lvu_dom" and lvu_care_ordered(ev.data.get("utfall", "")):
            return False
    return True


def _vard_in_force(ctx: Ctx, i: int) -> bool:
    """Whether an omhändertagande was verkställt before event ``i`` and has not ended."""
    state = False
    for ev in ctx.evs[:i]:
        if ev.type == "lvu_omhandertagande_verkstallt":
            state = True
        elif ev.type == "lvu_vard_upphort":
            state = False
    return state


def _paborjad(ctx: Ctx, i: int) -> date | None:
    """The day the care in force at event ``i`` began: its first verkställighet (6 kap. 4 §)."""
    began: date | None = None
    for ev in ctx.evs[:i]:
        if ev.type == "lvu_omhandertagande_verkstallt" and began is None:
            began = ev.legal_date
        elif ev.type == "lvu_vard_upphort":
            began = None
    return began


def _lvu_vard(ctx: Ctx, i: int, ev: CaseEvent, sol_beslut: set[str]) -> None:
    """E5 for a dom granting vård, then E6 and/or E7 from the day care began."""
    r5 = rule("E5")
    subject = subject_of(ev, "beslut_id")
    trig = ev.legal_date
    bid = ev.data.get("beslut_id")
    if _vard_in_force(ctx, i):
        start_idx: int | None = i
        notes: tuple[str, ...] = ("barnet redan omhändertaget: vården började vid domen",)
    else:
        start_idx = ctx.find(i + 1, r5.fulfilled_by, field_is_or_unset("beslut_id", bid))
        notes = ()
    kraft = _laga_kraft(ctx, i, bid)
    e5_trig = kraft.legal_date if kraft is not None else trig
    emit_from(
        ctx,
        r5,
        ev,
        f"E5:{subject}",
        subject=subject,
        done=start_idx,
        trig=e5_trig,
        notes=(
            *notes,
            f"räknat från laga kraft {e5_trig}"
            if kraft is not None
            else "räknat från domsdagen (policy e5_start)",
        ),
    )
    if start_idx is None:
        return
    paragraf = ev.data.get("paragraf") or _GRUND_PARAGRAF.get(_grund(ctx, i, ev)) or "2"
    match = field_is("beslut_id", bid) if bid is not None else field_not_in("beslut_id", sol_beslut)
    first, law_date = ctx.evs[start_idx].legal_date, None
    new_law = ctx.law_on is None or ctx.law_on >= LVU_NEW_FROM  # rules preview: law of a day
    if start_idx == i and trig >= LVU_NEW_FROM and new_law:
        # 2026:1600 8 kap. 2-3 §§ count from "vården påbörjades" (6 kap. 4 §), which includes the
        # placement under the omedelbart omhändertagande; the dom's date chooses the law.
        began = _paborjad(ctx, i)
        if began is not None and began < trig:
            first, law_date = began, trig
    for rid, wanted in (("E6", "2"), ("E7", "3")):
        if wanted in str(paragraf):
            cycles(
                ctx,
                rule(rid),
                ev,
                subject=subject,
                start_idx=start_idx,
                trig=first,
                review=after(ctx, (("overvagande_genomfort",), match)),
                end=after(ctx, (("lvu_vard_upphort",), any_event)),
                note=numbered,
                law_date=law_date,
            )


def _grund(ctx: Ctx, i: int, ev: CaseEvent) -> str:
    """The dom's ground of 2026:1600 3 kap., else that of the latest ansökan before it."""
    if ev.data.get("grund"):
        return str(ev.data["grund"])
    asked = [e for j, e in ctx.of_type("lvu_ansokan_inlamnad") if j < i and e.data.get("grund")]
    return str(asked[-1].data["grund"]) if asked else ""


def _laga_kraft(ctx: Ctx, i: int, bid: object) -> CaseEvent | None:
    """The dom's laga kraft, when recorded (POL-LVU2027-E5-LAGA-KRAFT)."""
    idx = ctx.find(
        i + 1,
        ("lvu_laga_kraft",),
        lambda e: e.data.get("avser", "dom") == "dom" and e.data.get("beslut_id") in (bid, None),
    )
    return ctx.evs[idx] if idx is not None else None
