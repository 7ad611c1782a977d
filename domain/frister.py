"""One pure function from a case's events to every frist (deadline) with its legal basis.

The workflow uses it to arm timers, the projections use it for reports, ``rules explain`` prints
it; nothing else in barnflow computes a due date. Lengths, references and policies come from the
catalogue in ``domain.rules``; this module only decides which events start, extend and meet a
frist. Re-arming clocks (C4, D3, D4, D10, E6, E7) produce a new ``key`` per cycle so that a
workflow fires exactly one alert per key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from domain.calendar import STOCKHOLM, add_days, next_vardag
from domain.events import (
    EVENT_TYPES,
    PLACEMENT_INSATSER,
    SYSTEM_TYPES,
    CaseEvent,
    lvu_care_ordered,
    stored_kvartal,
)
from domain.rules import (
    DEFAULT_POLICY,
    LVU_NEW_FROM,
    NEW_SOL,
    NEW_SOL_FROM,
    OLD_SOL,
    RULES,
    KommunPolicy,
    Rule,
    rule,
)

OPEN = "open"
MET = "met"
MISSED = "missed"
OVERDUE = "overdue"

__all__ = [
    "MET",
    "MISSED",
    "NEW_SOL_FROM",
    "OPEN",
    "OVERDUE",
    "Frist",
    "compute_frister",
    "law_for",
]

_RULE_ORDER = {r.id: i for i, r in enumerate(RULES)}

_MAX_CYCLES = 400
_FOLLOWUP_GRUND = {
    "utredning_utan_insats": "F1",
    "placering_upphort": "F2",
    "lvu_upphort": "E15",
}


@dataclass(frozen=True)
class Frist:
    """One computed deadline of one case.

    ``key`` identifies the frist instance across recomputations (rule + subject id [+ cycle]), so
    a timer that fired for it is never armed twice; ``due`` is the legal due date after any valid
    extension, ``original_due`` the date before extensions, ``shifted_due`` the söndagsregel date
    when that policy is on and it differs. ``notes`` explain the computation (not compared).
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
    notes: tuple[str, ...] = field(default=(), compare=False)

    def status_as_of(self, as_of: date) -> str:
        return status_on(self.due, self.fulfilled_date, as_of)


def status_on(due: date, fulfilled: date | None, as_of: date | None) -> str:
    """Status from dates alone: met/missed once fulfilled, overdue after due, else open."""
    if fulfilled is not None and (as_of is None or fulfilled <= as_of):
        return MET if fulfilled <= due else MISSED
    if as_of is not None and as_of > due:
        return OVERDUE
    return OPEN


def law_for(trigger: date) -> str:
    """The SoL version in force on ``trigger`` (kept for callers that only need the act)."""
    return NEW_SOL if trigger >= NEW_SOL_FROM else OLD_SOL


# --- context and event helpers -------------------------------------------------------------------


@dataclass
class _Ctx:
    """What every rule function needs: the sorted events and the time-travel bounds."""

    evs: list[CaseEvent]
    as_of: date | None
    horizon: date
    policy: KommunPolicy
    case_ref: str
    law_on: date | None = None
    out: list[Frist] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    consumed: set[tuple[str, int]] = field(default_factory=set)

    def find(
        self, start: int, types: tuple[str, ...], pred: Callable[[CaseEvent], bool]
    ) -> int | None:
        """Index of the first event at or after ``start`` of one of ``types`` matching ``pred``."""
        for i in range(max(start, 0), len(self.evs)):
            ev = self.evs[i]
            if ev.type in types and pred(ev):
                return i
        return None

    def of_type(self, etype: str) -> list[tuple[int, CaseEvent]]:
        return list(self.by_type.get(etype, ()))

    def triggers(self, r: Rule) -> list[tuple[int, CaseEvent]]:
        """The events that start ``r``'s frister, in stream order: its catalogue
        ``trigger_types`` (so the catalogue, not a literal here, names them)."""
        found = [x for t in r.trigger_types for x in self.by_type.get(t, ())]
        return sorted(found, key=lambda x: x[0])

    def __post_init__(self) -> None:
        # Events by type, built once: rule functions ask for one type ~9 times per case.
        self.by_type: dict[str, list[tuple[int, CaseEvent]]] = {}
        for i, e in enumerate(self.evs):
            self.by_type.setdefault(e.type, []).append((i, e))


