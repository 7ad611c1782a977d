"""Guards for the placed child (issue #15 B): avvikning, the age limits of LVU, and the records
kept about a placement.

A state and guard set of its own that ``domain.case.CaseState`` folds and consults after its
own guards (as ``domain.case_lvu2027``). Ages are always computed from the child's
``fodelsedatum`` (the personnummer's or the temporary id's date), never from a stored age; a
case without a birth date is not judged on age.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import NoReturn, Protocol

from domain.calendar import add_months, add_years
from domain.errors import RuleViolation
from domain.events import CaseEvent, lvu_care_ordered

#: Rule ids of the guards below, with what they enforce (merged into case.PROCESS_RULES).
CARE_PROCESS_RULES: dict[str, str] = {
    "P-AVVIKNING": (
        "An avvikning is reported for a child placed under SoL or in LVU care, once per id; its "
        "steps refer to a reported avvikning that has not ended; the case is not closed while "
        "the child is missing and the avvikning began less than three months earlier "
        "(POL-AVVIKNING-TRE-MANADER)."
    ),
    "P-LVU-ALDER": (
        "LVU's age limits from the child's fodelsedatum: an omedelbart omhändertagande only "
        "under 20 (LVU 6 §; lag 2026:1600 5 kap. 1 §); care on the hem or anknytning ground "
        "only under 18 (LVU 1 § andra st., 2 §; 3 kap. 1 § första st.), on the eget-beteende "
        "ground only under 20 (LVU 1 § tredje st., 3 §; 3 kap. 1 § andra st.)."
    ),
    "P-PLACERING": (
        "A visit, a plan's approval, a socialsekreterare, schooling, contact or utslussning "
        "that names a beslut_id refers to a placement beslut of the case."
    ),
}

#: Event types about a placement that may name its beslut (P-PLACERING): the new ones only, so
#: a plan recorded before its decision (``vardplan_upprattad``) is accepted as it always was.
_PLACEMENT_RECORDS = frozenset(
    {
        "placeringsplan_godkand",
        "socialsekreterare_utsedd",
        "barnet_besokt",
        "skolgang_kartlagd",
        "umgange_planerat",
        "utslussning_planerad",
    }
)
_AVVIKNING_STEPS = frozenset(
    {
        "avvikning_polis_underrattad",
        "avvikning_migrationsverket_underrattat",
        "avvikning_lvu_bedomning_gjord",
        "avvikning_avslutad",
    }
)


class _Beslut(Protocol):
    @property
    def verkstalld(self) -> date | None: ...

    @property
    def is_placement(self) -> bool: ...

    @property
    def open_insats(self) -> bool: ...


class _Case(Protocol):
    """The facts of ``CaseState`` the guards read."""

    fodelsedatum: str | None
    lvu_omhandertagande: date | None
    lvu_vard: bool

    @property
    def beslut(self) -> Mapping[str, _Beslut]: ...


@dataclass
class Avvikning:
    """One disappearance: the day it began and, once found or back, the day it ended."""

    began: date
    ended: date | None = None


@dataclass
class CareState:
    """What the guards of the placed child need, folded from the events."""

    avvikningar: dict[str, Avvikning] = field(default_factory=dict)
    #: The ground of the latest ansökan om vård (a dom that states none is judged by it).
    ansokan_grund: str | None = None

    def apply(self, ev: CaseEvent) -> None:
        """Fold one (already checked) event."""
        if ev.type == "lvu_ansokan_inlamnad":
            self.ansokan_grund = ev.data.get("grund")
        elif ev.type == "avvikning_anmald":
            self.avvikningar[str(ev.data["avvikning_id"])] = Avvikning(ev.legal_date)
        elif ev.type == "avvikning_avslutad":
            self.avvikningar[str(ev.data["avvikning_id"])].ended = ev.legal_date

    def missing_since(self) -> list[date]:
        """The days the avvikningar still open began."""
        return [a.began for a in self.avvikningar.values() if a.ended is None]


def _deny(rule: str, sv: str, en: str) -> NoReturn:
    raise RuleViolation(rule, sv, en)


def age_on(born: date, day: date) -> int:
    """Whole years of a child born on ``born`` on ``day`` (a birthday counts on the day)."""
    years = day.year - born.year
    return years if add_years(born, years) <= day else years - 1


def check_care(s: CareState, case: _Case, ev: CaseEvent, *, ages: bool = True) -> None:
    """Raise ``RuleViolation`` if ``ev`` breaks a rule of the placed child; else return.
    ``ages=False`` (recorded history) leaves out the LVU age limits (P-LVU-ALDER)."""
    t = ev.type
    if t == "avvikning_anmald":
        _g_avvikning_anmald(s, case, ev)
    elif t in _AVVIKNING_STEPS:
        _g_avvikning_step(s, ev)
    elif t == "arende_avslutat":
        _g_close(s, ev)
    elif t in ("lvu_omhandertagande_beslutat", "lvu_ansokan_inlamnad", "lvu_dom"):
        if ages:
            _g_lvu_age(case, ev, s.ansokan_grund if t == "lvu_dom" else None)
    elif t in _PLACEMENT_RECORDS:
        bid = ev.data.get("beslut_id")
        if bid is not None and (bid not in case.beslut or not case.beslut[bid].is_placement):
            _deny(
                "P-PLACERING",
                f"Okänt placeringsbeslut {bid}.",
                f"beslut_id {bid!r} is not a placement beslut of this case",
            )


def _placed(case: _Case) -> bool:
    """A SoL placement verkställd and open, or LVU care / an omhändertagande in force."""
    sol = any(
        b.is_placement and b.open_insats and b.verkstalld is not None for b in case.beslut.values()
    )
    return sol or case.lvu_omhandertagande is not None or case.lvu_vard


def _g_avvikning_anmald(s: CareState, case: _Case, ev: CaseEvent) -> None:
    aid = str(ev.data["avvikning_id"])
    if aid in s.avvikningar:
        _deny("P-DUP-ID", "Avvikningen finns redan.", f"avvikning_id {aid!r} exists")
    if not _placed(case):
        _deny(
            "P-AVVIKNING",
            "En avvikning gäller ett barn som är placerat eller vårdas enligt LVU.",
            "an avvikning needs a SoL placement verkställd or LVU care in force",
        )


def _g_avvikning_step(s: CareState, ev: CaseEvent) -> None:
    aid = str(ev.data["avvikning_id"])
    found = s.avvikningar.get(aid)
    if found is None:
        _deny("P-REF", f"Okänd avvikning {aid}.", f"unknown avvikning_id {aid!r}")
    if found.ended is not None:
        _deny("P-AVVIKNING", "Avvikningen är avslutad.", f"the avvikning ended on {found.ended}")


def _g_close(s: CareState, ev: CaseEvent) -> None:
    day = ev.legal_date
    recent = [b for b in s.missing_since() if day < add_months(b, 3)]
    if recent:
        until = add_months(min(recent), 3)
        _deny(
            "P-AVVIKNING",
            f"Barnet är försvunnet sedan {min(recent)}: ärendet avslutas inte före {until}.",
            f"the child is missing since {min(recent)}: the case is not closed before {until}",
        )


def _g_lvu_age(case: _Case, ev: CaseEvent, asked: str | None) -> None:
    """``asked``: for a dom, the ground of the ansökan it answers (used when it states none)."""
    if case.fodelsedatum is None:
        return
    age = age_on(date.fromisoformat(case.fodelsedatum), ev.legal_date)
    if age >= 20:
        _deny(
            "P-LVU-ALDER",
            f"Barnet är {age} år: LVU gäller den som är under 20 år.",
            f"the young person is {age}: LVU (6 §, 1 § tredje st.; 2026:1600 3 kap. 1 §, "
            "5 kap. 1 §) applies under 20",
        )
    if ev.type == "lvu_omhandertagande_beslutat" or age < 18:
        return
    if ev.type == "lvu_dom" and not lvu_care_ordered(ev.data.get("utfall", "")):
        return
    paragraf = str(ev.data.get("paragraf") or "")
    grund = ev.data.get("grund") or (asked if not paragraf else None)
    hem_only = grund in ("hem", "anknytning") or (grund is None and paragraf == "2")
    if hem_only:
        _deny(
            "P-LVU-ALDER",
            f"Den unge är {age} år: vård på grund av hemförhållandena gäller barn under 18 år.",
            f"the young person is {age}: care on the hem or anknytning ground is for a child "
            "under 18 (LVU 1 § andra st., 2 §; 2026:1600 3 kap. 1 § första st.); 18-19 only on "
            "the eget-beteende ground",
        )
