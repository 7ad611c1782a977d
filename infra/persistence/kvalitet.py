"""The record of complaints and lex Sarah rapporter: one stream per complaint or rapport
(``domain.kvalitet.KvalitetStream``) in its own events table.

Like the homes' record (``infra.persistence.homes``) and for the same reasons: neither is a child's
case nor a process to wait on (its frister are computed on read for any legal date by
``domain.kvalitet.KvalitetState.frister``), so it is an aggregate in the event store, not a
workflow. Its own table (``barnflow_kvalitet_events`` with its own global chain
``barnflow_kvalitet_chain``, migration 7) keeps the cases' record, feed and views as they were;
the same recorder (gap-free positions, global hash chain) and cipher seal it, ``audit verify``
checks both chains and ``keys rotate`` re-encrypts it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from psycopg import sql

from domain.calendar import clock_date
from domain.errors import RuleViolation
from domain.kvalitet import (
    Flow,
    KvalitetEvent,
    KvalitetState,
    KvalitetStream,
    fold_streams,
    kvalitet_event_from_json,
    stream_uuid_for,
)
from infra.persistence.recorder import chain_table_for
from infra.persistence.schema import KVALITET_APP
from infra.persistence.store import CaseStore, ChainedStore


class KvalitetIdempotencyConflict(RuleViolation):
    def __init__(self, key: str) -> None:
        super().__init__(
            "P-IDEMPOTENCY",
            "Idempotensnyckeln är redan använd för en annan händelse.",
            f"idempotency_key {key!r} was already used with a different body",
        )


class KvalitetStore(ChainedStore):
    """The complaints' and lex Sarah rapporter's event store (same database, schema, cipher and
    recorder as ``CaseStore``)."""

    name = KVALITET_APP
    events_table = f"{KVALITET_APP}_events"
    chain_table = chain_table_for(f"{KVALITET_APP}_events")

    def locate(self, envelope: dict[str, Any]) -> str:
        flow = "lex-sarah" if str(envelope.get("type", "")).startswith("lex_sarah_") else "klagomal"
        return f"{envelope.get('kommun')}/{flow}:{envelope.get('arende_id')}"

    def record(
        self, ev: KvalitetEvent, *, now: datetime | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Append ``ev`` to its stream once per idempotency key: (stored line, duplicate)."""
        today = clock_date(now or datetime.now(UTC))
        stream = self.stream(ev.kommun, ev.flow, ev.arende_id)
        if stream is not None:
            previous = stream.state.idempotency.get(ev.idempotency_key)
            if previous is not None:
                stored = self.stream_events(ev.kommun, ev.flow, ev.arende_id)[previous - 1]
                if stored.body_digest() != ev.body_digest():
                    raise KvalitetIdempotencyConflict(ev.idempotency_key)
                out = stored.to_json()
                out["position"] = self._position(stream.id, previous)
                return out, True
            stream.append(ev, today)
        else:
            stream = KvalitetStream.open(ev, today)
        recordings = self.save(stream)
        last = recordings[-1]
        domain_event: Any = last.domain_event
        out = dict(domain_event.envelope)
        out.pop("stream_uuid", None)
        out["position"] = last.notification.id
        out["recorded_at"] = domain_event.timestamp.isoformat()
        return out, False

    def _position(self, stream_id: UUID, version: int) -> int | None:
        """The store position of one stored event (a retry answers with the original's)."""
        query = sql.SQL(
            "SELECT notification_id FROM {}.{} WHERE originator_id = %s AND originator_version = %s"
        ).format(sql.Identifier(self._schema), sql.Identifier(self.events_table))
        with self._connect() as conn:
            row = conn.execute(query, (stream_id, version)).fetchone()
        return None if row is None else int(row["notification_id"])

    def stream(self, kommun: str, flow: Flow, arende_id: str) -> KvalitetStream | None:
        try:
            found: KvalitetStream = self.repository.get(stream_uuid_for(kommun, flow, arende_id))
            return found
        except AggregateNotFoundError:
            return None

    def stream_events(self, kommun: str, flow: Flow, arende_id: str) -> list[KvalitetEvent]:
        """One stream's events in order."""
        out = []
        for domain_event in self.events.get(stream_uuid_for(kommun, flow, arende_id)):
            env = dict(cast(Any, domain_event).envelope)
            env["recorded_at"] = cast(Any, domain_event).timestamp.isoformat()
            out.append(kvalitet_event_from_json(env))
        return out

    def kommun_events(self, kommun: str) -> list[KvalitetEvent]:
        """Every event of ``kommun``'s complaints and rapporter, in position order, each with its
        ``recorded_at`` (a scan of this record: a kommun has hundreds a year, not millions)."""
        out: list[KvalitetEvent] = []
        start = 1
        while True:
            page = self.recorder.select_notifications(start=start, limit=1000)
            for item in page:
                domain_event: Any = self.mapper.to_domain_event(item)
                env: Mapping[str, Any] = dict(domain_event.envelope)
                if env.get("kommun") == kommun:
                    out.append(
                        kvalitet_event_from_json(
                            {
                                **env,
                                "position": item.id,
                                "recorded_at": domain_event.timestamp.isoformat(),
                            }
                        )
                    )
            if len(page) < 1000:
                break
            start = page[-1].id + 1
        return out


