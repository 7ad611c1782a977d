"""Complaints (synpunkter och klagomål) and lex Sarah as flows of their own: the event contract,
the state of one flow, its guards and its frister (docs/domain.md §4.12, docs/law.md §14).

Neither is a child's case. A complaint may come from a child, a vårdnadshavare or anyone, about a
unit (enhet), with or without a case; a lex Sarah rapport is about the socialtjänst's own
activity. Each complaint and each rapport is one stream, kept in its own record next to the
cases' (``infra.persistence.kvalitet``), like a home's (``domain.homes``).

A line has the shape of a home line with ``arende_id`` for ``hem_id``:
``{"kommun", "arende_id", "type", "occurred_at", "actor", "idempotency_key", "data"}``. The
flow is the type's prefix: ``klagomal_*`` or ``lex_sarah_*``. No field names a person: the
sender is a category (``avsandare``), the rapportör a role label, and free text refuses a
personnummer (``domain.events._value``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from eventsourcing.domain import Aggregate, event

from domain.aggregate import STREAM_GENESIS, stream_digest
from domain.calendar import add_days, days_between, legal_date
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
from domain.identity import contains_identity_number
from domain.rules import KommunPolicy

Flow = Literal["klagomal", "lex_sarah"]

#: Who sent a complaint: a category, never a name (seed 003: "från barn och unga").
AVSANDARE = ("barn", "vardnadshavare", "narstaende", "ombud", "annan", "anonym")
#: What a complaint is about (the kommun's categories for the yearly analysis).
KLAGOMAL_KATEGORIER = (
    "bemotande",
    "handlaggning",
    "beslut",
    "information",
    "delaktighet",
    "tillganglighet",
    "insats",
    "ovrigt",
)
SLAG = ("klagomal", "synpunkt", "berom")
KANALER = ("e_tjanst", "brev", "telefon", "besok", "epost", "annan")
UTFALL = ("befogat", "delvis_befogat", "ej_befogat", "ej_bedomt")
ATGARDER = (
    "ingen_atgard",
    "samtal_med_personal",
    "rutin_andrad",
    "utbildning",
    "beslut_omprovat",
    "information_forbattrad",
    "annan",
)
#: What a lex Sarah rapport is about (SoL 2025:400 27 kap. 2 §; old 14 kap. 3 §).
AVSER = ("missforhallande", "pataglig_risk")

KVALITET_EVENT_TYPES: dict[str, dict[str, FieldSpec]] = {
    "klagomal_inkommet": {
        "avsandare": _req(*AVSANDARE),
        "kategori": _req(*KLAGOMAL_KATEGORIER),
        "enhet": _req(kind="hem_id"),
        "slag": _opt(*SLAG),
        "kanal": _opt(*KANALER),
        "case_ref": _opt(),
        "beskrivning": _opt(),
    },
    "klagomal_atgard": {
        "atgard": _req(*ATGARDER),
        "beskrivning": _opt(),
    },
    "klagomal_aterkopplat": {
        "utfall": _req(*UTFALL),
        "kanal": _opt(*KANALER),
        "kommentar": _opt(),
    },
    "lex_sarah_rapporterad": {
        "avser": _req(*AVSER),
        "enhet": _req(kind="hem_id"),
        "rapportor": _req(kind="label"),
        "case_ref": _opt(),
        "beskrivning": _opt(),
    },
    "lex_sarah_utredning_startad": {"utredare": _opt(kind="label")},
    "lex_sarah_bedomd": {
        "allvarligt": _req(kind="bool"),
        "avhjalpt": _opt(kind="bool"),
        "motivering": _opt(),
    },
    "lex_sarah_anmald_ivo": {
        "utredning_bifogad": _req(kind="bool"),
        "ivo_diarienummer": _opt(kind="hem_id"),
    },
    "lex_sarah_avslutad": {"kommentar": _opt()},
}
#: The free-text fields of this contract (refused if they hold a personnummer).
KVALITET_TEXT_FIELDS = frozenset({"beskrivning", "kommentar", "motivering"})
KVALITET_ENVELOPE = frozenset(
    {"kommun", "arende_id", "type", "occurred_at", "actor", "idempotency_key", "data"}
    | {"stream_uuid", "position", "recorded_at", "digest"}
)
_NAMESPACE = uuid.UUID("5d3c9a0e-7b41-4f8e-9c2a-1e6f0d4b8a73")


def flow_of(etype: str) -> Flow:
    """The flow an event type belongs to (its prefix)."""
    return "lex_sarah" if etype.startswith("lex_sarah_") else "klagomal"


def stream_uuid_for(kommun: str, flow: str, arende_id: str) -> uuid.UUID:
    """One complaint's or one rapport's stream id: (kommun, flow, arende_id)."""
    return uuid.uuid5(_NAMESPACE, f"{kommun}/{flow}/{arende_id}")


@dataclass(frozen=True)
class KvalitetEvent:
    """One validated event of a complaint's or a lex Sarah rapport's stream."""

    kommun: str
    arende_id: str
    type: str
    occurred_at: datetime
    actor: Actor
    idempotency_key: str
    data: dict[str, Any] = field(default_factory=dict)
    position: int | None = None
    recorded_at: datetime | None = None
    digest: str | None = None

    @property
    def flow(self) -> Flow:
        return flow_of(self.type)

    @property
    def legal_date(self) -> date:
        return legal_date(self.occurred_at)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kommun": self.kommun,
            "arende_id": self.arende_id,
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


def parse_kvalitet_event(obj: object, flow: Flow | None = None) -> KvalitetEvent:
    """Validate one line (``EventValidationError`` names the first bad field). ``flow``: the
    entry point's flow (``POST /klagomal/commands`` takes no lex Sarah line)."""
    if not isinstance(obj, Mapping):
        raise EventValidationError("$", "an event must be a JSON object")
    unknown = sorted(set(obj) - KVALITET_ENVELOPE)
    if unknown:
        raise EventValidationError(unknown[0], "unknown field")
    kommun = _text(obj.get("kommun"), "kommun", max_len=4)
    if not KOMMUN_RE.match(kommun):
        raise EventValidationError("kommun", "must be a 4-digit kommunkod")
    arende_id = _code(obj.get("arende_id"), "arende_id")
    etype = _text(obj.get("type"), "type", max_len=64)
    spec = KVALITET_EVENT_TYPES.get(etype)
    if spec is None or (flow is not None and flow_of(etype) != flow):
        kinds = sorted(t for t in KVALITET_EVENT_TYPES if flow is None or flow_of(t) == flow)
        raise EventValidationError("type", f"unknown type {etype!r}; one of {', '.join(kinds)}")
    occurred_at = parse_datetime(obj.get("occurred_at"), "occurred_at")
    actor = parse_actor(obj.get("actor"))
    key = _text(obj.get("idempotency_key"), "idempotency_key", max_len=200)
    data = parse_data(obj.get("data", {}), spec, etype, legal_date(occurred_at))
    for name, fspec in spec.items():
        if fspec.kind == "hem_id" and name in data:  # ids and unit codes: never a personnummer
            data[name] = _code(data[name], f"data.{name}")
    return KvalitetEvent(kommun, arende_id, etype, occurred_at, actor, key, data)


