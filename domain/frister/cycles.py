"""Frister that re-arm: chains of reviews (D3, E6, E7, E10, E11, E12, E16, N2) and yearly
anniversaries (D4, E9).

Every cycle gets its own key (``<rule>:<subject>:<n>``), so a workflow fires exactly one alert
per cycle. One loop per kind of clock, shared by the SoL, LVU and lag 2026:1600 / 2026:1637
rules, so a correction to how a chain ends or how far it runs (the as-of bound of issue #12)
holds for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from domain.events import CaseEvent
from domain.frister.context import Ctx, Finder, Match, emit, emit_from, fulfilment
from domain.frister.ikraft import ikraft_note, owed_from
from domain.rules import LawVersion, Rule, unit_text

#: A safety bound on the cycles of one chain (a 6-month chain of 400 cycles spans 200 years).
MAX_CYCLES = 400

#: How a cycle's note reads: from its number and its start.
NoteFormat = Callable[[int, date], str]


def numbered(n: int, _start: date) -> str:
    """``cykel n``: the note of D3, E6 and E7, as ``rules explain`` has always printed it."""
    return f"cykel {n}"


def numbered_from(n: int, start: date) -> str:
    """``cykel n från <start>``: the note of the reviews of lag 2026:1600 / 2026:1637 and the
    LVU reviews modelled with them (E10, E11, E12, E16, N2)."""
    return f"cykel {n} från {start}"


def cycles(
    ctx: Ctx,
    r: Rule,
    ev: CaseEvent,
    *,
    subject: str,
    start_idx: int,
    trig: date,
    review: Finder,
    end: Finder,
    note: NoteFormat,
    law_date: date | None = None,
) -> None:
    """A chain of cycles, each due ``r.length`` after its start, until the chain ends.

    The first cycle starts on ``trig``; each is met by the first ``review`` after the previous
    cycle's fulfilment (at first: after ``start_idx``), and the next one starts on that review's
    date. An ``end`` event that comes first meets the running cycle and ends the chain. Each
    cycle cites the law of its own start (POL-LVU2027-CYKEL): a cycle running on 2027-01-01
    keeps its LVU paragraph and due date, the next one cites lag 2026:1600. ``law_date`` (first
    cycle only) is the day whose law applies when it differs from ``trig``
    (POL-LVU2027-E6E7-START).
    """
    idx = start_idx
    for n in range(1, MAX_CYCLES):
        done = review(idx)
        stop = end(idx)
        hit = min((x for x in (done, stop) if x is not None), default=None)
        emit_from(
            ctx,
            r,
            ev,
            f"{r.id}:{subject}:{n}",
            subject=subject,
            done=hit,
            trig=trig,
            notes=(note(n, trig),),
            law_date=law_date if n == 1 else None,
        )
        if hit is None or hit == stop:
            return
        idx, trig = hit, ctx.evs[hit].legal_date


def anniversaries(
    ctx: Ctx,
    r: Rule,
    ev: CaseEvent,
    *,
    start_idx: int,
    subject: str,
    end: int | None,
    done: Match,
    since: str,
) -> None:
    """Considerations due on anniversaries of ``ev``, as the law in force requires them (D4, E9).

    Which anniversaries are owed depends on the version in force (``Rule.owes_anniversary``):
    from 2022-07-01 the 2nd, then every one; from 2021-03-01 the 3rd, then every one; from
    2003-07-01 the 3rd only. An anniversary is owed if the version in force on some day between
    the previous owed one (at first: the start) and it requires it (POL-IKRAFT-PAGAENDE,
    ``ikraft.owed_from``); its key counts years (``<rule>:<subject>:<years - 1>`` for a two-year
    rule), so the same anniversary has the same key under every version.

    Each cycle is met by the next ``done`` event or by ``end`` (the placement or care ended).
    One loop for both rules so the as-of bound of issue #12 holds for both: a cycle whose
    trigger lies after ``as_of`` is not shown, and none starts after the placement ended.
    """
    start = ev.legal_date
    versions = r.versions()
    firsts = [v.length or r.length for v in versions] or [r.length]
    last_change = max((v.since for v in versions), default=start)
    ended = ctx.evs[end].legal_date if end is not None else None
    base, idx = start, start_idx
    for years in range(min(firsts), min(firsts) + MAX_CYCLES):
        due = r.due_from(start, years)
        if ctx.transitions:
            law_day = owed_from(ctx, r, base, due, _owes(r, years))
        else:  # before issue #14: every anniversary from the rule's own length
            law_day = base if years >= r.length else None
        if law_day is None or (ctx.as_of is not None and law_day > ctx.as_of):
            if ended is not None and ended < due:
                return  # the placement ended before this anniversary: no later one is owed
            if years >= max(firsts) and due > ctx.horizon and due >= last_change:
                return  # no version can start requiring a later one before the horizon
            continue
        if ended is not None and ended < law_day:
            return  # the placement ended before the law required this consideration
        hit = ctx.find(idx + 1, done[0], done[1])
        if end is not None and (hit is None or end < hit):
            hit = end
        emit(
            ctx,
            r,
            ev,
            f"{r.id}:{subject}:{years - r.length + 1}",
            subject=subject,
            trig=law_day,
            due=due,
            fulfilled=fulfilment(ctx, hit),
            law_date=None if ctx.transitions else max(law_day, versions[-2].since),
            notes=(f"{years} år från {since}", *ikraft_note(law_day, base)),
            counted_from=start,
            period=unit_text(years, "years"),
        )
        if hit == end and end is not None:
            return
        if hit is None and due >= ctx.horizon:
            return
        if ctx.as_of is not None and due > ctx.as_of:
            return  # the next cycle starts on this anniversary, which lies after ``as_of``
        if ended is not None and ended < due:
            return  # the placement ended before the next cycle would start
        idx, base = (hit if hit is not None else idx), due


def _owes(r: Rule, years: int) -> Callable[[LawVersion], bool]:
    """Whether a version of ``r`` requires the consideration ``years`` after the start."""
    return lambda version: r.owes_anniversary(version, years)
