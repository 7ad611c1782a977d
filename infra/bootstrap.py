"""The composition root: settings → database → store → Temporal client/worker → projections.

Every long-lived resource is a context manager here, so whoever starts a server also stops it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import psycopg

from infra.config.retry import retry_for
from infra.config.settings import Settings
from infra.ops.readiness import NotReady, schema_check
from infra.persistence.embedded_pg import embedded_postgres
from infra.persistence.kommun_config import store_versions, with_versions
from infra.persistence.schema import migrate
from infra.persistence.store import CaseStore, eventsourcing_env
from projections.runner import ReportsRunner, all_runners

if TYPE_CHECKING:  # Temporal only for the local stack: a store-only command does not import it
    from temporalio.client import Client

_log = logging.getLogger("barnflow")
T = TypeVar("T")


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The PostgreSQL URL to use: the configured server, or the embedded one under home."""
    if settings.database.url is not None:
        yield settings.database.url
        return
    with embedded_postgres(settings.home) as url:
        yield url


def _when_up(attempt: Callable[[], T], wait: float) -> T:
    """``attempt()``, retried once a second while PostgreSQL refuses connections (a server that
    is starting or recovering), for up to ``wait`` seconds; then its error."""

    def waiting(error: BaseException, _sleep: float) -> None:
        _log.warning("waiting for PostgreSQL: %s", str(error).strip()[:120])

    return retry_for(wait, every=1.0, on=psycopg.OperationalError, on_retry=waiting)(attempt)


#: The class half of the start-up lock's key (``pg_advisory_lock(int, int)``); the other half is
#: PostgreSQL's ``hashtext`` of the schema name. Arbitrary and fixed ("bflo").
STARTUP_LOCK_CLASS = 0x62666C6F
#: (URL, schema) pairs whose start-up lock this thread already holds (the lock is re-entrant
#: per thread: ``open_store`` takes it to migrate, also inside a service that took it first).
_held = threading.local()


@contextmanager
def startup_lock(url: str, schema: str, *, wait_for_database: float = 120.0) -> Iterator[None]:
    """Serialise the start of barnflow services on one schema.

    Worker, projection runner and API create their tables on first start ("CREATE TABLE IF NOT
    EXISTS" is not safe when two sessions run it at once). A session-level advisory lock, held
    until the caller has finished setting up, lets services start together against an empty
    schema; closing the connection releases it even if the process dies.

    One lock per schema, not per database: everything a service creates lies in its schema
    (``CREATE SCHEMA IF NOT EXISTS`` of two different names does not race), so the kommuner of
    a shared regional database, each in a schema of its own, start independently, and so do
    the test suite's parallel schemas. Hold it for the table set-up only, never while waiting
    for something else (Temporal): every other service of the schema waits for it meanwhile.
    """
    held: set[tuple[str, str]] = getattr(_held, "keys", set())
    key = (url, schema)
    if key in held:
        yield
        return
    conn = _when_up(
        lambda: psycopg.connect(url, autocommit=True, connect_timeout=5), wait_for_database
    )
    try:
        # waiting for the service ahead of us is intended (its death frees the lock): this one
        # statement is exempt from a statement_timeout set for the process (PGOPTIONS)
        conn.execute("SET statement_timeout = 0")
        conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [STARTUP_LOCK_CLASS, schema])
        _held.keys = held | {key}
        yield
    finally:
        _held.keys = held - {key}
        conn.close()


@contextmanager
def open_store(
    settings: Settings, url: str, *, wait_for_database: float = 0.0, migrate_schema: bool = True
) -> Iterator[tuple[CaseStore, dict[str, str]]]:
    """The event store on ``url``, its schema first migrated to the code's version under the
    start-up lock (``infra.persistence.schema``). Long-running services pass ``wait_for_database``
    (seconds) so that one started next to a recovering PostgreSQL waits for it instead of exiting;
    one-shot commands fail at once with one line.

    The kommun configurations in force (``settings.kommun_configs``) are stored as versions in
    the database (append-only, ``infra.persistence.kommun_config``) and named in the returned
    environment, so every process that computes with them can read them by version id.

    ``migrate_schema=False`` (the services in production) migrates nothing: a schema behind this
    code raises ``NotReady`` naming ``barnflow setup --apply``, so an upgrade migrates once, in
    the order the operator chose (docs/operations.md, "Upgrades"), not whichever process started
    first."""
    configs = settings.kommun_configs
    env = with_versions(
        eventsourcing_env(
            url,
            settings.database.schema,
            settings.keys.cipher,
            settings.keys.cipher_old,
            aggregate_cache=settings.aggregate_cache,
        ),
        configs.versions(),
    )

    def migrated() -> None:
        if not migrate_schema:
            check = schema_check(url, settings.database.schema)
            if check.ok is False:
                raise NotReady(check.refusal())
            return
        with startup_lock(url, settings.database.schema, wait_for_database=0.0):
            applied = migrate(url, settings.database.schema, env)
            if len(configs):
                with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                    added = store_versions(conn, settings.database.schema, configs)
                for version in added:
                    _log.info("kommun configuration %s stored", version)
        if applied:
            _log.info("schema %s: applied migrations %s", settings.database.schema, applied)

    _when_up(migrated, wait_for_database)
    store = CaseStore(env=env)
    try:
        yield store, env
    finally:
        store.close()


@dataclass
class Stack:
    """A running local stack (for ``dev`` and ``demo``)."""

    store: CaseStore
    client: Client
    projections: ReportsRunner
    temporal_address: str
    ui_url: str | None
    #: the HTTP API's base URL when ``infra.api.dev.dev_stack`` serves it, else None
    api_url: str | None = None


@asynccontextmanager
async def local_stack(
    settings: Settings,
    *,
    temporal_port: int | None = None,
    ui_port: int | None = None,
    headless: bool = False,
) -> AsyncIterator[Stack]:
    """Embedded PostgreSQL (unless configured) + Temporal dev server + worker + projections.
    The HTTP API sits above this (``infra.api.dev.dev_stack`` serves it on the stack)."""
    from infra.temporal.client import connect
    from infra.temporal.devserver import dev_server
    from infra.temporal.worker import running_worker

    async with AsyncExitStack() as stack:
        url = stack.enter_context(database(settings))
        store, env = stack.enter_context(open_store(settings, url))
        runner = stack.enter_context(all_runners(env))
        server = stack.enter_context(
            dev_server(
                settings.home / "temporal", port=temporal_port, ui_port=ui_port, headless=headless
            )
        )
        client = await connect(
            server.address,
            settings.temporal_namespace,
            settings.keys.codec,
            settings.keys.codec_old,
            workflow_keys=store.workflow_keys,
        )
        await stack.enter_async_context(
            running_worker(
                client,
                store,
                settings.task_queue,
                pseudonym_key=settings.keys.pseudonym,
                alert_settle_seconds=settings.alert_settle_seconds,
            )
        )
        yield Stack(store, client, runner, server.address, None if headless else server.ui_url)
