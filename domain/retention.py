"""Gallring (retention): which class each entry of a child's personakt belongs to, and when
the nämnd must destroy it or must keep it forever (docs/law.md §10).

Pure: computed from a person's recorded events and a date, never from the clock. The rules are
SoL 2025:400 16 kap. (from 2025-07-01; 16:2 a from 2026-01-15, SFS 2025:1501) and SoF 2025:468
13 kap. 1 §, and before 2025-07-01 SoL 2001:453 12 kap. 1-2 §§. Every answer names its rule id
and paragraph, because a gallringsbeslut destroys what no one can restore: the registrator
must be able to check each line against the statute.

The classes (``RetentionClass``):

* ``placering`` (G-PLACERING) - never gallrat: documents "i samband med att ett barn har
  placerats" (16:2 p. 3; old 12:2 första st. p. 3). Which entries count is POL-GALLRING-PLACERING.
* ``utredning`` (G-UTREDNING) - a barnutredning is kept until the person has turned 30
  (16:2 a första st.), except in an ärende avslutat before 2026-01-15 (SFS 2025:1501 ÖB 2) and
  an anmälan the nämnd decided not to investigate (16:2 a andra st.), which follow G-PERSONAKT.
* ``personakt`` (G-PERSONAKT) - everything else: five years after the last entry in the akt,
  not while register data about the person remain (16:1; POL-GALLRING-REGISTER), done by the end
  of the following calendar year.

Over all classes: the research sample (G-FORSKNING, 16:4 and SoF 13:1) keeps everything of a
person born on the 5th, 15th or 25th, and everything in the kommuner of Östergötlands, Gotlands
and Västernorrlands län and in Göteborg.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from domain.calendar import add_years
from domain.case import CaseState
from domain.events import (
    CARE_EVENT_TYPES,
    PLACEMENT_EVENT_TYPES,
    PLACEMENT_INSATSER,
    SYSTEM_TYPES,
    CaseEvent,
)

#: SoL 2025:400 entered into force on this day; gallring that falls due earlier cites 2001:453.
NEW_SOL_FROM: Final = date(2025, 7, 1)
#: SoL 2025:400 16 kap. 2 a § (SFS 2025:1501) entered into force on this day; its ÖB 2 keeps
#: ärenden avslutade before it under the five-year rule.
UTREDNING_30_FROM: Final = date(2026, 1, 15)
#: Years after the last entry / the end of the circumstances (16:1 första och andra st.).
GALLRING_YEARS: Final = 5
#: The age until which a barnutredning is kept (16:2 a första st.).
UTREDNING_AGE: Final = 30
#: SoF 2025:468 13 kap. 1 §: the län whose every kommun keeps everything (the first two digits
#: of the kommunkod are the länskod: 05 Östergötland, 09 Gotland, 22 Västernorrland) ...
RESEARCH_LAN: Final = frozenset({"05", "09", "22"})
#: ... and Göteborgs kommun.
RESEARCH_KOMMUNER: Final = frozenset({"1480"})
#: ... and elsewhere everyone born on these days of the month.
RESEARCH_DAYS: Final = frozenset({5, 15, 25})

PLACERING: Final = "placering"
UTREDNING: Final = "utredning"
PERSONAKT: Final = "personakt"
CLASSES: Final = (PLACERING, UTREDNING, PERSONAKT)

#: Documents only a placement has (vårdplan, genomförandeplan, hälsoundersökning: SoL 2025:400
#: 22 kap.; old 11:3 a and 6:7 d): placement documents even when they name no beslut.
_PLACEMENT_ONLY_TYPES: Final = frozenset(
    {
        "vardplan_upprattad",
        "vardplan_reviderad",
        "genomforandeplan_upprattad",
        "halsoundersokning_begard",
        "overvagande_genomfort",
        "vardnadsoverflyttning_overvagd",
        "lvu_placering_paborjad",
        "lvu_vardnadsoverflyttning_overvagd",
    }
    # what the nämnd records while the child is placed and when it goes missing from it (docs/law.md
    # §3 D1-D11, V1-V3), a move between homes and the notifications that follow (§11)
    | set(CARE_EVENT_TYPES)
    | set(PLACEMENT_EVENT_TYPES)
)
#: LVU events that carry out or review care outside the home: placement documents once the
#: child was placed under LVU (POL-GALLRING-PLACERING).
_LVU_CARE_TYPES: Final = frozenset(
    {
        "lvu_omhandertagande_beslutat",
        "lvu_omhandertagande_verkstallt",
        "lvu_understalld",
        "lvu_omhandertagande_faststallt",
        "lvu_ansokan_inlamnad",
        "lvu_dom",
        "lvu_laga_kraft",
        "lvu_vard_upphort",
        "lvu_fortsatt_tillfallig_vard_beslutad",
        "lvu_fortsatt_tillfallig_vard_ansokt",
        "lvu_ordforandebeslut_anmalt",
        "lvu_forbud_beslutat",
        "lvu_forbud_understallt",
        "lvu_forbud_faststallt",
        "lvu_forbud_ansokt",
        "lvu_forbud_overvagt",
        "lvu_forbud_undantag_beslutat",
        "lvu_forbud_upphort",
        "lvu_umgangesbegransning_beslutad",
        "lvu_umgangesbegransning_provad",
        "lvu_umgangesbegransning_upphort",
        "lvu_drogtest_beslutat",
        "lvu_lakarundersokning_beslutad",
        "lvu_lakarundersokning_genomford",
        "lvu_offentligt_bitrade_behov",
        "lvu_offentligt_bitrade_anmalt",
    }
)
#: Events that show the child was placed under LVU (not merely that care was sought).
_LVU_PLACED_TYPES: Final = frozenset(
    {"lvu_omhandertagande_verkstallt", "lvu_placering_paborjad", "lvu_omhandertagande_beslutat"}
)
#: Entries of a barnutredning (16:2 a första st.): the utredning itself and what came in or was
#: written for it; an anmälan and its förhandsbedömning belong to it when it led to one.
_UTREDNING_TYPES: Final = frozenset(
    {
        "utredning_inledd",
        "utredning_forlangd",
        "utredning_avslutad",
        "barnenkat_erbjuden",
    }
)
#: Entries of an anmälan/ansökan before any utredning (classed by how its förhandsbedömning went).
_INTAKE_TYPES: Final = frozenset(
    {
        "anmalan_mottagen",
        "ansokan_mottagen",
        "skyddsbedomning_gjord",
        "forhandsbedomning_beslutad",
        "forhandsbedomning_forlangd",
        "anmalare_informerad",
    }
)
CLOSING_TYPES: Final = frozenset({"arende_avslutat", "arende_overflyttat"})
#: Events that end an insats (the circumstances register data describe, 16:1 andra st.).
_INSATS_END_TYPES: Final = frozenset({"beslut_avslutat", "lvu_vard_upphort"})


@dataclass(frozen=True)
class Citation:
    """A rule id with the paragraph of the act in force when the duty arose."""

    rule: str
    paragraph: str


@dataclass(frozen=True)
class ClassPlan:
    """One retention class of one case: its entries and what the law says about them.

    ``kept_forever``: never gallrat. Otherwise ``due`` is the day the gallringsskyldighet arises
    (``None``: not yet known, e.g. register data remain or a birth date is missing) and
    ``deadline`` the last day gallring may be completed (31 December of the following year).
    """

    case_ref: str
    case_id: str | None
    klass: str
    positions: tuple[int, ...]
    first_entry: date
    last_entry: date
    kept_forever: bool
    due: date | None
    deadline: date | None
    citations: tuple[Citation, ...]
    reason: str

    def status(self, as_of: date) -> str:
        """``bevaras`` (kept forever), ``gallras`` (due on ``as_of``), ``vantar`` (not yet)."""
        if self.kept_forever:
            return "bevaras"
        if self.due is not None and self.due <= as_of:
            return "gallras"
        return "vantar"


@dataclass(frozen=True)
class PersonPlan:
    """The plan for one person in one kommun: every case's classes, and the person's reasons."""

    kommun: str
    birth_date: date | None
    research_sample: bool
    register_until: date | None
    last_entry: date
    classes: tuple[ClassPlan, ...] = field(default_factory=tuple)

    def due(self, as_of: date) -> list[ClassPlan]:
        """The classes whose gallringsskyldighet has arisen by ``as_of``."""
        return [c for c in self.classes if c.status(as_of) == "gallras"]


def research_sample(kommun: str, birth_date: date | None) -> bool:
    """SoF 2025:468 13 kap. 1 § (G-FORSKNING): is the person's record kept for research?

    A person whose birth date is unknown counts as in the sample (POL-GALLRING-FORSKNING): a
    wrong gallring cannot be undone, a later one can still be made once the date is known.
    """
    if kommun[:2] in RESEARCH_LAN or kommun in RESEARCH_KOMMUNER:
        return True
    return birth_date is None or birth_date.day in RESEARCH_DAYS


def gallring_deadline(due: date) -> date:
    """16:1 tredje st. (old 12:1 tredje st.): done "senast kalenderåret efter" the duty arose."""
    return date(due.year + 1, 12, 31)


def _sol(due: date, new: str, old: str) -> str:
    return new if due >= NEW_SOL_FROM else old


def birth_date_of(events: Iterable[CaseEvent]) -> date | None:
    """The person's birth date: the latest ``barn.fodelsedatum`` recorded (an
    ``identitet_uppdaterad`` may correct it); a samordningsnummer's is already day minus 60."""
    born: date | None = None
    for ev in events:
        barn = ev.data.get("barn")
        if isinstance(barn, Mapping) and barn.get("fodelsedatum"):
            born = date.fromisoformat(str(barn["fodelsedatum"]))
    return born


