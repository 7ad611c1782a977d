"""Guards for an överklagande's way through the kommun and the court, and for what the court's
decisions do to the beslut (docs/domain.md §7.4, docs/law.md §3 O1/O2, §9).

A separate state and guard set that ``domain.case.CaseState`` folds and consults after its own
guards (like ``domain.case_lvu2027``), so the aggregate and the workflow's update validator judge
an appeal alike. The guards only judge the appeal event types, and the verkställighet and closing
of a beslut once an appeal of it is recorded: every history without appeals is judged as before.

Förvaltningslagen (2017:900): delgivning (33 §) starts the appellant's three weeks (44 §); the
beslutsmyndighet checks that the appeal came in on time and avvisar it if not (45 §), may change
an appealed beslut only before handing the appeal on (39 §) and hands it on "skyndsamt" (46 §);
the court may order that the beslut does not apply for now (48 §). SoL 2025:400 35 kap. 5 §: the
nämnd's beslut applies at once, so the appeal by itself stops nothing
(POL-OVERKLAGANDE-VERKSTALLIGHET).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import NoReturn, Protocol

from domain.appeals import period_end
from domain.errors import RuleViolation
from domain.events import CaseEvent
from domain.rules import rule

#: Rule ids of the guards below, with what they enforce (merged into case.PROCESS_RULES).
APPEAL_PROCESS_RULES: dict[str, str] = {
    "O1": (
        "An överklagande is avvisat as late only when the record shows it came in after the "
        "appellant's three weeks from delgivning (FL 44-45 §§, lag 1930:173 2 §); one that came "
        "in late is kept only with an exception of FL 45 § second st."
    ),
    "P-OVERKLAGANDE": (
        "An överklagande concerns a beslut the case knows; its steps run in order: one "
        "rättidsprövning, then, unless avvisat, one överlämnande to the court, then the court's "
        "inhibition and dom; nothing follows an avvisning, a återkallelse or a dom."
    ),
    "P-OMPROVNING": (
        "An appealed beslut is omprövat only before the överklagande is handed to the court "
        "(FL 39 §), and once per överklagande."
    ),
    "P-INHIBITION": (
        "A beslut the court ordered not to apply for now (inhibition, FL 48 §) is not verkställt "
        "or resumed until the court's dom."
    ),
    "P-DOM": (
        "A beslut the court changed or sent back (bifall, återförvisat) is not verkställt or "
        "resumed as it was made: the kommun ends it and records the new beslut."
    ),
}
#: The catalogue rules whose open frist "an överklagande or its period is open" stands for in
#: P-CLOSE (the test of catalogue and guard agreement reads it).
APPEAL_CLOSE_RULES = ("O1", "O2")
#: Outcomes after which the beslut does not stand as it was made (POL-OVERKLAGANDE-VERKSTALLIGHET).
CHANGED_BY_COURT = frozenset({"bifall", "aterforvisat"})
#: Events that put a beslut into effect: stopped by an inhibition or a dom that changed it.
VERKSTALLIGHET_TYPES = frozenset({"insats_verkstalld", "verkstallighet_aterupptagen"})


class _Beslut(Protocol):
    @property
    def fattat(self) -> date: ...


class _Case(Protocol):
    """The facts of ``CaseState`` the guards read."""

    @property
    def beslut(self) -> Mapping[str, _Beslut]: ...


@dataclass
class Overklagande:
    """One överklagande of one beslut, as far as the record has followed it."""

    id: str
    beslut_id: str
    part: str | None
    mottaget: date
    rattidsprovad: date | None = None
    i_tid: bool | None = None
    undantag: str | None = None
    omprovad: date | None = None
    omprovning: str | None = None
    nytt_beslut_id: str | None = None
    overlamnat: date | None = None
    inhibition: date | None = None
    avgjort: date | None = None
    utfall: str | None = None
    aterkallat: date | None = None

    @property
    def avvisat(self) -> bool:
        return self.i_tid is False

    @property
    def ended(self) -> bool:
        """Nothing more happens to it: avvisat by the kommun, återkallat, or decided."""
        return self.avvisat or self.aterkallat is not None or self.avgjort is not None

    @property
    def handled_by_kommun(self) -> bool:
        """The beslutsmyndighet's part is done (O2): handed on, avvisat or återkallat."""
        return self.overlamnat is not None or self.avvisat or self.aterkallat is not None


