"""A home (familjehem, jourhem, HVB, stödboende) as its own record: its event contract, its state
and the guards on its own stream (docs/domain.md §4.11, docs/law.md §11).

A home's stream holds no child identity: the utredning of the home and its outcome, the
registerkontroller with their dates, medgivanden, the avtal with a konsulentstött familjehem and
the home's end. Which children live there is not written here; it is derived from the cases'
placement events (``domain.placement``), so the record of a child stays in the child's stream.

A home line has the shape of a case line with ``hem_id`` for ``case_ref``:
``{"kommun", "hem_id", "type", "occurred_at", "actor", "idempotency_key", "data"}``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.aggregate import STREAM_GENESIS, stream_digest
from domain.calendar import add_months, legal_date
from domain.errors import EventValidationError, RuleViolation
from domain.events import (
    KOMMUN_RE,
    Actor,
    FieldSpec,
    _opt,
    _req,
    _text,
    parse_actor,
    parse_data,
    parse_datetime,
    parse_hem_id,
    store_fields_json,
)

#: The kinds of home a child is placed in that barnflow keeps a record of (SoL 2025:400 9 kap.
#: 1-4 §§, 22 kap. 4 §).
HEMTYPER = ("familjehem", "jourhem", "hvb", "stodboende")
#: Private homes: placed in only after the nämnd's utredning (SoL 2025:400 22 kap. 2 och 4 §§,
#: SoL 2001:453 6 kap. 6 §) and a registerkontroll (SoF 2025:468 3 kap. 3 §).
ENSKILDA_HEM = frozenset({"familjehem", "jourhem"})
#: The registers a registerkontroll reads: the two of SoF 3 kap. 3 § and, by POL-HEM-REGISTER,
#: the socialtjänst's own register (seed 003: "utdrag ur samtliga register").
REGISTER = ("belastningsregistret", "misstankeregistret", "socialtjanstens_register")
#: POL-HEM-REGISTER: a registerkontroll is valid for two years (seed 003: "vartannat år").
REGISTER_GILTIG_MANADER = 24
#: POL-HEM-AVTAL: an avtal with a konsulentstött familjehem runs at most twelve months (seed 003).
AVTAL_MAX_MANADER = 12

HOME_EVENT_TYPES: dict[str, dict[str, FieldSpec]] = {
    "hem_registrerat": {
        "hemtyp": _req(*HEMTYPER),
        "konsulentstott": _opt(kind="bool"),
        # the kommun the home lies in (vistelsekommun), when it is not the nämnd's own
        "belagen_i_kommun": _opt(),
        "enhet": _opt(),
    },
    "familjehemsutredning_avslutad": {
        "utredning_id": _req(),
        "utfall": _req("godkand", "ej_godkand"),
    },
    "registerkontroll_gjord": {
        "register": _req(*REGISTER),
        "anmarkning": _opt(kind="bool"),
    },
    "medgivande_lamnat": {"medgivande_id": _req(), "case_ref": _opt()},
    "hem_avtal_tecknat": {
        "avtal_id": _req(),
        "fran": _req(kind="date"),
        "till": _req(kind="date"),
    },
    "hem_avslutat": {"orsak": _req()},
}
HOME_ENVELOPE = frozenset(
    {"kommun", "hem_id", "type", "occurred_at", "actor", "idempotency_key", "data"}
    | {"hem_uuid", "position", "recorded_at", "digest"}
)
_NAMESPACE = uuid.UUID("0b1f7c55-59d8-4c1e-9d0b-3f0e5b2a8d11")


def hem_uuid_for(kommun: str, hem_id: str) -> uuid.UUID:
    """The home's stream id, derived from (kommun, hem_id) like a case's."""
    return uuid.uuid5(_NAMESPACE, f"{kommun}/{hem_id}")


@dataclass(frozen=True)
class HomeEvent:
    """One validated event of a home's stream."""

    kommun: str
    hem_id: str
    type: str
    occurred_at: datetime
    actor: Actor
    idempotency_key: str
    data: dict[str, Any] = field(default_factory=dict)
    position: int | None = None
    recorded_at: datetime | None = None
    digest: str | None = None

    @property
    def legal_date(self) -> date:
        return legal_date(self.occurred_at)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kommun": self.kommun,
            "hem_id": self.hem_id,
            "type": self.type,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": {"id": self.actor.id, "roll": self.actor.roll},
            "idempotency_key": self.idempotency_key,
            "data": self.data,
        }
        return store_fields_json(out, self.position, self.recorded_at, self.digest)

    def body_digest(self) -> str:
        """What a command says (no store fields): the same key and body is a retry."""
        body = self.to_json()
        for k in ("position", "recorded_at", "digest"):
            body.pop(k, None)
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def parse_home_event(obj: object) -> HomeEvent:
    """Validate one home line (``EventValidationError`` names the first bad field)."""
    if not isinstance(obj, Mapping):
        raise EventValidationError("$", "an event must be a JSON object")
    unknown = sorted(set(obj) - HOME_ENVELOPE)
    if unknown:
        raise EventValidationError(unknown[0], "unknown field")
    kommun = _text(obj.get("kommun"), "kommun", max_len=4)
    if not KOMMUN_RE.match(kommun):
        raise EventValidationError("kommun", "must be a 4-digit kommunkod")
    hem_id = parse_hem_id(obj.get("hem_id"), "hem_id")
    etype = _text(obj.get("type"), "type", max_len=64)
    spec = HOME_EVENT_TYPES.get(etype)
    if spec is None:
        raise EventValidationError("type", f"unknown home event type {etype!r}")
    occurred_at = parse_datetime(obj.get("occurred_at"), "occurred_at")
    actor = parse_actor(obj.get("actor"))
    key = _text(obj.get("idempotency_key"), "idempotency_key", max_len=200)
    data = parse_data(obj.get("data", {}), spec, etype, legal_date(occurred_at))
    if "belagen_i_kommun" in data and not KOMMUN_RE.match(data["belagen_i_kommun"]):
        raise EventValidationError("data.belagen_i_kommun", "must be a 4-digit kommunkod")
    return HomeEvent(kommun, hem_id, etype, occurred_at, actor, key, data)


