"""Running the report projections: following the store (dev stack, worker, API), catching up to
a position (read-your-writes), and rebuilding every view from the record.

The follower processes the notification log in batches: each batch is decoded once, folded per
case and written to every view together with the tracking position in one transaction
(``ReportsView.apply_batch``), so a crash anywhere loses at most the uncommitted batch, which the
next start redoes from the tracked position: exactly once.

One writer per view: only a runner holding the views' writer lock (``WriterLock``, a session
advisory lock per schema) writes. A second runner (another worker, ``projections run``) waits as
a standby and takes over when the writer's session ends; a one-shot catch-up that finds a writer
running waits for that writer to reach the head instead of writing itself; a rebuild refuses.
Reports never write: they read the views and state how far behind the store they are (``lag``).

The writer computes with the kommun configuration versions in force in its process (named in the
store's environment, ``infra.persistence.kommun_config.versions_in``). When it takes the writer
lock and the views were computed with other versions, it empties them and refolds the record
(logged): the views always show one version per kommun, the writer's (docs/rules.md, "Which
configuration version applies").
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Any, Self

import eventsourcing.persistence
import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from infra.config.retry import backoff_until_stopped
from infra.persistence.kommun_config import resolve, versions_in
from infra.persistence.store import EVENTS_TABLE, CaseStore
from projections import horizon, shadow
from projections.background_copy import BackgroundCopy
from projections.decode import StateDecoder
from projections.parallel import Folded, FoldPool, StoredCase, default_workers
from projections.tables import ALL_TABLES
from projections.view import Decoded, ReportsView, allow_idle, open_view, write_encoded

BATCH_SIZE = 2000
#: Errors after which the runner waits and retries instead of stopping.
TRANSIENT: tuple[type[BaseException], ...] = (
    eventsourcing.persistence.OperationalError,
    eventsourcing.persistence.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
_log = logging.getLogger("barnflow.projections")
Progress = Callable[[int, int], None]
#: First half of the views' writer lock (pg_advisory_lock(int4, int4)); the second half is the
#: schema's hashtext, so every store (schema) on one server has its own writer.
WRITER_LOCK_CLASS = 0x62666C  # "bfl"


#: TCP keepalives of the writer lock's session, on both ends. A SIGKILLed runner's socket is
#: closed by its kernel and PostgreSQL frees the lock at once; a runner whose *machine* dies
#: (power, network) sends nothing more, and without keepalives PostgreSQL would hold the lock
#: for the kernel's default two hours. With these the server drops the session after
#: ``idle + interval * count`` = 8 s of silence, so a standby on another machine takes over
#: within 10 s (docs/operations.md, "More than one machine"). Ignored on a Unix socket.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 4, 2, 2
LOCK_KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": KEEPALIVE_IDLE,
    "keepalives_interval": KEEPALIVE_INTERVAL,
    "keepalives_count": KEEPALIVE_COUNT,
    "options": f"-c tcp_keepalives_idle={KEEPALIVE_IDLE} "
    f"-c tcp_keepalives_interval={KEEPALIVE_INTERVAL} "
    f"-c tcp_keepalives_count={KEEPALIVE_COUNT}",
}


def _unavailable(error: BaseException, sleep: float) -> None:
    _log.warning(
        "report views: database unavailable (%s); retry in %.1fs", type(error).__name__, sleep
    )


class ViewsBusy(RuntimeError):
    """Another process holds the views' writer lock (the message is one line for the CLI)."""


class NotWriter(RuntimeError):
    """A write was attempted by a runner that does not hold the writer lock."""


def conninfo_of(env: Mapping[str, str]) -> str:
    """A libpq connection string from eventsourcing's PostgreSQL environment."""
    return psycopg.conninfo.make_conninfo(
        dbname=env.get("POSTGRES_DBNAME", "postgres"),
        host=env.get("POSTGRES_HOST", "localhost"),
        port=env.get("POSTGRES_PORT", "5432"),
        user=env.get("POSTGRES_USER", "postgres"),
        password=env.get("POSTGRES_PASSWORD", ""),
    )