def _sort_key(ev: CaseEvent) -> tuple[Any, ...]:
    """A total order over events that depends only on their content (input order is irrelevant).

    ``occurred_at``, then the stored ``position``; a tie between events without a position (not
    stored yet: a preview, a test) goes by the event types' order in the case's life
    (``domain.events.EVENT_TYPES``: anmälan before skyddsbedömning, utredning_inledd before
    utredning_avslutad), then type name and key. A tie broken by type name alone put an
    utredning_avslutad stamped at the same instant as its utredning_inledd first, and B1 was
    never met. Stored events always carry a position, so this only orders unstored ones.
    """
    return (
        ev.occurred_at,
        ev.position if ev.position is not None else -1,
        _LIFECYCLE.get(ev.type, len(_LIFECYCLE)),
        ev.type,
        ev.idempotency_key,
    )


#: Each event type's place in a case's life, for ties of unstored events (``_sort_key``).
_LIFECYCLE: dict[str, int] = {t: i for i, t in enumerate(EVENT_TYPES)}


def _is(fld: str, value: object) -> Callable[[CaseEvent], bool]:
    """Match events whose ``data[fld]`` equals ``value``."""
    return lambda e: e.data.get(fld) == value


def _is_or_unset(fld: str, value: object) -> Callable[[CaseEvent], bool]:
    """Match events about ``value`` or about nothing in particular (optional id fields)."""
    return lambda e: e.data.get(fld) in (value, None)


def _not_in(fld: str, values: set[str]) -> Callable[[CaseEvent], bool]:
    """Match events whose ``data[fld]`` is none of ``values`` (e.g. not a SoL beslut)."""
    return lambda e: e.data.get(fld) not in values


def _any(_: CaseEvent) -> bool:
    return True


def _ends_followup(uid: object) -> Callable[[CaseEvent], bool]:
    """An uppföljning ends when it is closed or a new utredning starts (23:5, LVU 21 c §)."""
    return lambda e: e.type == "utredning_inledd" or e.data.get("uppfoljning_id") in (uid, None)


def _subject(ev: CaseEvent, fld: str) -> str:
    """The id a frist is about; events with an optional id fall back to their idempotency key."""
    value = ev.data.get(fld)
    return str(value) if value is not None else ev.idempotency_key


def _fulfilment(ctx: _Ctx, idx: int | None) -> date | None:
    return ctx.evs[idx].legal_date if idx is not None else None


def _emit(
    ctx: _Ctx,
    r: Rule,
    ev: CaseEvent,
    key: str,
    *,
    subject: str,
    trig: date,
    due: date,
    fulfilled: date | None,
    original_due: date | None = None,
    notes: tuple[str, ...] = (),
    trigger_type: str | None = None,
    law_date: date | None = None,
) -> Frist | None:
    """Build and record one frist unless the rule did not exist on ``trig`` or ``key`` repeats.

    ``law_date`` chooses the act when it is not the counting start (POL-LVU2027-E6E7-START);
    ``ctx.law_on`` applies the catalogue as it stood on that day (``rules preview``).
    """
    ref = r.law_for(law_date or trig, ctx.law_on)
    if ref is None or key in ctx.seen:
        return None
    shifted = next_vardag(due) if ctx.policy.sondagsregel_on(r.id) else None
    frist = Frist(
        key=key,
        rule=r.id,
        name=r.name,
        case_ref=ctx.case_ref,
        subject=subject,
        trigger_type=trigger_type or ev.type,
        trigger_date=trig,
        due=due,
        original_due=original_due or due,
        shifted_due=shifted if shifted != due else None,
        status=status_on(due, fulfilled, ctx.as_of),
        fulfilled_date=fulfilled,
        law=ref.law,
        paragraph=ref.paragraph,
        blocks_closing=r.blocks_closing,
        alert_event=r.alert_event,
        notes=notes,
    )
    ctx.seen.add(key)
    ctx.out.append(frist)
    return frist


