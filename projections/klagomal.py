"""Complaints (synpunkter och klagomål) and lex Sarah for the kvalitetsberättelse and the nämnd
(docs/reports.md "klagomal", "lex-sarah"; docs/law.md §14).

``summary`` is the one pure function the other reports call (the nämnd's quarterly report): the
figures of a kommun's complaints and lex Sarah rapporter for any period, from the events of the
record (``infra.persistence.kvalitet``), without case references. ``klagomal_report`` and
``lex_sarah_report`` are the two reports of ``projections.reports`` built on the same folds.

Counting rules (POL-KLAGOMAL-ANALYS): a complaint or rapport belongs to the period it came in
(its first event's legal date); its frister are judged as of ``as_of`` (the period's last day, or
an earlier day while the period runs), so one still open on that day is ``oppen`` or, past its
day, ``forsenad``; one answered counts its calendar days from the day it came in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from domain.calendar import legal_date
from domain.kvalitet import (
    AVSANDARE,
    AVSER,
    KLAGOMAL_KATEGORIER,
    SLAG,
    KvalitetEvent,
    KvalitetFrist,
    KvalitetState,
    fold_streams,
)
from domain.rules import DEFAULT_POLICY, KommunPolicy
from projections.stats import median, share

KLAGOMAL_COLUMNS = (
    "avsnitt",
    "grupp",
    "antal",
    "besvarade",
    "i_tid",
    "sena",
    "andel_i_tid",
    "median_dagar",
    "oppna",
    "forsenade",
)
LEX_SARAH_COLUMNS = (
    "arende_id",
    "enhet",
    "avser",
    "rapporterad",
    "utredning_startad",
    "ls1",
    "bedomd",
    "allvarligt",
    "ls2",
    "anmald_ivo",
    "ls3",
    "avslutad",
    "case_ref",
)


def _in(s: KvalitetState, flow: str, start: date, end: date) -> bool:
    return s.flow == flow and s.opened is not None and start <= s.opened <= end


def _kl1(s: KvalitetState, policy: KommunPolicy, as_of: date) -> KvalitetFrist:
    return s.frister(policy, as_of)[0]


def _measure(fr: Sequence[KvalitetFrist]) -> dict[str, Any]:
    """The figures of one group of complaints (their KL1 frister)."""
    answered = [f for f in fr if f.dagar is not None]
    in_time = sum(1 for f in fr if f.status == "i_tid")
    return {
        "antal": len(fr),
        "besvarade": len(answered),
        "i_tid": in_time,
        "sena": sum(1 for f in fr if f.status == "sen"),
        "andel_i_tid": share(in_time, len(answered)),
        "median_dagar": median([f.dagar for f in answered if f.dagar is not None]),
        "oppna": sum(1 for f in fr if f.status in ("oppen", "forsenad")),
        "forsenade": sum(1 for f in fr if f.status == "forsenad"),
    }


def _groups(
    states: Sequence[KvalitetState],
    policy: KommunPolicy,
    as_of: date,
    key: Callable[[KvalitetState], str],
    every: Sequence[str] = (),
) -> dict[str, dict[str, Any]]:
    """``_measure`` per value of ``key`` (every value of ``every`` present, then the others)."""
    by: dict[str, list[KvalitetFrist]] = {g: [] for g in every}
    for s in states:
        by.setdefault(key(s), []).append(_kl1(s, policy, as_of))
    return {g: _measure(by[g]) for g in [*every, *sorted(set(by) - set(every))]}


def _klagomal_figures(
    states: Sequence[KvalitetState], policy: KommunPolicy, as_of: date
) -> dict[str, Any]:
    def fact(name: str) -> Callable[[KvalitetState], str]:
        return lambda s: str(s.facts.get(name) or "okant")

    answered = [s for s in states if s.aterkopplat is not None and s.aterkopplat[0] <= as_of]
    return {
        "alla": _measure([_kl1(s, policy, as_of) for s in states]),
        "kategori": _groups(states, policy, as_of, fact("kategori"), KLAGOMAL_KATEGORIER),
        "enhet": _groups(states, policy, as_of, fact("enhet")),
        "avsandare": _groups(states, policy, as_of, fact("avsandare"), AVSANDARE),
        "slag": _groups(
            states, policy, as_of, lambda s: str(s.facts.get("slag") or "klagomal"), SLAG
        ),
        "utfall": dict(
            sorted(Counter(s.aterkopplat[1] for s in answered if s.aterkopplat).items())
        ),
        "atgarder": dict(
            sorted(Counter(a for s in states for d, a in s.atgarder if d <= as_of).items())
        ),
    }


def _lex_sarah_figures(
    states: Sequence[KvalitetState], policy: KommunPolicy, as_of: date
) -> dict[str, Any]:
    frister = [f for s in states for f in s.frister(policy, as_of)]
    per_rule = {
        rule: dict(Counter(f.status for f in frister if f.rule == rule))
        for rule in ("LS1", "LS2", "LS3")
    }
    judged = [s.bedomd for s in states if s.bedomd is not None and s.bedomd[0] <= as_of]
    days = [f.dagar for f in frister if f.rule == "LS2" and f.dagar is not None]
    return {
        "antal": len(states),
        "avser": {a: sum(1 for s in states if s.facts.get("avser") == a) for a in AVSER},
        "enhet": dict(sorted(Counter(str(s.facts.get("enhet")) for s in states).items())),
        "bedomda": len(judged),
        "allvarliga": sum(1 for j in judged if j[1]),
        "anmalda_ivo": sum(1 for s in states if s.anmald_ivo and s.anmald_ivo <= as_of),
        "avslutade": sum(1 for s in states if s.closed_on(as_of) is not None),
        "oppna": sum(1 for s in states if s.closed_on(as_of) is None),
        "median_dagar_till_bedomning": median(days),
        "frister": {
            rule: {k: counts.get(k, 0) for k in ("i_tid", "sen", "oppen", "forsenad")}
            for rule, counts in per_rule.items()
        },
    }


def summary(
    events: Iterable[KvalitetEvent],
    kommun: str,
    start: date,
    end: date,
    *,
    policy: KommunPolicy = DEFAULT_POLICY,
    as_of: date | None = None,
) -> dict[str, Any]:
    """The complaints and lex Sarah figures of ``kommun`` for ``start``..``end`` (legal dates,
    both included): what the nämnd's quarterly report and the kvalitetsberättelse show.

    ``events``: the kommun's complaints' and rapporter's events (``KvalitetStore.kommun_events``;
    other kommuner's are ignored); ``policy``: the kommun's (``klagomal_dagar`` and the lex
    Sarah days); ``as_of``: the day frister are judged on (default ``end``). Pure: no I/O, no
    clock, and no case_ref or free text in the answer, so it may be shown for any case.

    Returns ``{"kommun", "start", "end", "as_of", "klagomal": {...}, "lex_sarah": {...}}``:
    ``klagomal`` has ``alla`` and per ``kategori``, ``enhet``, ``avsandare`` and ``slag`` the
    counts ``antal, besvarade, i_tid, sena, andel_i_tid`` (of the answered), ``median_dagar``,
    ``oppna, forsenade``, plus ``utfall`` and ``atgarder`` counts; ``lex_sarah`` has counts by
    ``avser`` and ``enhet``, judged, allvarliga, anmälda, open, the median days to the bedömning
    and each frist's statuses (LS1-LS3).
    """
    day = as_of or end
    states = fold_streams(e for e in events if e.kommun == kommun)
    return {
        "kommun": kommun,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "as_of": day.isoformat(),
        "klagomal": _klagomal_figures(
            [s for s in states if _in(s, "klagomal", start, end)], policy, day
        ),
        "lex_sarah": _lex_sarah_figures(
            [s for s in states if _in(s, "lex_sarah", start, end)], policy, day
        ),
    }


def report_as_of(end: date, today: date, known_at: datetime | None) -> date:
    """The day a report's frister are judged on: the period's last day, or today (or the
    known-at day) while the period runs."""
    days = [end, today]
    if known_at is not None:
        days.append(legal_date(known_at))
    return min(days)


def klagomal_report(
    events: Iterable[KvalitetEvent],
    kommun: str,
    start: date,
    end: date,
    *,
    policy: KommunPolicy,
    as_of: date,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    """The ``klagomal`` report: the year's figures as rows (``avsnitt`` alla, kategori, enhet,
    avsandare, slag), the outcome and åtgärd counts, and every complaint still open on
    ``as_of`` (from any year) with its KL1 day."""
    states = fold_streams((e for e in events if e.kommun == kommun), known_at)
    year = [s for s in states if _in(s, "klagomal", start, end)]
    figures = _klagomal_figures(year, policy, as_of)
    rows = [{"avsnitt": "alla", "grupp": "alla", **figures["alla"]}]
    for section in ("kategori", "enhet", "avsandare", "slag"):
        rows += [{"avsnitt": section, "grupp": g, **m} for g, m in figures[section].items()]
    open_rows = []
    for s in states:
        if s.flow != "klagomal" or s.opened is None or s.opened > as_of:
            continue
        f = _kl1(s, policy, as_of)
        if f.status in ("oppen", "forsenad"):
            open_rows.append(
                {
                    "arende_id": s.arende_id,
                    "inkommet": f.trigger.isoformat(),
                    "sista_dag": f.due.isoformat(),
                    "status": f.status,
                    "kategori": s.facts.get("kategori"),
                    "enhet": s.facts.get("enhet"),
                    "case_ref": s.facts.get("case_ref"),
                }
            )
    return {
        "as_of": as_of.isoformat(),
        "frist_dagar": policy.klagomal_dagar,
        "rows": rows,
        "utfall": figures["utfall"],
        "atgarder": figures["atgarder"],
        "oppna": sorted(open_rows, key=lambda r: (r["sista_dag"], r["arende_id"])),
    }


def lex_sarah_report(
    events: Iterable[KvalitetEvent],
    kommun: str,
    start: date,
    end: date,
    *,
    policy: KommunPolicy,
    as_of: date,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    """The ``lex-sarah`` report: one row per rapport of the year with each step's day and each
    frist's status on ``as_of`` (LS3 only for an allvarligt missförhållande), and the summary."""
    states = fold_streams((e for e in events if e.kommun == kommun), known_at)
    year = [s for s in states if _in(s, "lex_sarah", start, end)]
    rows = []
    for s in year:
        fr = {f.rule: f for f in s.frister(policy, as_of)}
        judged = s.bedomd if s.bedomd and s.bedomd[0] <= as_of else None

        def iso(d: date | None) -> str | None:
            return d.isoformat() if d is not None and d <= as_of else None

        rows.append(
            {
                "arende_id": s.arende_id,
                "enhet": s.facts.get("enhet"),
                "avser": s.facts.get("avser"),
                "rapporterad": iso(s.opened),
                "utredning_startad": iso(s.utredning),
                "ls1": fr["LS1"].status,
                "bedomd": iso(judged[0] if judged else None),
                "allvarligt": judged[1] if judged else None,
                "ls2": fr["LS2"].status,
                "anmald_ivo": iso(s.anmald_ivo),
                "ls3": fr["LS3"].status if "LS3" in fr else None,
                "avslutad": iso(s.closed_on(as_of)),
                "case_ref": s.facts.get("case_ref"),
            }
        )
    return {
        "as_of": as_of.isoformat(),
        "frist_dagar": {
            "LS1": policy.lex_sarah_utredning_start_dagar,
            "LS2": policy.lex_sarah_utredning_dagar,
            "LS3": policy.lex_sarah_ivo_dagar,
        },
        "rows": rows,
        "summary": _lex_sarah_figures(year, policy, as_of),
    }