class WriterLock:
    """The single-writer lock of one schema's report views: a session-level advisory lock on a
    dedicated connection, so it is released when the holder's session ends, even by SIGKILL."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._conninfo = conninfo_of(env)
        self._schema = str(env.get("POSTGRES_SCHEMA") or "public")
        self._conn: psycopg.Connection[Any] | None = None
        self._acquired = False

    def _key(self) -> tuple[int, str]:
        return WRITER_LOCK_CLASS, f"barnflow.views.{self._schema}"

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(
                self._conninfo, autocommit=True, connect_timeout=10, **LOCK_KEEPALIVES
            )
        return self._conn

    @property
    def acquired(self) -> bool:
        """Whether this process believes it holds the lock (no query; ``held`` checks)."""
        return self._acquired and self._conn is not None and not self._conn.closed

    @property
    def held(self) -> bool:
        """Whether this process holds the lock now (its session is alive and owns it)."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
                "AND objid = hashtext(%s)::oid AND pid = pg_backend_pid() AND granted",
                self._key(),
            ).fetchone()
        except psycopg.Error:
            self.release()
            return False
        self._acquired = bool(row and row[0])
        return self._acquired

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this process holds it afterwards.

        Cheap once taken (no query): ``held`` is the real check, made before every write."""
        if self._acquired and self._conn is not None and not self._conn.closed:
            return True
        row = (
            self._connection()
            .execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", self._key())
            .fetchone()
        )
        self._acquired = bool(row and row[0])
        return self._acquired

    def holder(self) -> int | None:
        """The backend pid of the session holding the lock, if any (for status and messages)."""
        with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10) as conn:
            row = conn.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
                "AND objid = hashtext(%s)::oid AND granted",
                self._key(),
            ).fetchone()
        return int(row[0]) if row else None

    def release(self) -> None:
        """Give the lock up now. Unlocked explicitly before the connection closes: a closed
        client session's backend frees its locks only when the server has processed the
        disconnect, so a rebuild or standby that asks right after could still find it held."""
        was_held, self._acquired = self._acquired, False
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                if was_held and not self._conn.closed:
                    self._conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", self._key())
                self._conn.close()
        self._conn = None


class ReportsRunner:
    """A thread that keeps every report view up to date with the store, batch by batch.

    It writes only while it holds the views' writer lock; until then (another runner writes) it
    waits as a standby and retries the lock every ``poll_interval``.
    ``after_batch(position)`` is called after each committed batch and ``before_commit(position)``
    inside each batch's transaction (operators' metrics; tests use them to crash the runner
    between and in the middle of batches).

    While at the head it moves the frister view's horizon on (``projections.horizon``): every
    ``extend_every`` seconds, batch after batch until none is due. ``today`` is the projection
    day's clock (default ``horizon.projection_day``; tests pass a fixed day).
    """

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        batch_size: int = BATCH_SIZE,
        poll_interval: float = 0.05,
        after_batch: Callable[[int], None] | None = None,
        before_commit: Callable[[int], None] | None = None,
        today: horizon.Clock | None = None,
        extend_every: float = horizon.EVERY,
    ) -> None:
        self.app = CaseStore(env=dict(env))
        self._today: horizon.Clock = today or horizon.projection_day
        self._extend_every = extend_every
        self._extend_next = 0.0
        self.view: ReportsView = open_view(env)
        self._versions = versions_in(env)
        self.lock = WriterLock(env)
        self._reset_checked = False
        self._decoder = StateDecoder.of(self.app)
        self._batch_size = batch_size
        self._poll = poll_interval
        self._after_batch = after_batch
        self._before_commit = before_commit
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="barnflow-reports", daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def close(self) -> None:
        self.stop()
        self.lock.release()
        self.view.datastore.close()
        self.app.close()

    def become_writer(self) -> bool:
        """Take the writer lock if it is free (True when this runner may write now). On taking
        it, the views are made to follow this process's kommun configuration versions."""
        fresh = not self.lock.acquired
        if not self.lock.try_acquire():
            return False
        if not self._reset_checked:
            self.view.reset_if_untracked()
            self._reset_checked = True
        if fresh:
            changed = self.view.follow_versions(self._versions)
            if changed:
                _log.warning(
                    "report views: kommun configuration changed (%s); views emptied, the "
                    "record is folded again with the versions in force",
                    ", ".join(f"{k}: {old} -> {new}" for k, (old, new) in changed.items()),
                )
        return True

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        if exc is None:
            self.raise_error()

    def raise_error(self) -> None:
        """Re-raise (once) the error that stopped the processing thread, if any."""
        error, self._error = self._error, None
        if error is not None:
            raise error

    # ------------------------------------------------------------------ processing
    def _loop(self) -> None:
        # PostgreSQL restarting or a dropped connection: the batch rolled back and the tracked
        # position did not move, so retrying it is exactly-once too
        try:
            while not self._stop.is_set():
                try:
                    processed = backoff_until_stopped(
                        self._write_next, self._stop, on=TRANSIENT, on_retry=_unavailable
                    )
                except NotWriter:
                    # the lock's session ended (database restart): nothing was written; back to
                    # the lock, which another runner may have taken meanwhile
                    _log.warning("report views: writer lock lost; retaking it")
                    self.lock.release()
                    self._stop.wait(self._poll)
                    continue
                if not processed:  # at the head, standby (another runner writes), or stopped
                    self._stop.wait(self._poll)
        except BaseException as exc:  # reported by wait()/__exit__, never swallowed
            self._error = exc
            self._stop.set()

    def _write_next(self) -> int | None:
        """The next batch written (its number of events), or None while another runner is the
        writer."""
        if not self.become_writer():
            return None
        return self.process_next() or self.extend_when_due()

    def extend_when_due(self) -> int:
        """At the head: one batch of horizon extensions if it is time to look (see class)."""
        if time.monotonic() < self._extend_next:
            return 0
        extended = self.extend_horizons()
        if extended < horizon.BATCH:  # none left: look again after a while
            self._extend_next = time.monotonic() + self._extend_every
        return extended

    def extend_horizons(self, limit: int = horizon.BATCH) -> int:
        """Extend the frister of up to ``limit`` cases whose horizon is near today
        (``ReportsView.extend_horizons``); how many it extended. Only the writer may."""
        if not self.lock.held:
            raise NotWriter("this runner does not hold the views' writer lock")
        return self.view.extend_horizons(self._today(), limit)

    def process_next(self) -> int:
        """Fold the next batch after the tracked position; return how many events it had.

        Only the holder of the writer lock writes (``NotWriter`` otherwise)."""
        start = self.view.position()
        notes = self.app.recorder.select_notifications(start=start + 1, limit=self._batch_size)
        if not notes:
            return 0
        if not self.lock.held:  # checked in PostgreSQL before each write: a lost session is seen
            raise NotWriter("this runner does not hold the views' writer lock")
        batch: list[Decoded] = [
            (str(n.originator_id), self._decoder.envelope(n.state, n.id)) for n in notes
        ]
        position = notes[-1].id
        self.view.apply_batch(
            batch, position, today=self._today(), before_commit=self._before_commit
        )
        if self._after_batch is not None:
            self._after_batch(position)
        return len(notes)

    def wait(self, position: int, timeout: float = 10.0) -> None:
        """Block until every view has processed ``position`` (``TimeoutError`` after ``timeout``).

        Raises the processing thread's error instead of waiting for a runner that has died.
        """
        deadline = time.monotonic() + timeout
        while self.view.position() < position:
            self.raise_error()
            if self._stop.is_set():
                raise RuntimeError("the report projection runner has stopped")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"report views at position {self.view.position()}, not {position}, "
                    f"after {timeout:g}s"
                )
            time.sleep(0.01)


