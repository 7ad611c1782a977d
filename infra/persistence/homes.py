"""The homes' record: one stream per home (``domain.homes.Home``) in its own events table.

A home is an aggregate in the event store, not a Temporal workflow: it has no process of its
own to wait on, and its two frister (a registerkontroll older than two years, an avtal that
ran out, while children live there) depend on the children's placements, which live in the
cases' streams; they are computed on read from both records by ``domain.frister.hem`` (the same
function for every date), so there is no timer to keep. Its own table (``barnflow_hem_events``
with its own global chain ``barnflow_hem_chain``) keeps the cases' record, feed, views and
``ops stuck``/``audit verify`` of workflows exactly as they were: every row there is a case.
The same recorder (gap-free positions, global hash chain) and cipher as the cases' store.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.calendar import clock_date
from domain.errors import RuleViolation
from domain.events import CaseEvent
from domain.frister.hem import hem_larm, placed_in
from domain.homes import Home, HomeEvent, HomeState, hem_uuid_for, home_event_from_json
from domain.ids import case_id_for
from domain.placement import PLACEMENT_TYPES, Placement, check_placement, placements
from infra.persistence.kommun_config import resolve
from infra.persistence.recorder import chain_table_for
from infra.persistence.schema import HOMES_APP
from infra.persistence.store import CaseStore, ChainedStore


class HomeIdempotencyConflict(RuleViolation):
    def __init__(self, key: str) -> None:
        super().__init__(
            "P-IDEMPOTENCY",
            "Idempotensnyckeln är redan använd för en annan händelse.",
            f"idempotency_key {key!r} was already used with a different body",
        )


class HomeStore(ChainedStore):
    """The homes' event store (same database, schema, cipher and recorder as ``CaseStore``)."""

    name = HOMES_APP
    events_table = f"{HOMES_APP}_events"
    chain_table = chain_table_for(f"{HOMES_APP}_events")

    def locate(self, envelope: dict[str, Any]) -> str:
        return f"{envelope.get('kommun')}/hem:{envelope.get('hem_id')}"

    def record(self, ev: HomeEvent, *, now: datetime | None = None) -> tuple[dict[str, Any], bool]:
        """Append ``ev`` to its home once per idempotency key: (stored line, duplicate)."""
        today = clock_date(now or datetime.now(UTC))
        home = self.home(ev.kommun, ev.hem_id)
        if home is not None:
            previous = home.state.idempotency.get(ev.idempotency_key)
            if previous is not None:
                stored = self.home_events(ev.kommun, ev.hem_id)[previous - 1]
                if stored.body_digest() != ev.body_digest():
                    raise HomeIdempotencyConflict(ev.idempotency_key)
                return stored.to_json(), True
            home.append(ev, today)
        else:
            home = Home.open(ev, today)
        recordings = self.save(home)
        last = recordings[-1]
        domain_event: Any = last.domain_event
        out = dict(domain_event.envelope)
        out.pop("hem_uuid", None)
        out["position"] = last.notification.id
        out["recorded_at"] = domain_event.timestamp.isoformat()
        return out, False

    def home(self, kommun: str, hem_id: str) -> Home | None:
        try:
            found: Home = self.repository.get(hem_uuid_for(kommun, hem_id))
            return found
        except AggregateNotFoundError:
            return None

    def state(self, kommun: str, hem_id: str) -> HomeState | None:
        """The home as recorded (``None``: no such home). Its questions take a legal date
        (``godkand_on``, ``register_giltig_on`` …), so a check dated after a placement never
        counts for it, whenever it was recorded."""
        home = self.home(kommun, hem_id)
        return None if home is None else home.state

    def home_events(self, kommun: str, hem_id: str) -> list[HomeEvent]:
        """A home's events in stream order."""
        out = []
        for domain_event in self.events.get(hem_uuid_for(kommun, hem_id)):
            env = dict(cast(Any, domain_event).envelope)
            env["recorded_at"] = cast(Any, domain_event).timestamp.isoformat()
            out.append(home_event_from_json(env))
        return out

    def all_homes(self, kommun: str) -> list[HomeState]:
        """Every home of ``kommun`` (a scan of the homes' record: homes are few)."""
        seen: dict[UUID, HomeState] = {}
        start = 1
        while True:
            page = self.recorder.select_notifications(start=start, limit=1000)
            for item in page:
                env: Mapping[str, Any] = dict(cast(Any, self.mapper.to_domain_event(item)).envelope)
                if env.get("kommun") == kommun:
                    state = seen.setdefault(UUID(str(item.originator_id)), HomeState())
                    state.apply(home_event_from_json(env))
            if len(page) < 1000:
                break
            start = page[-1].id + 1
        return sorted(seen.values(), key=lambda h: h.hem_id)