def home_event_from_json(obj: Mapping[str, Any]) -> HomeEvent:
    """Rebuild a stored home event (validated once, when it was recorded)."""
    actor = obj["actor"]
    recorded = obj.get("recorded_at")
    return HomeEvent(
        kommun=obj["kommun"],
        hem_id=obj["hem_id"],
        type=obj["type"],
        occurred_at=datetime.fromisoformat(obj["occurred_at"]),
        actor=Actor(actor["id"], actor["roll"]),
        idempotency_key=obj["idempotency_key"],
        data=dict(obj.get("data") or {}),
        position=obj.get("position"),
        recorded_at=datetime.fromisoformat(recorded) if recorded else None,
        digest=obj.get("digest"),
    )


def _deny(rule: str, sv: str, en: str) -> None:
    raise RuleViolation(rule, sv, en)


@dataclass
class HomeState:
    """What the guards and alerts need to know about one home, folded from its stream."""

    kommun: str = ""
    hem_id: str = ""
    hemtyp: str | None = None
    registrerat: date | None = None
    konsulentstott: bool = False
    belagen_i_kommun: str | None = None
    enhet: str | None = None
    #: (legal date, utfall) of each utredning of the home, in stream order
    utredningar: list[tuple[date, str]] = field(default_factory=list)
    #: register -> the legal dates it was read
    kontroller: dict[str, list[date]] = field(default_factory=dict)
    #: avtal_id -> (fran, till)
    avtal: dict[str, tuple[date, date]] = field(default_factory=dict)
    medgivanden: list[date] = field(default_factory=list)
    avslutat: date | None = None
    idempotency: dict[str, int] = field(default_factory=dict)
    event_count: int = 0

    # ------------------------------------------------------------------ derived
    def godkand_on(self, day: date) -> bool:
        """Whether the home's latest utredning dated on or before ``day`` approved it."""
        done = [u for u in self.utredningar if u[0] <= day]
        return bool(done) and done[-1][1] == "godkand"

    def latest_kontroll(self, register: str, day: date) -> date | None:
        return max((d for d in self.kontroller.get(register, ()) if d <= day), default=None)

    def register_giltig_till(self, day: date) -> date | None:
        """The last day the registerkontroll known on ``day`` is valid (every register read,
        POL-HEM-REGISTER: 24 months from the oldest of the latest reads); ``None``: never read."""
        latest = [self.latest_kontroll(r, day) for r in REGISTER]
        if any(d is None for d in latest):
            return None
        oldest = min(d for d in latest if d is not None)
        return add_months(oldest, REGISTER_GILTIG_MANADER)

    def register_giltig_on(self, day: date) -> bool:
        until = self.register_giltig_till(day)
        return until is not None and day < until

    def avtal_on(self, day: date) -> tuple[str, date, date] | None:
        """The avtal that runs on ``day`` (the latest started), if any."""
        running = [(f, aid, t) for aid, (f, t) in self.avtal.items() if f <= day <= t]
        if not running:
            return None
        f, aid, t = max(running)
        return aid, f, t

    def senaste_avtal(self, day: date) -> tuple[str, date, date] | None:
        known = [(f, aid, t) for aid, (f, t) in self.avtal.items() if f <= day]
        if not known:
            return None
        f, aid, t = max(known)
        return aid, f, t

    def open_on(self, day: date) -> bool:
        return (
            self.registrerat is not None
            and self.registrerat <= day
            and (self.avslutat is None or day < self.avslutat)
        )

    # ------------------------------------------------------------------ guards
    def check(self, ev: HomeEvent, today: date) -> None:
        """Raise ``RuleViolation`` if ``ev`` may not be recorded on this home."""
        day = ev.legal_date
        if day > today:
            _deny(
                "P-FUTURE",
                f"Händelsen är daterad i framtiden ({day}).",
                f"event is dated in the future ({day})",
            )
        if self.registrerat is None:
            if ev.type != "hem_registrerat":
                _deny(
                    "HEM-OPEN",
                    "Ett hem registreras med hem_registrerat först.",
                    f"a home begins with hem_registrerat, not {ev.type}",
                )
            return
        if ev.kommun != self.kommun:
            _deny(
                "P-KOMMUN",
                f"Hemmet tillhör kommun {self.kommun}.",
                f"the home belongs to kommun {self.kommun}, not {ev.kommun}",
            )
        if ev.type == "hem_registrerat":
            _deny("HEM-OPEN", "Hemmet är redan registrerat.", "the home is already registered")
        if self.avslutat is not None:
            _deny("HEM-AVSLUTAT", "Hemmet är avslutat.", "the home's record is closed")
        if day < self.registrerat:
            _deny(
                "P-BEFORE-CASE",
                f"Händelsen är daterad före hemmets registrering ({self.registrerat}).",
                f"event dated {day}, before the home was registered on {self.registrerat}",
            )
        if ev.type == "familjehemsutredning_avslutad" and self.hemtyp not in ENSKILDA_HEM:
            _deny(
                "HEM-UTREDNING",
                "Familjehemsutredning görs för familjehem och jourhem.",
                f"a familjehemsutredning is for a familjehem or jourhem, not a {self.hemtyp}",
            )
        if ev.type == "medgivande_lamnat" and not self.godkand_on(day):
            _deny(
                "HEM-MEDGIVANDE",
                "Medgivande får inte lämnas utan att hemmet har utretts och godkänts "
                "(SoL 2025:400 22 kap. 2 § andra st.; SoL 2001:453 6 kap. 6 § andra st.).",
                "a medgivande needs a completed, approved utredning of the home first",
            )
        if ev.type == "hem_avtal_tecknat":
            fran = date.fromisoformat(ev.data["fran"])
            till = date.fromisoformat(ev.data["till"])
            if till < fran:
                raise EventValidationError("data.till", "before data.fran")
            if self.konsulentstott and till >= add_months(fran, AVTAL_MAX_MANADER):
                _deny(
                    "HEM-AVTAL",
                    "Avtal med konsulentstött familjehem gäller högst tolv månader "
                    "(POL-HEM-AVTAL).",
                    "an avtal with a konsulentstött familjehem runs at most twelve months",
                )

    # ------------------------------------------------------------------ evolution
    def apply(self, ev: HomeEvent) -> None:
        day = ev.legal_date
        d = ev.data
        self.event_count += 1
        self.idempotency[ev.idempotency_key] = self.event_count
        t = ev.type
        if t == "hem_registrerat":
            self.kommun, self.hem_id, self.registrerat = ev.kommun, ev.hem_id, day
            self.hemtyp = d["hemtyp"]
            self.konsulentstott = bool(d.get("konsulentstott"))
            self.belagen_i_kommun = d.get("belagen_i_kommun")
            self.enhet = d.get("enhet")
        elif t == "familjehemsutredning_avslutad":
            self.utredningar.append((day, d["utfall"]))
            self.utredningar.sort(key=lambda u: u[0])
        elif t == "registerkontroll_gjord":
            self.kontroller.setdefault(d["register"], []).append(day)
        elif t == "medgivande_lamnat":
            self.medgivanden.append(day)
        elif t == "hem_avtal_tecknat":
            self.avtal[d["avtal_id"]] = (
                date.fromisoformat(d["fran"]),
                date.fromisoformat(d["till"]),
            )
        elif t == "hem_avslutat":
            self.avslutat = day

    def summary(self, day: date) -> dict[str, Any]:
        """The home as known on ``day`` (JSON-ready; the API's ``GET /homes/...``)."""
        giltig = self.register_giltig_till(day)
        avtal = self.senaste_avtal(day)
        return {
            "kommun": self.kommun,
            "hem_id": self.hem_id,
            "hemtyp": self.hemtyp,
            "registrerat": self.registrerat.isoformat() if self.registrerat else None,
            "konsulentstott": self.konsulentstott,
            "belagen_i_kommun": self.belagen_i_kommun,
            "enhet": self.enhet,
            "godkand": self.godkand_on(day),
            "registerkontroller": {
                r: (k.isoformat() if (k := self.latest_kontroll(r, day)) else None)
                for r in REGISTER
            },
            "registerkontroll_giltig_till": giltig.isoformat() if giltig else None,
            "avtal": (
                {"avtal_id": avtal[0], "fran": avtal[1].isoformat(), "till": avtal[2].isoformat()}
                if avtal
                else None
            ),
            "avslutat": self.avslutat.isoformat() if self.avslutat else None,
        }


