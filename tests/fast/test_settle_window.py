"""The settle window cannot be used to postpone alerts forever (review finding 10).

A retried command says nothing new and does not restart the window; a stream of new commands
defers an expired frist's alert by at most three windows after its expiry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from domain.calendar import STOCKHOLM, add_days
from domain.settle import DEFAULT_ALERT_SETTLE_SECONDS
from tests.fast.driver import FastCase
from tests.fast.fakes import InMemoryStore

WINDOW = timedelta(seconds=DEFAULT_ALERT_SETTLE_SECONDS)
STEP = timedelta(minutes=4)  # inside the window: each command keeps it from settling


async def _until_midnight(d: FastCase) -> datetime:
    """Sleep to five minutes before the A1 expiry (the next Stockholm midnight); return it."""
    tomorrow = add_days(await d.today(), 1)
    midnight = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=STOCKHOLM)
    await d.env.sleep(midnight - timedelta(minutes=5) - await d.now())
    return midnight


async def test_a_retry_loop_does_not_postpone_the_alert(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    d = FastCase(fast_env, fake_store, fast_worker)
    received = await d.today()
    await d.anmalan()  # no skyddsbedömning: A1 expires at midnight
    opening = d.events()[0].to_json()
    midnight = await _until_midnight(d)
    first_alert_at: datetime | None = None
    while await d.now() < midnight + timedelta(hours=1):
        again = await d.send_line(opening)  # the integrator retries its lost answer, forever
        assert again.duplicate
        await d.env.sleep(STEP)
        if first_alert_at is None and d.alerts():
            first_alert_at = await d.now()
    assert first_alert_at is not None, "the retries postponed the alert"
    # the window ran from the last *new* command (the anmälan, a day earlier): alerted at once
    assert first_alert_at <= midnight + STEP
    assert d.alerts() == [("frist_overskriden", "A1", received.isoformat())]


async def test_a_stream_of_new_commands_defers_the_alert_by_at_most_three_windows(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    d = FastCase(fast_env, fake_store, fast_worker)
    await d.anmalan()
    midnight = await _until_midnight(d)
    n = 2
    first_alert_at: datetime | None = None
    while await d.now() < midnight + timedelta(hours=1):
        await d.anmalan(f"anm-{n}")  # new anmälningar keep arriving, each inside the window
        n += 1
        await d.env.sleep(STEP)
        if first_alert_at is None and any(r == "A1" for _, r, _ in d.alerts()):
            first_alert_at = await d.now()
    assert first_alert_at is not None, "the stream of commands postponed the alert"
    assert first_alert_at <= midnight + 3 * WINDOW + STEP
