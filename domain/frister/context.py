"""What every chapter module of the deadline engine builds on: one case's sorted events
(``Ctx``), event matchers, and ``emit``, the one place a ``Frist`` is made.

``emit`` asks the catalogue (``domain.rules``) which act and paragraph a rule cites on the
counting day, so no chapter module names a paragraph itself; ``emit_extendable`` applies a
rule's förlängningar as its ``ExtensionPolicy`` says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from domain.calendar import next_vardag
from domain.events import CaseEvent
from domain.frister.model import Frist, status_on
from domain.rules import KommunPolicy, Rule

#: Whether an event is one a frist is looking for.
Pred = Callable[[CaseEvent], bool]
#: Event types and a predicate: the events that meet or end a frist.
Match = tuple[tuple[str, ...], Pred]
#: The index of the first wanted event after a given index, if any.
Finder = Callable[[int], int | None]


@dataclass
class Ctx:
    """What every rule function needs: the sorted events and the time-travel bounds.

    ``out`` collects the frister; ``seen`` keeps a key from being emitted twice; ``consumed``
    pairs id-less fulfilments with their triggers first-in first-out (``consume``).
    """

    evs: list[CaseEvent]
    as_of: date | None
    horizon: date
    policy: KommunPolicy
    case_ref: str
    law_on: date | None = None
    #: POL-IKRAFT-PAGAENDE and POL-A3-GENAST applied (``compute_frister(transitions=...)``).
    transitions: bool = True
    out: list[Frist] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    consumed: set[tuple[str, int]] = field(default_factory=set)
    #: Beslut another kommun made before this kommun received the ärende: they get no EVB
    #: frister here (POL-OVERFLYTTNING-EVB, ``domain.case_transfer.decided_elsewhere``).
    decided_elsewhere: frozenset[str] = frozenset()

    def find(self, start: int, types: tuple[str, ...], pred: Pred) -> int | None:
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
        types = r.trigger_types
        if len(types) == 1:  # one type's list is in stream order already
            return list(self.by_type.get(types[0], ()))
        found = [x for t in types for x in self.by_type.get(t, ())]
        return sorted(found, key=lambda x: x[0])

    def __post_init__(self) -> None:
        # Events by type, built once: rule functions ask for one type ~9 times per case.
        self.by_type: dict[str, list[tuple[int, CaseEvent]]] = {}
        for i, e in enumerate(self.evs):
            self.by_type.setdefault(e.type, []).append((i, e))
        # The first ``beslut_fattat`` per beslut_id (a repeat with the same id is the same
        # decision): the C, D, E and F rules all ask which decisions the case has.
        self.beslut: dict[str, tuple[int, CaseEvent]] = {}
        for i, ev in self.by_type.get("beslut_fattat", ()):
            self.beslut.setdefault(str(ev.data["beslut_id"]), (i, ev))


def field_is(fld: str, value: object) -> Pred:
    """Match events whose ``data[fld]`` equals ``value``."""
    return lambda e: e.data.get(fld) == value


def field_is_or_unset(fld: str, value: object) -> Pred:
    """Match events about ``value`` or about nothing in particular (optional id fields)."""
    return lambda e: e.data.get(fld) in (value, None)


def field_not_in(fld: str, values: set[str]) -> Pred:
    """Match events whose ``data[fld]`` is none of ``values`` (e.g. not a SoL beslut)."""
    return lambda e: e.data.get(fld) not in values


def any_event(_: CaseEvent) -> bool:
    """Match every event of the wanted types."""
    return True


def subject_of(ev: CaseEvent, fld: str) -> str:
    """The id a frist is about; events with an optional id fall back to their idempotency key."""
    value = ev.data.get(fld)
    return str(value) if value is not None else ev.idempotency_key


def fulfilment(ctx: Ctx, idx: int | None) -> date | None:
    """The legal date of the event at ``idx`` (the frist's fulfilment), if there is one."""
    return ctx.evs[idx].legal_date if idx is not None else None


def first_after(ctx: Ctx, idx: int, matches: tuple[Match, ...]) -> int | None:
    """The earliest event after ``idx`` that matches any (types, predicate) pair."""
    found = [ctx.find(idx + 1, types, pred) for types, pred in matches]
    return min((f for f in found if f is not None), default=None)


def after(ctx: Ctx, *matches: Match) -> Finder:
    """A ``Finder`` of the earliest event after an index that matches any of ``matches``."""
    return lambda idx: first_after(ctx, idx, matches)


def consume(ctx: Ctx, rid: str, start: int, types: tuple[str, ...], pred: Pred) -> int | None:
    """First unclaimed matching event after ``start``: id-less events pair first-in first-out."""
    idx = start
    while True:
        found = ctx.find(idx + 1, types, pred)
        if found is None or (rid, found) not in ctx.consumed:
            if found is not None:
                ctx.consumed.add((rid, found))
            return found
        idx = found


def emit(
    ctx: Ctx,
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
    counted_from: date | None = None,
    period: str | None = None,
) -> Frist | None:
    """Build and record one frist unless the rule did not exist on ``trig`` or ``key`` repeats.

    ``law_date`` chooses the act when it is not the counting start (POL-LVU2027-E6E7-START);
    ``ctx.law_on`` applies the catalogue as it stood on that day (``rules preview``).
    ``counted_from`` (default ``trig``) and ``period`` (default the rule's length) are what
    ``original_due`` was computed from, for the frist's ``arithmetic``.
    """
    ref = r.law_for(law_date or trig, ctx.law_on)
    if ref is None or key in ctx.seen:
        return None
    shifted = next_vardag(due) if ctx.policy.sondagsregel_on(r.id) else None
    base = counted_from or trig
    # (``isoformat`` is ``str`` of a date, without ``format``'s detour)
    sum_text = (
        f"{base.isoformat()} + {period or r.length_text()} = {(original_due or due).isoformat()}"
    )
    # ``Frist(...)`` field for field, without the frozen dataclass's ``object.__setattr__`` per
    # field (a rebuild makes every frist of every case; ``test_emit_builds_what_frist_init_does``)
    frist = object.__new__(Frist)
    frist.__dict__.update(
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
        arithmetic=sum_text,
    )
    ctx.seen.add(key)
    ctx.out.append(frist)
    return frist


def emit_from(
    ctx: Ctx,
    r: Rule,
    ev: CaseEvent,
    key: str,
    *,
    subject: str,
    done: int | None,
    trig: date | None = None,
    length: int | None = None,
    notes: tuple[str, ...] = (),
    law_date: date | None = None,
) -> Frist | None:
    """``emit`` for the common case: due ``r.length`` (or ``length``) after ``trig`` (default:
    ``ev``'s legal date), met by the event at index ``done`` (``None``: not met)."""
    start = trig or ev.legal_date
    return emit(
        ctx,
        r,
        ev,
        key,
        subject=subject,
        trig=start,
        due=r.due_from(start, length),
        fulfilled=fulfilment(ctx, done),
        notes=notes,
        law_date=law_date,
        period=r.length_text(length),
    )


def emit_extendable(
    ctx: Ctx,
    r: Rule,
    i: int,
    ev: CaseEvent,
    *,
    fld: str,
    subject: str,
    trig: date,
    notes: tuple[str, ...] = (),
) -> None:
    """A frist due ``r.length`` after ``trig`` that the rule's förlängningar about ``subject``
    (``data[fld]``) may move (A2, B1), met by the first fulfilment about it from event ``i``."""
    original = r.due_from(trig)
    due, ext_notes = _extend(ctx, r, original, fld, subject)
    done = ctx.find(i, r.fulfilled_by, field_is(fld, subject))
    emit(
        ctx,
        r,
        ev,
        f"{r.id}:{subject}",
        subject=subject,
        trig=trig,
        due=due,
        fulfilled=fulfilment(ctx, done),
        original_due=original,
        notes=notes + ext_notes,
    )


def _extend(ctx: Ctx, r: Rule, due: date, fld: str, subject: str) -> tuple[date, tuple[str, ...]]:
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


def birth_date(ctx: Ctx) -> date | None:
    """The child's fodelsedatum from the latest event that names the child (the personnummer's
    or the temporary id's date, kept by redaction): every age is computed from it."""
    born: str | None = None
    for ev in ctx.evs:
        barn = ev.data.get("barn")
        if isinstance(barn, dict) and barn.get("fodelsedatum"):
            born = str(barn["fodelsedatum"])
    return date.fromisoformat(born) if born else None
