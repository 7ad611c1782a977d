"""The rows of the reports that fold a case's events, computed when the events arrive (pure).

``placerade-barn``, ``placeringskostnader``, ``kontinuitet``, ``aktualiseringar`` and
``arsstatistik`` used to decrypt, parse and fold ``report_cases.events`` of every case that could
give a row at read time (0.5-1.1 s each at a million events, docs/operations.md "Rebuild"). The
same folds run here instead, once per case whenever it gets a new event (``facts.case_rows``,
so the incremental runner, the rebuild and the as-known-at copies agree), and the reports read
their rows (``projections.tables``: ``PLACERINGAR``, ``ARSSTATISTIK_POSTER``,
``AKTUALISERINGAR``, ``KONTINUITET``) and add only what moves with the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson

from domain.events import PLACEMENT_INSATSER, CaseEvent
from domain.placement import PLACEMENT_STARTS, Placement, Stay, placements
from domain.returns.collect import RECORD_STARTS, CaseRun, CaseRuns, case_runs

Row = tuple[Any, ...]
#: One event as the report folds read it: (legal date, type, data).
Item = tuple[date, str, dict[str, Any]]

#: Events that say whether the child is ensamkommande (the latest before an avvikning decides).
FLAG_TYPES = frozenset({"anmalan_mottagen", "ansokan_mottagen", "identitet_uppdaterad"})
OPENING = frozenset({"anmalan_mottagen", "ansokan_mottagen"})


def legal_order(events: Sequence[CaseEvent]) -> list[Item]:
    """A case's events by legal date, then position (what the report folds read; a stable
    sort, so events with neither apart keep their stream order)."""
    ordered = sorted(events, key=lambda ev: (ev.legal_date, ev.position or 0))
    return [(ev.legal_date, ev.type, ev.data) for ev in ordered]


@dataclass
class Child:
    """What a case's events say about the child and its unit, up to a legal date."""

    kon: str | None = None
    born: date | None = None
    enhet: str | None = None
    ensamkommande: bool = False
    flags: dict[str, object] = field(default_factory=dict)

    def note(self, etype: str, data: dict[str, Any]) -> None:
        barn = data.get("barn")
        if isinstance(barn, dict):
            self.kon = barn.get("kon", self.kon)
            if barn.get("fodelsedatum"):
                self.born = date.fromisoformat(str(barn["fodelsedatum"]))
        if etype in OPENING and data.get("enhet") is not None:
            self.enhet = str(data["enhet"])
        if etype in FLAG_TYPES and data.get("ensamkommande") is not None:
            self.ensamkommande = bool(data["ensamkommande"])


# --- kontinuitet ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KontinuitetFact:
    """One SoL placement as the events up to a legal date give it (``kontinuitet_facts``)."""

    beslut_id: str
    insats: str | None
    placerad: date
    avslutad: date | None
    socialsekreterare: str | None
    byten: int
    kon: str | None
    fodelsedatum: date | None
    enhet: str | None


class _Kontinuitet:
    """The kontinuitet fold of one case's events (in legal order), one event at a time."""

    def __init__(self) -> None:
        self.child = Child()
        self.placements: dict[str, dict[str, Any]] = {}
        self.named: list[tuple[date, str | None, str]] = []

    def apply(self, day: date, t: str, data: dict[str, Any]) -> bool:
        """Fold one event; False when it cannot have changed ``facts`` (most events)."""
        child = self.child
        before = (child.kon, child.born, child.enhet)
        child.note(t, data)
        changed = before != (child.kon, child.born, child.enhet)
        placements = self.placements
        if t == "beslut_fattat" and data.get("insats") in PLACEMENT_INSATSER:
            if data.get("gynnande") is True:
                placements[str(data["beslut_id"])] = {"insats": data["insats"]}
                return True
        elif t == "insats_verkstalld" and str(data["beslut_id"]) in placements:
            placements[str(data["beslut_id"])].setdefault("placerad", day)
            return True
        elif t == "beslut_avslutat" and str(data["beslut_id"]) in placements:
            placements[str(data["beslut_id"])].setdefault("slut", day)
            return True
        elif t == "socialsekreterare_utsedd":
            bid = data.get("beslut_id")
            ref = None if bid is None else str(bid)
            self.named.append((day, ref, str(data["socialsekreterare_id"])))
            return True
        return changed

    def facts(self) -> list[KontinuitetFact]:
        """Every verkställd placement so far, by beslut_id. The socialsekreterare named for it
        (or for none in particular) until it ended, also before it began (often named with the
        decision); every one after the first that differs is a change."""
        out = []
        for bid, pl in sorted(self.placements.items()):
            start = pl.get("placerad")
            if start is None:
                continue
            end = pl.get("slut")
            mine = [ss for d, b, ss in self.named if b in (bid, None) and (end is None or d <= end)]
            changes = sum(1 for i in range(1, len(mine)) if mine[i] != mine[i - 1])
            out.append(
                KontinuitetFact(
                    bid,
                    pl["insats"],
                    start,
                    end,
                    mine[-1] if mine else None,
                    changes,
                    self.child.kon,
                    self.child.born,
                    self.child.enhet,
                )
            )
        return out