def _extend(ctx: _Ctx, r: Rule, due: date, fld: str, subject: str) -> tuple[date, tuple[str, ...]]:
    """Apply ``r``'s förlängningar in order, as its ``ExtensionPolicy`` says: the catalogue's
    ``event_type``; with ``before_expiry`` one decided after the current due date does not
    extend; with ``stated_end`` the new due date is the stated ``ny_slutdag`` (the event
    contract requires it); without ``repeatable`` only the first förlängning counts."""
    ext_policy = r.extension
    if ext_policy is None:
        return due, ()
    notes: list[str] = []
    extended = False
    for _, ext in ctx.of_type(ext_policy.event_type):
        if ext.data.get(fld) != subject:
            continue
        new_due = date.fromisoformat(str(ext.data["ny_slutdag"]))
        if ext_policy.before_expiry and ext.legal_date > due:
            notes.append(
                f"förlängning {ext.legal_date} beslutad efter slutdagen {due}: förlänger inte"
            )
        elif new_due <= due:
            notes.append(f"förlängning {ext.legal_date} till {new_due} flyttar inte slutdagen")
        elif extended and not ext_policy.repeatable:
            notes.append(f"förlängning {ext.legal_date}: regeln medger en förlängning")
        else:
            notes.append(f"förlängd {ext.legal_date} till {new_due} ({ext.data.get('skal', '')})")
            due, extended = new_due, True
    return due, tuple(notes)


# --- A: intake -----------------------------------------------------------------------------------


def _intake(ctx: _Ctx) -> None:
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


def _a1(ctx: _Ctx, i: int, ev: CaseEvent) -> None:
    r, aid, trig = rule("A1"), str(ev.data["anmalan_id"]), ev.legal_date
    due = trig
    notes: tuple[str, ...] = ()
    late = ctx.policy.a1_nasta_dag_efter
    if late and ev.occurred_at.astimezone(STOCKHOLM).time() >= time.fromisoformat(late):
        due, notes = add_days(trig, 1), (f"anmälan efter {late}: nästa dag (policy)",)
    done = ctx.find(i, r.fulfilled_by, _is("anmalan_id", aid))
    _emit(
        ctx,
        r,
        ev,
        f"A1:{aid}",
        subject=aid,
        trig=trig,
        due=due,
        fulfilled=_fulfilment(ctx, done),
        notes=notes,
    )


def _a2(ctx: _Ctx, i: int, ev: CaseEvent) -> None:
    r, aid, trig = rule("A2"), str(ev.data["anmalan_id"]), ev.legal_date
    original = r.due_from(trig)
    due, notes = _extend(ctx, r, original, "anmalan_id", aid)
    done = ctx.find(i, r.fulfilled_by, _is("anmalan_id", aid))
    _emit(
        ctx,
        r,
        ev,
        f"A2:{aid}",
        subject=aid,
        trig=trig,
        due=due,
        fulfilled=_fulfilment(ctx, done),
        original_due=original,
        notes=notes,
    )


def _a3(ctx: _Ctx, i: int, ev: CaseEvent) -> None:
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
    r, trig = rule("A3"), ev.legal_date
    done = ctx.find(i, r.fulfilled_by, _is("anmalan_id", aid))
    _emit(
        ctx,
        r,
        ev,
        f"A3:{aid}",
        subject=aid,
        trig=trig,
        due=r.due_from(trig),
        fulfilled=_fulfilment(ctx, done),
        notes=() if asked else ("anmälarens begäran antas (policy a3_begaran)",),
    )


# --- B: utredning --------------------------------------------------------------------------------


def _utredningar(ctx: _Ctx) -> None:
    """B1 per utredning; B3 continuation keeps the start; B2 policy for ansökan-based ones."""
    starts: dict[str, date] = {}
    r = rule("B1")
    for i, ev in enumerate(ctx.evs):
        if ev.type != "utredning_inledd":
            continue
        uid = str(ev.data["utredning_id"])
        trig, notes = _utredning_start(ctx, i, ev, starts)
        starts.setdefault(uid, trig)
        original = r.due_from(trig)
        due, ext_notes = _extend(ctx, r, original, "utredning_id", uid)
        done = ctx.find(i, r.fulfilled_by, _is("utredning_id", uid))
        _emit(
            ctx,
            r,
            ev,
            f"B1:{uid}",
            subject=uid,
            trig=trig,
            due=due,
            fulfilled=_fulfilment(ctx, done),
            original_due=original,
            notes=notes + ext_notes,
        )


def _utredning_start(
    ctx: _Ctx, i: int, ev: CaseEvent, starts: dict[str, date]
) -> tuple[date, tuple[str, ...]]:
    trig = ev.legal_date
    prior = ev.data.get("fortsatter_utredning_id")
    if prior is not None and str(prior) in starts:
        first = starts[str(prior)]
        return min(first, trig), (f"B3: fortsätter utredning {prior}, startdag {first} behålls",)
    if ev.data.get("grund") == "ansokan":
        ans = _ansokan_for(ctx, i, ev)
        if ans is not None and ans < trig:
            return ans, (f"B2: ansökan kom in {ans} (policy b2_ansokan_start)",)
    return trig, ()


