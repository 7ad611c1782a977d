"""Lag (1930:173) arithmetic, the söndagsregel and Stockholm legal dates (docs/domain.md §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from domain.calendar import (
    STOCKHOLM,
    add_days,
    add_months,
    add_weeks,
    add_years,
    clock_date,
    is_non_vardag,
    legal_date,
    next_vardag,
    overdue_at,
    start_of_day,
)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 10, 31), 4, date(2026, 2, 28)),  # docs/domain.md §3 worked example, clamped
        (date(2025, 11, 30), 4, date(2026, 3, 30)),
        (date(2027, 10, 31), 4, date(2028, 2, 29)),  # leap year
        (date(2025, 11, 30), 3, date(2026, 2, 28)),  # EVB
        (date(2025, 8, 31), 3, date(2025, 11, 30)),  # EVB, 30-day month
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 12, 15), 2, date(2027, 2, 15)),  # year rollover
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_add_days_counts_day_zero_as_trigger() -> None:
    assert add_days(date(2026, 3, 2), 14) == date(2026, 3, 16)


def test_add_weeks_same_weekday() -> None:
    due = add_weeks(date(2026, 5, 15), 1)
    assert due == date(2026, 5, 22)
    assert due.weekday() == date(2026, 5, 15).weekday() == 4


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        (date(2024, 2, 29), 2, date(2026, 2, 28)),  # D4 worked example
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2025, 6, 30), 1, date(2026, 6, 30)),
    ],
)
def test_add_years(start: date, years: int, expected: date) -> None:
    assert add_years(start, years) == expected


@pytest.mark.parametrize(
    ("day", "non_vardag"),
    [
        (date(2026, 6, 19), True),  # midsommarafton (DE_FACTO)
        (date(2026, 6, 20), True),  # midsommardagen
        (date(2026, 12, 24), True),  # julafton
        (date(2026, 12, 31), True),  # nyårsafton
        (date(2026, 1, 5), False),  # trettondedagsafton is NOT a helgdag (RÅ 2004 not 40)
        (date(2026, 1, 6), True),  # trettondedag jul
        (date(2026, 4, 3), True),  # långfredagen
        (date(2026, 5, 14), True),  # Kristi himmelsfärdsdag
        (date(2026, 3, 14), True),  # Saturday
        (date(2026, 3, 15), True),  # Sunday
        (date(2026, 3, 16), False),  # ordinary Monday
        (date(2026, 6, 8), False),  # annandag pingst is no longer a helgdag
    ],
)
def test_is_non_vardag(day: date, non_vardag: bool) -> None:
    assert is_non_vardag(day) is non_vardag


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 6, 19), date(2026, 6, 22)),  # midsommarafton Fri → Mon
        (date(2026, 12, 24), date(2026, 12, 28)),  # julafton Thu → Mon (25, 26, 27 off)
        (date(2026, 1, 5), date(2026, 1, 5)),  # trettondedagsafton stays
        (date(2026, 12, 31), date(2027, 1, 4)),  # nyårsafton → over New Year + weekend
        (date(2026, 3, 16), date(2026, 3, 16)),  # a vardag is its own next vardag
        (date(2026, 4, 3), date(2026, 4, 7)),  # påsk: Fri..Mon off
    ],
)
def test_next_vardag(day: date, expected: date) -> None:
    assert next_vardag(day) == expected


def test_legal_date_dst_night_maps_to_stockholm_date() -> None:
    # 2026-03-29 is the spring-forward night in Stockholm.
    assert legal_date(datetime.fromisoformat("2026-03-29T00:30:00+01:00")) == date(2026, 3, 29)
    assert legal_date(datetime(2026, 3, 28, 23, 30, tzinfo=UTC)) == date(2026, 3, 29)
    assert legal_date(datetime(2026, 3, 28, 22, 59, tzinfo=UTC)) == date(2026, 3, 28)
    # Summer time: 22:30 UTC is 00:30 the next day in Stockholm.
    assert legal_date(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)) == date(2026, 7, 2)
    assert legal_date(datetime(2026, 7, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))) == (
        date(2026, 7, 2)
    )


def test_legal_date_rejects_naive() -> None:
    with pytest.raises(ValueError, match="aware"):
        legal_date(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 28, 22, 59, tzinfo=UTC),  # the spring-forward night, before and after
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),
        datetime(2026, 7, 1, 22, 30, tzinfo=UTC),  # summer time: already the next day
        datetime(2026, 12, 31, 23, 0, tzinfo=UTC),  # 00:00 on New Year's Day in Stockholm
        datetime(2026, 7, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_a_clock_reading_has_the_legal_date_without_entering_its_cache(moment: datetime) -> None:
    """``clock_date`` is for ``now``: each reading is a new instant, so it must not fill the
    cache that keeps events' dates (the runner grew by 4,096 of them, one per batch)."""
    from domain.calendar import _stockholm_date

    expected = moment.astimezone(UTC).astimezone(STOCKHOLM).date()

    def asked() -> int:
        info = _stockholm_date.cache_info()
        return info.hits + info.misses  # counts every call, also once the cache is full

    before = asked()
    assert clock_date(moment) == expected
    assert asked() == before
    assert legal_date(moment) == expected
    with pytest.raises(ValueError, match="aware"):
        clock_date(moment.replace(tzinfo=None))


def test_start_of_day_and_overdue_at_are_dst_correct() -> None:
    assert start_of_day(date(2026, 3, 29)).utcoffset() == timedelta(hours=1)
    assert start_of_day(date(2026, 3, 30)).utcoffset() == timedelta(hours=2)
    assert overdue_at(date(2026, 3, 29)) == start_of_day(date(2026, 3, 30))