def _code(value: object, where: str) -> str:
    """An id or a unit's code (letters, digits, ``_.:-``) that is not a personnummer: it is
    stored in the stream's id, listed and reported."""
    text = parse_hem_id(value, where)
    if contains_identity_number(text):
        raise EventValidationError(where, "must not contain a personnummer or samordningsnummer")
    return text


def kvalitet_event_from_json(obj: Mapping[str, Any]) -> KvalitetEvent:
    """Rebuild a stored event (validated once, when it was recorded)."""
    actor = obj["actor"]
    recorded = obj.get("recorded_at")
    return KvalitetEvent(
        kommun=obj["kommun"],
        arende_id=obj["arende_id"],
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


# ---------------------------------------------------------------------------- frister
FristStatus = Literal["i_tid", "sen", "oppen", "forsenad"]


@dataclass(frozen=True)
class KvalitetFrist:
    """One frist of a flow on a legal date: due, met (or not) and its status then."""

    rule: str
    arende_id: str
    trigger: date
    due: date
    done: date | None
    as_of: date

    @property
    def status(self) -> FristStatus:
        """i_tid / sen (met on or before / after ``due``), oppen / forsenad (not met by
        ``as_of``; forsenad once ``as_of`` is past ``due``)."""
        if self.done is not None and self.done <= self.as_of:
            return "i_tid" if self.done <= self.due else "sen"
        return "forsenad" if self.as_of > self.due else "oppen"

    @property
    def dagar(self) -> int | None:
        """Calendar days from the trigger to the fulfilment (``None``: not met by ``as_of``)."""
        if self.done is None or self.done > self.as_of:
            return None
        return days_between(self.trigger, self.done)

    def to_json(self) -> dict[str, Any]:
        return {
            "regel": self.rule,
            "arende_id": self.arende_id,
            "start": self.trigger.isoformat(),
            "sista_dag": self.due.isoformat(),
            "uppfylld": self.done.isoformat() if self.done and self.done <= self.as_of else None,
            "status": self.status,
            "dagar": self.dagar,
        }


# ---------------------------------------------------------------------------- state
@dataclass
class KvalitetState:
    """One complaint or rapport, folded from its stream (legal dates of each step)."""

    kommun: str = ""
    arende_id: str = ""
    flow: Flow | None = None
    opened: date | None = None
    #: the opening event's data (category, unit, sender / avser, rapportör, case_ref)
    facts: dict[str, Any] = field(default_factory=dict)
    atgarder: list[tuple[date, str]] = field(default_factory=list)
    aterkopplat: tuple[date, str] | None = None
    utredning: date | None = None
    bedomd: tuple[date, bool] | None = None
    anmald_ivo: date | None = None
    avslutad: date | None = None
    idempotency: dict[str, int] = field(default_factory=dict)
    event_count: int = 0

    # ------------------------------------------------------------------ guards
    def check(self, ev: KvalitetEvent, today: date) -> None:
        """Raise ``RuleViolation`` if ``ev`` may not be recorded on this stream."""
        day = ev.legal_date
        if day > today:
            _deny(
                "P-FUTURE",
                f"Händelsen är daterad i framtiden ({day}).",
                f"event is dated in the future ({day})",
            )
        opening = "klagomal_inkommet" if ev.flow == "klagomal" else "lex_sarah_rapporterad"
        if self.opened is None:
            if ev.type != opening:
                _deny(
                    "KV-OPEN",
                    f"Flödet börjar med {opening}.",
                    f"a {ev.flow} flow begins with {opening}, not {ev.type}",
                )
            return
        if ev.kommun != self.kommun:
            _deny("P-KOMMUN", f"Ärendet tillhör kommun {self.kommun}.", "another kommun's flow")
        if ev.type == opening:
            _deny("KV-OPEN", "Ärendet finns redan.", f"{self.arende_id} is already recorded")
        if day < self.opened:
            _deny(
                "P-BEFORE-CASE",
                f"Händelsen är daterad före ärendets start ({self.opened}).",
                f"event dated {day}, before the flow began on {self.opened}",
            )
        if self.flow == "klagomal":
            self._check_klagomal(ev)
        else:
            self._check_lex_sarah(ev, day)

    def _check_klagomal(self, ev: KvalitetEvent) -> None:
        if self.aterkopplat is not None:
            _deny(
                "KL-AVSLUTAT",
                "Klagomålet är redan återkopplat och avslutat.",
                "the complaint was already answered (klagomal_aterkopplat closes it)",
            )

    def _check_lex_sarah(self, ev: KvalitetEvent, day: date) -> None:
        if self.avslutad is not None:
            _deny("LS-AVSLUTAD", "Lex Sarah-ärendet är avslutat.", "the rapport's flow is closed")
        t = ev.type
        if t == "lex_sarah_utredning_startad" and self.utredning is not None:
            _deny("LS-ORDNING", "Utredningen är redan påbörjad.", "the utredning already began")
        if t == "lex_sarah_bedomd":
            if self.utredning is None:
                _deny(
                    "LS-ORDNING",
                    "Bedömningen görs efter utredningen (SoL 2025:400 27 kap. 5 §).",
                    "a bedömning needs lex_sarah_utredning_startad first",
                )
            if self.bedomd is not None:
                _deny("LS-ORDNING", "Rapporten är redan bedömd.", "the rapport was already judged")
        if t == "lex_sarah_anmald_ivo":
            if self.bedomd is None or not self.bedomd[1]:
                _deny(
                    "LS-ANMALAN",
                    "Anmälan till IVO avser ett allvarligt missförhållande; bedöm det först "
                    "(SoL 2025:400 27 kap. 6 §).",
                    "an anmälan to IVO needs a lex_sarah_bedomd with allvarligt=true first",
                )
            if self.anmald_ivo is not None:
                _deny("LS-ANMALAN", "Anmälan är redan gjord.", "the anmälan to IVO was made")
            if not ev.data.get("utredning_bifogad"):
                _deny(
                    "LS-ANMALAN",
                    "Utredningen ska bifogas anmälan (SoL 2025:400 27 kap. 6 § första st.).",
                    "the utredning is attached to the anmälan (utredning_bifogad must be true)",
                )
        if t == "lex_sarah_avslutad":
            if self.bedomd is None:
                _deny(
                    "LS-ORDNING",
                    "Ärendet avslutas efter bedömningen.",
                    "a rapport is closed after lex_sarah_bedomd",
                )
            elif self.bedomd[1] and self.anmald_ivo is None:
                _deny(
                    "LS-ANMALAN",
                    "Ett allvarligt missförhållande anmäls till IVO innan ärendet avslutas "
                    "(SoL 2025:400 27 kap. 6 §).",
                    "an allvarligt missförhållande is reported to IVO before the flow closes",
                )

    # ------------------------------------------------------------------ evolution
    def apply(self, ev: KvalitetEvent) -> None:
        day = ev.legal_date
        d = ev.data
        self.event_count += 1
        self.idempotency[ev.idempotency_key] = self.event_count
        t = ev.type
        if t in ("klagomal_inkommet", "lex_sarah_rapporterad"):
            self.kommun, self.arende_id, self.opened = ev.kommun, ev.arende_id, day
            self.flow = ev.flow
            self.facts = {k: v for k, v in d.items() if k not in KVALITET_TEXT_FIELDS}
        elif t == "klagomal_atgard":
            self.atgarder.append((day, d["atgard"]))
        elif t == "klagomal_aterkopplat":
            self.aterkopplat = (day, d["utfall"])
        elif t == "lex_sarah_utredning_startad":
            self.utredning = day
        elif t == "lex_sarah_bedomd":
            self.bedomd = (day, bool(d["allvarligt"]))
        elif t == "lex_sarah_anmald_ivo":
            self.anmald_ivo = day
        elif t == "lex_sarah_avslutad":
            self.avslutad = day

    # ------------------------------------------------------------------ frister
    def frister(self, policy: KommunPolicy, as_of: date) -> list[KvalitetFrist]:
        """The flow's frister known on ``as_of`` (KL1; LS1, LS2, and LS3 once judged
        allvarligt), each with its status then. Steps dated after ``as_of`` are not known."""
        if self.opened is None or self.opened > as_of:
            return []

        def known(day: date | None) -> date | None:
            return day if day is not None and day <= as_of else None

        def frist(rule: str, start: date, days: int, done: date | None) -> KvalitetFrist:
            return KvalitetFrist(rule, self.arende_id, start, add_days(start, days), done, as_of)

        if self.flow == "klagomal":
            done = known(self.aterkopplat[0] if self.aterkopplat else None)
            return [frist("KL1", self.opened, policy.klagomal_dagar, done)]
        out = [
            frist(
                "LS1", self.opened, policy.lex_sarah_utredning_start_dagar, known(self.utredning)
            ),
            frist(
                "LS2",
                self.opened,
                policy.lex_sarah_utredning_dagar,
                known(self.bedomd[0] if self.bedomd else None),
            ),
        ]
        if self.bedomd is not None and self.bedomd[1] and self.bedomd[0] <= as_of:
            out.append(
                frist("LS3", self.bedomd[0], policy.lex_sarah_ivo_dagar, known(self.anmald_ivo))
            )
        return out

    def closed_on(self, day: date) -> date | None:
        """The legal date the flow ended on or before ``day`` (``None``: open then)."""
        end = self.aterkopplat[0] if self.aterkopplat else self.avslutad
        return end if end is not None and end <= day else None


def fold_streams(
    events: Iterable[KvalitetEvent], known_at: datetime | None = None
) -> list[KvalitetState]:
    """Each complaint's and rapport's state from ``events`` (those recorded after ``known_at``
    left out when it is given), ordered by flow and arende_id."""
    seen: dict[tuple[str, str], KvalitetState] = {}
    for ev in events:
        if known_at is not None and ev.recorded_at is not None and ev.recorded_at > known_at:
            continue
        seen.setdefault((ev.flow, ev.arende_id), KvalitetState()).apply(ev)
    return [seen[k] for k in sorted(seen)]


class KvalitetStream(Aggregate):
    """One complaint's or rapport's stream (like ``domain.homes.Home``: guards before the event,
    folds in the ``@event`` bodies, each envelope chained with ``stream_digest``)."""

    @staticmethod
    def create_id(envelope: dict[str, Any]) -> uuid.UUID:
        return stream_uuid_for(envelope["kommun"], flow_of(envelope["type"]), envelope["arende_id"])

    @event("Opened")
    def __init__(self, envelope: dict[str, Any]) -> None:
        self.state = KvalitetState()
        self.state.apply(kvalitet_event_from_json(envelope))
        self.digest: str | None = envelope.get("digest")

    @event("Recorded")
    def _record(self, envelope: dict[str, Any]) -> None:
        self.state.apply(kvalitet_event_from_json(envelope))
        self.digest = envelope.get("digest")

    @classmethod
    def open(cls, ev: KvalitetEvent, today: date) -> KvalitetStream:
        KvalitetState().check(ev, today)
        return cls(envelope=_chained(STREAM_GENESIS, _envelope(ev)))

    def append(self, ev: KvalitetEvent, today: date) -> None:
        self.state.check(ev, today)
        self._record(envelope=_chained(self.digest or STREAM_GENESIS, _envelope(ev)))


def _envelope(ev: KvalitetEvent) -> dict[str, Any]:
    out = ev.to_json()
    out["stream_uuid"] = str(stream_uuid_for(ev.kommun, ev.flow, ev.arende_id))
    for k in ("position", "recorded_at", "digest"):
        out.pop(k, None)
    return out


def _chained(prev: str, envelope: dict[str, Any]) -> dict[str, Any]:
    return {**envelope, "digest": stream_digest(prev, envelope)}
