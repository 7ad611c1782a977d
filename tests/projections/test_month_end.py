"""A Stockholm month's end between two writers of the views (issue 19's frister horizon).

Repeating frister are generated to the end of the month a year past the projection day
(``projections.horizon``), so a runner that folded on the last day of a month and a rebuild made
minutes later, on the first of the next, write different ``frister`` rows: both right, one
generated a month further. A test comparing the two then failed once a month, in the seconds
around 23:00 UTC on the last day. The test session pins one projection day for itself and every
process it starts (``BARNFLOW_PROJECTION_DAY``, conftest); these tests show the pin holds across
the month's end and that without it the views really differ.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path

import pytest
import time_machine

from domain.calendar import STOCKHOLM, add_months
from infra.config.clock import ENV_PROJECTION_DAY, pinned_projection_day, today_stockholm
from infra.persistence.store import CaseStore, eventsourcing_env
from projections import horizon
from projections.runner import caught_up, rebuild
from tests.conftest import CIPHER_KEY
from tests.projections.test_kill import _cli_env
from tests.projections.test_reports import _demo, _tables


def _next_month_first(day: date) -> datetime:
    """00:30 in Stockholm on the first day of the month after ``day``."""
    return datetime.combine(add_months(day.replace(day=1), 1), time(0, 30), tzinfo=STOCKHOLM)


def test_the_session_pins_its_projection_day() -> None:
    assert pinned_projection_day() is not None
    assert horizon.projection_day() == pinned_projection_day()


def test_a_pinned_projection_day_holds_across_the_months_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_PROJECTION_DAY, "2026-11-30")
    with time_machine.travel(datetime(2026, 11, 30, 23, 59, 50, tzinfo=STOCKHOLM), tick=False):
        assert horizon.projection_day() == date(2026, 11, 30)
    with time_machine.travel(datetime(2026, 12, 1, 0, 0, 10, tzinfo=STOCKHOLM), tick=False):
        assert horizon.projection_day() == date(2026, 11, 30)
        assert today_stockholm() == date(2026, 12, 1)  # only the projection day is pinned
        monkeypatch.delenv(ENV_PROJECTION_DAY)
        assert horizon.projection_day() == date(2026, 12, 1)


@pytest.mark.parametrize("value", ["2026-13-01", "30/11/2026", "tomorrow"])
def test_a_malformed_projection_day_is_refused_with_the_variables_name(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(ENV_PROJECTION_DAY, value)
    with pytest.raises(ValueError, match=f"{ENV_PROJECTION_DAY}: expected YYYY-MM-DD"):
        horizon.projection_day()


def test_a_runner_process_and_a_rebuild_in_the_next_month_agree_under_the_pin(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner folds in a subprocess on the real clock; the rebuild here runs with the clock
    moved to the next month. Same rows under the session's pin; without it the rebuild's
    repeating frister reach a month further (the comparison the pin keeps honest)."""
    _demo(store)
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    run = [sys.executable, "-m", "infra.cli", "projections", "run", "--until-caught-up"]
    done = subprocess.run(
        run,
        env=_cli_env(tmp_path, pg_url, schema),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with caught_up(env) as runner:
        by_the_runner = _tables(runner)
    later = _next_month_first(today_stockholm())
    with time_machine.travel(later, tick=False):
        rebuild(env, workers=0)
        with caught_up(env) as runner:
            assert _tables(runner) == by_the_runner
        monkeypatch.delenv(ENV_PROJECTION_DAY)
        rebuild(env, workers=0)
        with caught_up(env) as runner:
            unpinned = _tables(runner)
    differ = sorted(k for k in by_the_runner if unpinned[k] != by_the_runner[k])
    # each case's horizon (report_cases.frister_until) a month on, and the frister rows with it
    # where a repeating frist falls in that month
    assert "report_cases" in differ and set(differ) <= {"frister", "report_cases"}, differ
