"""The test clock itself (BARNFLOW_TEST_CLOCK / --clock): what a value means, and that the
time-skipping server runs at the same Stockholm time of day as the shifted Python clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.calendar import STOCKHOLM
from tests.conftest import clock_target, shifted_clock
from tests.factories import days_ago, earlier_today, stockholm_now, stockholm_today

REAL = datetime(2026, 11, 30, 1, 40, tzinfo=STOCKHOLM)


def test_hh_mm_is_that_stockholm_time_on_the_real_stockholm_date() -> None:
    # 23:40 UTC on 29 Nov is already 00:40 on 30 Nov in Stockholm: the date is the Stockholm one.
    real_utc = datetime(2026, 11, 29, 23, 40, tzinfo=UTC)
    assert clock_target("00:30", real_now=real_utc) == datetime(
        2026, 11, 30, 0, 30, tzinfo=STOCKHOLM
    )
    assert clock_target("23:59", real_now=real_utc).date() == date(2026, 11, 30)


def test_full_timestamp_is_local_unless_it_has_an_offset() -> None:
    leap = clock_target("2028-02-29T23:59", real_now=REAL)
    assert leap == datetime(2028, 2, 29, 23, 59, tzinfo=STOCKHOLM)
    assert leap.utcoffset() == timedelta(hours=1)
    assert clock_target("2028-02-29T23:59+00:00", real_now=REAL).utcoffset() == timedelta(0)


def test_a_bad_value_is_a_usage_error() -> None:
    with pytest.raises(pytest.UsageError, match="neither HH:MM nor YYYY-MM-DDTHH:MM"):
        clock_target("tomorrow", real_now=REAL)


def test_date_helpers_stay_on_the_stockholm_date_and_in_the_past() -> None:
    now = stockholm_now()
    moments = earlier_today(9)
    assert moments == sorted(moments) and len(set(moments)) == 9
    assert all(m.astimezone(STOCKHOLM).date() == stockholm_today() for m in moments)
    assert all(m < now for m in moments)
    assert days_ago(1).date() == stockholm_today() - timedelta(days=1)
    with pytest.raises(ValueError, match="n >= 1"):
        days_ago(0)


def test_the_session_clock_is_where_it_was_moved() -> None:
    start = shifted_clock()
    if start is None:
        assert abs(stockholm_now() - datetime.now(STOCKHOLM)) < timedelta(seconds=1)
        return
    # tick=True: every test starts at the shifted moment and runs on from there
    assert start <= stockholm_now() < start + timedelta(seconds=30)


async def test_time_skipping_server_runs_at_the_test_clocks_time_of_day(
    ts_env: WorkflowEnvironment,
) -> None:
    server = (await ts_env.get_current_time()).astimezone(STOCKHOLM)
    # Python's clock and the server's agree inside ts_env, shifted or not
    assert abs(server - stockholm_now()) < timedelta(minutes=5)
    start = shifted_clock()
    if start is None:
        assert abs(server - datetime.now(UTC)) < timedelta(minutes=5)
        return
    # the shifted wall-clock time of day (plus the session so far), on the shifted date or, when
    # that lay behind the server's real clock, a later one
    assert server >= start
    assert (server - start) % timedelta(days=1) < timedelta(hours=1), (server, start)