@dataclass
class AppealsState:
    """What the appeal guards need, folded from the events."""

    #: beslut_id -> every recorded delgivning (part, legal date), in order
    delgivningar: dict[str, list[tuple[str | None, date]]] = field(default_factory=dict)
    overklaganden: dict[str, Overklagande] = field(default_factory=dict)

    def period_end(self, o: Overklagande) -> date | None:
        """The last day ``o`` could come in on time (``None``: no delgivning, still in time)."""
        return period_end(self.delgivningar.get(o.beslut_id, ()), o.part)

    def running_period(self, on: date) -> tuple[str, date] | None:
        """A beslut whose appeal period (from its latest delgivning) still runs on ``on``."""
        for bid, given in sorted(self.delgivningar.items()):
            end = period_end(given, None)
            if end is not None and on <= end:
                return bid, end
        return None

    def stopped(self, beslut_id: str) -> tuple[str, Overklagande] | None:
        """Why the court keeps ``beslut_id`` from being put into effect (the guard's rule id)."""
        for o in self.overklaganden.values():
            if o.beslut_id != beslut_id:
                continue
            if o.avgjort is not None and o.utfall in CHANGED_BY_COURT:
                return "P-DOM", o
            if o.inhibition is not None and not o.ended:
                return "P-INHIBITION", o
        return None

    def apply(self, ev: CaseEvent) -> None:
        """Fold one (already checked) event."""
        t, d, day = ev.type, ev.data, ev.legal_date
        if t == "beslut_delgivet":
            self.delgivningar.setdefault(str(d["beslut_id"]), []).append((d.get("part"), day))
            return
        if t == "overklagande_mottaget":
            oid = str(d["overklagande_id"])
            self.overklaganden[oid] = Overklagande(oid, str(d["beslut_id"]), d.get("part"), day)
            return
        o = self.overklaganden.get(str(d.get("overklagande_id")))
        if o is None:
            return
        if t == "rattidsprovning_gjord":
            o.rattidsprovad, o.i_tid, o.undantag = day, bool(d["i_tid"]), d.get("undantag")
        elif t == "omprovning_gjord":
            o.omprovad, o.omprovning, o.nytt_beslut_id = day, d["utfall"], d.get("nytt_beslut_id")
        elif t == "overklagande_overlamnat":
            o.overlamnat = day
        elif t == "overklagande_aterkallat":
            o.aterkallat = day
        elif t == "inhibition_beslutad":
            o.inhibition = day
        elif t == "overklagande_avgjort":
            o.avgjort, o.utfall = day, d["utfall"]


def check_appeals(s: AppealsState, case: _Case, ev: CaseEvent) -> None:
    """Raise ``RuleViolation`` if ``ev`` breaks an appeal rule; else return."""
    t = ev.type
    if t in VERKSTALLIGHET_TYPES:
        _g_verkstallighet(s, ev)
    elif t == "arende_avslutat":
        _g_close(s, ev)
    guard = _GUARDS.get(t)
    if guard is not None:
        guard(s, case, ev)


def _deny(rule_id: str, sv: str, en: str) -> NoReturn:
    raise RuleViolation(rule_id, sv, en)


def _beslut(case: _Case, ev: CaseEvent) -> _Beslut:
    bid = str(ev.data["beslut_id"])
    found = case.beslut.get(bid)
    if found is None:
        _deny("P-REF", f"Okänt beslut {bid}.", f"unknown beslut_id {bid!r}")
    if ev.legal_date < found.fattat:
        _deny(
            "P-OVERKLAGANDE",
            f"Händelsen är daterad före beslutet ({found.fattat}).",
            f"{ev.type} is dated before the beslut was made ({found.fattat})",
        )
    return found


