"""The parts of the quarterly page: a section is a chart with its tables beneath it, built from
one or more registered reports through a ``Context`` (which names where each figure comes from).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from projections.periods import Period, quarter
from projections.reports import ManyBuilder


@dataclass(frozen=True)
class Table:
    """A table beneath a chart: its caption, header labels, rows of display cells, and the
    command that prints the same figures (``source``), so a reader can check any of them."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    source: str


@dataclass(frozen=True)
class Chart:
    """A chart as SVG bytes and the sentence a screen reader (or an ``alt``) reads instead."""

    svg: bytes
    alt: str


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    lead: str
    chart: Chart
    tables: tuple[Table, ...]


@dataclass
class Context:
    """What a section builder reads from: the reports (``projections.reports.many``: one
    cursor), the kommun, the quarter (cut at ``as_of``) and the known-at time. ``report`` is the
    one way to a figure: the registered report, built (and masked) exactly as ``barnflow report
    NAME`` builds it, cached per period."""

    build: ManyBuilder
    kommun: str
    period: Period
    known_at: datetime | None
    _cache: dict[tuple[str, Period], dict[str, Any]] = field(default_factory=dict)

    def report(self, name: str, period: Period | None = None) -> dict[str, Any]:
        p = period or self.period
        key = (name, p)
        if key not in self._cache:
            self._cache[key] = self.build(name, p, None)
        return self._cache[key]

    def source(self, name: str, period: Period | None = None) -> str:
        """The command that prints report ``name`` for ``period`` (default: the page's)."""
        p = period or self.period
        known = f" --known-at {self.known_at.isoformat()}" if self.known_at else ""
        cut = "" if p.end == quarter(p.label).end else f" (t.o.m. {p.end.isoformat()})"
        return f"barnflow report {name} --kommun {self.kommun} --quarter {p.label}{known}{cut}"

    def quarters(self, count: int) -> list[Period]:
        """The ``count`` quarters ending with the page's, oldest first (earlier ones whole)."""
        out = [self.period]
        while len(out) < count:
            out.insert(0, out[0].previous())
        return out


SectionBuilder = Callable[[Context], Section]


class KvartalError(ValueError):
    """A bad quarter or as-of date: one line for the user."""


def page_period(quarter_text: str | None, as_of: date | None, today: date) -> Period:
    """The page's period: the quarter (``2026Q3``), cut at ``as_of`` when that falls inside it
    (the quarter so far). Without a quarter: the one containing ``as_of`` (or ``today``)."""
    from projections.periods import PeriodError, period_containing

    day = as_of or today
    text = quarter_text or period_containing("quarter", day)
    try:
        q = quarter(text)
    except PeriodError as exc:
        raise KvartalError(str(exc)) from None
    if as_of is None:
        return q
    if not q.start <= as_of <= q.end:
        raise KvartalError(
            f"--as-of: {as_of.isoformat()} is not in {q.label} "
            f"({q.start.isoformat()}–{q.end.isoformat()})"
        )
    return replace(q, end=as_of)
