"""A child's placements, derived from the case's events, and the guard that a placement names a
home that may take the child on the placement's legal date (docs/law.md §11).

A placement starts with ``insats_verkstalld`` of a gynnande placement beslut (SoL) or
``lvu_placering_paborjad`` (LVU); it moves with ``placering_flyttad`` (omplacering) and ends with
``beslut_avslutat`` of its beslut, ``lvu_vard_upphort`` (every LVU placement), a later
``lvu_placering_paborjad`` (the LVU placement it replaces) or ``arende_avslutat``.

The guard (``check_placement``) runs in the command path (API, CLI, import) before the command
reaches the case's workflow: the home's record is another stream, read as it stood on the
placement's legal date, so the answer depends on the records only (never on the clock) and the
workflow itself never reads a home (no workflow change, replay of old histories unchanged).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.case import Beslut, fold
from domain.errors import EventValidationError, RuleViolation
from domain.events import OPENING_TYPES, CaseEvent
from domain.homes import ENSKILDA_HEM, HEMTYPER, HomeState

#: POL-HEM-ID: a kommun that records its homes in barnflow names the day from which a placement
#: in a familjehem, jourhem, HVB or stödboende must name its home (``policy.hem_id_krav_fran``,
#: e.g. this date). Unset, no placement is refused for lacking one: a kommun whose
#: verksamhetssystem does not send ``hem_id`` yet keeps placing children.
HEM_ID_KRAV_FROM = date(2027, 1, 1)
#: The events that start, move or end a placement.
PLACEMENT_TYPES = frozenset({"insats_verkstalld", "lvu_placering_paborjad", "placering_flyttad"})
#: Fields of the recorded exception to HEM4/HEM5 (POL-HEM-UNDANTAG): both or neither.
UNDANTAG_FIELDS = ("hem_undantag_skal", "hem_undantag_beslutat_av")


@dataclass
class Stay:
    """One stretch of a placement in one home (``hem_id`` ``None``: not named)."""

    start: date
    hem_id: str | None
    belopp_per_dygn: float | None
    end: date | None = None


@dataclass
class Placement:
    """One placement of a child: SoL (by beslut_id) or LVU (by placering_id)."""

    kommun: str
    case_ref: str
    key: str
    form: str  # SoL | LVU
    typ: str
    start: date
    stays: list[Stay] = field(default_factory=list)
    end: date | None = None
    kon: str | None = None
    fodelsedatum: date | None = None
    enhet: str | None = None
    undantag: list[dict[str, Any]] = field(default_factory=list)

    def hem_on(self, day: date) -> str | None:
        for s in self.stays:
            if s.start <= day and (s.end is None or day < s.end):
                return s.hem_id
        return None

    def open_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def _close(self, day: date) -> None:
        if self.end is None:
            self.end = max(day, self.start)
            if self.stays and self.stays[-1].end is None:
                self.stays[-1].end = self.end


def age_on(born: date | None, day: date) -> int | None:
    """Completed years on ``day`` (a birthday counts from the day itself)."""
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


#: The event types that begin a placement: a case without one has none (``placements``).
PLACEMENT_STARTS = frozenset({"insats_verkstalld", "lvu_placering_paborjad"})
#: Every event type ``placements`` reads (the child's opening and identity events, the beslut,
#: the placement's own events and what ends it): the others never change its answer, so a
#: report may leave them out before building events (``projections.placeringar``).
PLACEMENT_READS = frozenset(
    {
        *OPENING_TYPES,
        "identitet_uppdaterad",
        "beslut_fattat",
        "insats_verkstalld",
        "lvu_placering_paborjad",
        "placering_flyttad",
        "beslut_avslutat",
        "lvu_vard_upphort",
        "arende_avslutat",
    }
)


def placements(events: Iterable[CaseEvent]) -> list[Placement]:
    """Every placement in a case's events (in stream order), with its stays and end."""
    out: list[Placement] = []
    beslut: dict[str, dict[str, Any]] = {}
    child = _Child()
    by_key: dict[str, Placement] = {}
    for ev in events:
        child.apply(ev)
        d, day, t = ev.data, ev.legal_date, ev.type
        if t == "beslut_fattat":
            beslut[d["beslut_id"]] = d
        elif t == "insats_verkstalld":
            b = beslut.get(d["beslut_id"])
            if b is None or b.get("gynnande") is not True or b.get("insats") not in HEMTYPER:
                continue
            key = f"sol:{d['beslut_id']}"
            if key in by_key:
                continue  # a second verkställighet of the same beslut (after an avbrott)
            p = Placement(ev.kommun, ev.case_ref, key, "SoL", b["insats"], day)
            p.stays.append(Stay(day, d.get("hem_id"), b.get("belopp_per_dygn")))
            _record(p, ev, child)
            out.append(p)
            by_key[p.key] = p
        elif t == "lvu_placering_paborjad":
            for q in out:
                if q.form == "LVU" and q.end is None:
                    q._close(day)  # the new placement replaces it
            if d["placering"] not in HEMTYPER:
                continue
            key = f"lvu:{d['placering_id']}"
            p = Placement(ev.kommun, ev.case_ref, key, "LVU", d["placering"], day)
            p.stays.append(Stay(day, d.get("hem_id"), d.get("belopp_per_dygn")))
            _record(p, ev, child)
            out.append(p)
            by_key[p.key] = p
        elif t == "placering_flyttad":
            moved = by_key.get(_move_key(d))
            if moved is None or moved.end is not None:
                continue
            last = moved.stays[-1]
            last.end = max(day, last.start)
            belopp = d.get("belopp_per_dygn", last.belopp_per_dygn)
            moved.stays.append(Stay(last.end, d["hem_id"], belopp))
            if any(d.get(f) is not None for f in UNDANTAG_FIELDS):
                moved.undantag.append(_undantag(ev))
        elif t == "beslut_avslutat":
            ended = by_key.get(f"sol:{d['beslut_id']}")
            if ended is not None:
                ended._close(day)
        elif t == "lvu_vard_upphort":
            for q in out:
                if q.form == "LVU":
                    q._close(day)
        elif t == "arende_avslutat":
            for q in out:
                q._close(day)
    return out


