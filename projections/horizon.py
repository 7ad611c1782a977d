"""How far ahead the ``frister`` view holds a case's repeating frister, and moving that on.

EVB quarters, the familjehem anniversaries and IVO's yearly list keep coming with time while a
case has no new event, so the view can hold them only up to a horizon, the case's
``frister_until``; the frister report recomputes from its events any case whose horizon lies
before the report's as-of date (``projections.frister``), which keeps every as-of date exact.

Generating only a year past a case's *last event* made every case quiet for a year recomputed
on every report as of today: at a million events 1,769 cases and most of the frister report's
second (issue 19 item 4). So the writers generate to ``generation_horizon(last, today)``: a
year past the last event and at least to the end of the month a year after the day they write
(``projection_day``: the Stockholm calendar day, from this one clock). A rebuild takes that day
once, at its start, for every case. Then the follower (``ReportsRunner``, only the holder of
the views' writer lock) moves the horizon on before today reaches it: while it is at the head
of the store it looks every ``EVERY`` seconds for cases whose ``frister_until`` falls before
``due_before(today)`` (``MARGIN_MONTHS`` ahead) and recomputes their frister rows to the new
horizon, ``BATCH`` cases per transaction (``ReportsView.extend_horizons``). Those rows are the
ones a fold of the same events on that day writes, the events and the tracking position are
not touched, and a second pass finds nothing to do. A one-shot catch-up (``runner.caught_up``)
that writes the views extends what is due on its day the same way before it releases the lock.
A report as of any date up to ``MARGIN_MONTHS`` ahead then recomputes nothing in the normal
case; the recomputation stays as the fallback for a date further ahead, for a runner that has
not run for months, and for the as-known-at copies (``projections.source``: generated past the
last event only).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from domain.calendar import add_months
from infra.config.clock import pinned_projection_day, today_stockholm

#: The projection day: a function without arguments that returns the Stockholm calendar day.
Clock = Callable[[], date]
#: Cases whose horizon falls within this many months of today are extended.
MARGIN_MONTHS = 3
#: Seconds between two looks for cases to extend while the runner is at the head.
EVERY = 60.0
#: Cases extended per transaction (each recomputes one case's frister, about a millisecond).
BATCH = 200


def projection_day() -> date:
    """The day the writers generate frister from: today in Europe/Stockholm, unless
    ``BARNFLOW_PROJECTION_DAY`` pins it (``infra.config.clock``: the test session does)."""
    return pinned_projection_day() or today_stockholm()


def due_before(today: date) -> date:
    """Cases with a ``frister_until`` before this day are extended on ``today``."""
    return add_months(today, MARGIN_MONTHS)
