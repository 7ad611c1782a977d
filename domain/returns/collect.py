"""One case's events -> the records of the yearly return (pure; ``domain.returns.model``).

Which records (docs/reports.md "arsstatistik"):

- **an insats under SoL or LVU**: every gynnande ``beslut_fattat`` with an ``insats`` that was
  verkställd (``insats_verkstalld``) and ran during the year (verkställd on or before its last
  day, not ended before its first). ``lagrum`` says SoL or LVU (``domain.lagrum.parse``); a
  placement insats (familjehem, jourhem, HVB, stödboende, skyddat boende) carries its
  placeringsform and the omplaceringar (``placering_flyttad``) made in the year;
- **an LVU placement** (``lvu_placering_paborjad``): from its day to the next placement,
  ``lvu_vard_upphort`` or the case's end, resting on the latest LVU beslut (an omedelbart
  omhändertagande, or a dom ordering care) on or before its start;
- **LVU care without a recorded placement**: an omhändertagande verkställt
  (``lvu_omhandertagande_verkstallt``) while no LVU placement of the case begins during that
  care. Its placeringsform is unknown to barnflow and the validator says so.

Events are read in stream order (as recorded) and their legal dates kept as they are, so a
record whose end was recorded before its start stays visible to the validator instead of being
repaired here. Works on the views' redacted events (no personnummer needed: the identifier is
added when the file is written).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from domain.events import OPENING_TYPES, CaseEvent, lvu_care_ordered
from domain.lagrum import is_omedelbart_omhandertagande, parse
from domain.returns.model import Record
from domain.rules import LVU_NEW_FROM

#: The event types that begin a record (a run of an insats, an LVU placement or LVU care): a
#: case without one has no record in any year (``case_records``).
RECORD_STARTS = frozenset(
    {"insats_verkstalld", "lvu_placering_paborjad", "lvu_omhandertagande_verkstallt"}
)
#: Every event type ``case_records`` reads: the others never change its answer, so a report may
#: leave them out before building events (``projections.arsstatistik.year_records``).
RECORD_READS = frozenset(
    {
        *OPENING_TYPES,
        "identitet_uppdaterad",
        "beslut_fattat",
        "insats_verkstalld",
        "beslut_avslutat",
        "placering_flyttad",
        "lvu_omhandertagande_beslutat",
        "lvu_dom",
        "lvu_omhandertagande_verkstallt",
        "lvu_placering_paborjad",
        "lvu_vard_upphort",
        "arende_avslutat",
        "arende_overflyttat",
    }
)

#: Insatser that are placements (vård utanför hemmet), as barnflow names them.
PLACEMENT_INSATSER = frozenset({"familjehem", "jourhem", "hvb", "stodboende", "skyddat_boende"})


def lagrum_form(lagrum: str | None) -> str | None:
    """``SoL`` or ``LVU`` (LVU 1990:52 and its successor lag 2026:1600) as the lagrum reads;
    ``None`` when barnflow cannot read it."""
    if not lagrum:
        return None
    cit = parse(lagrum)
    if cit is None:
        return None
    return "SoL" if cit.sol else "LVU"


@dataclass
class _Run:
    """One insats or placement while the case's events are folded."""

    post: str
    insatstyp: str | None
    lagrum: str | None
    beslut_id: str | None
    beslutsdatum: date | None
    start: date | None
    placeringsform: str | None
    vistelsekommun: str | None = None
    lvu_beslut: date | None = None
    slut: date | None = None
    moves: list[date] = field(default_factory=list)
    lvu: bool = False


@dataclass
class _Care:
    """LVU care from its verkställighet to its end (to see care without a placement)."""

    start: date
    slut: date | None = None
    lvu_beslut: tuple[date, str] | None = None


def omhandertagande_lagrum(day: date) -> str:
    """The paragraph of an omedelbart omhändertagande on ``day`` (LVU 6 §; from 2027-01-01
    lag 2026:1600 5 kap. 1 §)."""
    return "LVU 6 §" if day < LVU_NEW_FROM else "lag 2026:1600 5 kap. 1 §"


#: lag 2026:1600 3 kap.: the paragraph of each ground
_GRUND_PARAGRAF = {"hem": "2", "eget_beteende": "3", "anknytning": "5"}


