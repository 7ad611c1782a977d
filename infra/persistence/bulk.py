"""Bulk append of validated import lines: many cases per transaction, written with ``COPY``.

Appending a kommun's history case by case through the aggregate (``CaseStore.record_batch``)
pays, per case, a load, the guards a second time, a data-key round trip per key bucket and a
transaction with its table lock: 0.026x a raw ``COPY`` of the same lines (issue #19, item 3).
The importer has already judged every line against the stored case (``importer.validate``), so
this module only turns each judged event into exactly the row the aggregate would have stored:

* the envelope (``domain.aggregate.envelope_of``) sealed under the case's data keys with the key
  bucket the validation judged (``CaseStore.seal_split``; the keys of a whole batch are created and
  read in two statements, ``DataKeys.prepare``);
* chained onto its stream's previous digest (``domain.aggregate.chained``), as version n+1;
* mapped and encrypted by the store's own eventsourcing mapper (``ChildCase.Opened`` for a
  stream's first event, ``ChildCase.Recorded`` after), so a later load of the case is the same;
* written by ``GapFreeRecorder.copy_events``: one transaction per batch, under the same table lock,
  with the same max+1 positions and global chain links as one append at a time. The file's order
  is the position order, so the chain table is the one record-by-record appends would make.

A batch commits whole or not at all: a re-run after a kill validates again, finds the committed
lines stored (idempotency keys) and appends exactly the missing ones. If another writer appended
to one of the batch's cases meanwhile (a stream version taken: ``IntegrityError``), the batch and
everything after it go through ``CaseStore.record_batch`` instead, which judges each event against
the case as it is now: slower, never wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
)
from eventsourcing.utils import get_topic

from domain.aggregate import STREAM_GENESIS, ChildCase, chained, envelope_of
from domain.events import CaseEvent
from domain.sealing import split
from infra.persistence import jsonbytes
from infra.persistence.recorder import GapFreeRecorder
from infra.persistence.store import CaseStore
from infra.telemetry import appended

#: Events per transaction (many cases each): large enough that the lock, the tail read and the
#: commit vanish per event, small enough that a kill loses little work and memory stays flat.
BULK_BATCH = 2000
#: ``ChildCase.Opened``'s ``originator_topic``: the aggregate class a stream reconstructs into.
_CASE_TOPIC = get_topic(ChildCase)
#: The event classes eventsourcing's ``@event`` made for ``ChildCase`` (untyped for mypy).
_OPENED: Any = cast(Any, ChildCase).Opened
_RECORDED: Any = cast(Any, ChildCase).Recorded
#: Their topics, as the mapper names them in each row.
_OPENED_TOPIC = get_topic(_OPENED)
_RECORDED_TOPIC = get_topic(_RECORDED)

#: Told ``(done, total)`` after each committed batch.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Planned:
    """One validated event with what the validation already knows: its case's stream id, the
    stream version it gets, and the key bucket its free text is sealed under (judged from the
    case before it: ``domain.retention.key_bucket``)."""

    event: CaseEvent
    case_id: UUID
    version: int
    bucket: str


@dataclass
class BulkResult:
    """What ``append_planned`` did: events appended, and the duplicates the fallback path met
    (another writer stored a line between validation and now)."""

    appended: int = 0
    duplicates: int = 0
    fallback: bool = False


class _Rows:
    """Each event's stored row, exactly as the store's eventsourcing mapper writes it
    (``Mapper.to_stored_event`` of a ``ChildCase.Opened``/``Recorded``), without making the
    domain event object or encoding with the standard library where orjson writes the same bytes
    (``infra.persistence.jsonbytes``). The state the mapper encodes is the event's attributes
    without the originator's id and version, in their order: ``timestamp`` (through the
    transcoder's datetime transcoding), for the first event ``originator_topic``, ``envelope``.
    A store whose mapper is anything else (a compressor, another transcoder or mapper class)
    goes through its mapper, as before."""

    def __init__(self, store: CaseStore) -> None:
        mapper = store.mapper
        transcoder = mapper.transcoder
        self._mapper = mapper
        self._encoder: json.JSONEncoder | None = None
        self._when: Transcoding | None = None
        if (
            type(mapper) is Mapper
            and type(transcoder) is JSONTranscoder
            and mapper.compressor is None
            and getattr(_OPENED, "class_version", 1) == 1
            and getattr(_RECORDED, "class_version", 1) == 1
        ):
            self._encoder = transcoder.encoder
            self._when = transcoder.types.get(datetime)
        self._cipher = mapper.cipher

    def row(
        self,
        case_id: UUID,
        version: int,
        envelope: dict[str, Any],
        timestamp: datetime | None = None,
    ) -> StoredEvent:
        """Version ``version`` of stream ``case_id``, created now (``timestamp``: a test's)."""
        if timestamp is None:
            timestamp = ChildCase.Event.create_timestamp()
        if self._when is None or self._encoder is None:
            return self._mapper.to_stored_event(_event(case_id, version, timestamp, envelope))
        when = {"_type_": self._when.name, "_data_": self._when.encode(timestamp)}
        state: dict[str, Any] = (
            {"timestamp": when, "originator_topic": _CASE_TOPIC, "envelope": envelope}
            if version == 1
            else {"timestamp": when, "envelope": envelope}
        )
        data = jsonbytes.dumps(state, self._encoder)
        if self._cipher is not None:
            data = self._cipher.encrypt(data)
        return StoredEvent(
            originator_id=case_id,
            originator_version=version,
            topic=_OPENED_TOPIC if version == 1 else _RECORDED_TOPIC,
            state=data,
        )


def _event(case_id: UUID, version: int, timestamp: datetime, envelope: dict[str, Any]) -> Any:
    """The domain event the aggregate would have triggered (the mapper's input)."""
    if version == 1:
        return _OPENED(
            originator_id=case_id,
            originator_version=1,
            timestamp=timestamp,
            originator_topic=_CASE_TOPIC,
            envelope=envelope,
        )
    return _RECORDED(
        originator_id=case_id, originator_version=version, timestamp=timestamp, envelope=envelope
    )


def _stored(store: CaseStore, planned: Sequence[Planned], heads: dict[UUID, str | None]) -> tuple[
    list[StoredEvent], list[str]
]:  # fmt: skip
    """The rows and stream digests of one batch; ``heads`` moves to each stream's new digest."""
    keys = store.data_keys
    ids: dict[UUID, str] = {}  # each case's id as text, made once per batch, not per event
    envelopes = [
        envelope_of(p.event, ids.get(p.case_id) or ids.setdefault(p.case_id, str(p.case_id)))
        for p in planned
    ]
    parts = [split(env, p.bucket) for p, env in zip(planned, envelopes, strict=True)]
    if keys is not None:
        keys.prepare(
            (p.event.kommun, ids[p.case_id], bucket)
            for p, (_, secrets) in zip(planned, parts, strict=True)
            for bucket in secrets
        )
    rows: list[StoredEvent] = []
    digests: list[str] = []
    make = _Rows(store)
    for p, env, part in zip(planned, envelopes, parts, strict=True):
        sealed = store.seal_split(p.event, env, part)
        # the digest's canonical JSON: the standard library's bytes (jsonbytes.canonical)
        stored = chained(heads.get(p.case_id) or STREAM_GENESIS, sealed, jsonbytes.canonical)
        digest = str(stored["digest"])
        heads[p.case_id] = digest
        rows.append(make.row(p.case_id, p.version, stored))
        digests.append(digest)
    return rows, digests


def append_planned(
    store: CaseStore,
    planned: Sequence[Planned],
    heads: dict[UUID, str | None],
    *,
    batch: int = BULK_BATCH,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> BulkResult:
    """Append ``planned`` (file order) in transactions of ``batch`` events; ``heads`` holds each
    stored case's last stream digest (absent or ``None``: a new stream)."""
    recorder = store.recorder
    if not isinstance(recorder, GapFreeRecorder):
        raise TypeError("bulk append needs barnflow's GapFreeRecorder (the global chain)")
    result = BulkResult()
    done = 0
    # One writer thread: batch k's COPY and commit (the database's work; the thread waits
    # without the GIL) overlap the building of batch k+1's rows here. Batch k+1 is handed over
    # only after batch k committed, so positions and the chain follow the file as before.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-copy") as writer:
        pending: tuple[int, Sequence[Planned], Future[int]] | None = None
        for start in range(0, len(planned) + batch, batch):
            chunk = planned[start : start + batch]
            rows, digests = _stored(store, chunk, heads) if chunk else ([], [])
            if pending is not None:
                at, written, future = pending
                pending = None
                try:
                    future.result()
                except IntegrityError:
                    result.fallback = True
                    _one_case_at_a_time(
                        store, planned[at:], result, now=now, progress=progress, done=done
                    )
                    return result
                for p in written:
                    appended(p.event.type, p.event.data, False)
                result.appended += len(written)
                done += len(written)
                if progress is not None:
                    progress(done, len(planned))
            if chunk:
                pending = (start, chunk, writer.submit(recorder.copy_events, rows, digests))
    return result


def _one_case_at_a_time(
    store: CaseStore,
    rest: Sequence[Planned],
    result: BulkResult,
    *,
    now: datetime | None,
    progress: Progress | None,
    done: int,
) -> None:
    """The rest of the file through ``CaseStore.record_batch`` (runs of one case, file order):
    each event judged again against the case as another writer left it."""
    total = done + len(rest)
    run: list[CaseEvent] = []

    def flush() -> None:
        nonlocal done
        for r in store.record_batch(run, now=now, lagrum=False):
            if r.duplicate:
                result.duplicates += 1
            else:
                result.appended += 1
        done += len(run)
        run.clear()
        if progress is not None:
            progress(done, total)

    for p in rest:
        if run and (p.event.kommun, p.event.case_ref) != (run[0].kommun, run[0].case_ref):
            flush()
        run.append(p.event)
    if run:
        flush()
