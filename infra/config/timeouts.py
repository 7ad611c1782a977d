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
#: server-side ``statement_timeout`` for the one-shot operator commands (``ops``, ``audit``):
#: they must fail within 15 s on a frozen database. It applies per statement: ``audit verify``'s
#: long scans use a server-side cursor, each FETCH of 2000 rows being its own statement.
DB_STATEMENT_OPS = 10
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


#: SQLSTATEs (besides class 08, connection exception) that mean "the server went away or gave
#: up in time": admin/crash shutdown, cannot connect now, query canceled (statement_timeout)
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57014"})


def connection_failure(exc: BaseException) -> bool:
    """Whether a database error means the database is unreachable or did not answer in time
    (a retry later may succeed), as opposed to a real fault such as a full disk, a deadlock or
    a serialization failure, which must reach the unexpected-error path with its type.

    psycopg reports both as ``OperationalError``; an error without a SQLSTATE never got an
    answer from the server (refused, reset, pool timeout). eventsourcing wraps psycopg's error:
    its ``__cause__`` is judged (an eventsourcing error without a psycopg cause is its own
    connection handling giving up)."""
    import psycopg  # here, not at the top: the CLI's parser and ``--help`` stay light

    seen: BaseException | None = exc
    for _ in range(5):  # a short chain: eventsourcing wraps once
        if seen is None:
            return True
        if isinstance(seen, psycopg.Error):
            state = seen.sqlstate
            if state is None:
                return isinstance(seen, psycopg.OperationalError | psycopg.InterfaceError)
            return state.startswith("08") or state in _UNAVAILABLE_SQLSTATES
        seen = seen.__cause__
    return False


class DependencyUnavailable(Exception):
    """A database or Temporal did not answer in time: one line naming it and what to do."""


@contextlib.contextmanager
def bound_libpq(statement_timeout: int | None = None) -> Iterator[None]:
    """Bound every libpq connection opened inside the block (eventsourcing's pool included,
    whose own settings have no connect timeout) through libpq's environment: a connect timeout,
    and for some commands a statement timeout. Values an operator set explicitly are kept; the
    environment is restored afterwards (tests call the CLI's ``main`` in-process)."""
    previous = {name: os.environ.get(name) for name in ("PGCONNECT_TIMEOUT", "PGOPTIONS")}
    os.environ.setdefault("PGCONNECT_TIMEOUT", str(DB_CONNECT))
    options = previous["PGOPTIONS"] or ""
    if statement_timeout is not None and "statement_timeout" not in options:
        # appended to options an operator set for other reasons (search_path, …): an explicit
        # statement_timeout of theirs wins, but other options must not drop ours
        ours = f"-c statement_timeout={statement_timeout * 1000}"
        os.environ["PGOPTIONS"] = f"{options} {ours}".strip()
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