def _placement_beslut(events: Sequence[CaseEvent]) -> frozenset[str]:
    return frozenset(
        str(ev.data["beslut_id"])
        for ev in events
        if ev.type == "beslut_fattat"
        and ev.data.get("insats") in PLACEMENT_INSATSER
        and ev.data.get("beslut_id")
    )


def classify_case(events: Sequence[CaseEvent]) -> list[str]:
    """The retention class of each event of one case, in order (POL-GALLRING-PLACERING,
    POL-GALLRING-UTREDNING). Depends on the whole case: a vårdplan names no beslut, an anmälan
    is part of a barnutredning only if its förhandsbedömning opened one."""
    placed_beslut = _placement_beslut(events)
    lvu_placed = any(ev.type in _LVU_PLACED_TYPES for ev in events)
    utredningar = {str(ev.data["utredning_id"]) for ev in events if ev.type == "utredning_inledd"}
    not_investigated = {
        str(ev.data["anmalan_id"])
        for ev in events
        if ev.type == "forhandsbedomning_beslutad"
        and ev.data.get("beslut") == "inte_inleda_utredning"
    }

    def intake(ev: CaseEvent) -> str:
        anmalan = ev.data.get("anmalan_id")
        if anmalan is not None and str(anmalan) in not_investigated:
            return PERSONAKT  # 16:2 a andra st.: five years (G-PERSONAKT)
        return UTREDNING if utredningar else PERSONAKT

    return [_classify(ev, placed_beslut, lvu_placed, utredningar, intake) for ev in events]


