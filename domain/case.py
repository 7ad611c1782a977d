"""The child's case as a pure state machine: what has happened, and what may happen next.

``CaseState.check`` is the single set of transition guards. The eventsourcing aggregate calls it
before recording an event, and the workflow's update validators call it before accepting a
command, so a command is judged by the same rules wherever it enters. Each guard names the rule
it enforces (a rule id of docs/law.md §3 such as ``B4``, or a process rule ``P-…`` documented in
``PROCESS_RULES`` and docs/domain.md §7).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import NoReturn, TypeVar

from domain.case_appeals import APPEAL_PROCESS_RULES, AppealsState, check_appeals
from domain.case_care import CARE_PROCESS_RULES, CareState, check_care
from domain.case_lvu2027 import LVU2027_PROCESS_RULES, Lvu2027State, check_lvu2027
from domain.case_transfer import TRANSFER_PROCESS_RULES, TransferState, check_transfer
from domain.errors import RuleViolation
from domain.events import (
    OPENING_TYPES,
    PLACEMENT_INSATSER,
    SYSTEM_TYPES,
    CaseEvent,
    lvu_care_ordered,
)
from domain.lagrum import check_event as check_lagrum
from domain.lagrum import is_omedelbart_omhandertagande
from domain.protection import SKYDD_PROCESS_RULES, ProtectionState
from domain.rules import rule as statutory_rule

T = TypeVar("T")

#: Process rules (not statutory deadlines) that guard transitions. Statutory ids: docs/law.md §3.
PROCESS_RULES: dict[str, str] = {
    "P-OPEN": "A case begins with an anmälan or an ansökan.",
    "P-CLOSED": "Nothing may be recorded on a closed case except a new anmälan/ansökan.",
    "P-FUTURE": "An event may not be dated in the future (legal date after today).",
    "P-BEFORE-CASE": "An event may not be dated before the case began.",
    "P-KOMMUN": "An event belongs to the kommun that holds the case.",
    "P-CASE-REF": (
        "A child has one open case per kommun; events for it carry that case's case_ref."
    ),
    "P-REF": "An event must refer to an anmälan, utredning or beslut the case knows.",
    "P-DUP-ID": "An anmälan, utredning or beslut id is used once per case.",
    "P-TWICE": "A step that happens once (e.g. a skyddsbedömning) may not be recorded twice.",
    "P-NO-UTREDNING": (
        "A beslut needs an utredning first, unless it is an LVU 6 § decision or an "
        "ansökan-based insats."
    ),
    "P-VERKST": (
        "Only a gynnande beslut with an insats can be verkställt, avbrutet or återupptaget."
    ),
    "P-CLOSE": (
        "A case cannot be closed while an insats, a blocking frist or an uppföljning is open."
    ),
    "P-UPPF": "An uppföljning must be open to be closed, and only one runs at a time.",
    "P-EXT": "An extension is decided before the current due date and moves it later.",
    "P-ORDER": (
        "A step is not dated before the step it follows: an insats is verkställd no earlier "
        "than its beslut was fattat, avbruten no earlier than verkställd, återupptagen no "
        "earlier than avbruten; a beslut is avslutat no earlier than it was fattat or its "
        "insats verkställd; an utredning is avslutad no earlier than it was inledd."
    ),
    "P-LVU": (
        "The LVU track runs in order: omedelbart omhändertagande before its verkställighet and "
        "underställning, an ansökan before a dom, care in force before it can end."
    ),
    "P-IDENTITY": (
        "An identity update replaces a temporary id with a personnummer; a personnummer is not "
        "replaced (a wrong one is corrected by rättelse, outside barnflow)."
    ),
    "P-TRANSFER": (
        "A case is transferred to another, valid kommun, once, after that kommun accepted the "
        "request or IVO decided the transfer (SoL 29:10-11); not while its beslut may still be "
        "appealed to it or an överklagande it has not handed to the court is open (FL 43-46 §§)."
    ),
    "P-LAGRUM": (
        "A decision's lagrum names a paragraph in force on its legal date (SoL 2001:453 until "
        "2025-06-30, SoL 2025:400 from 2025-07-01, LVU until 2026-12-31, lag 2026:1600 from "
        "2027-01-01); the refusal names the paragraph in force. Imported history is flagged, "
        "not refused."
    ),
    "B4": (
        "No förhandsbedömning for an anmälan that arrived while an utredning was pending "
        "(SoL 20:2; the utredning clock does not restart)."
    ),
    "A2": "Förhandsbedömning may be extended only for synnerliga skäl (SoL 20:2).",
    "B1": "Utredning may be extended for särskilda skäl, for a stated time (SoL 20:3).",
}
PROCESS_RULES.update(LVU2027_PROCESS_RULES)
PROCESS_RULES.update(APPEAL_PROCESS_RULES)
PROCESS_RULES.update(TRANSFER_PROCESS_RULES)
PROCESS_RULES.update(CARE_PROCESS_RULES)
PROCESS_RULES.update(SKYDD_PROCESS_RULES)


@dataclass
class Anmalan:
    id: str
    received: date
    skyddsbedomning: date | None = None
    needs_forhandsbedomning: bool = True
    forhandsbedomning: str | None = None
    forhandsbedomning_due: date | None = None


@dataclass
class Utredning:
    id: str
    inledd: date
    due: date
    avslutad: date | None = None
    utfall: str | None = None


@dataclass
class Beslut:
    id: str
    fattat: date
    gynnande: bool
    insats: str | None
    lagrum: str
    beslutstyp: str
    delegat_roll: str
    verkstalld: date | None = None
    avbruten: date | None = None
    avslutat: date | None = None

    @property
    def open_insats(self) -> bool:
        """An insats the nämnd still owes or runs: gynnande, with an insats, not avslutat."""
        return self.gynnande and self.insats is not None and self.avslutat is None

    @property
    def is_placement(self) -> bool:
        return self.insats in PLACEMENT_INSATSER


@dataclass
class CaseState:
    """Everything the guards need to know about one case, folded from its events."""

    kommun: str = ""
    case_ref: str = ""
    opened_on: date | None = None
    closed_on: date | None = None
    closed_reason: str | None = None
    kon: str | None = None
    fodelsedatum: str | None = None
    enhet: str | None = None
    handlaggare: str | None = None
    anmalningar: dict[str, Anmalan] = field(default_factory=dict)
    ansokningar: dict[str, date] = field(default_factory=dict)
    utredningar: dict[str, Utredning] = field(default_factory=dict)
    beslut: dict[str, Beslut] = field(default_factory=dict)
    uppfoljning_open: bool = False
    lvu_omhandertagande: date | None = None
    lvu_ansokan: bool = False
    lvu_vard: bool = False
    identity_kind: str | None = None
    klagomal_open: int = 0
    transferred_to: str | None = None
    event_count: int = 0
    last_legal_date: date | None = None
    idempotency: dict[str, int] = field(default_factory=dict)
    #: lag 2026:1600 / 2026:1637 facts (domain.case_lvu2027)
    lvu2027: Lvu2027State = field(default_factory=Lvu2027State)
    #: delgivningar and överklaganden (domain.case_appeals)
    appeals: AppealsState = field(default_factory=AppealsState)
    #: requests to move the ärende, and where it came from (domain.case_transfer)
    transfer: TransferState = field(default_factory=TransferState)
    #: avvikningar of a placed child (domain.case_care)
    care: CareState = field(default_factory=CareState)
    #: skyddade personuppgifter in force, by person label (domain.protection)
    skydd: ProtectionState = field(default_factory=ProtectionState)

    # ----------------------------------------------------------------- derived views
    @property
    def is_open(self) -> bool:
        return self.opened_on is not None and self.closed_on is None

    @property
    def protected(self) -> bool:
        """A person of the case has skyddade personuppgifter: its content reaches only the roles
        the kommun names (domain.protection)."""
        return self.skydd.protected

    @property
    def has_ansokan(self) -> bool:
        return bool(self.ansokningar)

    @property
    def pending_utredning(self) -> Utredning | None:
        return next((u for u in self.utredningar.values() if u.avslutad is None), None)

    def running_appeal_period(self, on: date) -> tuple[str, date] | None:
        """A delgivet beslut whose appeal period still runs on ``on`` (its id and last day)."""
        return self.appeals.running_period(on)

    @property
    def open_overklaganden(self) -> list[str]:
        """Överklaganden the kommun has not yet handed to the court, avvisat or seen återkallat."""
        return [o.id for o in self.appeals.overklaganden.values() if not o.handled_by_kommun]

    @property
    def stage(self) -> str:
        """A one-word stage for operators (search attribute): never case content."""
        if self.opened_on is None:
            return "ny"
        if self.closed_on is not None:
            return "avslutad"
        if self.pending_utredning is not None:
            return "utredning"
        if any(
            a.needs_forhandsbedomning and a.forhandsbedomning is None
            for a in self.anmalningar.values()
        ):
            return "forhandsbedomning"
        if self.lvu_omhandertagande is not None or self.lvu_vard:
            return "lvu"
        if any(b.open_insats for b in self.beslut.values()):
            return "insats"
        if self.uppfoljning_open:
            return "uppfoljning"
        return "beslut"

    # ----------------------------------------------------------------- guards
    def check(
        self,
        ev: CaseEvent,
        today: date,
        *,
        legacy_transfer: bool = False,
        lagrum: bool = True,
        care: bool = True,
        order: bool | None = None,
    ) -> None:
        """Raise ``RuleViolation`` if ``ev`` may not happen now; return quietly if it may.

        ``legacy_transfer`` judges an ``arende_overflyttat`` without its request and answer, as
        the code did before they existed (a workflow replaying a command accepted then).
        ``lagrum=False`` leaves out ``P-LAGRUM`` for recorded history: an import lists such
        decisions instead of refusing them, a transfer copies them as they were recorded, and a
        workflow replaying a command accepted before the guard existed accepts it again.
        ``care=False`` leaves out the guards of the placed child (``domain.case_care``: the LVU
        age limits, avvikning) for a workflow replaying a command accepted before they existed;
        recorded history (``lagrum=False``: an import, a transfer's copy) is not judged on the
        LVU age limits either, like P-LAGRUM: it is what the kommun decided then.
        ``order`` (default: as ``lagrum``) judges ``P-ORDER`` (``date_order_violation``):
        recorded history is not refused for it (an import flags it), and a workflow replaying
        a command accepted before the guard existed accepts it again.
        """
        day = ev.legal_date
        if day > today:
            _deny(
                "P-FUTURE",
                f"Händelsen är daterad i framtiden ({day}).",
                f"event is dated in the future ({day})",
            )
        if self.opened_on is None:
            if ev.type not in OPENING_TYPES:
                _deny(
                    "P-OPEN",
                    "Ett ärende inleds med en anmälan eller ansökan.",
                    f"a case begins with anmalan_mottagen or ansokan_mottagen, not {ev.type}",
                )
            return
        if ev.kommun != self.kommun:
            _deny(
                "P-KOMMUN",
                f"Ärendet tillhör kommun {self.kommun}.",
                f"the case belongs to kommun {self.kommun}, not {ev.kommun}",
            )
        if ev.case_ref != self.case_ref:
            _deny(
                "P-CASE-REF",
                f"Barnet har redan ett öppet ärende ({self.case_ref}).",
                f"the child's open case is {self.case_ref!r}, not {ev.case_ref!r}",
            )
        if day < self.opened_on:
            _deny(
                "P-BEFORE-CASE",
                f"Händelsen är daterad före ärendets början ({self.opened_on}).",
                f"event dated {day}, before the case began on {self.opened_on}",
            )
        if self.closed_on is not None and ev.type not in SYSTEM_TYPES:
            _deny("P-CLOSED", "Ärendet är avslutat.", "the case is closed")
        guard = _GUARDS.get(ev.type)
        if guard is not None:
            guard(self, ev)
        if lagrum if order is None else order:
            violation = date_order_violation(self, ev)
            if violation is not None:
                raise violation
        check_lvu2027(self.lvu2027, self, ev)
        check_appeals(self.appeals, self, ev)
        check_transfer(self.transfer, self, ev, legacy_transfer=legacy_transfer)
        if care:
            check_care(self.care, self, ev, ages=lagrum)
        self.skydd.check(ev)
        if lagrum:
            check_lagrum(ev)

    # ----------------------------------------------------------------- evolution
    def apply(self, ev: CaseEvent) -> None:
        """Fold one (already checked) event into the state."""
        day = ev.legal_date
        d = ev.data
        self.event_count += 1
        self.idempotency[ev.idempotency_key] = self.event_count
        self.last_legal_date = max(self.last_legal_date or day, day)
        t = ev.type
        self.lvu2027.apply(ev)
        self.appeals.apply(ev)
        self.transfer.apply(ev, self.beslut)
        self.care.apply(ev)
        self.skydd.apply(ev)
        if t in OPENING_TYPES:
            if self.opened_on is None:
                self.kommun, self.case_ref, self.opened_on = ev.kommun, ev.case_ref, day
            barn = d.get("barn") or {}
            self.identity_kind = _identity_kind(barn) or self.identity_kind
            self.kon = barn.get("kon", self.kon)
            self.fodelsedatum = barn.get("fodelsedatum", self.fodelsedatum)
            self.enhet = d.get("enhet", self.enhet)
            self.handlaggare = d.get("handlaggare", self.handlaggare)
            if t == "anmalan_mottagen":
                pending = self.pending_utredning is not None
                self.anmalningar[d["anmalan_id"]] = Anmalan(
                    d["anmalan_id"],
                    day,
                    needs_forhandsbedomning=not pending,
                    forhandsbedomning_due=None if pending else statutory_rule("A2").due_from(day),
                )
            else:
                self.ansokningar[d["ansokan_id"]] = day
        elif t == "skyddsbedomning_gjord":
            self.anmalningar[d["anmalan_id"]].skyddsbedomning = day
        elif t == "forhandsbedomning_beslutad":
            self.anmalningar[d["anmalan_id"]].forhandsbedomning = d["beslut"]
        elif t == "forhandsbedomning_forlangd":
            self.anmalningar[d["anmalan_id"]].forhandsbedomning_due = date.fromisoformat(
                d["ny_slutdag"]
            )
        elif t == "utredning_inledd":
            start = day
            cont = d.get("fortsatter_utredning_id")
            if cont and cont in self.utredningar:  # B3: keep the original start date
                start = self.utredningar[cont].inledd
            self.utredningar[d["utredning_id"]] = Utredning(
                d["utredning_id"], start, statutory_rule("B1").due_from(start)
            )
        elif t == "utredning_forlangd":
            self.utredningar[d["utredning_id"]].due = date.fromisoformat(d["ny_slutdag"])
        elif t == "utredning_avslutad":
            u = self.utredningar[d["utredning_id"]]
            u.avslutad, u.utfall = day, d["utfall"]
        elif t == "beslut_fattat":
            self.beslut[d["beslut_id"]] = Beslut(
                d["beslut_id"],
                day,
                bool(d["gynnande"]),
                d.get("insats"),
                d["lagrum"],
                d["beslutstyp"],
                d["delegat"]["roll"],
            )
        elif t == "insats_verkstalld":
            b = self.beslut[d["beslut_id"]]
            b.verkstalld, b.avbruten = b.verkstalld or day, None
        elif t == "verkstallighet_avbruten":
            self.beslut[d["beslut_id"]].avbruten = day
        elif t == "verkstallighet_aterupptagen":
            self.beslut[d["beslut_id"]].avbruten = None
        elif t == "beslut_avslutat":
            self.beslut[d["beslut_id"]].avslutat = day
        elif t == "uppfoljning_inledd":
            self.uppfoljning_open = True
        elif t == "uppfoljning_avslutad":
            self.uppfoljning_open = False
        elif t == "lvu_omhandertagande_beslutat":
            self.lvu_omhandertagande = day
        elif t == "lvu_ansokan_inlamnad":
            self.lvu_ansokan = True
        elif t == "lvu_dom":
            self.lvu_vard = lvu_care_ordered(d["utfall"])
            self.lvu_ansokan = False
            if not self.lvu_vard:
                self.lvu_omhandertagande = None
        elif t == "lvu_vard_upphort":
            self.lvu_vard, self.lvu_omhandertagande, self.lvu_ansokan = False, None, False
        elif t == "identitet_uppdaterad":
            barn = d.get("barn") or {}
            self.identity_kind = _identity_kind(barn) or self.identity_kind
            self.kon = barn.get("kon", self.kon)
            self.fodelsedatum = barn.get("fodelsedatum", self.fodelsedatum)
        elif t == "klagomal_mottaget":
            self.klagomal_open += 1
        elif t == "klagomal_besvarat":
            self.klagomal_open = max(0, self.klagomal_open - 1)
        elif t == "arende_overflyttat":
            # H2/H3: the case continues in the receiving kommun (its stream starts as a copy);
            # here it ends, so nothing more is owed by this kommun's workflow.
            self.transferred_to = d["till_kommun"]
            self.closed_on, self.closed_reason = day, "overflyttat"
        elif t == "arende_avslutat":
            self.closed_on, self.closed_reason = day, d["orsak"]


def _identity_kind(barn: dict[str, object]) -> str | None:
    """``personnummer`` or ``tillfalligt_id``: from the identity itself, or from the marker a
    redacted event keeps in its place (the workflow only ever sees redacted events)."""
    if barn.get("personnummer") is not None:
        return "personnummer"
    if barn.get("tillfalligt_id") is not None:
        return "tillfalligt_id"
    marker = barn.get("identitet")
    return str(marker) if marker in ("personnummer", "tillfalligt_id") else None


def fold(events: Iterable[CaseEvent]) -> CaseState:
    """The state after ``events`` in order (no checks: they were checked when recorded)."""
    state = CaseState()
    for ev in events:
        state.apply(ev)
    return state


def named_enhet(events: Iterable[CaseEvent]) -> str | None:
    """The case's enhet as ``fold`` has it, without folding: only its opening events (an
    anmälan or ansökan) name it, the last naming one wins. The API's scope check asks this on
    every command of a unit-bound caller, where a whole fold (rules, frister) was the cost."""
    enhet: str | None = None
    for ev in events:
        if ev.type in OPENING_TYPES:
            enhet = ev.data.get("enhet", enhet)
    return enhet


def _deny(rule: str, sv: str, en: str) -> NoReturn:
    raise RuleViolation(rule, sv, en)


def _known(items: dict[str, T], ev: CaseEvent, field_name: str) -> T:
    """The anmälan/utredning/beslut ``ev`` refers to, or P-REF."""
    ref = ev.data[field_name]
    found = items.get(ref)
    if found is None:
        _deny("P-REF", f"Okänd referens {field_name} {ref}.", f"unknown {field_name} {ref!r}")
    return found


def _anmalan(s: CaseState, ev: CaseEvent) -> Anmalan:
    return _known(s.anmalningar, ev, "anmalan_id")


def _utredning(s: CaseState, ev: CaseEvent) -> Utredning:
    return _known(s.utredningar, ev, "utredning_id")


def _beslut(s: CaseState, ev: CaseEvent) -> Beslut:
    return _known(s.beslut, ev, "beslut_id")


def _g_anmalan(s: CaseState, ev: CaseEvent) -> None:
    if ev.data["anmalan_id"] in s.anmalningar:
        _deny("P-DUP-ID", "Anmälan finns redan.", f"anmalan_id {ev.data['anmalan_id']!r} exists")


def _g_ansokan(s: CaseState, ev: CaseEvent) -> None:
    if ev.data["ansokan_id"] in s.ansokningar:
        _deny("P-DUP-ID", "Ansökan finns redan.", f"ansokan_id {ev.data['ansokan_id']!r} exists")


def _g_skydd(s: CaseState, ev: CaseEvent) -> None:
    a = _anmalan(s, ev)
    if a.skyddsbedomning is not None:
        _deny("P-TWICE", "Skyddsbedömning är redan gjord.", "skyddsbedömning already recorded")
    if ev.legal_date < a.received:
        _deny("P-BEFORE-CASE", "Skyddsbedömning före anmälan.", "skyddsbedömning before anmälan")


def _g_forhandsbedomning(s: CaseState, ev: CaseEvent) -> None:
    a = _anmalan(s, ev)
    if not a.needs_forhandsbedomning:
        _deny(
            "B4",
            "Ingen förhandsbedömning: en utredning pågick när anmälan kom in.",
            "no förhandsbedömning: an utredning was pending when this anmälan arrived",
        )
    if a.forhandsbedomning is not None:
        _deny(
            "P-TWICE", "Förhandsbedömning är redan beslutad.", "förhandsbedömning already decided"
        )


def _g_forhandsbedomning_ext(s: CaseState, ev: CaseEvent) -> None:
    a = _anmalan(s, ev)
    if not a.needs_forhandsbedomning or a.forhandsbedomning is not None:
        _deny(
            "P-EXT",
            "Det finns ingen öppen förhandsbedömning att förlänga.",
            "no open förhandsbedömning to extend",
        )
    _extension("A2", ev, a.forhandsbedomning_due or statutory_rule("A2").due_from(a.received))


def _g_utredning(s: CaseState, ev: CaseEvent) -> None:
    uid = ev.data["utredning_id"]
    if uid in s.utredningar:
        _deny("P-DUP-ID", "Utredningen finns redan.", f"utredning_id {uid!r} exists")
    cont = ev.data.get("fortsatter_utredning_id")
    if cont is not None and cont not in s.utredningar:
        _deny("P-REF", f"Okänd utredning {cont}.", f"unknown fortsatter_utredning_id {cont!r}")
    aid = ev.data.get("anmalan_id")
    if aid is not None and aid not in s.anmalningar:
        _deny("P-REF", f"Okänd anmälan {aid}.", f"unknown anmalan_id {aid!r}")


def _g_utredning_ext(s: CaseState, ev: CaseEvent) -> None:
    u = _utredning(s, ev)
    if u.avslutad is not None:
        _deny("P-EXT", "Utredningen är avslutad.", "the utredning is already closed")
    _extension("B1", ev, u.due)


def _extension(rule: str, ev: CaseEvent, current_due: date) -> None:
    new_due = date.fromisoformat(ev.data["ny_slutdag"])
    if ev.legal_date > current_due:
        _deny(
            "P-EXT",
            f"Förlängning måste beslutas före fristens utgång ({current_due}).",
            f"an extension must be decided before the due date {current_due} ({rule})",
        )
    if new_due <= current_due:
        _deny(
            "P-EXT",
            f"Ny slutdag måste vara senare än {current_due}.",
            f"ny_slutdag {new_due} must be after the current due date {current_due} ({rule})",
        )


def _g_utredning_ref(s: CaseState, ev: CaseEvent) -> None:
    _utredning(s, ev)


def _g_utredning_avslutad(s: CaseState, ev: CaseEvent) -> None:
    u = _utredning(s, ev)
    if u.avslutad is not None:
        _deny("P-TWICE", "Utredningen är redan avslutad.", "the utredning is already closed")


def _g_beslut(s: CaseState, ev: CaseEvent) -> None:
    d = ev.data
    if d["beslut_id"] in s.beslut:
        _deny("P-DUP-ID", "Beslutet finns redan.", f"beslut_id {d['beslut_id']!r} exists")
    urgent = is_omedelbart_omhandertagande(d["lagrum"])
    if not s.utredningar and not urgent and not s.has_ansokan:
        _deny(
            "P-NO-UTREDNING",
            "Beslut kräver en utredning (utom LVU 6 § och ansökan).",
            "a beslut needs an utredning first (unless LVU 6 § or an ansökan)",
        )
    if d["gynnande"] and d.get("insats") is None and d["beslutstyp"] == "insats":
        _deny(
            "P-VERKST",
            "Ett gynnande insatsbeslut måste ange insats.",
            "a gynnande insats decision must name the insats",
        )


def _g_verkstallighet(s: CaseState, ev: CaseEvent) -> None:
    b = _beslut(s, ev)
    if not b.gynnande or b.insats is None:
        _deny(
            "P-VERKST",
            "Endast ett gynnande beslut om insats kan verkställas.",
            "only a gynnande beslut with an insats can be verkställt (this is an avslag)",
        )
    if b.avslutat is not None:
        _deny("P-VERKST", "Beslutet är avslutat.", "the beslut is avslutat")
    t = ev.type
    if t == "insats_verkstalld" and b.verkstalld is not None and b.avbruten is None:
        _deny("P-TWICE", "Insatsen är redan verkställd.", "the insats is already verkställd")
    if t == "verkstallighet_avbruten" and (b.verkstalld is None or b.avbruten is not None):
        _deny(
            "P-VERKST",
            "Bara en pågående insats kan avbrytas.",
            "only a running insats can be avbruten",
        )
    if t == "verkstallighet_aterupptagen" and b.avbruten is None:
        _deny("P-VERKST", "Insatsen är inte avbruten.", "the insats is not avbruten")


def _g_beslut_ref(s: CaseState, ev: CaseEvent) -> None:
    b = _beslut(s, ev)
    if ev.type == "beslut_avslutat" and b.avslutat is not None:
        _deny("P-TWICE", "Beslutet är redan avslutat.", "the beslut is already avslutat")


def date_order_violation(s: CaseState, ev: CaseEvent) -> RuleViolation | None:
    """``P-ORDER``: the refusal when ``ev`` is dated before the step of its beslut or utredning
    it follows, else ``None``. Only legal dates are compared (the same day is in order).

    Why: a beslut avslutat before its insats was verkställd, or an insats verkställd before
    it was decided, makes the record say something impossible, and every duration counted
    from it (time to verkställighet for EVB and IVO, time in insats, utredningstid) negative.
    A beslut or utredning the case does not know is left to ``P-REF``."""
    d = ev.data
    day = ev.legal_date
    t = ev.type
    b = s.beslut.get(str(d.get("beslut_id")))
    u = s.utredningar.get(str(d.get("utredning_id")))
    after: tuple[date | None, str, str] | None = None
    if b is not None and t in (
        "insats_verkstalld",
        "verkstallighet_avbruten",
        "verkstallighet_aterupptagen",
    ):
        after = {
            "insats_verkstalld": (b.fattat, "beslutet fattades", "the beslut was fattat"),
            "verkstallighet_avbruten": (
                b.verkstalld,
                "insatsen verkställdes",
                "the insats was verkställd",
            ),
            "verkstallighet_aterupptagen": (
                b.avbruten,
                "verkställigheten avbröts",
                "the verkställighet was avbruten",
            ),
        }[t]
    elif b is not None and t == "beslut_avslutat":
        after = (
            (b.verkstalld, "insatsen verkställdes", "its insats was verkställd")
            if b.verkstalld is not None and b.verkstalld > b.fattat
            else (b.fattat, "beslutet fattades", "the beslut was fattat")
        )
    elif u is not None and t == "utredning_avslutad":
        after = (u.inledd, "utredningen inleddes", "the utredning was inledd")
    if after is None or after[0] is None or day >= after[0]:
        return None
    earlier, sv, en = after
    return RuleViolation(
        "P-ORDER",
        f"Händelsen är daterad {day}, före dagen då {sv} ({earlier}).",
        f"{t} dated {day}, before {en} on {earlier}",
    )


def _g_uppfoljning_inledd(s: CaseState, ev: CaseEvent) -> None:
    if s.uppfoljning_open:
        _deny("P-UPPF", "En uppföljning pågår redan.", "an uppföljning is already open")


def _g_uppfoljning_avslutad(s: CaseState, ev: CaseEvent) -> None:
    if not s.uppfoljning_open:
        _deny("P-UPPF", "Ingen uppföljning pågår.", "no uppföljning is open")


@dataclass(frozen=True)
class CloseBlocker:
    """One condition that keeps a case open (P-CLOSE), and the catalogue rules whose open frist
    it stands for. It applies while one of ``rules`` has ``blocks_closing`` in the catalogue, so
    the catalogue decides which frister block closing; one without rules is a process
    condition (an insats verkställd and running has no frist, but is still open)."""

    reason: str
    rules: tuple[str, ...]
    holds: Callable[[CaseState], bool]

    def blocks(self, s: CaseState) -> bool:
        enforced = not self.rules or any(statutory_rule(r).blocks_closing for r in self.rules)
        return enforced and self.holds(s)


#: The P-CLOSE conditions in the order a refusal names them (the 2026:1600/2026:1637 ones are
#: ``domain.case_lvu2027.LVU2027_CLOSE_BLOCKERS``). C2/C3 run only while the insats is open
#: (``beslut_avslutat`` fulfils them), B1/B3 while the utredning is, A1/B4 and A2 until the
#: skyddsbedömning and the förhandsbedömning, F1/F2/E15 while the uppföljning runs and
#: E2/E3/E3T/E5 while LVU care is in force.
CLOSE_BLOCKERS: tuple[CloseBlocker, ...] = (
    CloseBlocker(
        "an insats is open", ("C2", "C3"), lambda s: any(b.open_insats for b in s.beslut.values())
    ),
    CloseBlocker(
        "an utredning is pending", ("B1", "B3"), lambda s: s.pending_utredning is not None
    ),
    CloseBlocker(
        "a förhandsbedömning is not decided",
        ("A2",),
        lambda s: any(
            a.needs_forhandsbedomning and a.forhandsbedomning is None
            for a in s.anmalningar.values()
        ),
    ),
    CloseBlocker(
        "a skyddsbedömning is missing",
        ("A1", "B4"),
        lambda s: any(a.skyddsbedomning is None for a in s.anmalningar.values()),
    ),
    CloseBlocker("an uppföljning is open", ("F1", "F2", "E15"), lambda s: s.uppfoljning_open),
    CloseBlocker(
        "LVU care is ongoing",
        ("E2", "E3", "E3T", "E5"),
        lambda s: s.lvu_omhandertagande is not None or s.lvu_vard,
    ),
)


def _g_close(s: CaseState, ev: CaseEvent) -> None:
    reasons = [b.reason for b in CLOSE_BLOCKERS if b.blocks(s)]
    if reasons:
        _deny(
            "P-CLOSE",
            "Ärendet kan inte avslutas: " + "; ".join(reasons) + ".",
            "the case cannot be closed: " + "; ".join(reasons),
        )


def _g_anmalare_informerad(s: CaseState, ev: CaseEvent) -> None:
    _anmalan(s, ev)


def _g_lvu(s: CaseState, ev: CaseEvent) -> None:
    t = ev.type
    if t == "lvu_omhandertagande_beslutat" and (s.lvu_omhandertagande is not None or s.lvu_vard):
        _deny(
            "P-LVU",
            "Ett omedelbart omhändertagande eller LVU-vård gäller redan.",
            "an omedelbart omhändertagande or LVU care is already in force",
        )
    if t in ("lvu_omhandertagande_verkstallt", "lvu_understalld") and (
        s.lvu_omhandertagande is None or s.lvu_vard
    ):
        _deny(
            "P-LVU",
            "Inget omedelbart omhändertagande (LVU 6 §) att verkställa eller underställa.",
            "there is no omedelbart omhändertagande (LVU 6 §) in force",
        )
    # 2026:1600 10 kap. 3 §: care on the hem ground may be followed by an ansökan on the
    # anknytning ground while it is still in force (docs/law-2027.md)
    anknytning = ev.data.get("grund") == "anknytning"
    if t == "lvu_ansokan_inlamnad" and (s.lvu_ansokan or (s.lvu_vard and not anknytning)):
        _deny(
            "P-LVU",
            "En ansökan om vård är redan inlämnad eller vård pågår.",
            "an ansökan om vård is already pending, or care is in force",
        )
    if t == "lvu_dom" and not s.lvu_ansokan:
        _deny(
            "P-LVU",
            "Dom kräver en inlämnad ansökan om vård enligt LVU.",
            "an lvu_dom needs an lvu_ansokan_inlamnad first",
        )
    if t == "lvu_vard_upphort" and s.lvu_omhandertagande is None and not s.lvu_vard:
        _deny("P-LVU", "Ingen LVU-vård pågår.", "no LVU care is in force")


def _g_identity(s: CaseState, ev: CaseEvent) -> None:
    new_kind = _identity_kind(ev.data.get("barn") or {})
    if s.identity_kind == "personnummer" or new_kind != "personnummer":
        _deny(
            "P-IDENTITY",
            "Endast ett tillfälligt id kan ersättas, och bara med ett personnummer.",
            "only a temporary id can be replaced, and only by a personnummer",
        )


def _g_transfer(s: CaseState, ev: CaseEvent) -> None:
    to = str(ev.data["till_kommun"])
    if len(to) != 4 or not to.isdigit() or to == s.kommun:
        _deny(
            "P-TRANSFER",
            f"Ogiltig mottagande kommun {to!r}.",
            f"till_kommun must be another kommun's 4-digit code, not {to!r}",
        )


_GUARDS = {
    "anmalan_mottagen": _g_anmalan,
    "ansokan_mottagen": _g_ansokan,
    "skyddsbedomning_gjord": _g_skydd,
    "forhandsbedomning_beslutad": _g_forhandsbedomning,
    "forhandsbedomning_forlangd": _g_forhandsbedomning_ext,
    "anmalare_informerad": _g_anmalare_informerad,
    "utredning_inledd": _g_utredning,
    "utredning_forlangd": _g_utredning_ext,
    "utredning_avslutad": _g_utredning_avslutad,
    "barnenkat_erbjuden": _g_utredning_ref,
    "beslut_fattat": _g_beslut,
    "insats_verkstalld": _g_verkstallighet,
    "verkstallighet_avbruten": _g_verkstallighet,
    "verkstallighet_aterupptagen": _g_verkstallighet,
    "beslut_avslutat": _g_beslut_ref,
    "evb_skal_angivet": _g_beslut_ref,
    "evb_rapporterad": _g_beslut_ref,
    "overvagande_genomfort": _g_beslut_ref,
    "insats_uppfoljd": _g_beslut_ref,
    "vardnadsoverflyttning_overvagd": _g_beslut_ref,
    "uppfoljning_inledd": _g_uppfoljning_inledd,
    "uppfoljning_avslutad": _g_uppfoljning_avslutad,
    "arende_avslutat": _g_close,
    "lvu_omhandertagande_beslutat": _g_lvu,
    "lvu_omhandertagande_verkstallt": _g_lvu,
    "lvu_understalld": _g_lvu,
    "lvu_ansokan_inlamnad": _g_lvu,
    "lvu_dom": _g_lvu,
    "lvu_vard_upphort": _g_lvu,
    "identitet_uppdaterad": _g_identity,
    "arende_overflyttat": _g_transfer,
}