def kontinuitet_facts(items: Iterable[Item]) -> list[KontinuitetFact]:
    """The placements of a case's events (legal order, cut at the as-of date) for the
    kontinuitet report: ``projections.placed.kontinuitet`` adds what moves with the as-of date."""
    fold = _Kontinuitet()
    for day, t, data in items:
        fold.apply(day, t, data)
    return fold.facts()


def kontinuitet_versions(
    items: Sequence[Item],
) -> list[tuple[date, date | None, KontinuitetFact]]:
    """``(valid_from, valid_to, fact)``: the facts of ``kontinuitet_facts`` over the events up to
    any as-of date in ``[valid_from, valid_to)`` (``valid_to`` None: from then on). They change
    only on a day with an event, so one pass gives the fold's state at the end of each day."""
    if not any(t == "insats_verkstalld" for _, t, _ in items):
        return []
    fold = _Kontinuitet()
    open_: dict[str, tuple[date, KontinuitetFact]] = {}
    out: list[tuple[date, date | None, KontinuitetFact]] = []
    dirty = False
    for n, (day, t, data) in enumerate(items):
        dirty = fold.apply(day, t, data) or dirty
        if not dirty or (n + 1 < len(items) and items[n + 1][0] == day):
            continue  # unchanged, or the day's last event decides the day's facts
        dirty = False
        now = {f.beslut_id: f for f in fold.facts()}
        for bid in list(open_):
            since, fact = open_[bid]
            if now.get(bid) != fact:
                out.append((since, day, fact))
                del open_[bid]
        for bid, fact in now.items():
            if bid not in open_:
                open_[bid] = (day, fact)
    out.extend((since, None, fact) for since, fact in open_.values())
    return sorted(out, key=lambda v: (v[2].beslut_id, v[0]))


def kontinuitet_rows(head: Row, items: Sequence[Item]) -> list[Row]:
    """Rows of the ``kontinuitet`` view (``projections.tables.KONTINUITET``) for one case."""
    return [
        (
            *head,
            f.beslut_id,
            since,
            until,
            f.insats,
            f.placerad,
            f.avslutad,
            f.socialsekreterare,
            f.byten,
            f.kon,
            f.fodelsedatum,
            f.enhet,
        )
        for since, until, f in kontinuitet_versions(items)
    ]


# --- aktualiseringar -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Aktualisering:
    """An anmälan, ansökan or utredning on the nämnd's own initiative, with the child as known
    on its day; ``beslut``: the anmälan's förhandsbedömningar ``(day, beslut)`` in legal order
    (the last one by a period's end is its outcome then)."""

    typ: str
    anmalan_id: str | None
    datum: date
    kon: object
    fodelsedatum: date | None
    anmalare_kategori: str | None
    beslut: tuple[tuple[date, str], ...]


def anmalare_category(value: object) -> str:
    """The anmälare's category as one label (lower case, trimmed): ``okand`` when absent."""
    text = str(value).strip().lower() if value is not None else ""
    return text or "okand"


def aktualiseringar_of(items: Iterable[Item]) -> list[Aktualisering]:
    """Every aktualisering of a case's events (legal order)."""
    kon: object = None
    born: date | None = None
    decided: dict[str, list[tuple[date, str]]] = {}
    found: list[tuple[str, str | None, date, object, date | None, str | None]] = []
    for day, etype, data in items:
        barn = data.get("barn")
        if isinstance(barn, dict):
            kon = barn.get("kon", kon)
            if barn.get("fodelsedatum"):
                born = date.fromisoformat(str(barn["fodelsedatum"]))
        if etype == "forhandsbedomning_beslutad":
            decided.setdefault(str(data["anmalan_id"]), []).append((day, str(data["beslut"])))
        elif etype == "anmalan_mottagen":
            category = anmalare_category(data.get("anmalare_kategori"))
            found.append(("anmalan", str(data["anmalan_id"]), day, kon, born, category))
        elif etype == "ansokan_mottagen":
            found.append(("ansokan", None, day, kon, born, None))
        elif etype == "utredning_inledd" and data.get("grund") == "eget_initiativ":
            found.append(("eget_initiativ", None, day, kon, born, None))
    return [
        Aktualisering(
            typ, aid, day, k, b, cat, tuple(decided.get(aid, ())) if aid is not None else ()
        )
        for typ, aid, day, k, b, cat in found
    ]


