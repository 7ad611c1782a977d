"""Guards for moving an ärende to another kommun, and for the receiving kommun's part in it
(SoL 2025:400 29 kap. 9-12 §§, old SoL 2 a kap. 10-12 §§ and 11 kap. 4 §; docs/domain.md §7.5).

The sending kommun asks in writing, the other kommun answers (29:10); when they do not agree, or
no answer came within a month, the sending kommun may apply to IVO (29:11). The ärende moves
(``arende_overflyttat``) only once the other kommun accepted or IVO decided so. An utredning in
progress stays with the kommun that opened it unless the other kommun takes it over (29:9, B8).
The EVB duty of a beslut stays with the kommun that made it (POL-OVERFLYTTNING-EVB): a gynnande
beslut is verkställt or ended before the ärende moves, and the receiving kommun, whose stream
starts as a copy of the sending one with a closing ``arende_mottaget`` marker, never records
a verkställighet, an avbrott or an EVB report of a beslut another kommun made.

A separate state and guard set that ``domain.case.CaseState`` folds and consults after its own
guards (like ``domain.case_lvu2027``), so the aggregate and the workflow's validator judge alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NoReturn, Protocol

from domain.errors import RuleViolation
from domain.events import SYSTEM_TYPES, CaseEvent
from domain.rules import rule

#: Rule ids of the guards below, with what they enforce (merged into case.PROCESS_RULES).
TRANSFER_PROCESS_RULES: dict[str, str] = {
    "P-OVERFLYTTNING": (
        "A transfer is asked for in writing from another, valid kommun, one request at a time; "
        "an answer needs a request waiting for it; IVO is asked only after a refusal or a month "
        "without an answer (SoL 29:10-11), and decides an application once."
    ),
    "B8": (
        "An utredning in progress stays with the kommun that opened it: the ärende moves only "
        "once the utredning is closed or the receiving kommun took it over (SoL 29:9; old 11:4)."
    ),
    "P-EVB-KOMMUN": (
        "The EVB duty of a beslut stays with the kommun that made it: a gynnande beslut with an "
        "insats is verkställt (and not avbrutet) or avslutat before the ärende moves, and the "
        "receiving kommun records no verkställighet, avbrott or EVB report of a beslut another "
        "kommun made (SoL 34:1)."
    ),
}
#: The receiving kommun's events that would make it report, or change what the deciding kommun
#: reported about, a beslut another kommun made.
EVB_TYPES = frozenset(
    {
        "insats_verkstalld",
        "verkstallighet_avbruten",
        "verkstallighet_aterupptagen",
        "evb_skal_angivet",
        "evb_rapporterad",
    }
)
#: The sending kommun's negotiation of a transfer: its own record, not copied to the receiver.
PROCESS_TYPES = frozenset(
    {
        "overflyttning_begard",
        "overflyttning_besvarad",
        "overflyttning_ivo_ansokan",
        "overflyttning_ivo_beslut",
    }
)
#: Rules whose frister belong to that negotiation (their alerts are not copied either).
PROCESS_RULES_IDS = frozenset({"H2", "H4"})
MARKER = "arende_mottaget"


class _Beslut(Protocol):
    @property
    def gynnande(self) -> bool: ...

    @property
    def insats(self) -> str | None: ...

    @property
    def verkstalld(self) -> date | None: ...

    @property
    def avbruten(self) -> date | None: ...

    @property
    def avslutat(self) -> date | None: ...


class _Case(Protocol):
    """The facts of ``CaseState`` the guards read."""

    @property
    def kommun(self) -> str: ...

    @property
    def beslut(self) -> Mapping[str, _Beslut]: ...

    @property
    def pending_utredning(self) -> Any: ...

    @property
    def open_overklaganden(self) -> Iterable[str]: ...

    def running_appeal_period(self, on: date) -> tuple[str, date] | None: ...


@dataclass
class Begaran:
    """One request to move the ärende, and what became of it."""

    till_kommun: str
    begard: date
    svar: str | None = None
    besvarad: date | None = None
    tar_over_utredning: bool = False
    ivo_ansokan: date | None = None
    ivo_utfall: str | None = None

    @property
    def agreed(self) -> bool:
        """The other kommun accepted, or IVO decided the ärende moves."""
        return self.svar == "accepterad" or self.ivo_utfall == "bifall"

    @property
    def takes_utredning(self) -> bool:
        """An utredning in progress moves too: taken over (29:9 second st.) or IVO's decision."""
        return (self.svar == "accepterad" and self.tar_over_utredning) or (
            self.ivo_utfall == "bifall"
        )

    @property
    def awaiting_answer(self) -> bool:
        return self.svar is None and self.ivo_utfall is None

    @property
    def ivo_pending(self) -> bool:
        return self.ivo_ansokan is not None and self.ivo_utfall is None

    @property
    def open(self) -> bool:
        """Waiting for the other kommun or IVO: no second request meanwhile (an agreed one not
        carried out may be replaced, e.g. by one that takes over the utredning)."""
        return self.awaiting_answer or self.ivo_pending


