"""One pure function from a case's events to every frist (deadline) with its legal basis.

The workflow uses it to arm timers, the projections use it for reports, ``rules explain`` prints
it; nothing else in barnflow computes a due date.

(Foundation version: A1, A2 and B1. The rules-engine work extends the catalogue.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from domain.calendar import add_days, add_months
from domain.events import CaseEvent

OPEN = "open"
MET = "met"
MISSED = "missed"
OVERDUE = "overdue"
NEW_SOL_FROM = date(2025, 7, 1)


@dataclass(frozen=True)
class Frist:
    """One computed deadline of one case.

    ``key`` identifies the frist instance across recomputations (rule + subject id), so a timer
    that fired for it is never armed twice; ``due`` is the legal due date after any extension.
    """

    key: str
    rule: str
    name: str
    case_ref: str
    subject: str
    trigger_type: str
    trigger_date: date
    due: date
    original_due: date
    shifted_due: date | None
    status: str
    fulfilled_date: date | None
    law: str
    paragraph: str
    blocks_closing: bool
    alert_event: str = "frist_overskriden"

    def status_as_of(self, as_of: date) -> str:
        return _status(self.due, self.fulfilled_date, as_of)


def _status(due: date, fulfilled: date | None, as_of: date | None) -> str:
    if fulfilled is not None and (as_of is None or fulfilled <= as_of):
        return MET if fulfilled <= due else MISSED
    if as_of is not None and as_of > due:
        return OVERDUE
    return OPEN


def law_for(trigger: date) -> str:
    return "SoL 2025:400" if trigger >= NEW_SOL_FROM else "SoL 2001:453"


def compute_frister(events: Iterable[CaseEvent], as_of: date | None = None) -> list[Frist]:
    """Every frist of one case, with status as of ``as_of`` (``None``: as far as events tell)."""
    evs = sorted(events, key=lambda e: (e.legal_date, e.position or 0))
    if as_of is not None:
        evs = [e for e in evs if e.legal_date <= as_of]
    out: list[Frist] = []
    utredning_pending = False
    for ev in evs:
        d = ev.data
        if ev.type == "anmalan_mottagen":
            aid = str(d["anmalan_id"])
            trig = ev.legal_date
            skydd = _first(evs, "skyddsbedomning_gjord", "anmalan_id", aid)
            out.append(_frist("A1", "skyddsbedömning", ev, aid, trig, trig, skydd, as_of,
                              "11:1 a", "20:1", True))
            if not utredning_pending:
                due = add_days(trig, 14)
                ext = _last(evs, "forhandsbedomning_forlangd", "anmalan_id", aid)
                new_due = date.fromisoformat(ext.data["ny_slutdag"]) if ext else due
                done = _first(evs, "forhandsbedomning_beslutad", "anmalan_id", aid)
                out.append(_frist("A2", "förhandsbedömning", ev, aid, trig, new_due, done, as_of,
                                  "11:1 a", "20:2", True, original_due=due))
        elif ev.type == "utredning_inledd":
            uid = str(d["utredning_id"])
            utredning_pending = True
            trig = ev.legal_date
            due = add_months(trig, 4)
            ext = _last(evs, "utredning_forlangd", "utredning_id", uid)
            new_due = date.fromisoformat(ext.data["ny_slutdag"]) if ext else due
            done = _first(evs, "utredning_avslutad", "utredning_id", uid)
            out.append(_frist("B1", "utredning", ev, uid, trig, new_due, done, as_of,
                              "11:2", "20:3", True, original_due=due))
        elif ev.type == "utredning_avslutad":
            utredning_pending = False
    return out


def _first(evs: list[CaseEvent], etype: str, fld: str, value: str) -> CaseEvent | None:
    return next((e for e in evs if e.type == etype and e.data.get(fld) == value), None)


def _last(evs: list[CaseEvent], etype: str, fld: str, value: str) -> CaseEvent | None:
    found = [e for e in evs if e.type == etype and e.data.get(fld) == value]
    return found[-1] if found else None


def _frist(rule: str, name: str, ev: CaseEvent, subject: str, trig: date, due: date,
           done: CaseEvent | None, as_of: date | None, old_par: str, new_par: str,
           blocks: bool, original_due: date | None = None) -> Frist:
    law = law_for(trig)
    par = new_par if law == "SoL 2025:400" else old_par
    fulfilled = done.legal_date if done else None
    return Frist(
        key=f"{rule}:{subject}", rule=rule, name=name, case_ref=ev.case_ref, subject=subject,
        trigger_type=ev.type, trigger_date=trig, due=due, original_due=original_due or due,
        shifted_due=None, status=_status(due, fulfilled, as_of), fulfilled_date=fulfilled,
        law=law, paragraph=f"{par.split(':')[0]} kap. {par.split(':')[1]} §",
        blocks_closing=blocks,
    )