def _overklagande(s: AppealsState, ev: CaseEvent) -> Overklagande:
    """The överklagande ``ev`` is about, still open; P-REF or P-OVERKLAGANDE otherwise."""
    oid = str(ev.data["overklagande_id"])
    o = s.overklaganden.get(oid)
    if o is None:
        _deny("P-REF", f"Okänt överklagande {oid}.", f"unknown overklagande_id {oid!r}")
    if ev.legal_date < o.mottaget:
        _deny(
            "P-OVERKLAGANDE",
            f"Händelsen är daterad före överklagandet ({o.mottaget}).",
            f"{ev.type} is dated before the överklagande came in ({o.mottaget})",
        )
    if o.ended:
        how = "avvisat" if o.avvisat else "återkallat" if o.aterkallat else "avgjort"
        _deny(
            "P-OVERKLAGANDE",
            f"Överklagandet {oid} är redan {how}.",
            f"the överklagande {oid} is already {how}",
        )
    return o


def _g_delgivet(s: AppealsState, case: _Case, ev: CaseEvent) -> None:
    _beslut(case, ev)


def _g_mottaget(s: AppealsState, case: _Case, ev: CaseEvent) -> None:
    oid = str(ev.data["overklagande_id"])
    if oid in s.overklaganden:
        _deny("P-DUP-ID", "Överklagandet finns redan.", f"overklagande_id {oid!r} exists")
    _beslut(case, ev)


def _g_rattidsprovning(s: AppealsState, case: _Case, ev: CaseEvent) -> None:
    o = _overklagande(s, ev)
    if o.rattidsprovad is not None:
        _deny("P-TWICE", "Rättidsprövningen är redan gjord.", "the rättidsprövning is recorded")
    end = s.period_end(o)
    late = end is not None and o.mottaget > end
    i_tid, undantag = bool(ev.data["i_tid"]), ev.data.get("undantag")
    if not i_tid and undantag is not None:
        _deny(
            "O1",
            "Ett undantag enligt FL 45 § andra st. innebär att överklagandet inte avvisas.",
            "an FL 45 § second st. exception keeps the överklagande: i_tid must be true",
        )
    if not i_tid and not late:
        when = (
            "ingen delgivning till klaganden är registrerad, tiden har inte börjat löpa"
            if end is None
            else f"det kom in {o.mottaget}, inom tiden som gick ut {end}"
        )
        _deny(
            "O1",
            f"Överklagandet kan inte avvisas som för sent: {when} (FL 44-45 §§).",
            "the överklagande cannot be avvisat as late: "
            + (
                "no delgivning to the appellant is recorded, so the three weeks have not begun"
                if end is None
                else f"it came in {o.mottaget}, within the period that ended {end}"
            ),
        )
    if i_tid and late and undantag is None:
        _deny(
            "O1",
            f"Överklagandet kom in {o.mottaget}, efter att tiden gick ut {end}: avvisa det "
            "eller ange undantag enligt FL 45 § andra st.",
            f"the överklagande came in {o.mottaget}, after the period ended {end}: avvisa it "
            "or give data.undantag (FL 45 § second st.)",
        )


def _g_omprovning(s: AppealsState, case: _Case, ev: CaseEvent) -> None:
    o = _overklagande(s, ev)
    if o.overlamnat is not None:
        _deny(
            "P-OMPROVNING",
            f"Beslutet kan inte omprövas: överklagandet lämnades till rätten {o.overlamnat} "
            "(FL 39 §).",
            f"the beslut cannot be omprövat: the överklagande went to the court on "
            f"{o.overlamnat} (FL 39 §)",
        )
    if o.omprovad is not None:
        _deny("P-OMPROVNING", "Omprövningen är redan gjord.", "the omprövning is recorded")
    new = ev.data.get("nytt_beslut_id")
    if new is not None and new not in case.beslut:
        _deny("P-REF", f"Okänt beslut {new}.", f"unknown nytt_beslut_id {new!r}")
    if new is not None and ev.data["utfall"] != "andrat":
        _deny(
            "P-OMPROVNING",
            "Ett nytt beslut hör till en omprövning som ändrar beslutet.",
            "nytt_beslut_id belongs to an omprövning with utfall andrat",
        )