@dataclass
class TransferState:
    """What the transfer guards need, folded from the events."""

    begaran: list[Begaran] = field(default_factory=list)
    #: Set by the marker in a receiving kommun's stream: where from, and when it arrived.
    received_from: str | None = None
    received_at: datetime | None = None
    #: Beslut that were made before this kommun received the ärende (by the sending kommun).
    elsewhere: set[str] = field(default_factory=set)

    @property
    def latest(self) -> Begaran | None:
        return self.begaran[-1] if self.begaran else None

    def apply(self, ev: CaseEvent, beslut_ids: Iterable[str]) -> None:
        """Fold one (already checked) event; ``beslut_ids``: the beslut the case knows now."""
        t, d, day = ev.type, ev.data, ev.legal_date
        b = self.latest
        if t == "overflyttning_begard":
            self.begaran.append(Begaran(str(d["till_kommun"]), day))
        elif t == "overflyttning_besvarad" and b is not None:
            b.svar, b.besvarad = str(d["svar"]), day
            b.tar_over_utredning = d.get("tar_over_utredning") is True
        elif t == "overflyttning_ivo_ansokan" and b is not None:
            b.ivo_ansokan = day
        elif t == "overflyttning_ivo_beslut" and b is not None:
            b.ivo_utfall = str(d["utfall"])
        elif t == MARKER:
            self.received_from, self.received_at = str(d["fran_kommun"]), ev.occurred_at
            self.elsewhere.update(beslut_ids)
            self.begaran.clear()  # the sending kommun's requests are not this kommun's


def check_transfer(
    s: TransferState, case: _Case, ev: CaseEvent, *, legacy_transfer: bool = False
) -> None:
    """Raise ``RuleViolation`` if ``ev`` breaks a transfer rule; else return.

    ``legacy_transfer`` judges an ``arende_overflyttat`` as before its request and answer
    existed (only for a workflow replaying a command accepted by the older code)."""
    t = ev.type
    if s.received_at is not None and t not in SYSTEM_TYPES and ev.occurred_at < s.received_at:
        _deny(
            "P-BEFORE-CASE",
            f"Ärendet kom till kommunen {s.received_at.date()}: händelsen är daterad före.",
            f"the case came to this kommun from {s.received_from} on "
            f"{s.received_at.isoformat()}; the event is dated before",
        )
    if t in EVB_TYPES and str(ev.data["beslut_id"]) in s.elsewhere:
        bid = ev.data["beslut_id"]
        _deny(
            "P-EVB-KOMMUN",
            f"Beslut {bid} fattades av kommun {s.received_from}, som har kvar "
            "rapporteringen till IVO; fatta ett eget beslut.",
            f"beslut {bid} was made by kommun {s.received_from}, which keeps its EVB duty: "
            "record this kommun's own beslut",
        )
    if t == "arende_overflyttat" and not legacy_transfer:
        _g_overflyttat(s, case, ev)
        return
    guard = _GUARDS.get(t)
    if guard is not None:
        guard(s, case, ev)


def _deny(rule_id: str, sv: str, en: str) -> NoReturn:
    raise RuleViolation(rule_id, sv, en)


def _g_begard(s: TransferState, case: _Case, ev: CaseEvent) -> None:
    to = str(ev.data["till_kommun"])
    if len(to) != 4 or not to.isdigit() or to == case.kommun:
        _deny(
            "P-OVERFLYTTNING",
            f"Ogiltig mottagande kommun {to!r}.",
            f"till_kommun must be another kommun's 4-digit code, not {to!r}",
        )
    b = s.latest
    if b is not None and b.open:
        _deny(
            "P-OVERFLYTTNING",
            f"Begäran om överflyttning till {b.till_kommun} väntar på svar eller på IVO.",
            f"the request to move the ärende to {b.till_kommun} waits for its answer or IVO",
        )


def _waiting(s: TransferState, ev: CaseEvent) -> Begaran:
    """The latest request, not yet agreed: an answer, IVO's application and decision concern it."""
    b = s.latest
    if b is None or b.agreed or b.ivo_utfall is not None:
        _deny(
            "P-OVERFLYTTNING",
            "Ingen begäran om överflyttning väntar på svar eller beslut.",
            f"{ev.type} needs a request to move the ärende that is still open",
        )
    if ev.legal_date < b.begard:
        _deny(
            "P-OVERFLYTTNING",
            f"Händelsen är daterad före begäran ({b.begard}).",
            f"{ev.type} is dated before the request ({b.begard})",
        )
    return b


