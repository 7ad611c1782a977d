"""Today's date in Europe/Stockholm: the one place barnflow's services read the calendar day.

Reports, API answers and metrics default to "as of today"; they all take it from here so that
the tests' moved clock (``BARNFLOW_TEST_CLOCK``, time-machine) moves every one of them at once.
Workflow code never calls this: it uses ``workflow.now()``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.calendar import legal_date


def today_stockholm() -> date:
    """The current calendar day in Stockholm (23:30 UTC on 31 Dec is already 1 Jan here)."""
    return legal_date(datetime.now(UTC))