def dom_lagrum(day: date, paragraf: object, grund: object) -> str:
    """The paragraph(s) of a dom ordering care: LVU 2 §, 3 § or both (``paragraf``), or the
    ground's paragraph of lag 2026:1600 3 kap. (``grund``); LVU 2 § when neither is given."""
    if isinstance(grund, str) and grund in _GRUND_PARAGRAF:
        return f"lag 2026:1600 3 kap. {_GRUND_PARAGRAF[grund]} §"
    if paragraf == "2+3":
        return "LVU 2, 3 §§"
    if paragraf in ("2", "3"):
        return f"LVU {paragraf} §"
    return "LVU 2 §" if day < LVU_NEW_FROM else "lag 2026:1600 3 kap. 2 §"


@dataclass(frozen=True)
class CaseRun:
    """One run of a case (an insats, an LVU placement or LVU care) whatever the year: what
    ``records_in_year`` cuts to a year. ``slut`` as recorded; ``moves``: its omplaceringar."""

    post: str
    insatstyp: str | None
    lagrum_form: str | None
    lagrum: str | None
    beslut_id: str | None
    beslutsdatum: date | None
    start: date | None
    slut: date | None
    placeringsform: str | None
    moves: tuple[date, ...]
    vistelsekommun: str | None
    lvu_beslut: date | None


@dataclass(frozen=True)
class CaseRuns:
    """A case's runs (in the order they began in its events) and the child they are about."""

    kommun: str
    case_ref: str
    kon: str | None
    fodelsedatum: date | None
    ensamkommande: bool | None
    runs: tuple[CaseRun, ...]


def case_records(
    events: Iterable[CaseEvent],
    *,
    year: int,
    case_id: str,
    ivo_id: str | None = None,
) -> list[Record]:
    """The records of one case (events in stream order) that ran during ``year``."""
    return records_in_year(case_runs(events), year=year, case_id=case_id, ivo_id=ivo_id)