def open_homes(env: Mapping[str, str]) -> HomeStore:
    """The homes' store on the cases' store environment (``infra.bootstrap.open_store``)."""
    return HomeStore(env=dict(env))


def judge_placement(
    store: CaseStore, homes: HomeStore, ev: CaseEvent, *, kommun_config: str | None = None
) -> None:
    """The command path's placement guard (HEM1-HEM6, ``domain.placement.check_placement``): run by
    ``POST /commands`` and ``barnflow case send`` before the command reaches the workflow.

    The home's record is read here, not in the workflow: it is another stream, and the judgement
    asks how it stood on the placement's legal date, which the stored record answers the same way
    at any time. Raises ``RuleViolation`` / ``EventValidationError``; quiet for other events."""
    if ev.type not in PLACEMENT_TYPES:
        return
    events = store.case_events(case_id_for(ev.kommun, ev.case_ref))
    hem_id = ev.data.get("hem_id")
    home = homes.state(ev.kommun, hem_id) if isinstance(hem_id, str) else None
    krav = None
    if kommun_config is not None:  # the kommun's POL-HEM-ID day, from the version in force
        with store.pooled_connection() as conn:
            krav = resolve(conn, store.schema, kommun_config).policy.hem_id_krav_fran
    check_placement(events, ev, home, hem_id_krav_fran=krav)


def kommun_placements(store: CaseStore, kommun: str) -> list[Placement]:
    """Every placement of ``kommun``'s cases, from the record (a scan of the cases' store, as
    ``CaseStore.case_heads``; a placements view is the step after this if it gets slow)."""
    by_case: dict[UUID, list[CaseEvent]] = {}
    for row in store.stored_rows():
        ev = store.decode(row.originator_id, row.version, row.topic, row.state, row.position)
        if ev.kommun == kommun:
            by_case.setdefault(row.originator_id, []).append(ev)
    out: list[Placement] = []
    for events in by_case.values():
        out.extend(placements(events))
    return out


_HOMES: weakref.WeakKeyDictionary[CaseStore, HomeStore] = weakref.WeakKeyDictionary()
_HOMES_LOCK = threading.Lock()


def homes_of(store: CaseStore) -> HomeStore:
    """The homes' store next to ``store`` (same environment), opened once per cases' store and
    closed with it."""
    with _HOMES_LOCK:
        homes = _HOMES.get(store)
        if homes is None:
            homes = HomeStore(env=dict(store.env))
            _HOMES[store] = homes

            def close(opened: HomeStore = homes) -> None:
                with _HOMES_LOCK:
                    if _HOMES.get(store) is opened:
                        del _HOMES[store]
                opened.close()

            store.on_close(close)
        return homes


def _home_row(home: HomeState, placed: list[Placement], day: date) -> dict[str, Any]:
    return {
        **home.summary(day),
        "placerade": [
            {"case_ref": p.case_ref, "placering": p.key, "form": p.form, "sedan": _since(p, day)}
            for p in sorted(placed_in(home, placed, day), key=lambda p: (p.case_ref, p.key))
        ],
        "larm": [a.to_json() for a in hem_larm(home, placed, day)],
    }


def _since(p: Placement, day: date) -> str:
    return max(s.start for s in p.stays if s.start <= day).isoformat()


def homes_report(
    store: CaseStore, kommun: str, day: date, hem_id: str | None = None
) -> dict[str, Any]:
    """The kommun's homes on legal date ``day`` (or one, ``LookupError`` if unknown): each with
    its placed children (by case_ref) and alerts (HEM7, HEM8), and the placements made under a
    recorded exception (POL-HEM-UNDANTAG): what ``GET /homes/{kommun}`` and ``barnflow homes
    list`` show."""
    homes = homes_of(store).all_homes(kommun)
    if hem_id is not None:
        homes = [h for h in homes if h.hem_id == hem_id]
        if not homes:
            raise LookupError(f"no home {hem_id!r} in kommun {kommun}")
    placed = kommun_placements(store, kommun)
    rows = [_home_row(h, placed, day) for h in homes]
    undantag = [
        {"case_ref": p.case_ref, "placering": p.key, **u}
        for p in sorted(placed, key=lambda p: (p.case_ref, p.key))
        for u in p.undantag
        if date.fromisoformat(u["datum"]) <= day and (hem_id is None or u["hem_id"] == hem_id)
    ]
    return {
        "kommun": kommun,
        "as_of": day.isoformat(),
        "homes": rows,
        "larm": [a for r in rows for a in r["larm"]],
        "undantag": undantag,
    }
