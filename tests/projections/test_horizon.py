"""The frister view's horizon follows the projection day (``projections.horizon``): a case whose
last event lies long ago is stored far enough ahead for a report as of today, the runner moves
the horizon on as the days pass, and every as-of date stays what ``compute_frister`` says.

The projection day is always injected here (never the real clock), so nothing depends on the
day or the month the tests run in.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import pytest

from domain.frister import frist_versions, generation_horizon, visible_on
from infra.config.clock import ENV_PROJECTION_DAY
from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore, eventsourcing_env
from projections.runner import ReportsRunner, caught_up, rebuild
from projections.tables import CASES, FRISTER
from projections.view import ReportsView
from tests.conftest import CIPHER_KEY
from tests.projections.test_as_of import (
    LOADED,
    _days,
    _events,
    _expected,
    _familjehem,
    _known_on,
    _lvu_familjehem,
    _report,
    _waiting,
)
from tests.projections.test_reports import view_rows

#: The projection day of the first fold: well after AS-5's last event (2025-05-20), so the old
#: horizon (a year past the last event) lay before it.
D1 = date(2027, 3, 10)
#: A later day, past D1's horizon less the margin: the runner must extend.
D2 = date(2028, 2, 20)


def test_generation_horizon_is_a_year_past_the_later_of_last_event_and_month_of_today() -> None:
    last = date(2025, 5, 20)
    assert generation_horizon(last) == date(2026, 5, 20)
    assert generation_horizon(last, date(2025, 6, 1)) == date(2026, 6, 30)
    assert generation_horizon(last, date(2027, 3, 10)) == date(2028, 3, 31)
    assert generation_horizon(last, date(2027, 3, 31)) == date(2028, 3, 31)  # same month
    assert generation_horizon(date(2026, 3, 15), date(2025, 1, 2)) == date(2027, 3, 15)


@pytest.mark.parametrize("build", [_waiting, _familjehem, _lvu_familjehem])
def test_versions_generated_past_a_late_day_reproduce_compute_frister_on_every_day(
    build: Any,
) -> None:
    events = _events(build())
    last = max(e.legal_date for e in events)
    today = last + timedelta(days=500)
    versions, until = frist_versions(events, today=today)
    horizon = generation_horizon(last, today)
    assert until in (None, horizon)  # None: no series still repeating, complete for any date
    first = min(e.legal_date for e in events) - timedelta(days=3)
    for day in _days(first, horizon):
        assert _known_on(visible_on(versions, day), day) == _expected(events, day), day


def _stored(view: ReportsView, ref: str) -> tuple[date | None, int]:
    with view.cursor() as curs:
        curs.execute(
            f'SELECT frister_until, last_position FROM "{view.schema}"."{CASES.name}" '
            "WHERE case_ref = %s",
            (ref,),
        )
        row = curs.fetchone()
    assert row is not None
    return row["frister_until"], int(row["last_position"])


def _stored_on(view: ReportsView, ref: str, day: date) -> list[tuple[Any, ...]]:
    """The case's frister listed on ``day`` by the stored rows alone (no recompute)."""
    with view.cursor() as curs:
        curs.execute(
            "SELECT key, rule, trigger_date, due, original_due, fulfilled_date "
            f'FROM "{view.schema}"."{FRISTER.name}" WHERE case_ref = %s AND valid_from <= %s '
            "AND (valid_to IS NULL OR valid_to > %s)",
            (ref, day, day),
        )
        rows = curs.fetchall()
    return sorted(
        (
            r["key"],
            r["rule"],
            r["trigger_date"],
            r["due"],
            r["original_due"],
            r["fulfilled_date"] if r["fulfilled_date"] and r["fulfilled_date"] <= day else None,
        )
        for r in rows
    )


def _want(events: Any, day: date) -> list[tuple[Any, ...]]:
    return sorted(row[:6] for row in _expected(events, day))


def _report_want(events: Any, day: date) -> list[tuple[Any, ...]]:
    from domain.frister import MET, MISSED

    return sorted(
        (key, rule, trig, due, (due - day).days, ful if st in (MET, MISSED) else None, st)
        for key, rule, trig, due, _, ful, st in _expected(events, day)
    )


