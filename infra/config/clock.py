"""Today's date in Europe/Stockholm: the one place barnflow's services read the calendar day.

Reports, API answers and metrics default to "as of today"; they all take it from here so that
the tests' moved clock (``BARNFLOW_TEST_CLOCK``, time-machine) moves every one of them at once.
Workflow code never calls this: it uses ``workflow.now()``.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from domain.calendar import clock_date

#: Pins the projection day (``projections.horizon.projection_day``) of every process that sees
#: it. The horizon is a cache (a report as of a later date recomputes past it), so a pinned day
#: can make reports slower, never wrong. The test session sets it once at its start, so view
#: rows written by a runner subprocess and by an in-process rebuild seconds apart agree even if
#: a Stockholm month ends between them (23:00 UTC on the last day); unset in production.
ENV_PROJECTION_DAY = "BARNFLOW_PROJECTION_DAY"


def today_stockholm() -> date:
    """The current calendar day in Stockholm (23:30 UTC on 31 Dec is already 1 Jan here)."""
    return clock_date(datetime.now(UTC))


def pinned_projection_day() -> date | None:
    """The day ``BARNFLOW_PROJECTION_DAY`` pins (``YYYY-MM-DD``), or ``None`` when unset or
    empty; any other value is refused with the variable's name."""
    value = os.environ.get(ENV_PROJECTION_DAY, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{ENV_PROJECTION_DAY}: expected YYYY-MM-DD, got {value!r}") from None
