"""Guards for the decisions of lag (2026:1600) and lag (2026:1637) (docs/law-2027.md).

A separate state and guard set that ``domain.case.CaseState`` folds and consults after its own
guards, so the LVU -> 2026:1600 switch stays one readable section. The guards only judge the new
event types and the new ``grund`` field, plus dates from 2027-01-01, so every pre-2027 history
that was accepted before is still accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import NoReturn, Protocol

from domain.calendar import add_months
from domain.errors import RuleViolation
from domain.events import CaseEvent, is_ordforandebeslut, lvu_care_ordered
from domain.rules import LVU_NEW_FROM, SAMTYCKE_FROM, rule

#: Rule ids of the guards below, with what they enforce (merged into case.PROCESS_RULES).
LVU2027_PROCESS_RULES: dict[str, str] = {
    "P-LVU2027-GRUND": (
        "From 2027-01-01 an ansökan om omhändertagande states its ground of 2026:1600 3 kap. "
        "(hem, eget_beteende, anknytning); the anknytning ground does not exist before that day."
    ),
    "P-LVU2027-OB4": (
        "LVU 2-3 §§ (lvu_dom.paragraf) govern only an ansökan received by the court before "
        "2027-01-01 (ÖB 4 lag 2026:1600); a dom on a later ansökan states grund."
    ),
    "P-LVU2027-OB5": (
        "Förebyggande insatser under LVU 22 § can be decided only before 2027-01-01 (ÖB 5 keeps "
        "those already decided)."
    ),
    "P-LVU2027-OB6": (
        "Omhändertagande on the anknytning ground needs earlier care on the hem ground "
        "(3 kap. 5 § 1) or an LVU 24 § flyttningsförbud (ÖB 6 lag 2026:1600)."
    ),
    "P-FORBUD": (
        "A flyttnings- or utreseförbud runs in order: a tillfälligt förbud is handed to the court, "
        "fastställt, then an ansökan; reviews, undantag and upphörande need a förbud in force."
    ),
    "P-SAMTYCKE": "Reviews and ends of insatser utan samtycke refer to a decided insats.",
    "N0": "Lag 2026:1637 applies from 2027-01-02: no insats utan samtycke before that day.",
    "N3": (
        "A decision under 2026:1637 is for a stated time, not before the decision; with a "
        "villkor om bostaden at most six months (7 kap. 2 §)."
    ),
    "N4": (
        "No insats utan samtycke for a child who is omhändertagen, in LVU care or placed under "
        "SoL (2026:1637 1 kap. 4 §); insatser to the vårdnadshavare are allowed (3 kap. 4 §)."
    ),
}


class _Beslut(Protocol):
    @property
    def verkstalld(self) -> date | None: ...

    @property
    def is_placement(self) -> bool: ...

    @property
    def open_insats(self) -> bool: ...


class _Lvu(Protocol):
    """The facts of ``CaseState`` the guards read."""

    lvu_omhandertagande: date | None
    lvu_vard: bool

    @property
    def beslut(self) -> Mapping[str, _Beslut]: ...


@dataclass
class Forbud:
    kind: str
    tillfalligt: bool
    understallt: bool = False
    faststallt: bool = False
    upphort: bool = False


@dataclass
class Lvu2027State:
    """What the 2026:1600/2026:1637 guards need, folded from the events."""

    ansokan_day: date | None = None
    hem_care: bool = False
    lvu24_forbud: bool = False
    omh_understalld: bool = False
    dom_seen: bool = False
    fortsatt_tillfallig: bool = False
    ordforande_omh: int = 0
    ordforande_forbud: set[str] = field(default_factory=set)
    #: Other ordförandebeslut waiting for their anmälan (E18), by beslut_id / placering_id.
    ordforande_ovriga: set[str] = field(default_factory=set)
    bitrade_behov: int = 0
    forbud: dict[str, Forbud] = field(default_factory=dict)
    umgange: dict[str, bool] = field(default_factory=dict)
    forebyggande: dict[str, bool] = field(default_factory=dict)
    samtycke: dict[str, bool] = field(default_factory=dict)
    placeringar: dict[str, str] = field(default_factory=dict)

    def apply(self, ev: CaseEvent) -> None:
        """Fold one (already checked) event."""
        t, d, day = ev.type, ev.data, ev.legal_date
        if t == "lvu_omhandertagande_beslutat":
            self.omh_understalld = False
            if is_ordforandebeslut(ev):
                self.ordforande_omh += 1
        elif t == "lvu_understalld":
            self.omh_understalld = True
        elif t == "lvu_ansokan_inlamnad":
            self.ansokan_day = day
        elif t == "lvu_dom":
            self.dom_seen = True
            granted = lvu_care_ordered(d["utfall"])
            paragraf, grund = str(d.get("paragraf") or ""), d.get("grund")
            if granted and (grund == "hem" or (grund is None and "2" in (paragraf or "2"))):
                self.hem_care = True
        elif t == "lvu_vard_upphort":
            self.fortsatt_tillfallig = False
        elif t == "lvu_fortsatt_tillfallig_vard_beslutad":
            self.fortsatt_tillfallig = True
        elif t == "lvu_ordforandebeslut_anmalt":
            other = _other_ordforande_ref(self, ev)
            if d.get("forbud_id") is not None:
                self.ordforande_forbud.discard(str(d["forbud_id"]))
            elif other is not None:
                self.ordforande_ovriga.discard(other)
            else:
                self.ordforande_omh = max(0, self.ordforande_omh - 1)
        elif t == "lvu_offentligt_bitrade_behov":
            self.bitrade_behov += 1
        elif t == "lvu_offentligt_bitrade_anmalt":
            self.bitrade_behov = max(0, self.bitrade_behov - 1)
        elif t.startswith("lvu_forbud_"):
            self._apply_forbud(t, d, day)
        elif t == "lvu_placering_paborjad":
            self.placeringar[str(d["placering_id"])] = str(d["placering"])
        elif t == "lvu_umgangesbegransning_beslutad":
            self.umgange[str(d["begransning_id"])] = True
        elif t == "lvu_umgangesbegransning_upphort":
            self.umgange[str(d["begransning_id"])] = False
        elif t == "lvu_forebyggande_insats_beslutad":
            self.forebyggande[str(d["insats_id"])] = True
        elif t == "lvu_forebyggande_insats_upphort":
            self.forebyggande[str(d["insats_id"])] = False
        elif t == "insats_utan_samtycke_beslutad":
            self.samtycke[str(d["insats_id"])] = True
        elif t == "insats_utan_samtycke_upphort":
            self.samtycke[str(d["insats_id"])] = False
        self._apply_ordforande(ev)

    def _apply_ordforande(self, ev: CaseEvent) -> None:
        """An ordförandebeslut its judgement (``delegation``) records, without the event's own
        ``ordforandebeslut`` flag: waiting for its anmälan like a flagged one (E1, E11N, E12N),
        or as one of the others (E18)."""
        t, d = ev.type, ev.data
        if d.get("ordforandebeslut") is True or not is_ordforandebeslut(ev):
            return
        if t == "lvu_forbud_beslutat" and d.get("tillfalligt") is True:
            self.ordforande_forbud.add(str(d["forbud_id"]))
        elif t in ("beslut_fattat", "lvu_placering_paborjad"):
            ref = d.get("placering_id") if t == "lvu_placering_paborjad" else d.get("beslut_id")
            self.ordforande_ovriga.add(str(ref))

    def _apply_forbud(self, t: str, d: dict[str, object], day: date) -> None:
        fid = str(d["forbud_id"])
        if t == "lvu_forbud_beslutat":
            tillf = d.get("tillfalligt") is True
            self.forbud[fid] = Forbud(str(d["forbud"]), tillf)
            if tillf and d.get("ordforandebeslut") is True:
                self.ordforande_forbud.add(fid)
            if d["forbud"] == "flyttningsforbud" and not tillf and day < LVU_NEW_FROM:
                self.lvu24_forbud = True
            return
        f = self.forbud[fid]
        if t == "lvu_forbud_understallt":
            f.understallt = True
        elif t == "lvu_forbud_faststallt":
            f.faststallt = True
        elif t == "lvu_forbud_upphort":
            f.upphort = True
            if f.kind == "flyttningsforbud" and not f.tillfalligt:
                self.lvu24_forbud = False

    def flyttningsforbud_in_force(self) -> bool:
        return any(f.kind == "flyttningsforbud" and not f.upphort for f in self.forbud.values())


def _deny(rule: str, sv: str, en: str) -> NoReturn:
    raise RuleViolation(rule, sv, en)


def check_lvu2027(s: Lvu2027State, case: _Lvu, ev: CaseEvent) -> None:
    """Raise ``RuleViolation`` if ``ev`` breaks a 2026:1600 / 2026:1637 rule; else return."""
    t = ev.type
    if t in ("lvu_omhandertagande_beslutat", "lvu_ansokan_inlamnad", "lvu_dom"):
        _check_grund(s, ev)
    guard = _GUARDS.get(t)
    if guard is not None:
        guard(s, case, ev)


def _check_grund(s: Lvu2027State, ev: CaseEvent) -> None:
    day, grund = ev.legal_date, ev.data.get("grund")
    if grund == "anknytning" and day < LVU_NEW_FROM:
        _deny(
            "P-LVU2027-GRUND",
            "Grunden anknytning till familjehemmet finns från 2027-01-01 (2026:1600 3:5).",
            "the anknytning ground (2026:1600 3 kap. 5 §) applies from 2027-01-01",
        )
    if ev.type == "lvu_ansokan_inlamnad" and day >= LVU_NEW_FROM and grund is None:
        _deny(
            "P-LVU2027-GRUND",
            "En ansökan från 2027-01-01 anger grund enligt 3 kap. (grund).",
            "an ansökan from 2027-01-01 needs data.grund (hem, eget_beteende or anknytning)",
        )
    if grund == "anknytning" and ev.type != "lvu_dom" and not (s.hem_care or s.lvu24_forbud):
        _deny(
            "P-LVU2027-OB6",
            "Anknytning kräver tidigare vård på grund av hemmet eller flyttningsförbud enligt "
            "LVU 24 § (ÖB 6).",
            "the anknytning ground needs earlier care on the hem ground or an LVU 24 § "
            "flyttningsförbud",
        )
    if (
        ev.type == "lvu_dom"
        and day >= LVU_NEW_FROM
        and ev.data.get("paragraf") is not None
        and grund is None
        and s.ansokan_day is not None
        and s.ansokan_day >= LVU_NEW_FROM
    ):
        _deny(
            "P-LVU2027-OB4",
            "LVU 2-3 §§ gäller bara en ansökan som kom in före 2027-01-01: ange grund.",
            "lvu_dom.paragraf (LVU 2-3 §§) is only for an ansökan received before 2027-01-01; "
            "give data.grund",
        )


def _g_faststallt(s: Lvu2027State, case: _Lvu, ev: CaseEvent) -> None:
    if case.lvu_omhandertagande is None or not s.omh_understalld:
        _deny(
            "P-LVU",
            "Fastställelse kräver ett omedelbart omhändertagande som lämnats till rätten.",
            "fastställelse needs an omedelbart omhändertagande handed to the court",
        )


def _g_laga_kraft(s: Lvu2027State, case: _Lvu, ev: CaseEvent) -> None:
    if ev.data.get("avser", "dom") == "dom" and not s.dom_seen:
        _deny("P-LVU", "Laga kraft kräver en dom.", "lvu_laga_kraft needs an lvu_dom first")
    if ev.data.get("avser") == "fortsatt_tillfallig_vard" and not s.fortsatt_tillfallig:
        _deny(
            "P-LVU",
            "Inget beslut om fortsatt tillfällig vård.",
            "no fortsatt omhändertagande för tillfällig vård",
        )


def _g_fortsatt(s: Lvu2027State, case: _Lvu, ev: CaseEvent) -> None:
    if ev.type == "lvu_fortsatt_tillfallig_vard_beslutad":
        if case.lvu_omhandertagande is None and not s.fortsatt_tillfallig:
            _deny(
                "P-LVU",
                "Fortsatt tillfällig vård kräver ett omedelbart omhändertagande (5 kap. 8 §).",
                "fortsatt tillfällig vård needs an omedelbart omhändertagande (5 kap. 8 §)",
            )
    elif not s.fortsatt_tillfallig and (case.lvu_omhandertagande is None or case.lvu_vard):
        # An ansökan is allowed while an omedelbart omhändertagande is in force (5 kap. 5 § 2,
        # 8 § andra st.; LVU 8 § 2, 9 a §) or to renew a gällande beslut (5 kap. 8 § tredje st.).
        _deny(
            "P-LVU",
            "Ansökan om fortsatt tillfällig vård kräver ett omedelbart omhändertagande eller ett "
            "gällande beslut om fortsatt tillfällig vård (5 kap. 8 §).",
            "an ansökan om fortsatt tillfällig vård needs an omedelbart omhändertagande or a "
            "fortsatt omhändertagande för tillfällig vård in force (5 kap. 8 §)",
        )


def _other_ordforande_ref(s: Lvu2027State, ev: CaseEvent) -> str | None:
    """The other ordförandebeslut (E18) an anmälan reports: by placering_id or beslut_id."""
    for name in ("placering_id", "beslut_id"):
        ref = ev.data.get(name)
        if ref is not None and str(ref) in s.ordforande_ovriga:
            return str(ref)
    return None


def _g_ordforande(s: Lvu2027State, case: _Lvu, ev: CaseEvent) -> None:
    fid = ev.data.get("forbud_id")
    if fid is not None:
        pending = str(fid) in s.ordforande_forbud
    else:
        pending = _other_ordforande_ref(s, ev) is not None or s.ordforande_omh > 0
    if not pending:
        _deny(
            "P-LVU",
            "Inget ordförandebeslut att anmäla.",
            "no ordförandebeslut is waiting to be reported",
        )


def _g_bitrade(s: Lvu2027State, case: _Lvu, ev: CaseEvent) -> None:
    if s.bitrade_behov == 0:
        _deny(
            "P-LVU",
            "Inget behov av offentligt biträde att anmäla.",
            "no lvu_offentligt_bitrade_behov is waiting",
        )


def _g_forbud(s: Lvu2027State, case: _Lvu, ev: CaseEvent) -> None:
    fid = str(ev.data["forbud_id"])
    f = s.forbud.get(fid)
    t = ev.type
    if t == "lvu_forbud_beslutat":
        # the court's förbud may take over the id of the tillfälligt one it replaces
        if (
            f is not None
            and not f.upphort
            and not (f.tillfalligt and not ev.data.get("tillfalligt"))
        ):
            _deny("P-DUP-ID", "Förbudet finns redan.", f"forbud_id {fid!r} exists")
        if f is not None and f.kind != ev.data["forbud"]:
            _deny(
                "P-FORBUD", "Annat slags förbud med samma id.", f"forbud_id {fid!r} is a {f.kind}"
            )
        return
    if f is None:
        _deny("P-REF", f"Okänt förbud {fid}.", f"unknown forbud_id {fid!r}")
    if f.upphort:
        _deny("P-FORBUD", "Förbudet har upphört.", "the förbud has ended")
    if t == "lvu_forbud_understallt" and (not f.tillfalligt or f.understallt):
        _deny(
            "P-FORBUD",
            "Bara ett tillfälligt förbud lämnas över till rätten, en gång.",
            "only a tillfälligt förbud is handed to the court, once",
        )
    if t == "lvu_forbud_faststallt" and not f.understallt:
        _deny("P-FORBUD", "Förbudet har inte lämnats till rätten.", "not handed to the court")
    if t == "lvu_forbud_ansokt" and not f.tillfalligt:
        _deny("P-FORBUD", "Förbudet är redan beslutat av rätten.", "the court's förbud exists")
    if t == "lvu_forbud_overvagt" and f.tillfalligt:
        _deny(
            "P-FORBUD",
            "Övervägande gäller rättens förbud (12 kap. 4 §, 13 kap. 4 §).",
            "reviews are of the court's förbud",
        )
    if t == "lvu_forbud_undantag_beslutat" and f.kind != "utreseforbud":
        _deny("P-FORBUD", "Undantag gäller utreseförbud (13 kap. 12 §).", "not an utreseförbud")


#: The catalogue rules whose open frist "a förbud is in force" stands for in P-CLOSE (its
#: underställning and ansökan); the förebyggande insats and the insats utan samtycke are
#: process conditions (their reviews, E16/N2, do not block closing by themselves).
LVU2027_CLOSE_RULES = ("E11U", "E11A", "E12U", "E12A")


def _forbud_blocks_closing() -> bool:
    return any(rule(r).blocks_closing for r in LVU2027_CLOSE_RULES)


def _g_close(s: Lvu2027State, case: _Lvu, ev: CaseEvent) -> None:
    """P-CLOSE for the new decisions: a förbud, a förebyggande insats or an insats utan
    samtycke still in force keeps the case open (the nämnd still owes its reviews)."""
    reasons = []
    if _forbud_blocks_closing() and any(not f.upphort for f in s.forbud.values()):
        reasons.append("a flyttnings- or utreseförbud is in force")
    if any(s.forebyggande.values()):
        reasons.append("a förebyggande insats (LVU 22 §) is in force")
    if any(s.samtycke.values()):
        reasons.append("an insats utan samtycke is in force")
    if reasons:
        _deny(
            "P-CLOSE",
            "Ärendet kan inte avslutas: ett beslut enligt lag 2026:1600/2026:1637 gäller.",
            "the case cannot be closed: " + "; ".join(reasons),
        )


def _g_placering(s: Lvu2027State, case: _Lvu, ev: CaseEvent) -> None:
    pid = str(ev.data["placering_id"])
    if ev.type == "lvu_placering_paborjad":
        if pid in s.placeringar:
            _deny("P-DUP-ID", "Placeringen finns redan.", f"placering_id {pid!r} exists")
        if case.lvu_omhandertagande is None and not case.lvu_vard:
            _deny(
                "P-LVU",
                "En placering enligt 6 kap. 1 § kräver ett omhändertagande.",
                "an LVU placement needs an omhändertagande or care in force",
            )
        return
    if s.placeringar.get(pid) != "familjehem":
        _deny(
            "P-REF",
            f"Okänd familjehemsplacering {pid}.",
            f"placering_id {pid!r} is not a known familjehem placement",
        )


def _g_umgange(s: Lvu2027State, case: _Lvu, ev: CaseEvent) -> None:
    bid = str(ev.data["begransning_id"])
    if ev.type == "lvu_umgangesbegransning_beslutad":
        if bid in s.umgange:
            _deny("P-DUP-ID", "Beslutet finns redan.", f"begransning_id {bid!r} exists")
        if (
            case.lvu_omhandertagande is None
            and not case.lvu_vard
            and not (s.flyttningsforbud_in_force())
        ):
            _deny(
                "P-LVU",
                "Umgängesbegränsning kräver vård, omhändertagande eller flyttningsförbud.",
                "an umgängesbegränsning needs LVU care, an omhändertagande or a flyttningsförbud",
            )
        return
    if bid not in s.umgange:
        _deny("P-REF", f"Okänt beslut {bid}.", f"unknown begransning_id {bid!r}")
    if not s.umgange[bid]:
        _deny("P-TWICE", "Beslutet har upphört.", "the umgängesbegränsning has ended")


def _g_drogtest(s: Lvu2027State, case: _Lvu, ev: CaseEvent) -> None:
    if ev.data["avser"] == "sarskilt_villkor":
        if not any(s.samtycke.values()):
            _deny(
                "P-SAMTYCKE",
                "Drogtest för särskilt villkor kräver ett beslut utan samtycke (2026:1637).",
                "a drogtest for a särskilt villkor needs an insats utan samtycke",
            )
    elif case.lvu_omhandertagande is None and not case.lvu_vard:
        _deny(
            "P-LVU",
            "Drogtest inför umgänge eller upphörande kräver pågående vård (11 kap. 1-2 §§).",
            "a drogtest before umgänge or upphörande needs care in force",
        )


def _g_forebyggande(s: Lvu2027State, case: _Lvu, ev: CaseEvent) -> None:
    iid = str(ev.data["insats_id"])
    if ev.type == "lvu_forebyggande_insats_beslutad":
        if ev.legal_date >= LVU_NEW_FROM:
            _deny(
                "P-LVU2027-OB5",
                "LVU 22 § är upphävd från 2027-01-01; nya förebyggande insatser beslutas inte.",
                "LVU 22 § is repealed from 2027-01-01",
            )
        if iid in s.forebyggande:
            _deny("P-DUP-ID", "Insatsen finns redan.", f"insats_id {iid!r} exists")
        return
    if iid not in s.forebyggande:
        _deny("P-REF", f"Okänd insats {iid}.", f"unknown insats_id {iid!r}")
    if not s.forebyggande[iid]:
        _deny("P-TWICE", "Insatsen har upphört.", "the insats has ended")


def _g_samtycke(s: Lvu2027State, case: _Lvu, ev: CaseEvent) -> None:
    iid, day = str(ev.data["insats_id"]), ev.legal_date
    if ev.type == "sarskild_genomforandeplan_upprattad":
        return  # the plan exists before the decision (5 kap. 1 §)
    if ev.type != "insats_utan_samtycke_beslutad":
        if iid not in s.samtycke:
            _deny("P-SAMTYCKE", f"Okänd insats {iid}.", f"unknown insats_id {iid!r}")
        if not s.samtycke[iid]:
            _deny("P-TWICE", "Insatsen har upphört.", "the insats has ended")
        return
    if day < SAMTYCKE_FROM:
        _deny(
            "N0", "Lag 2026:1637 gäller från 2027-01-02.", "lag 2026:1637 applies from 2027-01-02"
        )
    placed = any(
        b.is_placement and b.open_insats and b.verkstalld is not None for b in case.beslut.values()
    )
    if ev.data["avser"] == "barn" and (
        case.lvu_omhandertagande is not None or case.lvu_vard or placed
    ):
        _deny(
            "N4",
            "Inga insatser utan samtycke till ett barn som vårdas utanför hemmet eller enligt "
            "lag 2026:1600 (2026:1637 1 kap. 4 §).",
            "no insats utan samtycke for a child placed under SoL or in LVU care "
            "(2026:1637 1 kap. 4 §)",
        )
    end = date.fromisoformat(str(ev.data["giltig_till"]))
    if end < day:
        _deny("N3", "giltig_till före beslutet.", "giltig_till is before the decision")
    if ev.data.get("bostadsvillkor") is True and end > add_months(day, 6):
        _deny(
            "N3",
            "Villkor om bostaden gäller högst sex månader i taget (7 kap. 2 §).",
            f"a villkor om bostaden lasts at most six months: giltig_till {end} is after "
            f"{add_months(day, 6)}",
        )


_GUARDS = {
    "arende_avslutat": _g_close,
    "lvu_omhandertagande_faststallt": _g_faststallt,
    "lvu_laga_kraft": _g_laga_kraft,
    "lvu_fortsatt_tillfallig_vard_beslutad": _g_fortsatt,
    "lvu_fortsatt_tillfallig_vard_ansokt": _g_fortsatt,
    "lvu_ordforandebeslut_anmalt": _g_ordforande,
    "lvu_offentligt_bitrade_anmalt": _g_bitrade,
    "lvu_forbud_beslutat": _g_forbud,
    "lvu_forbud_understallt": _g_forbud,
    "lvu_forbud_faststallt": _g_forbud,
    "lvu_forbud_ansokt": _g_forbud,
    "lvu_forbud_overvagt": _g_forbud,
    "lvu_forbud_undantag_beslutat": _g_forbud,
    "lvu_forbud_upphort": _g_forbud,
    "lvu_placering_paborjad": _g_placering,
    "lvu_vardnadsoverflyttning_overvagd": _g_placering,
    "lvu_umgangesbegransning_beslutad": _g_umgange,
    "lvu_umgangesbegransning_provad": _g_umgange,
    "lvu_umgangesbegransning_upphort": _g_umgange,
    "lvu_drogtest_beslutat": _g_drogtest,
    "lvu_forebyggande_insats_beslutad": _g_forebyggande,
    "lvu_forebyggande_insats_provad": _g_forebyggande,
    "lvu_forebyggande_insats_upphort": _g_forebyggande,
    "insats_utan_samtycke_beslutad": _g_samtycke,
    "sarskild_genomforandeplan_upprattad": _g_samtycke,
    "insats_utan_samtycke_overvagd": _g_samtycke,
    "insats_utan_samtycke_upphort": _g_samtycke,
}
