"""EVB report duties (docs/domain.md §5.2, §5.3): when a gynnande beslut that is not
verkställt has to be reported to IVO, and in which quarter a report duty is new,
återrapporterad or ended.

The deadline engine's C2/C3 rules decide when a duty starts (the day after the 3-month mark of
the beslut or of an avbrott); the projections store these dates and the reports read them, so
the frister (C4) and the EVB report cannot count a duty differently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from domain.calendar import add_days, add_months
from domain.events import stored_kvartal
from domain.rules import rule

NY, ATERRAPPORT, VERKSTALLD, AVSLUTAT = "ny", "aterrapport", "verkstalld", "avslutat"
#: Waiting-time bands of the statistics to kommunfullmäktige, in months since the duty's start.
WAIT_BANDS = ("3-6", "6-12", ">12")


@dataclass(frozen=True)
class EvbDuty:
    """One report duty as seen at the end of a quarter."""

    since: date  # beslut date or avbrott date: what the waiting is counted from
    start: date  # first day the duty ran
    end: date | None  # verkställd/återupptagen/avslutat on or before the quarter's end
    end_kind: str | None
    avbrott: date | None


Span = tuple[date, date | None]


@dataclass(frozen=True)
class EvbBeslut:
    """What the duties of one gynnande beslut depend on (a ``beslut`` view row holds it)."""

    fattat: date
    gynnande: bool
    insats: str | None
    verkstalld: date | None
    avslutat: date | None
    avbrott: tuple[Span, ...] = ()  # (avbruten, återupptagen or None), in order


def _on_or_before(day: date | None, limit: date) -> date | None:
    return day if day is not None and day <= limit else None


def evb_duty_from(b: EvbBeslut) -> date | None:
    """The first day a report duty of this beslut runs (C2 or C3 missed), ``None`` if never."""
    if not b.gynnande or b.insats is None:
        return None
    out: date | None = None
    due = rule("C2").due_from(b.fattat)
    if b.verkstalld is None or b.verkstalld > due:
        out = add_days(due, 1)
    for start, end in b.avbrott:
        adue = rule("C3").due_from(start)
        if end is None or end > adue:
            cand = add_days(adue, 1)
            out = cand if out is None else min(out, cand)
    return out


def evb_duties(b: EvbBeslut, end: date) -> list[EvbDuty]:
    """The report duties of one beslut, judged with what had happened by ``end``.

    A duty runs from the day after the beslut's 3-month mark (C2) while it is not verkställt,
    and from the day after an avbrott's 3-month mark (C3) while the insats is not resumed; it
    ends on verkställighet, resumption or avslut.
    """
    if not b.gynnande or b.insats is None or b.fattat > end:
        return []
    ended = _on_or_before(b.avslutat, end)
    done = _on_or_before(b.verkstalld, end)
    out: list[EvbDuty] = []
    due = rule("C2").due_from(b.fattat)
    if b.verkstalld is None or b.verkstalld > due:
        stop, kind = (done, VERKSTALLD) if done else (ended, AVSLUTAT)
        out.append(EvbDuty(b.fattat, add_days(due, 1), stop, kind if stop else None, None))
    for since, a_end in b.avbrott:
        if since > end:
            continue
        resumed = _on_or_before(a_end, end)
        adue = rule("C3").due_from(since)
        if a_end is not None and a_end <= adue:
            continue
        stop, kind = (resumed, VERKSTALLD) if resumed else (ended, AVSLUTAT)
        out.append(EvbDuty(since, add_days(adue, 1), stop, kind if stop else None, since))
    return out


def quarter_status(duty: EvbDuty, q_start: date, q_end: date) -> str | None:
    """The duty's status in IVO's report for the quarter ``[q_start, q_end]``: ``ny`` the first
    quarter it runs, ``aterrapport`` after, ``verkstalld``/``avslutat`` the quarter it ends;
    ``None`` if it does not run in that quarter."""
    if duty.start > q_end or (duty.end is not None and duty.end < q_start):
        return None
    if duty.end is not None and duty.end_kind is not None:
        return duty.end_kind
    return ATERRAPPORT if duty.start < q_start else NY


def reported_for(kvartal_label: str, reported: Iterable[object]) -> bool:
    """Whether one of the ``evb_rapporterad`` quarters (as stored, any accepted spelling)
    is the quarter ``kvartal_label`` (``2026Q3``): the same reading as the C4 rule's."""
    return any(stored_kvartal(k) == kvartal_label for k in reported)


def wait_band(since: date, until: date) -> str:
    """The statistics' waiting band (``3-6``, ``6-12``, ``>12`` months) of a duty on ``until``."""
    if until <= add_months(since, 6):
        return WAIT_BANDS[0]
    return WAIT_BANDS[1] if until <= add_months(since, 12) else WAIT_BANDS[2]


def forhandsbedomning_in_time(mottagen: date, beslutad: date) -> bool:
    """Whether a förhandsbedömning was made within A2's 14 days of the anmälan (without
    förlängning: the statistic counts the statutory time)."""
    return beslutad <= rule("A2").due_from(mottagen)


def utredning_original_due(inledd: date) -> date:
    """B1's due date before any förlängning (what the utredningstider compare with)."""
    return rule("B1").due_from(inledd)
