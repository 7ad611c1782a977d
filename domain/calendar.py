"""Deadline calculus (docs/domain.md §3): Stockholm legal dates and lag (1930:173) arithmetic.

This is the only place in barnflow where dates are added. Day 0 is the trigger day; weeks, months
and years end on the same weekday/date number, clamped to the month's last day (1930:173 1 §).
"""

from __future__ import annotations

import calendar as _cal
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from holidays.countries.sweden import Sweden

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def legal_date(moment: datetime) -> date:
    """The calendar date in Europe/Stockholm of an aware timestamp (what the law counts from)."""
    if moment.tzinfo is None:
        raise ValueError("legal_date needs an aware datetime")
    return _stockholm_date(moment)


def clock_date(moment: datetime) -> date:
    """``legal_date`` of a clock reading (``datetime.now``, ``workflow.now()``): the same date,
    not cached. Every reading is a new instant that is never asked again, so caching it only
    filled ``legal_date``'s cache: one entry per command appended, per workflow task and per
    batch the projection runner folded, each pushing out an event's date that would be asked
    again (the runner alone grew by that cache, 4,096 entries, over its first 4,096 batches:
    docs/operations.md "Memory", the runner alone)."""
    if moment.tzinfo is None:
        raise ValueError("clock_date needs an aware datetime")
    return moment.astimezone(STOCKHOLM).date()


@lru_cache(maxsize=4096)
def _stockholm_date(moment: datetime) -> date:
    """Cached: the same event's date is asked for several times in a row (fold, frister, rows),
    and a hit costs a fifth of the zoneinfo conversion. Equal aware datetimes are the same
    instant, so they share one Stockholm date whatever their offsets. Small on purpose, and only
    for events' instants: a clock reading is a new instant every time (``clock_date``); 65,536
    entries of ``workflow.now()`` (about 14 MB) were once most of a worker's growth over an
    hour's soak. The repeated asks are close together, so a few thousand entries keep the hits."""
    return moment.astimezone(STOCKHOLM).date()


def start_of_day(day: date) -> datetime:
    """00:00 Europe/Stockholm on ``day`` as an aware datetime (DST-correct)."""
    return datetime.combine(day, time(0, 0), tzinfo=STOCKHOLM)


def overdue_at(due: date) -> datetime:
    """The first instant at which a frist due on ``due`` is overdue: 00:00 the day after."""
    return start_of_day(due + timedelta(days=1))


def add_days(day: date, days: int) -> date:
    """Calendar days; 1930:173 1 § does not cover days: day 0 is the trigger (docs/law.md §2.2)."""
    return day + timedelta(days=days)


def days_between(start: date, end: date) -> int:
    """Calendar days from ``start`` to ``end`` (day 0 is ``start``; negative if earlier)."""
    return (end - start).days


def add_weeks(day: date, weeks: int) -> date:
    """Same weekday ``weeks`` later (1930:173 1 §): LVU 7 § one week from Fri is Fri."""
    return day + timedelta(weeks=weeks)


#: Days per month of a common year (``calendar.monthrange`` also computes the weekday: a tenth
#: of a rebuild's date arithmetic went there).
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: date, months: int) -> date:
    """Same date number ``months`` later, clamped to the end of a shorter month (1930:173 1 §)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    n = day.day
    if n > 28:  # only the last days of a month can clamp
        last = 29 if month0 == 1 and _cal.isleap(year) else _MONTH_DAYS[month0]
        n = min(n, last)
    return date(year, month0 + 1, n)


def add_years(day: date, years: int) -> date:
    """Same date ``years`` later; 29 February clamps to 28 February (1930:173 1 §)."""
    return add_months(day, 12 * years)


# --- söndagsregeln (lag 1930:173 2 §) -------------------------------------------------------------


def _helgdagar(years: range | int) -> list[date]:
    """Public holidays + midsommarafton/julafton/nyårsafton of ``years`` (Sat/Sun handled apart).

    ``include_sundays`` is passed explicitly because its default has changed between ``holidays``
    releases, and the categories are named because older releases put the eves in the default set
    (docs/law.md §2.4).
    """
    table = Sweden(
        years=years,
        categories=(holidays.PUBLIC, holidays.DE_FACTO),
        include_sundays=False,
    )
    return list(table.keys())


def _by_year(days: list[date]) -> dict[int, frozenset[date]]:
    years: dict[int, set[date]] = {}
    for day in days:
        years.setdefault(day.year, set()).add(day)
    return {y: frozenset(d) for y, d in years.items()}


#: The years barnflow accepts legal dates in (``domain.events`` 1900-2200) and the year after, for
#: a last day that spills over. Computed once at import (a few milliseconds in one pass), so the
#: workflow's guards (O1: an appeal's last day) never call into ``holidays`` during an activation,
#: where the Temporal sandbox refuses its locale lookups and lazy imports.
_YEARS = range(1900, 2202)
_TABLE: dict[int, frozenset[date]] = _by_year(_helgdagar(_YEARS))


@lru_cache(maxsize=64)
def _non_vardagar(year: int) -> frozenset[date]:
    """The non-vardagar of ``year`` besides Saturdays and Sundays (asked for every frist)."""
    if year in _YEARS:
        return _TABLE.get(year, frozenset())
    return frozenset(_helgdagar(year))


def is_non_vardag(day: date) -> bool:
    """True if 1930:173 2 § lets an action due on ``day`` wait: Sat, Sun, helgdag or an eve.

    Trettondedagsafton is not in the set (RÅ 2004 not 40); midsommarafton, julafton and
    nyårsafton are (the ``DE_FACTO`` category).
    """
    return day.weekday() >= 5 or day in _non_vardagar(day.year)


def next_vardag(day: date) -> date:
    """``day`` itself if it is a vardag, else the first vardag after it (1930:173 2 §).

    Only ever used for the informational ``shifted_due``: docs/law.md §2.4 says alerting on the
    literal due date, so the shift never changes a frist's status.
    """
    while is_non_vardag(day):
        day += timedelta(days=1)
    return day