def test_quiet_case_is_stored_past_today_and_extended_as_the_days_pass(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    case = _waiting()
    events = _events(case)
    import_lines(store, case.jsonl(), now=LOADED)
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    day = [D1]
    runner = ReportsRunner(env, today=lambda: day[0])
    try:
        assert runner.become_writer()
        while runner.process_next():
            pass
        position = runner.view.position()
        # folded on D1: stored to the end of the month a year after D1, not a year after
        # the last event (2026-05-20), so a report as of D1 needs no recompute
        until, _ = _stored(runner.view, "AS-5")
        assert until == date(2028, 3, 31)
        assert _stored_on(runner.view, "AS-5", D1) == _want(events, D1)
        assert _report(env, "AS-5", D1) == _report_want(events, D1)
        assert runner.extend_horizons() == 0  # nothing near its horizon on D1

        # the days pass: past D1's horizon the report recomputes the case (still exact) ...
        day[0] = D2 + timedelta(days=60)
        assert _report(env, "AS-5", day[0]) == _report_want(events, day[0])
        day[0] = D2
        # ... and on D2 (horizon within the margin) the runner extends it
        assert runner.extend_horizons() == 1
        until, _ = _stored(runner.view, "AS-5")
        assert until == date(2029, 2, 28)
        assert runner.view.position() == position  # tracking not moved
        for on in (D2, D2 + timedelta(days=60), date(2029, 2, 28)):
            assert _stored_on(runner.view, "AS-5", on) == _want(events, on), on
            assert _report(env, "AS-5", on) == _report_want(events, on), on
        extended = view_rows(runner.view)
        assert runner.extend_horizons() == 0  # idempotent: nothing left to extend
        assert view_rows(runner.view) == extended
    finally:
        runner.close()
    # the extension wrote what a fold of the same events on D2 writes
    rebuild(env, today=D2, workers=0)
    runner = ReportsRunner(env, today=lambda: D2)
    try:
        assert view_rows(runner.view) == extended
        assert runner.view.position() == position
    finally:
        runner.close()


def test_running_runner_extends_while_at_the_head_and_folds_new_events_after(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    case = _waiting()
    import_lines(store, case.jsonl(), now=LOADED)
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    rebuild(env, today=D1, workers=0)
    with ReportsRunner(env, today=lambda: D2, extend_every=0.05) as runner:
        deadline = time.monotonic() + 30
        while _stored(runner.view, "AS-5")[0] != date(2029, 2, 28):
            runner.raise_error()
            assert time.monotonic() < deadline, "the runner never extended the horizon"
            time.sleep(0.05)
        position = runner.view.position()
        # a new event after the extension is folded as usual, with the same horizon
        later = _waiting()
        later.add(D2, "insats_verkstalld", {"beslut_id": "B1"})
        import_lines(store, later.jsonl()[-1:], now=LOADED)
        runner.wait(store.max_position())
        assert runner.view.position() > position
        # B1 verkställd: its EVB quarters end; the familjehem anniversaries still repeat
        until, last = _stored(runner.view, "AS-5")
        assert last == store.max_position()
        assert until == date(2029, 2, 28)
        events = _events(later)
        for on in (D2, date(2028, 12, 31)):
            assert _stored_on(runner.view, "AS-5", on) == _want(events, on), on


def test_a_one_shot_catch_up_extends_the_horizons_due_on_its_day(
    store: CaseStore, pg_url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``caught_up`` (``barnflow projections catch-up``, ``--catch-up`` readers) writes as the
    follower does at the head, horizon extensions included: a deployment running only one-shot
    catch-ups would otherwise recompute every case past its horizon on every report."""
    import_lines(store, _waiting().jsonl(), now=LOADED)
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    rebuild(env, today=D1, workers=0)
    runner = ReportsRunner(env, today=lambda: D1)
    try:
        assert _stored(runner.view, "AS-5")[0] == date(2028, 3, 31)
    finally:
        runner.close()
    monkeypatch.setenv(ENV_PROJECTION_DAY, D2.isoformat())  # the day the catch-up runs on
    with caught_up(env) as one_shot:
        assert _stored(one_shot.view, "AS-5")[0] == date(2029, 2, 28)
        extended = view_rows(one_shot.view)
    rebuild(env, today=D2, workers=0)  # what a fold of the same events on D2 writes
    runner = ReportsRunner(env, today=lambda: D2)
    try:
        assert view_rows(runner.view) == extended
    finally:
        runner.close()
