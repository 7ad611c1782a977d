"""The child's case as an eventsourcing aggregate: the digital personakt's one stream.

Guards run in ``open``/``append`` *before* an event is triggered; the ``@event`` bodies only fold
(they also run on replay, when the rules of today must not re-judge yesterday's record).
Every stored event carries the docs/domain.md §4 envelope, so export is a read, not a translation.

Each envelope also carries ``digest``, the stream's hash chain (sha256 of the previous digest and
the canonical JSON of the envelope without it). It is computed here, on append, so it is stored
(encrypted) with the event itself: an auditor recomputes the chain from the record and finds the
first event whose bytes no longer match what was written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.case import CaseState
from domain.events import CaseEvent, event_from_json
from domain.ids import case_id_for

#: The digest "before" the first event of a stream.
STREAM_GENESIS = "0" * 64
#: Turns an event's envelope into the one stored, given the case before it (the store seals
#: personal fields under per-case data keys: ``domain.sealing``). The digest is taken over the
#: result, so the chains cover the sealed ciphertext and still verify after gallring.
Sealer = Callable[[CaseState, CaseEvent, dict[str, Any]], dict[str, Any]]


#: ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` built once: the
#: same bytes, without a new encoder per event (a bulk import hashes every line).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(envelope: dict[str, Any]) -> bytes:
    """The bytes the chain hashes: sorted keys, no whitespace, UTF-8 (stable across Pythons)."""
    return _CANONICAL.encode(envelope).encode("utf-8")


def stream_digest(
    prev: str, envelope: dict[str, Any], encode: Callable[[Any], bytes] = canonical_json
) -> str:
    """digest_n = sha256(digest_{n-1} ‖ canonical JSON of envelope_n without its digest).

    ``encode``: ``canonical_json`` or an encoder writing the same bytes faster (the bulk import's
    ``infra.persistence.jsonbytes.canonical``)."""
    body = (
        {k: v for k, v in envelope.items() if k != "digest"} if "digest" in envelope else envelope
    )
    return hashlib.sha256(prev.encode("ascii") + encode(body)).hexdigest()


class ChildCase(Aggregate):
    """One barnärende: a kommun's case about one child, from first anmälan to avslut."""

    @staticmethod
    def create_id(envelope: dict[str, Any]) -> UUID:
        return case_id_for(envelope["kommun"], envelope["case_ref"])

    @event("Opened")
    def __init__(self, envelope: dict[str, Any]) -> None:
        self.state = CaseState()
        self.state.apply(event_from_json(envelope))
        self.digest: str | None = envelope.get("digest")

    @event("Recorded")
    def _record(self, envelope: dict[str, Any]) -> None:
        self.state.apply(event_from_json(envelope))
        self.digest = envelope.get("digest")

    @classmethod
    def open(
        cls, ev: CaseEvent, today: date, *, lagrum: bool = True, seal: Sealer | None = None
    ) -> ChildCase:
        """Open a case with its first anmälan/ansökan (guards: P-OPEN, P-FUTURE)."""
        state = CaseState()
        state.check(ev, today, lagrum=lagrum)
        envelope = envelope_of(ev) if seal is None else seal(state, ev, envelope_of(ev))
        return cls(envelope=chained(STREAM_GENESIS, envelope))

    def append(
        self, ev: CaseEvent, today: date, *, lagrum: bool = True, seal: Sealer | None = None
    ) -> None:
        """Record one more event after the guards of ``CaseState.check`` allow it
        (``lagrum=False``: recorded history, docs/domain.md §7.1 ``P-LAGRUM``)."""
        self.state.check(ev, today, lagrum=lagrum)
        envelope = envelope_of(ev) if seal is None else seal(self.state, ev, envelope_of(ev))
        # Streams recorded before the chain existed start their chain at the first new event.
        self._record(envelope=chained(self.digest or STREAM_GENESIS, envelope))


def envelope_of(ev: CaseEvent, case_id: str | None = None) -> dict[str, Any]:
    """What a case stream stores for ``ev`` before sealing and chaining (no store ids/times);
    ``open``/``append`` and the bulk import (``infra.persistence.bulk``) build it alike.
    ``case_id``: the case's id as text when the caller knows it already (a bulk import)."""
    out = ev.to_json()
    out["case_id"] = str(case_id_for(ev.kommun, ev.case_ref)) if case_id is None else case_id
    out.pop("position", None)
    out.pop("recorded_at", None)
    out.pop("digest", None)
    return out


def chained(
    prev: str, envelope: dict[str, Any], encode: Callable[[Any], bytes] = canonical_json
) -> dict[str, Any]:
    """``envelope`` with its stream digest after ``prev`` (the per-stream hash chain)."""
    return {**envelope, "digest": stream_digest(prev, envelope, encode)}
