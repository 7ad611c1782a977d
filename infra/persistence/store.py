"""The event store: an eventsourcing Application over PostgreSQL, the record of every case.

Writes go only through ``ChildCase`` (guards) and eventsourcing's recorder (its table lock keeps
notification ids in commit order, so readers never skip an event). Reads of one case with global
positions use a plain SELECT, which eventsourcing's API does not offer.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar, cast
from uuid import UUID

import orjson
import psycopg
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
)
from eventsourcing.persistence import IntegrityError, Recording, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql
from psycopg.rows import tuple_row
from tenacity import Retrying

from domain.aggregate import STREAM_GENESIS, ChildCase, stream_digest
from domain.calendar import clock_date
from domain.case import CaseState
from domain.errors import RuleViolation
from domain.events import DELEGATION_FIELD, CaseEvent, event_from_json
from domain.ids import case_id_for
from domain.retention import key_bucket
from domain.sealing import SEALED_KEY, merge, split
from infra.config.retry import retry_at_once
from infra.config.settings import DEFAULT_AGGREGATE_CACHE
from infra.persistence.cipher import KeyringCipher
from infra.persistence.datakeys import CACHE_SECONDS, DataKeys
from infra.persistence.keycache import ExpiringCache
from infra.persistence.recorder import DIGESTS_KWARG, chain_table_for
from infra.persistence.workflowkeys import WorkflowKeys
from infra.telemetry import appended, db_append_span

APP_NAME = "barnflow"
EVENTS_TABLE = f"{APP_NAME}_events"
CHAIN_TABLE = chain_table_for(EVENTS_TABLE)
#: Event types after which a case is closed (no workflow is expected to run for it).
CLOSING_TYPES = frozenset({"arende_avslutat", "arende_overflyttat"})


_T = TypeVar("_T")


def eventsourcing_env(
    url: str,
    schema: str,
    cipher_key: bytes,
    old_cipher_keys: tuple[bytes, ...] = (),
    *,
    aggregate_cache: int = DEFAULT_AGGREGATE_CACHE,
) -> dict[str, str]:
    """Environment for eventsourcing's PostgreSQL persistence, from a libpq URL.
    ``aggregate_cache``: cases whose aggregate the store keeps in memory
    (``BARNFLOW_AGGREGATE_CACHE``; eventsourcing's cache and ``CaseStore._wrote``)."""
    parts = psycopg.conninfo.conninfo_to_dict(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parts.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(parts.get("host") or "localhost"),
        "POSTGRES_PORT": str(parts.get("port") or "5432"),
        "POSTGRES_USER": str(parts.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(parts.get("password") or ""),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": "4",
        "POSTGRES_MAX_OVERFLOW": "8",
        "POSTGRES_CONNECT_TIMEOUT": "10",
        # infra.persistence.cipher: AES-256-GCM with key ids, so retired keys still read (key
        # rotation)
        "CIPHER_TOPIC": "infra.persistence.cipher:KeyringCipher",
        "CIPHER_KEY": base64.b64encode(cipher_key).decode(),
        "CIPHER_OLD_KEYS": ",".join(base64.b64encode(k).decode() for k in old_cipher_keys),
        "CREATE_TABLE": "y",
        # each append judges the case's state: keep recent aggregates in memory and only read
        # the events recorded since (by any process: "fast-forward") instead of replaying all
        "AGGREGATE_CACHE_MAXSIZE": str(aggregate_cache),
        "APPLICATION_RECORDER_TOPIC": "infra.persistence.recorder:GapFreeRecorder",
    }


def ensure_schema(url: str, schema: str) -> None:
    """Create the schema the store and views live in (eventsourcing creates only tables)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def chain_digest(envelope: dict[str, Any]) -> str:
    """What the global chain links for one event: its per-stream digest (over the plaintext).

    An event written before streams were chained has none; its own content digest stands in, so
    it is still covered (and still survives re-encryption).
    """
    digest = envelope.get("digest")
    return str(digest) if digest else stream_digest(STREAM_GENESIS, envelope)


def body_digest(ev: CaseEvent) -> str:
    """Digest of what a command says (not when it was recorded): same key + same body = retry.

    What barnflow added is left out: the store's ids and times and the judgement of a decision
    (``delegation``), which a retried command never carries."""
    body = ev.to_json()
    for k in ("position", "recorded_at", "case_id", "digest", DELEGATION_FIELD):
        body.pop(k, None)
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


class IdempotencyConflict(RuleViolation):
    """The idempotency key was used before with a different body."""

    def __init__(self, key: str) -> None:
        super().__init__(
            "P-IDEMPOTENCY",
            "Idempotensnyckeln är redan använd för en annan händelse.",
            f"idempotency_key {key!r} was already used with a different body",
        )


@dataclass(frozen=True)
class AppendResult:
    """What an append did: the stored event with its global position, or the earlier one."""

    case_id: str
    position: int
    version: int
    event: dict[str, Any]
    duplicate: bool


#: Cases whose first event ``CaseStore.first_event`` keeps (one per command is asked for).
FIRST_EVENTS_CACHED = 20_000


class FirstEvents:
    """A bounded, thread-safe cache of cases' first events in front of ``read`` (first in, first
    out), which also answers whether it holds a case without reading (``peek``).

    An entry lives ``ttl`` seconds at most (the data keys' ``CACHE_SECONDS``): a first event names
    the child, and once gallring destroyed that identity in another process, this one must not
    keep it longer than it keeps the key (a gallring run waits that long before it reports done).
    """

    def __init__(
        self,
        read: Callable[[UUID], CaseEvent],
        size: int,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        # an expired entry is not only never returned, it leaves memory (it names a child)
        self._items: ExpiringCache[UUID, CaseEvent] = ExpiringCache(ttl, size, clock=clock)

    def peek(self, case_id: UUID) -> CaseEvent | None:
        try:
            return self._items.get(case_id)
        except KeyError:
            return None

    def forget(self, case_id: UUID) -> None:
        """Drop a case (gallring destroyed what its first event named)."""
        self._items.pop(case_id)

    def __call__(self, case_id: UUID) -> CaseEvent:
        found = self.peek(case_id)
        if found is not None:
            return found
        found = self._read(case_id)  # LookupError passes through: an empty case is not kept
        self._items.put(case_id, found)
        return found


#: How often an append is judged again after another writer appended to the case first.
CONFLICT_ATTEMPTS = 20


def _reloaded_on_conflict() -> Retrying:
    """An append that lost the race for a stream version (``IntegrityError``) is judged again
    against the reloaded case, at once, up to ``CONFLICT_ATTEMPTS`` times in all."""
    return retry_at_once(
        CONFLICT_ATTEMPTS,
        on=IntegrityError,
        gave_up=lambda: RuntimeError(
            f"could not append after {CONFLICT_ATTEMPTS} concurrent-write retries"
        ),
    )


def _appended(case_id: UUID, stored: Recording[UUID]) -> AppendResult:
    """The result of a fresh append: the stored envelope with its position and recorded time."""
    domain_event: Any = stored.domain_event
    envelope = dict(domain_event.envelope)
    envelope["recorded_at"] = domain_event.timestamp.isoformat()
    envelope["position"] = stored.notification.id
    return AppendResult(
        case_id=str(case_id),
        position=stored.notification.id,
        version=stored.notification.originator_version,
        event=envelope,
        duplicate=False,
    )


class ChainedStore(Application[UUID]):
    """What every barnflow event store shares: its rows' per-stream digests handed to the
    recorder for the global chain (``_record``), and the undecoded reads ``audit verify`` and
    key rotation scan. The cases' store and the homes' store (``infra.persistence.homes``) are
    the two; each has its own events and chain tables, named after the application."""

    #: ``<name>_events`` and ``<name>_chain`` (``infra.persistence.recorder``)
    events_table = EVENTS_TABLE
    chain_table = CHAIN_TABLE

    def on_close(self, closer: Callable[[], None]) -> None:
        """Close ``closer``'s resource with this store (the homes' store ``homes_of`` opens next
        to it holds a connection pool of its own: left to the garbage collector, a process that
        opens many stores runs out of PostgreSQL connections)."""
        self.__dict__.setdefault("_closers", []).append(closer)

    def close(self) -> None:
        for closer in self.__dict__.pop("_closers", []):
            closer()
        super().close()

    def locate(self, envelope: dict[str, Any]) -> str:
        """Where an event belongs, for a finding: ``kommun/case_ref``."""
        return f"{envelope.get('kommun')}/{envelope.get('case_ref')}"

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Hand the recorder each event's stream digest, read before the event is encrypted.

        Every save (``record``, a bulk load) passes through here, so the global chain
        (``infra.persistence.recorder``) always links plaintext digests and survives key rotation.
        """
        processing_event.saved_kwargs[DIGESTS_KWARG] = [
            chain_digest(dict(cast(Any, e).envelope)) for e in processing_event.events
        ]
        return super()._record(processing_event)

    def domain_event(self, row: StoredRow) -> Any:
        """Decrypt one stored row into eventsourcing's domain event (raises ValueError if the
        bytes were damaged: AES-GCM authenticates them)."""
        return self.mapper.to_domain_event(
            StoredEvent(row.originator_id, row.version, row.topic, row.state)
        )

    def stored_rows(self, *, by_position: bool = False) -> Iterator[StoredRow]:
        """Every stored row, undecoded, by stream and version (or by position), streamed.

        For audit and ops scans over the whole record: a server-side cursor keeps memory flat.
        """
        order = "notification_id" if by_position else "originator_id, originator_version"
        query = sql.SQL(
            "SELECT originator_id, originator_version, topic, state, notification_id "
            "FROM {}.{} ORDER BY " + order
        ).format(sql.Identifier(self._schema), sql.Identifier(self.events_table))
        with self._connect() as conn, conn.transaction(), conn.cursor(name="bf_scan") as cur:
            cur.itersize = 2000
            cur.execute(query)
            for row in cur:
                yield StoredRow(
                    row["originator_id"],
                    int(row["originator_version"]),
                    str(row["topic"]),
                    bytes(row["state"]),
                    int(row["notification_id"]),
                )

    def stream_ends(self) -> Iterator[tuple[UUID, int, bytes, int]]:
        """Each stream's first and last row, ``(originator id, version, state, position)``, by
        stream and version (one row for a stream of one event), streamed as plain tuples.

        For scans that need only what opened a case and where it stands (``ops stuck``): about
        2 rows a case instead of every event, the rest never leaves the database (its primary
        key index answers the last version)."""
        query = sql.SQL(
            "SELECT e.originator_id, e.originator_version, e.state, e.notification_id "
            "FROM (SELECT originator_id, max(originator_version) AS last FROM {t} "
            "GROUP BY originator_id) h JOIN {t} e ON e.originator_id = h.originator_id "
            "AND e.originator_version IN (1, h.last) "
            "ORDER BY e.originator_id, e.originator_version"
        ).format(t=sql.SQL("{}.{}").format(
            sql.Identifier(self._schema), sql.Identifier(self.events_table)))  # fmt: skip
        return self._tuples(query, [], "bf_ends")

    def stream_rows(self, originator_ids: Sequence[UUID]) -> Iterator[tuple[UUID, int, bytes, int]]:
        """Every row of the given streams, as ``stream_ends`` yields them."""
        query = sql.SQL(
            "SELECT originator_id, originator_version, state, notification_id FROM {}.{} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(sql.Identifier(self._schema), sql.Identifier(self.events_table))
        return self._tuples(query, [list(originator_ids)], "bf_streams")

    def _tuples(
        self, query: sql.Composed, params: list[Any], name: str
    ) -> Iterator[tuple[UUID, int, bytes, int]]:
        """A server-side cursor's rows as tuples (a dict per row cost a third of a scan)."""
        with (
            self._connect() as conn,
            conn.transaction(),
            conn.cursor(name=name, row_factory=tuple_row) as cur,
        ):
            cur.itersize = 2000
            cur.execute(query, params)
            for oid, version, state, position in cur:
                yield oid, int(version), bytes(state), int(position)

    def chain_rows(self) -> Iterator[ChainRow]:
        """The global hash chain (infra.persistence.recorder) in position order, streamed."""
        query = sql.SQL(
            "SELECT position, originator_id, originator_version, event_digest, digest "
            "FROM {}.{} ORDER BY position"
        ).format(sql.Identifier(self._schema), sql.Identifier(self.chain_table))
        with self._connect() as conn, conn.transaction(), conn.cursor(name="bf_chain") as cur:
            cur.itersize = 2000
            cur.execute(query)
            for row in cur:
                yield ChainRow(
                    int(row["position"]),
                    row["originator_id"],
                    int(row["originator_version"]),
                    str(row["event_digest"]),
                    str(row["digest"]),
                )

    def max_position(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    @property
    def schema(self) -> str:
        """The PostgreSQL schema of the store (its side tables live there too)."""
        return self._schema

    def pooled_connection(self) -> AbstractContextManager[psycopg.Connection[Any]]:
        """An autocommit connection from the store's pool, for side tables (ops bookkeeping)."""
        return self._connect()

    @property
    def _schema(self) -> str:
        return str(self.env.get("POSTGRES_SCHEMA") or "public")

    def _connect(self) -> AbstractContextManager[psycopg.Connection[Any]]:
        """A pooled connection from the recorder's datastore (no extra pool per process)."""
        recorder = cast(PostgresApplicationRecorder, self.recorder)
        return recorder.datastore.get_connection()


class CaseStore(ChainedStore):
    """The barnflow event store (one stream per case)."""

    name = APP_NAME

    # ------------------------------------------------------------------ writes
    def record(
        self, ev: CaseEvent, *, now: datetime | None = None, lagrum: bool = True
    ) -> AppendResult:
        """Append ``ev`` to its case, exactly once per idempotency key.

        A retry with the same key and body returns the original result; the same key with a
        different body raises ``IdempotencyConflict``; a rule violation raises ``RuleViolation``.
        Concurrent writers to one case are serialised by the stream's version constraint.
        ``lagrum=False`` copies recorded history without ``P-LAGRUM`` (a transfer).
        """
        with db_append_span(ev.type, ev.kommun) as span:
            result = self._append_once(ev, now, lagrum)
            span.set_attribute("db.position", result.position)
            span.set_attribute("barnflow.duplicate", result.duplicate)
        appended(ev.type, ev.data, result.duplicate)
        return self._opened_result(result)

    def _opened_result(self, result: AppendResult) -> AppendResult:
        """The caller gets the event as it sent it, not its sealed stored form."""
        if SEALED_KEY not in result.event:
            return result
        return replace(result, event=self.unseal(result.event))

    def _append_once(self, ev: CaseEvent, now: datetime | None, lagrum: bool) -> AppendResult:
        today = clock_date(now or datetime.now(UTC))
        return _reloaded_on_conflict()(self._append_to_current, ev, today, lagrum)

    def _append_to_current(self, ev: CaseEvent, today: date, lagrum: bool) -> AppendResult:
        """Judge ``ev`` against the case as stored now and save it; ``IntegrityError`` when
        another writer appended first (the stream's version constraint)."""

        def attempt(case: ChildCase | None) -> AppendResult:
            if case is not None:
                previous = case.state.idempotency.get(ev.idempotency_key)
                if previous is not None:
                    return self._existing(case.id, previous, ev)
                case.append(ev, today, lagrum=lagrum, seal=self._sealer)
            else:
                case = ChildCase.open(ev, today, lagrum=lagrum, seal=self._sealer)
            recordings = self.save(case)
            self._wrote(case)
            return _appended(case.id, recordings[-1])

        return self._with_case(case_id_for(ev.kommun, ev.case_ref), attempt)

    def _existing(self, case_id: UUID, version: int, ev: CaseEvent) -> AppendResult:
        stored = self.case_events(case_id, versions=(version,))
        if not stored:
            raise RuntimeError(f"idempotency index points at a missing event v{version}")
        original = stored[0]
        if body_digest(original) != body_digest(ev):
            raise IdempotencyConflict(ev.idempotency_key)
        return AppendResult(
            case_id=str(case_id),
            position=original.position or 0,
            version=version,
            event=original.to_json(),
            duplicate=True,
        )

    def record_batch(
        self, events: Sequence[CaseEvent], *, now: datetime | None = None, lagrum: bool = True
    ) -> list[AppendResult]:
        """Append several events of one case in one transaction (import, transfer copies).

        The same guards as ``record`` judge each event in order; an event whose key the case
        already holds is returned as a duplicate (its body checked), so a re-run after an
        interruption appends nothing twice. One load and one commit per batch instead of per
        event is what makes importing a kommun's history feasible. ``lagrum=False``: the import
        lists a lagrum not in force (``P-LAGRUM``) instead of refusing it.
        """
        if not events:
            return []
        cid = case_id_for(events[0].kommun, events[0].case_ref)
        keys = [e.idempotency_key for e in events]
        if len(set(keys)) != len(keys):
            raise ValueError("a batch may not repeat an idempotency key")
        if any(case_id_for(e.kommun, e.case_ref) != cid for e in events):
            raise ValueError("a batch holds the events of one case")
        today = clock_date(now or datetime.now(UTC))
        with db_append_span(f"batch:{len(events)}", events[0].kommun) as span:
            out = _reloaded_on_conflict()(self._append_batch_to_current, cid, events, today, lagrum)
            if not all(r.duplicate for r in out):
                span.set_attribute("db.position", out[-1].position)
            return out

    def _append_batch_to_current(
        self, cid: UUID, events: Sequence[CaseEvent], today: date, lagrum: bool
    ) -> list[AppendResult]:
        """One attempt of ``record_batch`` against the case as stored now (``IntegrityError``
        when another writer appended first)."""
        keys = [e.idempotency_key for e in events]

        def attempt(case: ChildCase | None) -> list[AppendResult]:
            known: dict[int, AppendResult] = {}
            for i, ev in enumerate(events):
                previous = None if case is None else case.state.idempotency.get(keys[i])
                if case is not None and previous is not None:
                    known[i] = self._existing(case.id, previous, ev)
                elif case is None:
                    case = ChildCase.open(ev, today, lagrum=lagrum, seal=self._sealer)
                else:
                    case.append(ev, today, lagrum=lagrum, seal=self._sealer)
            if case is None or len(known) == len(events):
                return [known[i] for i in range(len(events))]
            recordings = iter(self.save(case))
            self._wrote(case)
            out: list[AppendResult] = []
            for i, ev in enumerate(events):
                if i in known:
                    out.append(known[i])
                    continue
                out.append(self._opened_result(_appended(case.id, next(recordings))))
                appended(ev.type, ev.data, False)
            return out

        return self._with_case(cid, attempt)

    # ------------------------------------------------------------------ sealing
    @functools.cached_property
    def data_keys(self) -> DataKeys | None:
        """The per-case data keys (``infra.persistence.datakeys``), or ``None`` for a store
        whose cipher is not barnflow's keyring (nothing is sealed there)."""
        cipher = self.mapper.cipher
        if not isinstance(cipher, KeyringCipher):
            return None
        return DataKeys(self._connect, self._schema, cipher.keyring)

    @functools.cached_property
    def workflow_keys(self) -> WorkflowKeys | None:
        """The case workflows' keys for Temporal payloads (``infra.persistence.workflowkeys``),
        wrapped like the data keys; ``None`` where the store has no data keys."""
        cipher = self.mapper.cipher
        if not isinstance(cipher, KeyringCipher):
            return None
        return WorkflowKeys(self._connect, self._schema, cipher.keyring)

    def _sealer(self, state: CaseState, ev: CaseEvent, envelope: dict[str, Any]) -> dict[str, Any]:
        """Seal the event's identity and free text under its case's data keys (the aggregate
        chains the result: ``domain.aggregate.Sealer``)."""
        return self.seal_in(key_bucket(state, ev), ev, envelope)

    def seal_in(self, bucket: str, ev: CaseEvent, envelope: dict[str, Any]) -> dict[str, Any]:
        """``_sealer`` with the event's key bucket already judged (a bulk import judges it
        while it validates the file, so it does not fold each case a second time)."""
        if self.data_keys is None:
            return envelope
        return self.seal_split(ev, envelope, split(envelope, bucket))

    def seal_split(
        self,
        ev: CaseEvent,
        envelope: dict[str, Any],
        parts: tuple[dict[str, Any], dict[str, Any]],
    ) -> dict[str, Any]:
        """``seal_in`` given ``domain.sealing.split``'s result (the bulk import splits each
        envelope once: to create the batch's data keys, then to seal)."""
        keys = self.data_keys
        stored, secrets = parts
        if keys is None or not secrets:
            return envelope
        case_id = str(envelope["case_id"])
        tokens = {b: keys.seal(ev.kommun, case_id, b, f) for b, f in sorted(secrets.items())}
        return {**stored, SEALED_KEY: tokens}

    def unseal(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """A stored envelope with its sealed fields opened, or marked gallrad where the data key
        was destroyed (``domain.sealing.merge``). Envelopes without seals are returned as they
        are (events written before data keys existed)."""
        tokens = envelope.get(SEALED_KEY)
        keys = self.data_keys
        if not tokens or keys is None:
            return envelope
        case_id = str(envelope["case_id"])
        return merge(envelope, {b: keys.open(t, case_id, b) for b, t in tokens.items()})

    # ------------------------------------------------------------------ the case as last written
    @functools.cached_property
    def _written(self) -> LRUCache[UUID, int]:
        """The version of each case this process saved last (as many cases as the aggregate
        cache holds)."""
        return LRUCache(
            maxsize=int(self.env.get("AGGREGATE_CACHE_MAXSIZE") or DEFAULT_AGGREGATE_CACHE)
        )

    def _wrote(self, case: ChildCase) -> None:
        """Keep the case as this process just saved it: the next append of this process judges
        against it without reading the case's newest events back (eventsourcing's fast-forward,
        one round trip and a decryption per command, almost always of the event written here)."""
        cache = self.repository.cache
        if cache is not None:
            cache.put(case.id, case)
            self._written.put(case.id, case.version)

    def _forget_written(self, case_id: UUID) -> None:
        with contextlib.suppress(KeyError):
            self._written.get(case_id, evict=True)

    def _case_for_append(self, case_id: UUID) -> tuple[ChildCase | None, bool]:
        """The case to judge an append against, and whether it is this process's own last save,
        not read back (``_wrote``). Another process may have appended since: the stream's
        version constraint refuses the save then (``_with_case``).

        The own save is **taken out** of the aggregate cache, not deep-copied: while the append
        mutates it no other thread can reach it (a read meanwhile misses the cache and reads
        the stored case), and ``_with_case`` gives it back only once it is saved or untouched.
        A deep copy of the whole case per append was ≈6-9 % of the worker's CPU in a
        lifecycle profile (issue 19, item 2)."""
        cache = self.repository.cache
        if cache is not None:
            try:
                version = self._written.get(case_id)
                cached = cast(ChildCase, cache.get(case_id, evict=True))
            except KeyError:
                pass
            else:
                if cached.version == version:  # not fast-forwarded past this process's save
                    return cached, True
                cache.put(case_id, cached)  # someone else's newer read: left as it was
        return self._get_case(case_id), False

    def _give_back(self, case: ChildCase) -> None:
        """Put a taken case back in the cache when it is as this process last saved it (saved
        by the append, or untouched by one that found its key already recorded)."""
        cache = self.repository.cache
        try:
            saved = self._written.get(case.id)
        except KeyError:
            return
        if cache is not None and case.version == saved:
            cache.put(case.id, case)

    def _with_case(self, case_id: UUID, attempt: Callable[[ChildCase | None], _T]) -> _T:
        """Run one append ``attempt`` against the case, judged on this process's last save of
        it when there is one. Whatever goes wrong is not trusted to that case: an
        ``IntegrityError`` (another writer appended first) goes to the caller's retry, which
        reads the stored case; a refusal (``RuleViolation``) may be a judgement on events this
        process has not seen, so the attempt is made once more against the stored case. A
        taken case an attempt failed on is dropped (it may hold the refused event half
        applied); the next append reads the stored case."""
        case, own = self._case_for_append(case_id)
        try:
            result = attempt(case)
        except Exception as exc:
            self._forget_written(case_id)
            if not own or isinstance(exc, IntegrityError):
                raise
        else:
            if own and case is not None:
                self._give_back(case)
            return result
        return attempt(self._get_case(case_id))

    # ------------------------------------------------------------------ reads
    def _get_case(self, case_id: UUID) -> ChildCase | None:
        try:
            case: ChildCase = self.repository.get(case_id)
            return case
        except AggregateNotFoundError:
            return None

    @functools.cached_property
    def _first_events(self) -> FirstEvents:
        """A case's first event, read once per case in this process (an append-only stream's
        first event never changes), the least recently used forgotten beyond
        ``FIRST_EVENTS_CACHED`` cases; ``LookupError`` (never cached) while the case is empty."""

        def read(case_id: UUID) -> CaseEvent:
            events = self.case_events(case_id, versions=(1,))
            if not events:
                raise LookupError(case_id)
            return events[0]

        return FirstEvents(read, FIRST_EVENTS_CACHED)

    def first_event(self, case_id: UUID) -> CaseEvent | None:
        """The event that opened the case (it names the child), or None for no such case."""
        try:
            return self._first_events(case_id)
        except LookupError:
            return None

    def forget_first_event(self, case_id: UUID) -> None:
        """Forget the cached first event of a case whose identity gallring destroyed: the stream
        is append-only, but what its first event reads as is not once a key is gone."""
        self._first_events.forget(case_id)

    def known_first_event(self, case_id: UUID) -> CaseEvent | None:
        """``first_event`` if this process has already read it, else None; never reads, so an
        async caller (the API) can skip the hand-off to a thread for a case it has seen."""
        return self._first_events.peek(case_id)

    def case_events(
        self,
        case_id: UUID,
        *,
        versions: tuple[int, ...] | None = None,
    ) -> list[CaseEvent]:
        """A case's events in stream order with global positions and recorded times."""
        query = sql.SQL(
            "SELECT originator_id, originator_version, topic, state, notification_id "
            "FROM {}.{} WHERE originator_id = %s"
        ).format(sql.Identifier(self._schema), sql.Identifier(EVENTS_TABLE))
        params: list[Any] = [case_id]
        if versions is not None:
            query += sql.SQL(" AND originator_version = ANY(%s)")
            params.append(list(versions))
        query += sql.SQL(" ORDER BY originator_version")
        with self._connect() as conn:
            rows = conn.execute(query, params).fetchall()
        return [self._decode_row(row) for row in rows]

    def _decode_row(self, row: Any) -> CaseEvent:
        return self.decode(
            row["originator_id"],
            row["originator_version"],
            row["topic"],
            row["state"],
            row["notification_id"],
        )

    def decode(
        self, originator_id: UUID, version: int, topic: str, state: bytes, position: int
    ) -> CaseEvent:
        """One stored row → the docs/domain.md §4 event with position and recorded_at."""
        domain_event: Any = self.mapper.to_domain_event(
            StoredEvent(originator_id, version, topic, bytes(state))
        )
        ev = event_from_json(self.unseal(domain_event.envelope))
        return replace(ev, position=position, recorded_at=domain_event.timestamp)

    def events_after(self, after: int, limit: int) -> list[CaseEvent]:
        """Events with ``position > after`` in position order, at most ``limit`` (the event feed).

        Positions are gap-free, so a reader that asks again with the last position it saw never
        misses an event and never sees one twice.
        """
        query = sql.SQL(
            "SELECT originator_id, originator_version, topic, state, notification_id "
            "FROM {}.{} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(sql.Identifier(self._schema), sql.Identifier(EVENTS_TABLE))
        with self._connect() as conn:
            rows = conn.execute(query, [after, limit]).fetchall()
        return [self._decode_row(row) for row in rows]

    def case_heads(self) -> list[CaseHead]:
        """One summary per case: opening event, last position, last recorded time, closed.

        A full scan (decrypts every event once): what ``ops stuck`` and ``audit verify`` compare
        Temporal against. O(events); a heads projection is the next step if that gets slow.
        """
        heads: list[CaseHead] = []
        current: CaseHead | None = None
        for row in self.stored_rows():
            ev = self.decode(row.originator_id, row.version, row.topic, row.state, row.position)
            if current is None or current.case_id != row.originator_id:
                current = CaseHead(row.originator_id, ev, row.position, row.version, ev, False)
                heads.append(current)
            current.last_position = max(current.last_position, row.position)
            current.versions = row.version
            current.last = ev
            if ev.type in CLOSING_TYPES:
                current.closed = True
        return heads


@dataclass(frozen=True)
class StoredRow:
    """One row of the events table as stored (state still encrypted)."""

    originator_id: UUID
    version: int
    topic: str
    state: bytes
    position: int


@dataclass(frozen=True)
class ChainRow:
    """One link of the global hash chain."""

    position: int
    originator_id: UUID
    version: int
    event_digest: str
    digest: str


@dataclass
class CaseHead:
    """What the store says about one case, for comparison with its workflow."""

    case_id: UUID
    opening: CaseEvent
    last_position: int
    versions: int
    last: CaseEvent
    closed: bool

    @property
    def kommun(self) -> str:
        return self.opening.kommun

    @property
    def case_ref(self) -> str:
        return self.opening.case_ref