@contextmanager
def caught_up(env: Mapping[str, str], *, timeout: float = 120.0) -> Iterator[ReportsRunner]:
    """The views brought up to the store's head (one-shot commands): written in this thread
    under the writer lock, or, when a running runner holds the lock, waited for until that
    writer has reached the head (``TimeoutError`` after ``timeout``).

    Written here, the frister horizons due on the projection day are moved on too, as the
    follower does at the head (``projections.horizon``): a deployment that only ever runs
    one-shot catch-ups (an auditor's instance, a cron job) would otherwise never extend them,
    and its reports would recompute every case past its horizon (exact, but slower)."""
    runner = ReportsRunner(env, batch_size=10 * BATCH_SIZE)
    try:
        if runner.become_writer():
            while runner.process_next():
                pass
            while runner.extend_horizons() == horizon.BATCH:
                pass
            runner.lock.release()  # written: let a standby runner take over at once
        else:
            head = runner.app.max_position()
            deadline = time.monotonic() + timeout
            while runner.view.position() < head:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"views at position {runner.view.position()}, not {head}, after "
                        f"{timeout:g}s: the running projection runner is behind"
                    )
                time.sleep(0.05)
        yield runner
    finally:
        runner.close()


@dataclass(frozen=True)
class Lag:
    """How far the views are behind the store, as a reader sees them."""

    position: int
    head: int

    @property
    def events(self) -> int:
        return max(self.head - self.position, 0)

    def line(self) -> str:
        return f"views at position {self.position} of {self.head}, lag {self.events} events"

    def note(self) -> str:
        """A suffix for a "not found" error that may only mean the views lag ('' if current)."""
        if not self.events:
            return ""
        return f" (views lag {self.events} events: barnflow projections catch-up)"