def aktualisering_rows(head: Row, items: Sequence[Item]) -> list[Row]:
    """Rows of the ``aktualiseringar`` view (``projections.tables.AKTUALISERINGAR``)."""
    return [
        (
            *head,
            n,
            a.typ,
            a.anmalan_id,
            a.datum,
            a.kon if isinstance(a.kon, str) or a.kon is None else str(a.kon),
            a.fodelsedatum,
            a.anmalare_kategori,
            orjson.dumps([[d.isoformat(), b] for d, b in a.beslut]).decode(),
        )
        for n, a in enumerate(aktualiseringar_of(items), start=1)
    ]


# --- placements ----------------------------------------------------------------------------------


def placement_rows(head: Row, events: Sequence[CaseEvent]) -> list[Row]:
    """Rows of the ``placeringar`` view (``projections.tables.PLACERINGAR``): the case's
    placements (``domain.placement.placements``), their stays as JSON."""
    if not any(ev.type in PLACEMENT_STARTS for ev in events):
        return []
    return [
        (
            *head,
            n,
            p.key,
            p.form,
            p.typ,
            p.start,
            p.end,
            p.kon,
            p.fodelsedatum,
            p.enhet,
            orjson.dumps(
                [[s.start.isoformat(), s.hem_id, s.belopp_per_dygn, _iso(s.end)] for s in p.stays]
            ).decode(),
        )
        for n, p in enumerate(placements(events), start=1)
    ]


def placement_of(kommun: str, case_ref: str, row: dict[str, Any]) -> Placement:
    """A ``placeringar`` view row as the placement it was written from (without the recorded
    exceptions to HEM4/HEM5, which no report reads)."""
    p = Placement(
        kommun,
        case_ref,
        str(row["key"]),
        str(row["form"]),
        str(row["typ"]),
        row["start"],
        [
            Stay(
                date.fromisoformat(s),
                hem,
                belopp,
                date.fromisoformat(e) if e is not None else None,
            )
            for s, hem, belopp, e in orjson.loads(row["stays"])
        ],
        row["slut"],
        row["kon"],
        row["fodelsedatum"],
        row["enhet"],
    )
    return p


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


# --- arsstatistik --------------------------------------------------------------------------------


def return_rows(head: Row, ivo_id: str | None, events: Sequence[CaseEvent]) -> list[Row]:
    """Rows of the ``arsstatistik_poster`` view: the case's runs (``case_runs``)."""
    if not any(ev.type in RECORD_STARTS for ev in events):
        return []
    case = case_runs(events)
    return [
        (
            *head,
            n,
            ivo_id,
            r.post,
            case.kon,
            case.fodelsedatum,
            case.ensamkommande,
            r.insatstyp,
            r.lagrum_form,
            r.lagrum,
            r.beslut_id,
            r.beslutsdatum,
            r.start,
            r.slut,
            r.placeringsform,
            orjson.dumps([m.isoformat() for m in r.moves]).decode(),
            r.vistelsekommun,
            r.lvu_beslut,
        )
        for n, r in enumerate(case.runs, start=1)
    ]


def runs_of(kommun: str, case_ref: str, rows: Sequence[dict[str, Any]]) -> CaseRuns:
    """One case's ``arsstatistik_poster`` rows (in ``seq`` order) as its ``CaseRuns``."""
    first = rows[0]
    return CaseRuns(
        kommun,
        case_ref,
        first["kon"],
        first["fodelsedatum"],
        first["ensamkommande"],
        tuple(
            CaseRun(
                post=r["post"],
                insatstyp=r["insatstyp"],
                lagrum_form=r["lagrum_form"],
                lagrum=r["lagrum"],
                beslut_id=r["beslut_id"],
                beslutsdatum=r["beslutsdatum"],
                start=r["start"],
                slut=r["slut"],
                placeringsform=r["placeringsform"],
                moves=tuple(date.fromisoformat(m) for m in orjson.loads(r["moves"])),
                vistelsekommun=r["vistelsekommun"],
                lvu_beslut=r["lvu_beslut"],
            )
            for r in rows
        ),
    )