def _classify(
    ev: CaseEvent,
    placed_beslut: Collection[str],
    lvu_placed: bool,
    utredningar: Collection[str],
    intake: Callable[[CaseEvent], str],
) -> str:
    """The class of one event; the whole-case reading (``classify_case``) and the reading at the
    time of writing (``key_bucket``) differ only in what they know, passed in, and in how they
    judge an intake entry (``intake``)."""
    data = ev.data
    beslut_id = data.get("beslut_id")
    if ev.type == "beslut_fattat" and data.get("insats") in PLACEMENT_INSATSER:
        return PLACERING
    if beslut_id is not None and str(beslut_id) in placed_beslut:
        return PLACERING
    if ev.type in _PLACEMENT_ONLY_TYPES:
        return PLACERING
    if ev.type in _LVU_CARE_TYPES:
        return PLACERING if lvu_placed else UTREDNING
    if ev.type in _UTREDNING_TYPES:
        return UTREDNING
    if ev.type in ("barnet_hort", "barnet_ej_hort") and data.get("utredning_id"):
        return UTREDNING if str(data["utredning_id"]) in utredningar else PERSONAKT
    if ev.type == "beslut_fattat" and data.get("utredning_id"):
        return UTREDNING
    if ev.type in _INTAKE_TYPES:
        return intake(ev)
    return PERSONAKT