def _g_besvarad(s: TransferState, case: _Case, ev: CaseEvent) -> None:
    b = _waiting(s, ev)
    if not b.awaiting_answer:
        _deny(
            "P-OVERFLYTTNING",
            "Begäran är redan besvarad.",
            "the request is already answered: a new answer needs a new request",
        )
    if ev.data.get("tar_over_utredning") is True and ev.data["svar"] != "accepterad":
        _deny(
            "P-OVERFLYTTNING",
            "Bara en kommun som accepterar kan ta över utredningen.",
            "tar_over_utredning needs svar accepterad",
        )


def _g_ivo_ansokan(s: TransferState, case: _Case, ev: CaseEvent) -> None:
    b = _waiting(s, ev)
    if b.ivo_ansokan is not None:
        _deny("P-TWICE", "IVO har redan ansökan.", "IVO already has the application")
    answer_due = rule("H2").due_from(b.begard)
    if b.svar is None and ev.legal_date <= answer_due:
        _deny(
            "P-OVERFLYTTNING",
            f"Ansökan till IVO får göras efter ett nej eller när svar inte kommit inom en "
            f"månad (efter {answer_due}; SoL 29:11).",
            f"IVO may be asked after a refusal or when no answer came within a month (after "
            f"{answer_due}; SoL 29:11)",
        )


def _g_ivo_beslut(s: TransferState, case: _Case, ev: CaseEvent) -> None:
    b = _waiting(s, ev)
    if not b.ivo_pending:
        _deny(
            "P-OVERFLYTTNING",
            "IVO har ingen ansökan om överflyttning att pröva.",
            "IVO has no application to decide",
        )


def _g_overflyttat(s: TransferState, case: _Case, ev: CaseEvent) -> None:
    to = str(ev.data["till_kommun"])
    if len(to) != 4 or not to.isdigit() or to == case.kommun:
        _deny(
            "P-TRANSFER",
            f"Ogiltig mottagande kommun {to!r}.",
            f"till_kommun must be another kommun's 4-digit code, not {to!r}",
        )
    b = s.latest
    if b is None or b.till_kommun != to or not b.agreed:
        _deny(
            "P-TRANSFER",
            f"Kommun {to} har inte accepterat överflyttningen och IVO har inte beslutat den "
            "(SoL 29:10-11).",
            f"kommun {to} has not accepted a request to move the ärende, nor has IVO decided it "
            "(SoL 29:10-11)",
        )
    if case.pending_utredning is not None and not b.takes_utredning:
        uid = case.pending_utredning.id
        _deny(
            "B8",
            f"Utredning {uid} pågår och stannar hos kommunen tills den är avslutad, om inte "
            f"kommun {to} tar över den (SoL 29:9).",
            f"utredning {uid} is in progress and stays with this kommun until it is closed, "
            f"unless kommun {to} takes it over (SoL 29:9)",
        )
    for bid, beslut in sorted(case.beslut.items()):
        if bid in s.elsewhere or not beslut.gynnande or beslut.insats is None:
            continue
        if beslut.avslutat is None and (beslut.verkstalld is None or beslut.avbruten is not None):
            _deny(
                "P-EVB-KOMMUN",
                f"Beslut {bid} är inte verkställt: rapporteringen till IVO stannar hos kommunen, "
                "verkställ eller avsluta beslutet före överflyttningen.",
                f"beslut {bid} is not verkställt: its EVB duty stays with this kommun; verkställ "
                "or end it before the ärende moves",
            )
    running = case.running_appeal_period(ev.legal_date)
    if running is not None:
        _deny(
            "P-TRANSFER",
            f"Beslut {running[0]} kan överklagas till och med {running[1]}, och överklagandet ges "
            "in till kommunen som fattade det (FL 43-44 §§): flytta ärendet efter det.",
            f"beslut {running[0]} may be appealed until {running[1]}, to the kommun that made it "
            "(FL 43-44 §§): move the ärende after that day",
        )
    for oid in case.open_overklaganden:
        _deny(
            "P-TRANSFER",
            f"Överklagande {oid} ska rättidsprövas och lämnas till rätten av kommunen som "
            "fattade beslutet (FL 45-46 §§) före överflyttningen.",
            f"överklagande {oid} is handled by the kommun that made the beslut (FL 45-46 §§) "
            "before the ärende moves",
        )


_GUARDS = {
    "overflyttning_begard": _g_begard,
    "overflyttning_besvarad": _g_besvarad,
    "overflyttning_ivo_ansokan": _g_ivo_ansokan,
    "overflyttning_ivo_beslut": _g_ivo_beslut,
}


def decided_elsewhere(events: Iterable[CaseEvent]) -> frozenset[str]:
    """The beslut of a stream (in stream order) that were made before the last
    ``arende_mottaget``: by another kommun, which keeps their EVB duty (the deadline engine
    computes no C2-C4 for them, the projections show no beslut row)."""
    seen: set[str] = set()
    elsewhere: set[str] = set()
    for ev in events:
        if ev.type == "beslut_fattat":
            seen.add(str(ev.data["beslut_id"]))
        elif ev.type == MARKER:
            elsewhere |= seen
    return frozenset(elsewhere)