def _ansokan_for(ctx: _Ctx, i: int, ev: CaseEvent) -> date | None:
    wanted = ev.data.get("ansokan_id")
    found = [
        e.legal_date
        for j, e in ctx.of_type("ansokan_mottagen")
        if j < i and (wanted is None or e.data.get("ansokan_id") == wanted)
    ]
    return found[-1] if found else None


# --- C: beslut, verkställighet, EVB --------------------------------------------------------------


def _beslut(ctx: _Ctx) -> dict[str, tuple[int, CaseEvent]]:
    """First ``beslut_fattat`` per beslut_id (a repeat with the same id is the same decision)."""
    out: dict[str, tuple[int, CaseEvent]] = {}
    for i, ev in ctx.of_type("beslut_fattat"):
        out.setdefault(str(ev.data["beslut_id"]), (i, ev))
    return out


def _evb(ctx: _Ctx, beslut: dict[str, tuple[int, CaseEvent]]) -> None:
    """C2 per gynnande beslut with an insats, C3 per avbrott, then C4 per reporting quarter."""
    duties: dict[str, list[tuple[date, date | None]]] = {}
    c2 = rule("C2")
    for bid, (i, ev) in beslut.items():
        if ev.data.get("gynnande") is not True or not ev.data.get("insats"):
            continue
        trig = ev.legal_date
        done = ctx.find(i, c2.fulfilled_by, _is("beslut_id", bid))
        f = _emit(
            ctx,
            c2,
            ev,
            f"C2:{bid}",
            subject=bid,
            trig=trig,
            due=c2.due_from(trig),
            fulfilled=_fulfilment(ctx, done),
        )
        if f is not None:
            duties.setdefault(bid, []).append((f.due, f.fulfilled_date))
    c3 = rule("C3")
    for i, ev in ctx.triggers(c3):
        bid, trig = str(ev.data["beslut_id"]), ev.legal_date
        done = ctx.find(i + 1, c3.fulfilled_by, _is("beslut_id", bid))
        key = f"C3:{bid}:{trig.isoformat()}"
        f = _emit(
            ctx,
            c3,
            ev,
            key,
            subject=bid,
            trig=trig,
            due=c3.due_from(trig),
            fulfilled=_fulfilment(ctx, done),
        )
        if f is not None:
            duties.setdefault(bid, []).append((f.due, f.fulfilled_date))
    for bid, spans in duties.items():
        _c4(ctx, bid, beslut.get(bid), spans)