def _closed_before(events: Sequence[CaseEvent], day: date) -> bool:
    """Was the ärende avslutat before ``day`` (SFS 2025:1501 ÖB 2; POL-GALLRING-ARENDE)?

    Yes when its latest entry by legal date (barnflow's own alerts aside) is a closing event
    dated before ``day``: a case reopened or still written to on or after that day is not."""
    entries = [ev for ev in events if ev.type not in SYSTEM_TYPES]
    if not entries:
        return False
    last = max(entries, key=lambda ev: (ev.legal_date, ev.position or 0))
    return last.type in CLOSING_TYPES and last.legal_date < day


def register_end(cases: Sequence[Sequence[CaseEvent]]) -> date | None:
    """When the circumstances barnflow's register data describe ended (POL-GALLRING-REGISTER):
    the latest closing of the person's cases, provided every case is closed. ``None``: an open
    case, so register data remain and no personakt entry is due (16:1 första st. andra men.)."""
    ends: list[date] = []
    for events in cases:
        entries = [ev for ev in events if ev.type not in SYSTEM_TYPES]
        if not entries or not _closed_before(events, date.max):
            return None
        ends.append(max(ev.legal_date for ev in entries))
    return max(ends) if ends else None


def plan_person(kommun: str, cases: Sequence[Sequence[CaseEvent]]) -> PersonPlan:
    """The gallring plan for one person's personakt in ``kommun`` (all their cases there).

    Every case's events are classed; the person's last entry and register end decide the
    five-year date (G-PERSONAKT), the birth date the research sample (G-FORSKNING) and the
    30-year date (G-UTREDNING).
    """
    all_events = [ev for events in cases for ev in events]
    born = birth_date_of(all_events)
    sample = research_sample(kommun, born)
    entries = [ev for ev in all_events if ev.type not in SYSTEM_TYPES]
    last = max((ev.legal_date for ev in entries), default=min(ev.legal_date for ev in all_events))
    reg_end = register_end(cases)
    five: date | None = None
    if reg_end is not None:
        five = add_years(max(last, reg_end), GALLRING_YEARS)
    plans: list[ClassPlan] = []
    for events in cases:
        classes = classify_case(events)
        closed_early = _closed_before(events, UTREDNING_30_FROM)
        for klass in CLASSES:
            members = [ev for ev, c in zip(events, classes, strict=True) if c == klass]
            if members:
                plans.append(
                    _class_plan(
                        kommun,
                        klass,
                        members,
                        sample=sample,
                        born=born,
                        five=five,
                        closed_early=closed_early,
                        reg_end=reg_end,
                    )
                )
    return PersonPlan(kommun, born, sample, reg_end, last, tuple(plans))