def _move_key(d: dict[str, Any]) -> str:
    if d.get("beslut_id") is not None:
        return f"sol:{d['beslut_id']}"
    return f"lvu:{d.get('placering_id')}"


def _undantag(ev: CaseEvent) -> dict[str, Any]:
    return {
        "datum": ev.legal_date.isoformat(),
        "hem_id": ev.data.get("hem_id"),
        "skal": ev.data.get("hem_undantag_skal"),
        "beslutat_av": ev.data.get("hem_undantag_beslutat_av"),
    }


@dataclass
class _Child:
    """The child and unit a placement is counted for, from the case's opening events only (a
    fold that never fails: the frister engine reads placements from any accepted history, in
    legal-date order)."""

    kon: str | None = None
    fodelsedatum: date | None = None
    enhet: str | None = None

    def apply(self, ev: CaseEvent) -> None:
        if ev.type not in (*OPENING_TYPES, "identitet_uppdaterad"):
            return
        barn = ev.data.get("barn") or {}
        self.kon = barn.get("kon", self.kon)
        if barn.get("fodelsedatum"):
            self.fodelsedatum = date.fromisoformat(barn["fodelsedatum"])
        self.enhet = ev.data.get("enhet", self.enhet)


def _record(p: Placement, ev: CaseEvent, child: _Child) -> None:
    p.kon, p.fodelsedatum, p.enhet = child.kon, child.fodelsedatum, child.enhet
    if any(ev.data.get(f) is not None for f in UNDANTAG_FIELDS):
        p.undantag.append(_undantag(ev))


# ---------------------------------------------------------------------------------- the guard
@dataclass(frozen=True)
class PlacementRequest:
    """What a placement command asks: which kind of home, which home, on which day."""

    typ: str
    hem_id: str | None
    day: date
    form: str
    flytt: bool


def _deny(rule: str, sv: str, en: str) -> None:
    raise RuleViolation(rule, sv, en)


def _sol_ref(day: date, new: str, old: str) -> str:
    """The paragraph in force on ``day``: SoL 2025:400 from 2025-07-01, SoL 2001:453 before."""
    return f"SoL 2025:400 {new}" if day >= date(2025, 7, 1) else f"SoL 2001:453 {old}"


def placement_request(
    events: list[CaseEvent], ev: CaseEvent, beslut: Mapping[str, Beslut] | None = None
) -> PlacementRequest | None:
    """The placement ``ev`` starts or moves, or ``None`` when it is not one barnflow judges
    (not a placement event, or a placement outside familjehem/jourhem/HVB/stödboende).
    ``beslut``: the case's decisions as its fold holds them, when the caller has folded the case
    already (an import: not folded again for every placement line)."""
    if ev.type not in PLACEMENT_TYPES:
        return None
    d, day = ev.data, ev.legal_date
    if ev.type == "insats_verkstalld":
        if beslut is None:
            beslut = fold(events).beslut if events else {}
        b = beslut.get(d["beslut_id"])
        if b is None or not b.gynnande or b.insats not in HEMTYPER:
            return None
        return PlacementRequest(b.insats, d.get("hem_id"), day, "SoL", False)
    if ev.type == "lvu_placering_paborjad":
        if d["placering"] not in HEMTYPER:
            return None
        return PlacementRequest(d["placering"], d.get("hem_id"), day, "LVU", False)
    if (d.get("beslut_id") is None) == (d.get("placering_id") is None):
        raise EventValidationError(
            "data.beslut_id", "give exactly one of beslut_id (SoL) or placering_id (LVU)"
        )
    key = _move_key(d)
    moved = next((p for p in placements(events) if p.key == key), None)
    if moved is None or moved.end is not None or day < moved.start:
        _deny(
            "HEM-FLYTT",
            "Omplacering avser en pågående placering i ärendet.",
            f"placering_flyttad names no running placement ({key}) on {day}",
        )
        return None  # pragma: no cover - _deny raises
    return PlacementRequest(moved.typ, d["hem_id"], day, moved.form, True)


