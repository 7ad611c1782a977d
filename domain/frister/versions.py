"""Frist versions: what the deadline engine said about a case's frister on every as-of date.

A frist's due date, trigger or fulfilment can change when later events arrive (a förlängning, a
jourhem's utredning closing, a placement ending). The ``frister`` view stores each frist once per
interval in which ``compute_frister`` gives it unchanged, so a report as of any past date reads
what was legally true then without recomputing every case. Which events revise a frist and from
which day a frist is listed are rule knowledge, so they live here, beside the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.calendar import add_days, add_months
from domain.events import CaseEvent
from domain.frister.engine import compute_frister
from domain.frister.model import Frist
from domain.rules import RULES, KommunPolicy, Rule

#: Rules whose instances keep coming with time while nothing happens (EVB quarters, the
#: familjehem anniversaries under SoL and 2026:1600, IVO's yearly list): the catalogue's
#: time-driven recurrences. Their rows depend on the date asked about.
REPEATING_RULES = frozenset(
    r.id for r in RULES if r.recurrence in ("quarterly", "anniversary", "annual")
)
#: The rules whose duty changes on a day of its own (``LAW_DAYS``): the only ones whose frister
#: an as-of date before such a day can show otherwise than the events alone say.
LAW_RULES = frozenset(("A3", "D2", "D4", "E9"))
#: Anniversary rules (D4, E9): an unmet anniversary arms the next cycle once its due date passes.
ANNIVERSARY_RULES = frozenset(r.id for r in RULES if r.recurrence == "anniversary")


def _duty_changes(r: Rule) -> set[date]:
    """The days a version of ``r`` began to require something else (its first day, a new
    length or recurrence); a version that only renumbers the paragraph is not one."""
    versions = [v for v in r.versions() if v.since != date.min]
    return {
        v.since
        for i, v in enumerate(versions)
        if i == 0
        or (v.length, v.recurrence) != (versions[i - 1].length, versions[i - 1].recurrence)
    }


#: Days a version of a rule entered into force that can change a frist already listed, without
#: any event: its start, its citation, whether it is owed (POL-IKRAFT-PAGAENDE: the D4/E9
#: anniversaries under the three- and two-year rules, D2 and A3 from their first day). Every
#: interval of ``frist_versions`` is cut there, so each interval is one law.
LAW_DAYS = frozenset(d for r in RULES if r.id in LAW_RULES for d in _duty_changes(r))
#: Repeating frister are generated this far past a case's last event, and past the day they are
#: computed on (``generation_horizon``); a report as of a later date recomputes such a case
#: (``frister_until``), so the answer is exact for any date.
HORIZON_MONTHS = 12


def generation_horizon(last: date, today: date | None = None) -> date:
    """How far a case's repeating frister are generated: ``HORIZON_MONTHS`` past its last
    event, and when ``today`` (the day they are computed on) is given, at least to the end of
    the month ``HORIZON_MONTHS`` after it.

    Only the first bound made a case whose last event lay a year back recomputed by every
    report as of today (at a million events, 1,769 cases: most of the frister report's second).
    With the second, rows computed today answer every as-of date up to a year ahead, and the
    projection runner moves the horizon on before today reaches it (``projections.horizon``).
    The second bound is rounded up to a month's end so that two computations on different
    days of one month store the same rows (a rebuild equals the follower's views unless a month
    change falls between them), and it only ever adds rows: for any as-of date up to the
    horizon, the rows are what ``compute_frister`` says on that date, whichever bound won.
    """
    horizon = add_months(last, HORIZON_MONTHS)
    if today is None:
        return horizon
    ahead = add_months(today, HORIZON_MONTHS)
    month_end = add_days(add_months(date(ahead.year, ahead.month, 1), 1), -1)
    return max(horizon, month_end)


@dataclass
class FristVersion:
    """A frist as ``compute_frister`` gives it for every as-of date in ``[valid_from, valid_to)``.

    ``fulfilled_date`` may lie after ``valid_to``: status on a date only counts it from then.
    """

    frist: Frist
    valid_from: date
    valid_to: date | None


def _revising_dates(events: list[CaseEvent]) -> list[date]:
    """Legal dates of events that can change an earlier frist other than by meeting it.

    A förlängning moves a due date; for a jourhem placement a later utredning_avslutad moves D7's
    trigger; for familjehem a beslut_avslutat ends D4's anniversaries, and for an LVU familjehem
    placement another placement or the end of care ends E9's. Between two such dates,
    every frist is a plain function of dates (it starts on its trigger date, is met on its
    fulfilment date), so one ``compute_frister`` per interval reproduces every day in it.
    """
    insatser = {ev.data.get("insats") for ev in events if ev.type == "beslut_fattat"}
    revising = {"forhandsbedomning_forlangd", "utredning_forlangd"}
    if "jourhem" in insatser:
        revising.add("utredning_avslutad")
    if "familjehem" in insatser:
        revising.add("beslut_avslutat")
    if any(
        ev.type == "lvu_placering_paborjad" and ev.data.get("placering") == "familjehem"
        for ev in events
    ):
        # another placement or the end of care ends E9's anniversaries
        revising.update(("lvu_placering_paborjad", "lvu_vard_upphort"))
    return sorted({ev.legal_date for ev in events if ev.type in revising})


def _visible_from(frister: list[Frist], events: list[CaseEvent]) -> dict[str, date]:
    """The first as-of date on which ``compute_frister`` lists each frist (with trigger ≤ date).

    Usually its trigger date. Some rules count from an earlier date than the event that creates
    the frist: B1 from the ansökan (B2) or the continued utredning (B3) but only once the
    utredning is opened, F1/F2/E15 from an ending but only once the uppföljning starts, D7 from
    an utredning's end but only once the jourhem placement is verkställd, E6/E7 of a 2027 dom
    from the earlier verkställighet but only once the dom is given. A D4/E9 anniversary cycle
    after an unmet one is armed only once the previous due date has passed (the day after).
    """
    out = {f.key: f.trigger_date for f in frister}
    if not frister:
        return out
    created: dict[tuple[str, str], date] = {}
    for ev in events:
        t = ev.type
        if t == "utredning_inledd":
            created.setdefault(("B1", str(ev.data["utredning_id"])), ev.legal_date)
        elif t == "uppfoljning_inledd":
            uid = ev.data.get("uppfoljning_id")
            subject = str(uid) if uid is not None else ev.idempotency_key
            for rid in ("F1", "F2", "E15"):
                created.setdefault((rid, subject), ev.legal_date)
        elif t == "insats_verkstalld":
            created.setdefault(("D7", str(ev.data["beslut_id"])), ev.legal_date)
        elif t == "lvu_dom":
            # POL-LVU2027-E6E7-START: a 2027 dom's first övervägande counts from the earlier
            # verkställighet, but exists only once the dom does
            bid = ev.data.get("beslut_id")
            subject = str(bid) if bid is not None else ev.idempotency_key
            for rid in ("E6", "E7"):
                created.setdefault((rid, subject), ev.legal_date)
    for f in frister:
        made = created.get((f.rule, f.subject))
        if made is not None and made > out[f.key]:
            out[f.key] = made
    cycles = {f.key: f for f in frister if f.rule in ANNIVERSARY_RULES}
    numbered: dict[str, list[tuple[int, Frist]]] = {}
    for key, f in cycles.items():
        stem, _, n = key.rpartition(":")
        if n.isdigit():
            numbered.setdefault(stem, []).append((int(n), f))
    for chain in numbered.values():
        chain.sort(key=lambda x: x[0])
    for key, f in cycles.items():
        stem, _, n = key.rpartition(":")
        # the previous owed anniversary (an anniversary the law did not require has no key)
        earlier = [g for m, g in numbered.get(stem, ()) if n.isdigit() and m < int(n)]
        prev = earlier[-1] if earlier else None
        if (
            prev is not None
            and f.trigger_date == prev.due
            and (prev.fulfilled_date is None or prev.fulfilled_date > prev.due)
        ):
            out[key] = add_days(f.trigger_date, 1)
    return out


def _law_sensitive(final: list[Frist], events: list[CaseEvent]) -> bool:
    """Whether a law day (``LAW_DAYS``) can change one of the case's frister, so the intervals
    must be cut there; when not, one ``compute_frister`` less per law day inside the case's
    life (most cases: the rebuild computes every case's frister).

    Only A3, D2, D4 and E9 read the law in force on a day other than their trigger's
    (``ikraft.owed_from``, compared with ``as_of``). A3 and D2 grow with the events and
    ``as_of`` (an earlier as-of date sees a prefix of the events and emits nothing the later
    one does not), so when the last interval has none, no earlier interval had one. D4 and E9
    (anniversary cycles that a later event can end) are not argued that way: a case with a
    familjehem beslut or an LVU placement always keeps its law-day cuts.
    """
    if any(f.rule in LAW_RULES for f in final):
        return True
    return any(
        ev.type == "lvu_placering_paborjad"
        or (ev.type == "beslut_fattat" and ev.data.get("insats") == "familjehem")
        for ev in events
    )


def _same_version(a: Frist, b: Frist, start: date) -> bool:
    """Whether ``b`` (from a later interval starting ``start``) continues ``a`` unchanged."""
    if a.fulfilled_date != b.fulfilled_date and not (
        a.fulfilled_date is None and (b.fulfilled_date is None or b.fulfilled_date >= start)
    ):
        return False
    return (
        a.due == b.due
        and a.trigger_date == b.trigger_date
        and a.original_due == b.original_due
        and a.shifted_due == b.shifted_due
        and a.trigger_type == b.trigger_type
        and a.subject == b.subject
        and a.law == b.law
        and a.paragraph == b.paragraph
    )


def frist_versions(
    events: list[CaseEvent],
    until: date | None = None,
    *,
    policy: KommunPolicy | None = None,
    today: date | None = None,
) -> tuple[list[FristVersion], date | None]:
    """Every version of every frist of one case, and how far repeating frister were generated.

    ``until`` (default: ``generation_horizon`` of the last event and ``today``) bounds the
    repeating rules; the second value is ``None`` when the case has none (its rows are then
    complete for any date). ``policy`` is the kommun's (``compute_frister``'s default when
    ``None``).
    """
    if not events:
        return [], None
    last = max(ev.legal_date for ev in events)
    horizon = until or generation_horizon(last, today)
    first = min(ev.legal_date for ev in events)
    # the last interval's answer, computed first: it tells whether the law days matter
    final = compute_frister(events, as_of=horizon, policy=policy)
    law_days = {d for d in LAW_DAYS if first < d <= horizon}
    if law_days and not _law_sensitive(final, events):
        law_days = set()
    cuts = sorted({*_revising_dates(events), *law_days})
    chains: dict[str, list[FristVersion]] = {}
    repeating = False
    starts: list[date | None] = [None, *cuts]
    for j, start in enumerate(starts):
        stop = cuts[j] if j < len(cuts) else None
        frister = (
            final
            if stop is None
            else compute_frister(events, as_of=add_days(stop, -1), policy=policy)
        )
        visible = _visible_from(frister, events)
        if stop is None:
            repeating = _still_repeating(frister, last)
        for f in frister:
            lo = visible[f.key] if start is None else max(start, visible[f.key])
            if stop is not None and lo >= stop:
                continue  # never listed in this interval
            chain = chains.setdefault(f.key, [])
            prev = chain[-1] if chain else None
            if (
                prev is not None
                and start is not None
                and prev.valid_to == start
                and _same_version(prev.frist, f, start)
            ):
                prev.frist, prev.valid_to = f, stop
            else:
                chain.append(FristVersion(f, lo, stop))
    return [v for chain in chains.values() for v in chain], horizon if repeating else None


def _still_repeating(frister: list[Frist], last: date) -> bool:
    """Whether a repeating series may still produce instances after the generation horizon.

    A running series has an instance triggered after the case's last event (a quarter, a
    1 January, an anniversary after the horizon's start), or, for D4/E9, an anniversary not yet
    met (the next one comes once it passes). A series that ended (verkställd, avslutad) has not.
    """
    return any(
        f.rule in REPEATING_RULES
        and (f.trigger_date > last or (f.rule in ANNIVERSARY_RULES and f.fulfilled_date is None))
        for f in frister
    )


def visible_on(versions: list[FristVersion], as_of: date) -> list[Frist]:
    """The frister listed on ``as_of`` (what ``compute_frister`` said then, trigger ≤ as_of)."""
    return [
        v.frist
        for v in versions
        if v.valid_from <= as_of and (v.valid_to is None or v.valid_to > as_of)
    ]