def lag_of(view: ReportsView, store: CaseStore) -> Lag:
    """The views' position against the store's head (read only)."""
    return Lag(view.position(), store.max_position())


#: What a one-shot reader is told when the views lag and no runner keeps them current.
CATCH_UP_HINT = (
    "the views lag the store; a running worker (or `barnflow projections run`) catches them "
    "up, otherwise run `barnflow projections catch-up` or pass --catch-up"
)


@contextmanager
def reading(
    env: Mapping[str, str], store: CaseStore, *, catch_up: bool = False
) -> Iterator[tuple[ReportsView, Lag]]:
    """The report views for a reader and their lag. A reader never writes the views; with
    ``catch_up`` (an explicit user choice) the runner is run once first (``caught_up``)."""
    if catch_up:
        with caught_up(env) as runner:
            yield runner.view, lag_of(runner.view, store)
        return
    view = open_view(env)
    try:
        yield view, lag_of(view, store)
    finally:
        view.datastore.close()


@contextmanager
def all_runners(env: Mapping[str, str], **kwargs: Any) -> Iterator[ReportsRunner]:
    """Every report view following the store until the context exits (one thread)."""
    with ReportsRunner(env, **kwargs) as runner:
        yield runner


def catch_up(runner: ReportsRunner, position: int | None = None, timeout: float = 60.0) -> None:
    """Block until the views include ``position`` (default: everything stored so far)."""
    head = runner.app.max_position() if position is None else position
    if head:
        runner.wait(head, timeout=timeout)


# ---------------------------------------------------------------------------- rebuild
@dataclass(frozen=True)
class RebuildResult:
    events: int
    cases: int
    position: int
    seconds: float
    #: ``VACUUM (ANALYZE)`` of the views after the commit (``vacuum_views``), not in ``seconds``.
    vacuum_seconds: float = 0.0
    #: Why that vacuum failed (the rebuilt views are committed and correct either way).
    vacuum_error: str | None = None

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


#: Below this many stored events a rebuild folds in-process (a pool's start-up would dominate).
PARALLEL_FROM = 20_000


#: The longest a rebuild's transaction may sit idle (see ``rebuild``).
REBUILD_IDLE = "5min"