def check_placement(
    events: list[CaseEvent],
    ev: CaseEvent,
    home: HomeState | None,
    *,
    hem_id_krav_fran: date | None = None,
    beslut: Mapping[str, Beslut] | None = None,
) -> PlacementRequest | None:
    """Raise ``RuleViolation`` unless the placement ``ev`` may go to its home on its date.

    ``events`` are the case's stored events, ``home`` the named home's record as stored
    (``None``: no such home), ``beslut`` the fold's decisions if known (``placement_request``).
    Rules HEM1-HEM6 (docs/law.md §11)."""
    req = placement_request(events, ev, beslut)
    if req is None:
        return None
    d, day = ev.data, req.day
    undantag = [d.get(f) is not None for f in UNDANTAG_FIELDS]
    if any(undantag) and not all(undantag):
        raise EventValidationError(
            "data.hem_undantag_beslutat_av",
            "an exception names both who decided it (hem_undantag_beslutat_av) and why "
            "(hem_undantag_skal)",
        )
    if req.typ == "stodboende":
        _check_stodboende(events, ev, day)
    if req.hem_id is None:
        if hem_id_krav_fran is not None and day >= hem_id_krav_fran:
            _deny(
                "HEM1",
                f"Placeringen ska ange hemmet (hem_id) från {hem_id_krav_fran} (POL-HEM-ID).",
                f"a placement from {hem_id_krav_fran} names its home (data.hem_id; POL-HEM-ID)",
            )
        return req
    if home is None or not home.open_on(day):
        _deny(
            "HEM2",
            f"Hemmet {req.hem_id} finns inte i kommunens register över hem den {day}.",
            f"home {req.hem_id} is not a registered, open home of the kommun on {day}",
        )
        return req  # pragma: no cover - _deny raises
    if home.hemtyp != req.typ:
        _deny(
            "HEM3",
            f"Hemmet är registrerat som {home.hemtyp}, inte {req.typ}.",
            f"home {req.hem_id} is a {home.hemtyp}, the placement is in a {req.typ}",
        )
    if all(undantag) or req.typ not in ENSKILDA_HEM:
        return req
    if not home.godkand_on(day):
        ref = _sol_ref(day, "22 kap. 2 och 4 §§", "6 kap. 6 §")
        _deny(
            "HEM4",
            f"Hemmet är inte utrett och godkänt den {day} ({ref}).",
            f"home {req.hem_id} has no completed, approved utredning on {day} ({ref})",
        )
    if not home.register_giltig_on(day):
        _deny(
            "HEM5",
            f"Hemmet saknar giltig registerkontroll den {day} (SoF 2025:468 3 kap. 3 §; "
            "POL-HEM-REGISTER).",
            f"home {req.hem_id} has no valid registerkontroll (belastnings-, misstanke- and "
            f"socialtjänstens register within two years) on {day} (SoF 2025:468 3 kap. 3 §)",
        )
    return req


def _check_stodboende(events: list[CaseEvent], ev: CaseEvent, day: date) -> None:
    """HEM6: stödboende from 16, at 16-17 only with recorded särskilda skäl; the age from the
    case's fodelsedatum (the personnummer's or the temporary id's), never a stored age."""
    state = fold(events)
    born = date.fromisoformat(state.fodelsedatum) if state.fodelsedatum else None
    age = age_on(born, day)
    ref = _sol_ref(day, "9 kap. 1 §", "6 kap. 1 §")
    if age is not None and age < 16:
        _deny(
            "HEM6",
            f"Stödboende tar emot barn från 16 år; barnet är {age} år ({ref}).",
            f"stödboende takes children from 16; the child is {age} on {day} ({ref})",
        )
    if (age is None or age < 18) and ev.data.get("sarskilda_skal") is None:
        _deny(
            "HEM6",
            f"Barn som är 16 eller 17 år får placeras i stödboende endast om det finns "
            f"särskilda skäl (data.sarskilda_skal; {ref}).",
            f"a child of 16-17 (or of unknown age) is placed in stödboende only with "
            f"särskilda skäl recorded (data.sarskilda_skal; {ref})",
        )
