"""Every wait on a dependency is bounded: the numbers, in one place, and the error that says so.

A frozen PostgreSQL (its postmaster stopped) accepts a connection on its socket and then never
answers; a stopped Temporal refuses, and the SDK retries. Without bounds the CLI and the API hang
silently. These are the bounds (seconds); ``docs``/the report list them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

#: libpq ``connect_timeout`` for every connection a barnflow process opens (``PGCONNECT_TIMEOUT``)
DB_CONNECT = 5
#: server-side ``statement_timeout`` for the one-shot operator commands (``ops``, ``audit``)
DB_STATEMENT_OPS = 60
#: server-side ``statement_timeout`` for ``barnflow api`` (a request's statements are short)
DB_STATEMENT_API = 30
#: how long a one-shot CLI command tries to reach Temporal (refused connections are retried)
TEMPORAL_CONNECT_CLI = 5.0
#: how long a service (worker, API, dev stack) waits for Temporal to come up
TEMPORAL_CONNECT_SERVICE = 15.0
#: one workflow start (adopt, the webhook dispatcher): a single RPC
START_RPC_TIMEOUT = 10
#: each visibility list page / describe call of ``ops stuck``, ``ops repair``, ``audit verify``
OPS_RPC_TIMEOUT = 8
#: ``GET /health``: each dependency check (the answer comes within 2 s)
HEALTH_CHECK = 1.5
#: ``ops stuck``: minutes of failing webhook deliveries before a subscription is reported
WEBHOOK_FAILING_MINUTES = 15


class DependencyUnavailable(Exception):
    """A database or Temporal did not answer in time: one line naming it and what to do."""


@contextlib.contextmanager
def bound_libpq(statement_timeout: int | None = None) -> Iterator[None]:
    """Bound every libpq connection opened inside the block (eventsourcing's pool included,
    whose own settings have no connect timeout) through libpq's environment: a connect timeout,
    and for some commands a statement timeout. Values an operator set explicitly are kept; the
    environment is restored afterwards (tests call the CLI's ``main`` in-process)."""
    wanted = {"PGCONNECT_TIMEOUT": str(DB_CONNECT)}
    if statement_timeout is not None:
        wanted["PGOPTIONS"] = f"-c statement_timeout={statement_timeout * 1000}"
    added = [name for name in wanted if name not in os.environ]
    for name in added:
        os.environ[name] = wanted[name]
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)