def fold_home(events: list[HomeEvent]) -> HomeState:
    state = HomeState()
    for ev in events:
        state.apply(ev)
    return state


class Home(Aggregate):
    """One home's stream (like ``domain.aggregate.ChildCase``: guards before the event, folds
    in the ``@event`` bodies, each envelope chained with ``stream_digest``)."""

    @staticmethod
    def create_id(envelope: dict[str, Any]) -> uuid.UUID:
        return hem_uuid_for(envelope["kommun"], envelope["hem_id"])

    @event("Registered")
    def __init__(self, envelope: dict[str, Any]) -> None:
        self.state = HomeState()
        self.state.apply(home_event_from_json(envelope))
        self.digest: str | None = envelope.get("digest")

    @event("Recorded")
    def _record(self, envelope: dict[str, Any]) -> None:
        self.state.apply(home_event_from_json(envelope))
        self.digest = envelope.get("digest")

    @classmethod
    def open(cls, ev: HomeEvent, today: date) -> Home:
        HomeState().check(ev, today)
        return cls(envelope=_chained(STREAM_GENESIS, _home_envelope(ev)))

    def append(self, ev: HomeEvent, today: date) -> None:
        self.state.check(ev, today)
        self._record(envelope=_chained(self.digest or STREAM_GENESIS, _home_envelope(ev)))


def _home_envelope(ev: HomeEvent) -> dict[str, Any]:
    out = ev.to_json()
    out["hem_uuid"] = str(hem_uuid_for(ev.kommun, ev.hem_id))
    for k in ("position", "recorded_at", "digest"):
        out.pop(k, None)
    return out


def _chained(prev: str, envelope: dict[str, Any]) -> dict[str, Any]:
    return {**envelope, "digest": stream_digest(prev, envelope)}