_KVALITET: weakref.WeakKeyDictionary[CaseStore, KvalitetStore] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def kvalitet_of(store: CaseStore) -> KvalitetStore:
    """The complaints' store next to ``store`` (same environment), opened once per cases' store
    and closed with it (as ``infra.persistence.homes.homes_of``)."""
    with _LOCK:
        found = _KVALITET.get(store)
        if found is None:
            found = KvalitetStore(env=dict(store.env))
            _KVALITET[store] = found

            def close(opened: KvalitetStore = found) -> None:
                with _LOCK:
                    if _KVALITET.get(store) is opened:
                        del _KVALITET[store]
                opened.close()

            store.on_close(close)
        return found


def open_kvalitet(env: Mapping[str, str]) -> KvalitetStore:
    """A complaints' store of its own on a store environment (the reports open and close one)."""
    return KvalitetStore(env=dict(env))


def flow_listing(
    store: CaseStore, kommun: str, flow: Flow, day: date, policy: Any
) -> dict[str, Any]:
    """``GET /klagomal/{kommun}`` / ``barnflow klagomal list``: every complaint (or rapport) of
    ``kommun`` known on legal date ``day``, with its frister then; a case_ref of a protected
    case reads ``⟨skyddad⟩`` (POL-SKYDD-RAPPORT) and its enhet too."""
    from domain.ids import case_id_for
    from domain.protection import MARKER, is_protected

    states = [
        s
        for s in fold_streams(kvalitet_of(store).kommun_events(kommun))
        if s.flow == flow and s.opened is not None and s.opened <= day
    ]
    rows = []
    for s in states:
        row = _listing_row(s, day, policy)
        ref = s.facts.get("case_ref")
        if isinstance(ref, str) and is_protected(store.case_events(case_id_for(kommun, ref))):
            row["case_ref"] = MARKER
            row["enhet"] = MARKER
        rows.append(row)
    return {"kommun": kommun, "as_of": day.isoformat(), "flow": flow, "arenden": rows}


def _listing_row(s: KvalitetState, day: date, policy: Any) -> dict[str, Any]:
    def iso(d: date | None) -> str | None:
        return d.isoformat() if d is not None and d <= day else None

    row: dict[str, Any] = {
        "arende_id": s.arende_id,
        "start": iso(s.opened),
        **{k: s.facts.get(k) for k in ("enhet", "case_ref")},
        "avslutat": iso(s.closed_on(day)),
        "frister": [f.to_json() for f in s.frister(policy, day)],
    }
    if s.flow == "klagomal":
        row.update({k: s.facts.get(k) for k in ("avsandare", "kategori", "slag", "kanal")})
        row["utfall"] = s.aterkopplat[1] if s.aterkopplat and s.aterkopplat[0] <= day else None
        row["atgarder"] = [a for d, a in s.atgarder if d <= day]
    else:
        row.update({k: s.facts.get(k) for k in ("avser", "rapportor")})
        judged = s.bedomd if s.bedomd and s.bedomd[0] <= day else None
        row["allvarligt"] = judged[1] if judged else None
        row["utredning_startad"] = iso(s.utredning)
        row["bedomd"] = iso(judged[0] if judged else None)
        row["anmald_ivo"] = iso(s.anmald_ivo)
    return row