def records_in_year(
    case: CaseRuns, *, year: int, case_id: str, ivo_id: str | None = None
) -> list[Record]:
    """The records of ``case``'s runs that ran during ``year`` (``case_records``)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    out = []
    for run in case.runs:
        if run.start is None or run.start > last:
            continue
        if run.slut is not None and run.slut < first and run.slut >= run.start:
            continue  # ended before the year (an end before the start is kept for the validator)
        out.append(
            Record(
                kommun=case.kommun,
                case_ref=case.case_ref,
                case_id=case_id,
                post=run.post,
                kon=case.kon,
                fodelsedatum=case.fodelsedatum,
                insatstyp=run.insatstyp,
                lagrum_form=run.lagrum_form,
                lagrum=run.lagrum,
                beslut_id=run.beslut_id,
                beslutsdatum=run.beslutsdatum,
                start=run.start,
                slut=run.slut if run.slut is not None and run.slut <= last else None,
                placeringsform=run.placeringsform,
                omplaceringar=sum(1 for m in run.moves if first <= m <= last),
                ensamkommande=case.ensamkommande,
                vistelsekommun=run.vistelsekommun,
                lvu_beslut=run.lvu_beslut,
                ivo_id=ivo_id,
            )
        )
    return sorted(out, key=lambda r: (r.start or first, r.post))


def case_runs(events: Iterable[CaseEvent]) -> CaseRuns:
    """Every run of one case (events in stream order), for any year (``records_in_year``)."""
    kommun = case_ref = ""
    kon: str | None = None
    born: date | None = None
    ensam: bool | None = None
    beslut: dict[str, tuple[date, str, str | None, bool]] = {}
    runs: dict[str, _Run] = {}
    lvu_dates: list[tuple[date, str]] = []
    cares: list[_Care] = []

    def latest_lvu(day: date) -> tuple[date, str] | None:
        return max((x for x in lvu_dates if x[0] <= day), default=None)

    def close(run: _Run, day: date) -> None:
        if run.slut is None:
            run.slut = day

    for ev in events:
        t, d, day = ev.type, ev.data, ev.legal_date
        kommun, case_ref = kommun or ev.kommun, case_ref or ev.case_ref
        if t in (*OPENING_TYPES, "identitet_uppdaterad"):
            barn = d.get("barn") or {}
            kon = barn.get("kon", kon)
            if barn.get("fodelsedatum"):
                born = date.fromisoformat(str(barn["fodelsedatum"]))
            if d.get("ensamkommande") is not None:
                ensam = bool(d["ensamkommande"])
        elif t == "beslut_fattat":
            beslut[d["beslut_id"]] = (day, d["lagrum"], d.get("insats"), bool(d["gynnande"]))
            if is_omedelbart_omhandertagande(d["lagrum"]):
                lvu_dates.append((day, d["lagrum"]))
        elif t == "insats_verkstalld":
            bid = d["beslut_id"]
            key = f"beslut:{bid}"
            if key in runs:
                continue  # verkställd again after an avbrott: the same insats
            b = beslut.get(bid)
            if b is not None and (not b[3] or b[2] is None):
                continue  # not a gynnande insats: nothing to report
            insats = b[2] if b else None
            runs[key] = _Run(
                key,
                insats,
                b[1] if b else None,
                bid,
                b[0] if b else None,
                day,
                insats if insats in PLACEMENT_INSATSER else None,
                d.get("vistelsekommun"),
            )
            if lagrum_form(runs[key].lagrum) == "LVU":
                found = latest_lvu(day)
                runs[key].lvu = True
                runs[key].lvu_beslut = found[0] if found else None
        elif t == "beslut_avslutat":
            run = runs.get(f"beslut:{d['beslut_id']}")
            if run is not None:
                close(run, day)
        elif t == "placering_flyttad":
            key = (
                f"beslut:{d['beslut_id']}"
                if d.get("beslut_id") is not None
                else f"lvu:{d.get('placering_id')}"
            )
            run = runs.get(key)
            if run is not None and run.slut is None:
                run.moves.append(day)
                run.vistelsekommun = d.get("vistelsekommun", run.vistelsekommun)
        elif t == "lvu_omhandertagande_beslutat":
            lvu_dates.append((day, omhandertagande_lagrum(day)))
        elif t == "lvu_dom" and lvu_care_ordered(d["utfall"]):
            lvu_dates.append((day, dom_lagrum(day, d.get("paragraf"), d.get("grund"))))
        elif t == "lvu_omhandertagande_verkstallt":
            if not any(c.slut is None for c in cares):
                cares.append(_Care(day, lvu_beslut=latest_lvu(day)))
        elif t == "lvu_placering_paborjad":
            for run in runs.values():
                if run.post.startswith("lvu:"):
                    close(run, day)  # the new placement replaces it
            named = beslut.get(d["beslut_id"]) if d.get("beslut_id") else None
            found = latest_lvu(day)
            key = f"lvu:{d['placering_id']}"
            runs[key] = _Run(
                key,
                d["placering"],
                named[1] if named else (found[1] if found else None),
                d.get("beslut_id"),
                named[0] if named else (found[0] if found else None),
                day,
                d["placering"],
                d.get("vistelsekommun"),
                found[0] if found else None,
                lvu=True,
            )
        elif t == "lvu_vard_upphort" or (t == "lvu_dom" and not lvu_care_ordered(d["utfall"])):
            for run in runs.values():
                if run.post.startswith("lvu:"):
                    close(run, day)
            for care in cares:
                care.slut = care.slut or day
        elif t in ("arende_avslutat", "arende_overflyttat"):
            for run in runs.values():
                close(run, day)
            for care in cares:
                care.slut = care.slut or day

    lvu_starts = [r.start for r in runs.values() if r.lvu and r.start is not None]
    for n, care in enumerate(cares, start=1):
        placed = any(care.start <= s and (care.slut is None or s <= care.slut) for s in lvu_starts)
        if not placed:
            runs[f"lvu-vard:{n}"] = _Run(
                f"lvu-vard:{n}",
                None,
                care.lvu_beslut[1] if care.lvu_beslut else None,
                None,
                care.lvu_beslut[0] if care.lvu_beslut else None,
                care.start,
                None,
                lvu_beslut=care.lvu_beslut[0] if care.lvu_beslut else None,
                slut=care.slut,
                lvu=True,
            )

    return CaseRuns(
        kommun,
        case_ref,
        kon,
        born,
        ensam,
        tuple(
            CaseRun(
                post=run.post,
                insatstyp=run.insatstyp,
                lagrum_form="LVU" if run.lvu else lagrum_form(run.lagrum),
                lagrum=run.lagrum,
                beslut_id=run.beslut_id,
                beslutsdatum=run.beslutsdatum,
                start=run.start,
                slut=run.slut,
                placeringsform=run.placeringsform,
                moves=tuple(run.moves),
                vistelsekommun=run.vistelsekommun,
                lvu_beslut=run.lvu_beslut,
            )
            for run in runs.values()
        ),
    )