def _quarter(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def _next_quarter(q: tuple[int, int]) -> tuple[int, int]:
    return (q[0] + 1, 1) if q[1] == 4 else (q[0], q[1] + 1)


def ivo_window(year: int, quarter: int) -> tuple[date, date]:
    """IVO's reporting window for a quarter's EVB report (docs/domain.md §5.2): Q1 in April,
    Q2 in July–August, Q3 in October, Q4 in January of the next year."""
    if quarter == 4:
        return date(year + 1, 1, 1), date(year + 1, 1, 31)
    (sm, sd), (em, ed) = {1: ((4, 1), (4, 30)), 2: ((7, 1), (8, 31)), 3: ((10, 1), (10, 31))}[
        quarter
    ]
    return date(year, sm, sd), date(year, em, ed)


def ivo_window_of(day: date) -> tuple[date, date]:
    """IVO's reporting window for the EVB report of the quarter that contains ``day``."""
    return ivo_window(*_quarter(day))


def _window_end(q: tuple[int, int]) -> date:
    """Last day of IVO's reporting window for quarter ``q``."""
    return ivo_window(*q)[1]


def _c4(
    ctx: _Ctx,
    bid: str,
    origin: tuple[int, CaseEvent] | None,
    spans: list[tuple[date, date | None]],
) -> None:
    """One C4 frist per quarter in which a report duty (C2/C3 missed) was running."""
    quarters: dict[tuple[int, int], date] = {}
    for due, fulfilled in spans:
        if fulfilled is not None and fulfilled <= due:
            continue
        start = add_days(due, 1)
        end = fulfilled if fulfilled is not None else ctx.horizon
        q = _quarter(start)
        while start <= end and q <= _quarter(end):
            qstart = date(q[0], 3 * q[1] - 2, 1)
            quarters[q] = min(quarters.get(q, max(qstart, start)), max(qstart, start))
            q = _next_quarter(q)
    r = rule("C4")
    reports = ctx.of_type("evb_rapporterad")
    for q, trig in sorted(quarters.items()):
        label = f"{q[0]}Q{q[1]}"
        done = [
            e.legal_date
            for _, e in reports
            if e.data.get("beslut_id") == bid and stored_kvartal(e.data.get("kvartal")) == label
        ]
        ev = origin[1] if origin else ctx.evs[0]
        _emit(
            ctx,
            r,
            ev,
            f"C4:{bid}:{label}",
            subject=bid,
            trig=trig,
            due=_window_end(q),
            fulfilled=done[0] if done else None,
            trigger_type="evb_rapporteringsskyldighet_uppstod",
            notes=(f"rapportkvartal {label}",),
        )


# --- D: placement under SoL ----------------------------------------------------------------------


def _placements(ctx: _Ctx, beslut: dict[str, tuple[int, CaseEvent]]) -> None:
    """D2, D3, D4, D7 and D10 for every placement beslut."""
    for bid, (i, ev) in beslut.items():
        insats = ev.data.get("insats")
        if insats not in PLACEMENT_INSATSER or ev.data.get("gynnande") is not True:
            continue
        v_idx = ctx.find(i, ("insats_verkstalld",), _is("beslut_id", bid))
        _d3(ctx, bid, i, ev, v_idx)
        if v_idx is None:
            continue
        _d2(ctx, bid, v_idx)
        if insats == "familjehem":
            _d4(ctx, bid, v_idx)
            _d10(ctx, bid, v_idx)
        if insats == "jourhem":
            _d7(ctx, bid, i, ev, v_idx)


def _d2(ctx: _Ctx, bid: str, v_idx: int) -> None:
    r, ev = rule("D2"), ctx.evs[v_idx]
    trig = ev.legal_date
    # a revision, or the placement's end (beslut_avslutat always names its beslut)
    first = ctx.find(v_idx, r.fulfilled_by, _is_or_unset("beslut_id", bid))
    _emit(
        ctx,
        r,
        ev,
        f"D2:{bid}",
        subject=bid,
        trig=trig,
        due=r.due_from(trig),
        fulfilled=_fulfilment(ctx, first),
    )


def _rolling(
    ctx: _Ctx,
    r: Rule,
    ev: CaseEvent,
    *,
    subject: str,
    start_idx: int,
    trig: date,
    match: Callable[[CaseEvent], bool],
    terminator: tuple[str, Callable[[CaseEvent], bool]],
    law_date: date | None = None,
) -> None:
    """A chain of cycles: each due ``r.length`` after the previous fulfilment, until it ends.

    ``law_date`` (first cycle only) is the day whose law applies when it differs from ``trig``.
    """
    idx = start_idx
    end_type, end_pred = terminator
    for n in range(1, _MAX_CYCLES):
        done = ctx.find(idx + 1, ("overvagande_genomfort",), match)
        end = ctx.find(idx + 1, (end_type,), end_pred)
        hit = min((x for x in (done, end) if x is not None), default=None)
        _emit(
            ctx,
            r,
            ev,
            f"{r.id}:{subject}:{n}",
            subject=subject,
            trig=trig,
            due=r.due_from(trig),
            fulfilled=_fulfilment(ctx, hit),
            notes=(f"cykel {n}",),
            law_date=law_date if n == 1 else None,
        )
        if hit is None or hit == end:
            return
        idx, trig = hit, ctx.evs[hit].legal_date


def _d3(ctx: _Ctx, bid: str, i: int, ev: CaseEvent, v_idx: int | None) -> None:
    if ctx.policy.d3_start == "verkstallighet":
        if v_idx is None:
            return
        i, ev = v_idx, ctx.evs[v_idx]
    _rolling(
        ctx,
        rule("D3"),
        ev,
        subject=bid,
        start_idx=i,
        trig=ev.legal_date,
        match=_is("beslut_id", bid),
        terminator=("beslut_avslutat", _is("beslut_id", bid)),
    )


def _d4(ctx: _Ctx, bid: str, v_idx: int) -> None:
    """Anniversaries of verkställigheten: 2 years, then every year while the placement lasts."""
    ev = ctx.evs[v_idx]
    _anniversaries(
        ctx,
        rule("D4"),
        ev,
        start_idx=v_idx,
        subject=bid,
        end=ctx.find(v_idx, ("beslut_avslutat",), _is("beslut_id", bid)),
        done=(("vardnadsoverflyttning_overvagd",), _is("beslut_id", bid)),
        since=f"verkställighet {ev.legal_date}",
    )


def _anniversaries(
    ctx: _Ctx,
    r: Rule,
    ev: CaseEvent,
    *,
    start_idx: int,
    subject: str,
    end: int | None,
    done: tuple[tuple[str, ...], Callable[[CaseEvent], bool]],
    since: str,
) -> None:
    """Cycles due on the ``r.length``-th anniversary of ``ev``, then yearly (D4, E9).

    Each cycle is met by the next ``done`` event or by ``end`` (the placement or care ended).
    One loop for both rules so the as-of bound of issue #12 holds for both: a cycle whose
    trigger (the previous anniversary) lies after ``as_of`` is not shown, and none starts after
    the placement ended.
    """
    start = ev.legal_date
    trig, idx = start, start_idx
    for n in range(1, _MAX_CYCLES):
        due = r.due_from(start, r.length + n - 1)
        hit = ctx.find(idx + 1, done[0], done[1])
        if end is not None and (hit is None or end < hit):
            hit = end
        _emit(
            ctx,
            r,
            ev,
            f"{r.id}:{subject}:{n}",
            subject=subject,
            trig=trig,
            due=due,
            fulfilled=_fulfilment(ctx, hit),
            notes=(f"{r.length + n - 1} år från {since}",),
        )
        if hit == end and end is not None:
            return
        if hit is None and due >= ctx.horizon:
            return
        if ctx.as_of is not None and due > ctx.as_of:
            return  # the next cycle starts on this anniversary, which lies after ``as_of``
        if end is not None and ctx.evs[end].legal_date < due:
            return  # the placement ended before the next cycle would start
        idx, trig = (hit if hit is not None else idx), due


def _d7(ctx: _Ctx, bid: str, i: int, ev: CaseEvent, v_idx: int) -> None:
    """Jourhem: two months from the utredning's end (the one named, else the nearest)."""
    r = rule("D7")
    closes = ctx.of_type("utredning_avslutad")
    uid = ev.data.get("utredning_id")
    named = [(j, e) for j, e in closes if uid is not None and e.data.get("utredning_id") == uid]
    after = [(j, e) for j, e in closes if j > i]
    before = [(j, e) for j, e in closes if j < i]
    candidates = named or after or before[-1:]
    if not candidates:
        return
    j, close = candidates[0]
    end = ctx.find(v_idx, r.fulfilled_by, _is("beslut_id", bid))
    if end is not None and end < j:
        return
    trig = close.legal_date
    _emit(
        ctx,
        r,
        close,
        f"D7:{bid}",
        subject=bid,
        trig=trig,
        due=r.due_from(trig),
        fulfilled=_fulfilment(ctx, end),
    )


def _d10(ctx: _Ctx, bid: str, v_idx: int) -> None:
    """Yearly IVO list for children in familjehem at the start of the year (policy-gated)."""
    if not ctx.policy.d10_per_arende:
        return
    r, ev = rule("D10"), ctx.evs[v_idx]
    end_idx = ctx.find(v_idx, ("beslut_avslutat",), _is("beslut_id", bid))
    ended = _fulfilment(ctx, end_idx)
    year = ev.legal_date.year + 1
    while date(year, 1, 1) <= ctx.horizon and (ended is None or ended >= date(year, 1, 1)):
        trig = date(year, 1, 1)
        _emit(
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


# --- E: LVU --------------------------------------------------------------------------------------


def _lvu(ctx: _Ctx, beslut: dict[str, tuple[int, CaseEvent]]) -> None:
    """E2 and E3 per omhändertagande; E5, E6/E7 per dom granting vård."""
    for rid, etype in (
        ("E2", "lvu_omhandertagande_beslutat"),
        ("E3", "lvu_omhandertagande_verkstallt"),
    ):
        r = rule(rid)
        for i, ev in ctx.of_type(etype):
            if rid == "E3" and not _verkstaller_omedelbart(ctx, i):
                continue  # the verkställighet of a dom is E5's fulfilment, not a new E3
            subject = _subject(ev, "beslut_id")
            done = _consume(
                ctx, rid, i, r.fulfilled_by, _is_or_unset("beslut_id", ev.data.get("beslut_id"))
            )
            trig = ev.legal_date
            _emit(
                ctx,
                r,
                ev,
                f"{rid}:{subject}",
                subject=subject,
                trig=trig,
                due=r.due_from(trig),
                fulfilled=_fulfilment(ctx, done),
            )
    for i, ev in ctx.of_type("lvu_dom"):
        if not lvu_care_ordered(ev.data.get("utfall", "")):
            continue
        _lvu_vard(ctx, i, ev, set(beslut))


def _verkstaller_omedelbart(ctx: _Ctx, i: int) -> bool:
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


def _consume(
    ctx: _Ctx, rid: str, start: int, types: tuple[str, ...], pred: Callable[[CaseEvent], bool]
) -> int | None:
    """First unclaimed matching event after ``start``: id-less events pair first-in first-out."""
    idx = start
    while True:
        found = ctx.find(idx + 1, types, pred)
        if found is None or (rid, found) not in ctx.consumed:
            if found is not None:
                ctx.consumed.add((rid, found))
            return found
        idx = found


def _vard_in_force(ctx: _Ctx, i: int) -> bool:
    """Whether an omhändertagande was verkställt before event ``i`` and has not ended."""
    state = False
    for ev in ctx.evs[:i]:
        if ev.type == "lvu_omhandertagande_verkstallt":
            state = True
        elif ev.type == "lvu_vard_upphort":
            state = False
    return state


def _paborjad(ctx: _Ctx, i: int) -> date | None:
    """The day the care in force at event ``i`` began: its first verkställighet (6 kap. 4 §)."""
    began: date | None = None
    for ev in ctx.evs[:i]:
        if ev.type == "lvu_omhandertagande_verkstallt" and began is None:
            began = ev.legal_date
        elif ev.type == "lvu_vard_upphort":
            began = None
    return began


def _lvu_vard(ctx: _Ctx, i: int, ev: CaseEvent, sol_beslut: set[str]) -> None:
    r5 = rule("E5")
    subject = _subject(ev, "beslut_id")
    trig = ev.legal_date
    bid = ev.data.get("beslut_id")
    if _vard_in_force(ctx, i):
        start_idx: int | None = i
        notes: tuple[str, ...] = ("barnet redan omhändertaget: vården började vid domen",)
    else:
        start_idx = ctx.find(i + 1, r5.fulfilled_by, _is_or_unset("beslut_id", bid))
        notes = ()
    kraft = _laga_kraft(ctx, i, bid)
    e5_trig = kraft.legal_date if kraft is not None else trig
    _emit(
        ctx,
        r5,
        ev,
        f"E5:{subject}",
        subject=subject,
        trig=e5_trig,
        due=r5.due_from(e5_trig),
        fulfilled=_fulfilment(ctx, start_idx),
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
    match = _is("beslut_id", bid) if bid is not None else _not_in("beslut_id", sol_beslut)
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
            _rolling(
                ctx,
                rule(rid),
                ev,
                subject=subject,
                start_idx=start_idx,
                trig=first,
                match=match,
                terminator=("lvu_vard_upphort", _any),
                law_date=law_date,
            )


def _lvu_2027(ctx: _Ctx) -> None:
    """The lag 2026:1600 / 2026:1637 frister, in their own module (imported at the end of this
    one, because it builds on the helpers here; eager so the workflow sandbox never imports)."""
    _lvu2027.lvu_2027(ctx)


#: lvu_dom.grund -> the old LVU paragraph whose frister it has (E6: 2 §, E7: 3 §).
_GRUND_PARAGRAF = {"hem": "2", "anknytning": "2", "eget_beteende": "3"}


def _grund(ctx: _Ctx, i: int, ev: CaseEvent) -> str:
    """The dom's ground of 2026:1600 3 kap., else that of the latest ansökan before it."""
    if ev.data.get("grund"):
        return str(ev.data["grund"])
    asked = [e for j, e in ctx.of_type("lvu_ansokan_inlamnad") if j < i and e.data.get("grund")]
    return str(asked[-1].data["grund"]) if asked else ""


def _laga_kraft(ctx: _Ctx, i: int, bid: object) -> CaseEvent | None:
    """The dom's laga kraft, when recorded (POL-LVU2027-E5-LAGA-KRAFT)."""
    idx = ctx.find(
        i + 1,
        ("lvu_laga_kraft",),
        lambda e: e.data.get("avser", "dom") == "dom" and e.data.get("beslut_id") in (bid, None),
    )
    return ctx.evs[idx] if idx is not None else None


# --- F / E15: uppföljning, K1: klagomål ----------------------------------------------------------


def _followups(ctx: _Ctx, beslut: dict[str, tuple[int, CaseEvent]]) -> None:
    """F1, F2 or E15 per uppföljning, decided by ``grund`` or the latest preceding ending."""
    placements = {b for b, (_, e) in beslut.items() if e.data.get("insats") in PLACEMENT_INSATSER}
    for i, ev in ctx.of_type("uppfoljning_inledd"):
        rid, ref, note = _followup_basis(ctx, i, ev, placements)
        r = rule(rid)
        length = r.length
        if rid != "E15" and ref < NEW_SOL_FROM:
            length = ctx.policy.uppfoljning_gammal_sol_manader
            note += f"; gamla SoL: {length} månader (policy)"
        uid = ev.data.get("uppfoljning_id")
        subject = _subject(ev, "uppfoljning_id")
        done = ctx.find(i + 1, r.fulfilled_by, _ends_followup(uid))
        _emit(
            ctx,
            r,
            ev,
            f"{rid}:{subject}",
            subject=subject,
            trig=ref,
            due=r.due_from(ref, length),
            fulfilled=_fulfilment(ctx, done),
            notes=(note,),
        )


def _followup_basis(
    ctx: _Ctx, i: int, ev: CaseEvent, placements: set[str]
) -> tuple[str, date, str]:
    endings: list[tuple[int, str]] = []
    for j, e in enumerate(ctx.evs[:i]):
        if e.type == "lvu_vard_upphort":
            endings.append((j, "E15"))
        elif e.type == "beslut_avslutat" and e.data.get("beslut_id") in placements:
            endings.append((j, "F2"))
        elif e.type == "utredning_avslutad":
            endings.append((j, "F1"))
    grund = str(ev.data.get("grund", ""))
    rid = _FOLLOWUP_GRUND.get(grund) or (endings[-1][1] if endings else "F1")
    if rid == "E15":
        return rid, ev.legal_date, "E15: från uppföljningens start"
    refs = [j for j, kind in endings if kind == rid]
    if not refs:
        return rid, ev.legal_date, f"{rid}: inget avslut hittat, räknat från uppföljningens start"
    ref = ctx.evs[refs[-1]].legal_date
    return rid, ref, f"{rid}: från {ctx.evs[refs[-1]].type} {ref}"


def _klagomal(ctx: _Ctx) -> None:
    r, days = rule("K1"), ctx.policy.klagomal_dagar
    for i, ev in ctx.triggers(r):
        subject = _subject(ev, "klagomal_id")
        done = _consume(
            ctx, "K1", i, r.fulfilled_by, _is_or_unset("klagomal_id", ev.data.get("klagomal_id"))
        )
        trig = ev.legal_date
        _emit(
            ctx,
            r,
            ev,
            f"K1:{subject}",
            subject=subject,
            trig=trig,
            due=r.due_from(trig, days),
            fulfilled=_fulfilment(ctx, done),
            notes=(f"{days} dagar (kommun-policy)",),
        )


# --- entry point ---------------------------------------------------------------------------------


def compute_frister(
    events: Iterable[CaseEvent],
    as_of: date | None = None,
    *,
    policy: KommunPolicy | None = None,
    law_on: date | None = None,
) -> list[Frist]:
    """Every frist of one case, with status as of ``as_of`` (``None``: as far as events tell).

    ``law_on`` (default: each trigger's own date decides) applies the rules catalogue as it
    stood on that day, so a caller can ask what a case's frister were before a change of law.

    Events dated after ``as_of`` are ignored (time travel) and system events
    (``frist_overskriden``, ``evb_rapporteringsskyldighet_uppstod``) never start or meet a frist.
    The result is sorted by trigger date, catalogue order and key, whatever the input order.
    """
    evs = sorted((e for e in events if e.type not in SYSTEM_TYPES), key=_sort_key)
    if as_of is not None:
        evs = [e for e in evs if e.legal_date <= as_of]
    if not evs:
        return []
    horizon = as_of if as_of is not None else evs[-1].legal_date
    ctx = _Ctx(evs, as_of, horizon, policy or DEFAULT_POLICY, evs[0].case_ref, law_on)
    beslut = _beslut(ctx)
    _intake(ctx)
    _utredningar(ctx)
    _evb(ctx, beslut)
    _placements(ctx, beslut)
    _lvu(ctx, beslut)
    _lvu_2027(ctx)
    _followups(ctx, beslut)
    _klagomal(ctx)
    return sorted(ctx.out, key=lambda f: (f.trigger_date, _RULE_ORDER[f.rule], f.key))


# Last: domain.frister_lvu2027 imports the helpers above (a cycle that is safe in either order).
from domain import frister_lvu2027 as _lvu2027  # noqa: E402
