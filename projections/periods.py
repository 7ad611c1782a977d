"""Report periods: a legal date, a quarter (2026Q2), a half-year (2026H1), a month (2026-03) or a
year (2026).

A period is a closed range of Europe/Stockholm legal dates; a report "as of" a period is computed
from what had happened by its last day.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from domain.events import stored_kvartal
from domain.frister import ivo_window_of

KINDS = ("as_of", "quarter", "half", "month", "year")
_HALF = re.compile(r"^(\d{4})H([12])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(ValueError):
    """A period option is malformed; the message says what was expected."""


@dataclass(frozen=True)
class Period:
    kind: str
    label: str
    start: date
    end: date

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        if self.kind == "quarter":
            y, q = self.start.year, (self.start.month - 1) // 3 + 1
            return quarter(f"{y - 1}Q4" if q == 1 else f"{y}Q{q - 1}")
        raise PeriodError(f"no previous period for {self.kind}")


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def as_of(text: str | date) -> Period:
    if isinstance(text, date):
        day = text
    else:
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise PeriodError(f"--as-of: not a date (YYYY-MM-DD): {text!r}") from exc
    return Period("as_of", day.isoformat(), day, day)


def quarter(text: str) -> Period:
    """A quarter through the event contract's one parser (``2026Q2``, ``Q2 2026``, ``2026-q2``…),
    so a report is asked for a quarter exactly as an ``evb_rapporterad`` names one."""
    label = stored_kvartal(text)
    if label is None:
        raise PeriodError(f"--quarter: expected e.g. 2026Q2, got {text!r}")
    year, q = int(label[:4]), int(label[5])
    return Period("quarter", f"{year}Q{q}", date(year, 3 * q - 2, 1), _last_day(year, 3 * q))


def half(text: str) -> Period:
    m = _HALF.match(text.strip().upper())
    if not m:
        raise PeriodError(f"--half: expected e.g. 2026H1, got {text!r}")
    year, h = int(m.group(1)), int(m.group(2))
    return Period("half", f"{year}H{h}", date(year, 6 * h - 5, 1), _last_day(year, 6 * h))


def month(text: str) -> Period:
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise PeriodError(f"--month: expected e.g. 2026-03, got {text!r}")
    year, mon = int(m.group(1)), int(m.group(2))
    return Period("month", f"{year}-{mon:02d}", date(year, mon, 1), _last_day(year, mon))


def year(text: str) -> Period:
    """A calendar year (``2026``): the yearly statistics (``avvikningar``)."""
    m = _YEAR.match(text.strip())
    if not m:
        raise PeriodError(f"--year: expected e.g. 2026, got {text!r}")
    y = int(m.group(1))
    return Period("year", str(y), date(y, 1, 1), date(y, 12, 31))


PARSERS = {"as_of": as_of, "quarter": quarter, "half": half, "month": month, "year": year}


def parse_period(kind: str, text: str) -> Period:
    """Parse ``text`` as a period of ``kind`` (one of ``KINDS``); ``PeriodError`` if malformed."""
    if kind not in PARSERS:
        raise PeriodError(f"unknown period kind {kind!r} (one of {', '.join(KINDS)})")
    return PARSERS[kind](text)


def ivo_window(q: Period) -> dict[str, str]:
    """The IVO reporting window a quarter's EVB report belongs to (``domain.frister``)."""
    start, end = ivo_window_of(q.start)
    return {"start": start.isoformat(), "end": end.isoformat()}


def period_containing(kind: str, day: date) -> str:
    """The text of the period of ``kind`` that contains ``day`` (the default of every report:
    CLI, API and the chaos suite's comparison)."""
    return {
        "as_of": day.isoformat(),
        "quarter": f"{day.year}Q{(day.month - 1) // 3 + 1}",
        "half": f"{day.year}H{1 if day.month <= 6 else 2}",
        "month": f"{day.year}-{day.month:02d}",
        "year": str(day.year),
    }[kind]