def _class_plan(
    kommun: str,
    klass: str,
    members: Sequence[CaseEvent],
    *,
    sample: bool,
    born: date | None,
    five: date | None,
    closed_early: bool,
    reg_end: date | None,
) -> ClassPlan:
    first_ev = members[0]
    base: dict[str, Any] = {
        "case_ref": first_ev.case_ref,
        "case_id": first_ev.case_id,
        "klass": klass,
        "positions": tuple(ev.position or 0 for ev in members),
        "first_entry": min(ev.legal_date for ev in members),
        "last_entry": max(ev.legal_date for ev in members),
    }
    if sample:
        where = "kommunen" if born is not None and born.day not in RESEARCH_DAYS else "personen"
        if born is None and not (kommun[:2] in RESEARCH_LAN or kommun in RESEARCH_KOMMUNER):
            reason = "födelsedatum okänt: bevaras tills det är känt (POL-GALLRING-FORSKNING)"
        else:
            reason = f"forskningsurval ({where})"
        cite = Citation("G-FORSKNING", "SoL 2025:400 16:4; SoF 2025:468 13:1")
        return ClassPlan(
            **base, kept_forever=True, due=None, deadline=None, citations=(cite,), reason=reason
        )
    if klass == PLACERING:
        cite = Citation("G-PLACERING", "SoL 2025:400 16:2 p. 3 (SoL 2001:453 12:2 p. 3)")
        return ClassPlan(
            **base,
            kept_forever=True,
            due=None,
            deadline=None,
            citations=(cite,),
            reason="placering av barn",
        )
    if five is None:
        cite = Citation("G-PERSONAKT", "SoL 2025:400 16:1 första st.")
        reason = "registeruppgifter finns kvar (öppet ärende)"
        return ClassPlan(
            **base, kept_forever=False, due=None, deadline=None, citations=(cite,), reason=reason
        )
    cites = [Citation("G-PERSONAKT", _sol(five, "SoL 2025:400 16:1", "SoL 2001:453 12:1"))]
    due: date | None = five
    reason = f"fem år efter sista anteckningen/registeruppgiftens slut ({reg_end})"
    if klass == UTREDNING and not closed_early:
        if born is None:
            due = None
            reason = "barnutredning: födelsedatum okänt, 30-årsdagen kan inte beräknas"
        else:
            thirty = add_years(born, UTREDNING_AGE)
            due = max(five, thirty)
            reason = f"barnutredning: bevaras tills personen fyllt 30 ({thirty})"
        cites.append(Citation("G-UTREDNING", "SoL 2025:400 16:2 a första st."))
    elif klass == UTREDNING:
        reason += "; ärendet avslutat före 2026-01-15"
        cites.append(Citation("G-UTREDNING-OB", "SFS 2025:1501 ÖB 2"))
    deadline = gallring_deadline(due) if due is not None else None
    return ClassPlan(
        **base,
        kept_forever=False,
        due=due,
        deadline=deadline,
        citations=tuple(cites),
        reason=reason,
    )


# --- the key bucket an entry is sealed under when it is written (crypto-shredding) ------------
#: The child's identity (personnummer, temporary id, birth date) has its own key per case: it is
#: destroyed last, when every class of the case is gallrad, so a plan can still find the person
#: while any of their entries remains.
IDENTITY: Final = "identitet"


def key_bucket(state: CaseState, ev: CaseEvent) -> str:
    """The class ``ev`` is sealed under, judged from the case as it stands before it.

    The same reading as ``classify_case`` with what is known at the time of writing. An entry
    whose class only becomes clear later (an anmälan that leads to an utredning afterwards, an LVU
    ansökan before the child is placed) keeps its bucket; a gallring run destroys a bucket only
    when every entry in it is due under the final classification (POL-GALLRING-NYCKEL), so a
    late reclassification can delay gallring but never destroy what must be kept.
    """
    placed = {b.id for b in state.beslut.values() if b.insats in PLACEMENT_INSATSER}
    lvu_placed = state.lvu_omhandertagande is not None or ev.type in _LVU_PLACED_TYPES

    def intake(ev: CaseEvent) -> str:
        if ev.type == "forhandsbedomning_beslutad":
            return UTREDNING if ev.data.get("beslut") == "inleda_utredning" else PERSONAKT
        return UTREDNING if state.pending_utredning is not None else PERSONAKT

    return _classify(ev, placed, lvu_placed, state.utredningar.keys(), intake)