def rebuild(
    env: Mapping[str, str],
    progress: Progress | None = None,
    *,
    chunk_cases: int = 250,
    workers: int | None = None,
    today: date | None = None,
    vacuum: bool = True,
) -> RebuildResult:
    """Fold the record again, case by case, into new views swapped in at commit, in one
    transaction (``projections.shadow``).

    The record is read from one snapshot (REPEATABLE READ) up to its head, stream by stream, so
    each case is folded once; the views and the position become visible together at commit, and
    until then reports keep answering from the old views. A running follower simply continues
    from the new position afterwards. Cases are folded by ``workers`` processes (default: one
    per core for a large record, none for a small one); this process reads and writes.
    Repeating frister are generated past ``today`` (default: the projection day when the
    rebuild starts, ``projections.horizon``), one day for every case. Then, with ``vacuum``, the
    views are vacuumed (``vacuum_views``; timed apart in the result).
    """
    day = today or horizon.projection_day()
    started = time.perf_counter()
    lock = WriterLock(env)
    if not lock.try_acquire():
        lock.release()
        holder = lock.holder()
        raise ViewsBusy(
            "a projection runner writes the views"
            + (f" (PostgreSQL backend pid {holder})" if holder else "")
            + "; stop it (worker, projections run, dev) before a rebuild"
        )
    view = open_view(env)
    schema = view.schema
    versions = versions_in(env)
    events = cases = 0
    pool: FoldPool | None = None
    try:
        with (
            view.datastore.get_connection() as rconn,
            rconn.transaction(),
            view.cursor(commit=True) as wcurs,
        ):
            rconn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # The store's connections end a transaction idle for 5 s (eventsourcing's
            # POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT, a guard against leaked transactions).
            # A rebuild's two transactions are deliberately long and wait on each other and on
            # the fold processes (starting them takes seconds on a busy machine): idle gaps of
            # minutes are expected here, never hours.
            for conn in (rconn, wcurs.connection):
                allow_idle(conn, REBUILD_IDLE)
            head_row = rconn.execute(
                sql.SQL("SELECT max(notification_id) AS m FROM {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(EVENTS_TABLE)
                )
            ).fetchone()
            head = int(head_row["m"] or 0) if head_row else 0
            if workers is None:
                workers = default_workers() if head >= PARALLEL_FROM else 0
            policies = {k: resolve(wcurs.connection, schema, v).policy for k, v in versions.items()}
            pool = FoldPool(env, workers, policies, day)
            shadow.create(wcurs, schema)
            view.record_versions(wcurs, versions)

            def write(folded: list[Folded]) -> None:
                nonlocal events, cases
                for n_events, n_cases, encoded in folded:
                    write_encoded(wcurs, schema, encoded, suffix=shadow.SUFFIX, freeze=True)
                    events += n_events
                    cases += n_cases
                if folded and progress is not None:
                    progress(events, head)

            with (
                rconn.cursor(name="barnflow_rebuild", row_factory=tuple_row, binary=True) as rcurs,
                BackgroundCopy(write) as copier,
            ):
                rcurs.itersize = 5000
                rcurs.execute(
                    sql.SQL(
                        "SELECT originator_id::text, notification_id, state "
                        "FROM {}.{} WHERE notification_id <= %s "
                        "ORDER BY originator_id, originator_version"
                    ).format(sql.Identifier(schema), sql.Identifier(EVENTS_TABLE)),
                    (head,),
                )
                chunk: list[StoredCase] = []
                case_id: str | None = None
                rows: list[tuple[int, bytes]] = []
                for cid, position, state in rcurs:
                    if cid != case_id:
                        if rows and case_id is not None:
                            chunk.append((case_id, rows))
                            if len(chunk) >= chunk_cases:
                                copier.put(pool.submit(chunk))
                                chunk = []
                        case_id, rows = cid, []
                    rows.append((position, state))
                if rows and case_id is not None:
                    chunk.append((case_id, rows))
                if chunk:
                    copier.put(pool.submit(chunk))
                copier.put(pool.drain())
            shadow.index(wcurs, schema)
            shadow.swap(wcurs, schema, view.tracking_table_name)
            view.forget_position(wcurs)
            view.record_position(wcurs, head)
            if progress is not None:
                progress(events, head)
    finally:
        if pool is not None:
            pool.close()
        view.datastore.close()
        lock.release()
    seconds = time.perf_counter() - started
    if not vacuum:
        return RebuildResult(events, cases, head, seconds)
    started = time.perf_counter()
    try:
        vacuum_views(env, schema)
    except psycopg.Error as exc:
        error: str | None = f"{type(exc).__name__}: {str(exc).strip()}"
        _log.warning("rebuild: VACUUM of the views failed (%s); autovacuum will do it", error)
    else:
        error = None
    return RebuildResult(events, cases, head, seconds, time.perf_counter() - started, error)


def vacuum_views(env: Mapping[str, str], schema: str) -> None:
    """``VACUUM (ANALYZE)`` every view table of ``schema``, outside any transaction.

    A rebuild swaps in new tables (``projections.shadow``) with no statistics and no visibility
    map, so until autovacuum came by the planner guessed and every index scan visited the heap
    (before the swap, when a rebuild deleted and rewrote the rows in place, the frister report
    at a million events read through 1.2 million dead rows: 1.2-2.7 s instead of 0.85 s). This
    makes the tables as fast as they can be at once; it does not block reports or the
    follower."""
    with psycopg.connect(conninfo_of(env), autocommit=True) as conn:
        conn.execute(
            sql.SQL("VACUUM (ANALYZE) {}").format(
                sql.SQL(", ").join(
                    sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(t.name))
                    for t in ALL_TABLES
                )
            )
        )
