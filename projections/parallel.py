"""Folding whole cases into COPY bytes, in this process or in a pool of worker processes.

A rebuild is CPU-bound in Python (decrypt, decode, fold, frister, rows), one case at a time and
independent across cases, so it spreads over processes: the rebuilding process only reads the
stored rows, hands each worker a chunk of cases as their encrypted rows, and streams the COPY
bytes the workers return into its single transaction. Workers compute, never touch the database.

Workers come from a ``forkserver``, never from ``fork`` of the rebuilding process: that process
already runs threads (psycopg's pool, the projection follower, OpenTelemetry exporters, a
uvicorn or pytest event loop), and a child forked while one of them holds a lock (logging, an
allocator, OpenSSL) deadlocks in that lock forever. The fork server is a fresh single-threaded
interpreter started once per process with this module preloaded, so each worker is a cheap fork
of it that does not re-import barnflow.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from infra.persistence.store import CaseStore
from projections.decode import StateDecoder
from projections.facts import ivo_id_of, ivo_key, redact
from projections.view import Policies, encode_cases, view_cipher

#: One case as stored: (case_id, [(notification_id, encrypted state), ...] in stream order).
StoredCase = tuple[str, list[tuple[int, bytes]]]
#: A folded chunk: (events, cases, COPY bytes per table of ``projections.tables.ALL_TABLES``).
Folded = tuple[int, int, list[bytes]]
#: A chunk takes well under a second; a worker killed from outside (OOM) loses its task, and
#: ``multiprocessing.Pool`` would then wait forever: fail the rebuild (rolled back) instead.
CHUNK_TIMEOUT = 600.0


class CaseFolder:
    """Decrypts, redacts and folds stored cases with the store's keys and the kommuner's
    policies (one per process; the rebuilding process resolved the policies and took the
    projection day ``today``, one for the whole rebuild)."""

    def __init__(self, env: Mapping[str, str], policies: Policies, today: date) -> None:
        self._policies = dict(policies)
        self._today = today
        cipher = view_cipher(env)
        # its data keys open sealed fields. The rebuilding process has created every table:
        # workers starting together and each running CREATE TABLE IF NOT EXISTS raced in the
        # catalog ("tuple concurrently updated"), and the pool had to replace the worker
        self._store = CaseStore(env={**env, "CREATE_TABLE": "n"})
        self._decoder = StateDecoder(cipher, None, self._store.unseal)
        self._seal = cipher.encrypt
        self._ivo_key = ivo_key(str(env.get("CIPHER_KEY", "")))

    def fold(self, chunk: Sequence[StoredCase]) -> Folded:
        cases = []
        events = 0
        envelope = self._decoder.envelope
        for cid, rows in chunk:
            stored = [envelope(state, position) for position, state in rows]
            # the IVO id is the last event naming the child's: one HMAC per case, not per naming
            ivo: str | None = None
            for env in reversed(stored):
                ivo = ivo_id_of(self._ivo_key, env, None)
                if ivo is not None:
                    break
            events += len(stored)
            cases.append((cid, [redact(env) for env in stored], ivo))
        return (
            events,
            len(cases),
            encode_cases(cases, self._seal, self._policies, today=self._today),
        )


_FOLDER: CaseFolder | None = None


#: The worker's cyclic-GC generation-0 threshold (CPython's default: 700). Folding a chunk
#: allocates hundreds of thousands of short-lived, acyclic objects (dicts, dates, rows), so the
#: default ran a collection every few events for nothing: about 5 % of a worker's time.
WORKER_GC_THRESHOLD = 50_000


def _init_worker(env: dict[str, str], policies: dict[str, Any], today: date) -> None:
    global _FOLDER  # noqa: PLW0603 - one folder per worker process, built once
    _FOLDER = CaseFolder(env, policies, today)
    # the modules and the folder live as long as the worker: never scan them again
    gc.freeze()
    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])


def _fold_in_worker(chunk: list[StoredCase]) -> Folded:
    if _FOLDER is None:
        raise RuntimeError("worker not initialised")
    return _FOLDER.fold(chunk)


def default_workers() -> int:
    """Worker processes for a large rebuild: one per core (the reader mostly waits on I/O)."""
    return max(1, min(os.cpu_count() or 1, 8))


class FoldPool:
    """Chunks of stored cases in, folded chunks out, in submission order, with bounded memory.

    With ``workers == 0`` every chunk is folded in this process (small records: no start-up).
    """

    def __init__(
        self, env: Mapping[str, str], workers: int, policies: Policies, today: date
    ) -> None:
        self._pending: list[Any] = []
        self._max_pending = 2 * max(workers, 1)
        self._local: CaseFolder | None = None
        self._pool: Any = None
        if workers > 0:
            ctx = multiprocessing.get_context("forkserver")
            # Only effective before the process's fork server starts (then it is kept).
            ctx.set_forkserver_preload([__name__])
            self._pool = ctx.Pool(
                workers, initializer=_init_worker, initargs=(dict(env), dict(policies), today)
            )
        else:
            self._local = CaseFolder(env, policies, today)

    def submit(self, chunk: list[StoredCase]) -> list[Folded]:
        """Queue ``chunk``; return the folded chunks that had to be collected to make room."""
        if self._local is not None:
            return [self._local.fold(chunk)]
        self._pending.append(self._pool.apply_async(_fold_in_worker, (chunk,)))
        done = []
        while len(self._pending) >= self._max_pending:
            done.append(self._pending.pop(0).get(CHUNK_TIMEOUT))
        return done

    def drain(self) -> list[Folded]:
        done = [p.get(CHUNK_TIMEOUT) for p in self._pending]
        self._pending = []
        return done

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
