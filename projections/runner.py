"""Running the report projections: following the store (dev stack, worker, API), catching up to
a position (read-your-writes), and rebuilding every view from the record.

The follower processes the notification log in batches: each batch is decoded once, folded per
case and written to every view together with the tracking position in one transaction
(``ReportsView.apply_batch``), so a crash anywhere loses at most the uncommitted batch, which the
next start redoes from the tracked position: exactly once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import eventsourcing.persistence
import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from infra.store import EVENTS_TABLE, CaseStore
from projections.decode import StateDecoder
from projections.parallel import Folded, FoldPool, StoredCase, default_workers
from projections.view import Decoded, ReportsView, open_view, write_encoded

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


class ReportsRunner:
    """A thread that keeps every report view up to date with the store, batch by batch.

    ``after_batch(position)`` is called after each committed batch and ``before_commit(position)``
    inside each batch's transaction (operators' metrics; tests use them to crash the runner
    between and in the middle of batches).
    """

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        batch_size: int = BATCH_SIZE,
        poll_interval: float = 0.05,
        after_batch: Callable[[int], None] | None = None,
        before_commit: Callable[[int], None] | None = None,
    ) -> None:
        self.app = CaseStore(env=dict(env))
        self.view: ReportsView = open_view(env)
        self.view.reset_if_untracked()
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
        self.view.datastore.close()
        self.app.close()

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
        backoff = 0.0
        try:
            while not self._stop.is_set():
                try:
                    processed = self.process_next()
                except TRANSIENT as exc:
                    # PostgreSQL restarting or a dropped connection: the batch rolled back and
                    # the tracked position did not move, so retrying it is exactly-once too
                    backoff = min(max(backoff * 2, 0.5), 10.0)
                    _log.warning(
                        "report views: database unavailable (%s); retry in %.1fs",
                        type(exc).__name__,
                        backoff,
                    )
                    self._stop.wait(backoff)
                    continue
                backoff = 0.0
                if processed == 0:
                    self._stop.wait(self._poll)
        except BaseException as exc:  # reported by wait()/__exit__, never swallowed
            self._error = exc
            self._stop.set()

    def process_next(self) -> int:
        """Fold the next batch after the tracked position; return how many events it had."""
        start = self.view.position()
        notes = self.app.recorder.select_notifications(start=start + 1, limit=self._batch_size)
        if not notes:
            return 0
        batch: list[Decoded] = [
            (str(n.originator_id), self._decoder.envelope(n.state, n.id)) for n in notes
        ]
        position = notes[-1].id
        self.view.apply_batch(batch, position, before_commit=self._before_commit)
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
def caught_up(env: Mapping[str, str]) -> Iterator[ReportsRunner]:
    """The views brought up to the store's head in this thread (one-shot commands, no follower)."""
    runner = ReportsRunner(env, batch_size=10 * BATCH_SIZE)
    try:
        while runner.process_next():
            pass
        yield runner
    finally:
        runner.close()


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

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


#: Below this many stored events a rebuild folds in-process (a pool's start-up would dominate).
PARALLEL_FROM = 20_000


def rebuild(
    env: Mapping[str, str],
    progress: Progress | None = None,
    *,
    chunk_cases: int = 250,
    workers: int | None = None,
) -> RebuildResult:
    """Drop every view and fold the record again, case by case, in one transaction.

    The record is read from one snapshot (REPEATABLE READ) up to its head, stream by stream, so
    each case is folded once; the views and the position become visible together at commit, and
    until then reports keep answering from the old views. A running follower simply continues
    from the new position afterwards. Cases are folded by ``workers`` processes (default: one
    per core for a large record, none for a small one); this process reads and writes.
    """
    started = time.perf_counter()
    view = open_view(env)
    schema = view.schema
    events = cases = 0
    pool: FoldPool | None = None
    try:
        with (
            view.datastore.get_connection() as rconn,
            rconn.transaction(),
            view.cursor(commit=True) as wcurs,
        ):
            rconn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            head_row = rconn.execute(
                sql.SQL("SELECT max(notification_id) AS m FROM {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(EVENTS_TABLE)
                )
            ).fetchone()
            head = int(head_row["m"] or 0) if head_row else 0
            if workers is None:
                workers = default_workers() if head >= PARALLEL_FROM else 0
            pool = FoldPool(env, workers)
            view.truncate(wcurs)

            def write(folded: list[Folded]) -> None:
                nonlocal events, cases
                for n_events, n_cases, encoded in folded:
                    write_encoded(wcurs, schema, encoded)
                    events += n_events
                    cases += n_cases
                if folded and progress is not None:
                    progress(events, head)

            with rconn.cursor(name="barnflow_rebuild", row_factory=tuple_row, binary=True) as rcurs:
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
                                write(pool.submit(chunk))
                                chunk = []
                        case_id, rows = cid, []
                    rows.append((position, state))
                if rows and case_id is not None:
                    chunk.append((case_id, rows))
                if chunk:
                    write(pool.submit(chunk))
                write(pool.drain())
            view.record_position(wcurs, head)
            if progress is not None:
                progress(events, head)
    finally:
        if pool is not None:
            pool.close()
        view.datastore.close()
    return RebuildResult(events, cases, head, time.perf_counter() - started)