def _g_overlamnat(s: AppealsState, case: _Case, ev: CaseEvent) -> None:
    o = _overklagande(s, ev)
    if o.overlamnat is not None:
        _deny("P-TWICE", "Överklagandet är redan överlämnat.", "the överklagande was handed on")
    if o.rattidsprovad is None:
        _deny(
            "P-OVERKLAGANDE",
            "Rättidsprövningen görs innan överklagandet lämnas till rätten (FL 45-46 §§).",
            "the rättidsprövning comes before the överklagande is handed on (FL 45-46 §§)",
        )


def _g_at_court(s: AppealsState, case: _Case, ev: CaseEvent) -> None:
    o = _overklagande(s, ev)
    if o.overlamnat is None:
        _deny(
            "P-OVERKLAGANDE",
            "Domstolen har inte överklagandet: det är inte överlämnat.",
            f"{ev.type} needs the överklagande handed to the court first",
        )
    if ev.type == "inhibition_beslutad" and o.inhibition is not None:
        _deny("P-TWICE", "Inhibition är redan beslutad.", "the inhibition is recorded")


def _g_aterkallat(s: AppealsState, case: _Case, ev: CaseEvent) -> None:
    _overklagande(s, ev)


def _g_verkstallighet(s: AppealsState, ev: CaseEvent) -> None:
    bid = str(ev.data["beslut_id"])
    stopped = s.stopped(bid)
    if stopped is None:
        return
    rule_id, o = stopped
    if rule_id == "P-INHIBITION":
        _deny(
            "P-INHIBITION",
            f"Rätten har beslutat att beslut {bid} inte ska gälla tills vidare (inhibition "
            f"{o.inhibition}, FL 48 §).",
            f"the court ordered beslut {bid} not to apply for now (inhibition {o.inhibition}, "
            "FL 48 §)",
        )
    _deny(
        "P-DOM",
        f"Domstolen ändrade eller återförvisade beslut {bid} ({o.avgjort}): avsluta det och "
        "registrera det nya beslutet.",
        f"the court changed or sent back beslut {bid} ({o.avgjort}, {o.utfall}): end it and "
        "record the new beslut",
    )


def _g_close(s: AppealsState, ev: CaseEvent) -> None:
    """P-CLOSE while an appeal period runs (O1) or an överklagande is open (O2, at the court)."""
    reasons = []
    running = s.running_period(ev.legal_date) if rule("O1").blocks_closing else None
    if running is not None:
        reasons.append(f"the appeal period of beslut {running[0]} runs until {running[1]}")
    for o in sorted(s.overklaganden.values(), key=lambda x: x.id):
        if not o.handled_by_kommun and rule("O2").blocks_closing:
            reasons.append(f"överklagande {o.id} is not handed to the court")
        elif not o.ended and o.overlamnat is not None:
            reasons.append(f"överklagande {o.id} is at the court")
    if reasons:
        _deny(
            "P-CLOSE",
            "Ärendet kan inte avslutas: ett beslut kan överklagas eller är överklagat.",
            "the case cannot be closed: " + "; ".join(reasons),
        )


_GUARDS = {
    "beslut_delgivet": _g_delgivet,
    "overklagande_mottaget": _g_mottaget,
    "rattidsprovning_gjord": _g_rattidsprovning,
    "omprovning_gjord": _g_omprovning,
    "overklagande_overlamnat": _g_overlamnat,
    "overklagande_aterkallat": _g_aterkallat,
    "inhibition_beslutad": _g_at_court,
    "overklagande_avgjort": _g_at_court,
}
