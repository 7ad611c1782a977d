"""Which events record a decision, and under which decision code a delegationsordning names it.

A nämnd's delegationsordning covers every decision it delegates, not only the ``beslut_fattat``
of an insats: a decision not to open an utredning, an extension, an övervägande, an LVU
application, a placement, ending an insats … Each such event type (``DECISION_EVENT_TYPES``) has
a documented decision code (``DECISION_CODES``, listed in docs/delegationsordning.md) that a
kommun's rules use as their ``beslutstyp``; ``beslut_fattat`` keeps its own ``beslutstyp`` and
``lagrum``. The delegat is the event's ``delegat`` or, when it names none, the actor.

Pure: the update validator, the importer and the views all ask the same question here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from domain.case import CaseState
from domain.events import DECISION_EVENT_TYPES, CaseEvent

__all__ = ["DECISION_CODES", "DECISION_EVENT_TYPES", "Decision", "decision_of"]

#: Every decision code an ordning may use for an event other than ``beslut_fattat``, with the
#: event (and field) it stands for. docs/delegationsordning.md lists exactly these.
DECISION_CODES: Final[dict[str, str]] = {
    "inleda_utredning": "forhandsbedomning_beslutad, beslut inleda_utredning",
    "inte_inleda_utredning": "forhandsbedomning_beslutad, beslut inte_inleda_utredning",
    "forlangning_forhandsbedomning": "forhandsbedomning_forlangd",
    "forlangning_utredning": "utredning_forlangd",
    "upphorande_insats": "beslut_avslutat",
    "overvagande": "overvagande_genomfort",
    "overvagande_vardnadsoverflyttning": (
        "vardnadsoverflyttning_overvagd, lvu_vardnadsoverflyttning_overvagd"
    ),
    "omedelbart_omhandertagande": "lvu_omhandertagande_beslutat",
    "ansokan_om_vard": "lvu_ansokan_inlamnad",
    "ansokan_fortsatt_tillfallig_vard": "lvu_fortsatt_tillfallig_vard_ansokt",
    "placering": "lvu_placering_paborjad",
    "upphorande_av_vard": "lvu_vard_upphort",
    "tillfalligt_flyttningsforbud": "lvu_forbud_beslutat, flyttningsforbud, tillfalligt",
    "tillfalligt_utreseforbud": "lvu_forbud_beslutat, utreseforbud, tillfalligt",
    "ansokan_flyttningsforbud": "lvu_forbud_ansokt (flyttningsforbud)",
    "ansokan_utreseforbud": "lvu_forbud_ansokt (utreseforbud)",
    "overvagande_flyttningsforbud": "lvu_forbud_overvagt (flyttningsforbud)",
    "provning_utreseforbud": "lvu_forbud_overvagt (utreseforbud)",
    "upphorande_flyttningsforbud": "lvu_forbud_upphort (flyttningsforbud)",
    "upphorande_utreseforbud": "lvu_forbud_upphort (utreseforbud)",
    "undantag_utreseforbud": "lvu_forbud_undantag_beslutat",
    "umgangesbegransning": "lvu_umgangesbegransning_beslutad",
    "provning_umgangesbegransning": "lvu_umgangesbegransning_provad",
    "upphorande_umgangesbegransning": "lvu_umgangesbegransning_upphort",
    "drogtest": "lvu_drogtest_beslutat",
    "lakarundersokning": "lvu_lakarundersokning_beslutad (not beslutad_av ratten)",
    "forebyggande_insats": "lvu_forebyggande_insats_beslutad",
    "provning_forebyggande_insats": "lvu_forebyggande_insats_provad",
    "upphorande_forebyggande_insats": "lvu_forebyggande_insats_upphort",
    "insats_utan_samtycke": "insats_utan_samtycke_beslutad",
    "overvagande_insats_utan_samtycke": "insats_utan_samtycke_overvagd",
    "upphorande_insats_utan_samtycke": "insats_utan_samtycke_upphort",
}

#: The field naming what a decision is about, per event type (shown in reports, used to match
#: an ordförandebeslut's anmälan).
SUBJECT_FIELDS: Final = (
    "beslut_id",
    "anmalan_id",
    "utredning_id",
    "forbud_id",
    "placering_id",
    "begransning_id",
    "insats_id",
)


@dataclass(frozen=True)
class Decision:
    """What a decision event says about delegation: its code, the lagrum it names (only
    ``beslut_fattat`` names one), who decided and what the rules may need to know."""

    code: str
    lagrum: str | None
    delegat_id: str
    delegat_roll: str
    #: False when the event names no ``delegat`` and the actor stands in for it.
    delegat_named: bool
    belopp_per_dygn: float | None = None
    insats: str | None = None
    #: The event's ``ordforandebeslut: true`` (LVU 6, 27, 31 d §§ / 2026:1600): the chair decided.
    ordforande_flag: bool = False
    subject: str | None = None


def _forbud_kind(ev: CaseEvent, state: CaseState | None) -> str:
    if ev.type == "lvu_forbud_beslutat":
        return str(ev.data["forbud"])
    forbud = None if state is None else state.lvu2027.forbud.get(str(ev.data.get("forbud_id")))
    return (
        "utreseforbud"
        if forbud is not None and forbud.kind == "utreseforbud"
        else ("flyttningsforbud")
    )


def _fixed(code: str) -> Callable[[CaseEvent, CaseState | None], str | None]:
    return lambda ev, state: code


def _by_forbud(flytt: str, utrese: str) -> Callable[[CaseEvent, CaseState | None], str | None]:
    return lambda ev, state: utrese if _forbud_kind(ev, state) == "utreseforbud" else flytt


def _tillfalligt_forbud(ev: CaseEvent, state: CaseState | None) -> str | None:
    """Only a tillfälligt förbud is the nämnd's decision; the court decides the förbud itself."""
    if ev.data.get("tillfalligt") is not True:
        return None
    return _by_forbud("tillfalligt_flyttningsforbud", "tillfalligt_utreseforbud")(ev, state)


def _lakarundersokning(ev: CaseEvent, state: CaseState | None) -> str | None:
    return None if ev.data.get("beslutad_av") == "ratten" else "lakarundersokning"


_CODE_OF: Final[Mapping[str, Callable[[CaseEvent, CaseState | None], str | None]]] = {
    "forhandsbedomning_beslutad": lambda ev, state: str(ev.data["beslut"]),
    "forhandsbedomning_forlangd": _fixed("forlangning_forhandsbedomning"),
    "utredning_forlangd": _fixed("forlangning_utredning"),
    "beslut_fattat": lambda ev, state: str(ev.data["beslutstyp"]),
    "beslut_avslutat": _fixed("upphorande_insats"),
    "overvagande_genomfort": _fixed("overvagande"),
    "vardnadsoverflyttning_overvagd": _fixed("overvagande_vardnadsoverflyttning"),
    "lvu_vardnadsoverflyttning_overvagd": _fixed("overvagande_vardnadsoverflyttning"),
    "lvu_omhandertagande_beslutat": _fixed("omedelbart_omhandertagande"),
    "lvu_ansokan_inlamnad": _fixed("ansokan_om_vard"),
    "lvu_fortsatt_tillfallig_vard_ansokt": _fixed("ansokan_fortsatt_tillfallig_vard"),
    "lvu_placering_paborjad": _fixed("placering"),
    "lvu_vard_upphort": _fixed("upphorande_av_vard"),
    "lvu_forbud_beslutat": _tillfalligt_forbud,
    "lvu_forbud_ansokt": _by_forbud("ansokan_flyttningsforbud", "ansokan_utreseforbud"),
    "lvu_forbud_overvagt": _by_forbud("overvagande_flyttningsforbud", "provning_utreseforbud"),
    "lvu_forbud_upphort": _by_forbud("upphorande_flyttningsforbud", "upphorande_utreseforbud"),
    "lvu_forbud_undantag_beslutat": _fixed("undantag_utreseforbud"),
    "lvu_umgangesbegransning_beslutad": _fixed("umgangesbegransning"),
    "lvu_umgangesbegransning_provad": _fixed("provning_umgangesbegransning"),
    "lvu_umgangesbegransning_upphort": _fixed("upphorande_umgangesbegransning"),
    "lvu_drogtest_beslutat": _fixed("drogtest"),
    "lvu_lakarundersokning_beslutad": _lakarundersokning,
    "lvu_forebyggande_insats_beslutad": _fixed("forebyggande_insats"),
    "lvu_forebyggande_insats_provad": _fixed("provning_forebyggande_insats"),
    "lvu_forebyggande_insats_upphort": _fixed("upphorande_forebyggande_insats"),
    "insats_utan_samtycke_beslutad": _fixed("insats_utan_samtycke"),
    "insats_utan_samtycke_overvagd": _fixed("overvagande_insats_utan_samtycke"),
    "insats_utan_samtycke_upphort": _fixed("upphorande_insats_utan_samtycke"),
}
assert set(_CODE_OF) == DECISION_EVENT_TYPES, "every decision event type has a decision code"


def decision_of(ev: CaseEvent, state: CaseState | None = None) -> Decision | None:
    """The decision ``ev`` records, or ``None`` when it records none (not a decision type, or a
    court's decision). ``state`` is the case before ``ev`` (it knows which förbud a förbud
    event refers to)."""
    code_of = _CODE_OF.get(ev.type)
    code = None if code_of is None else code_of(ev, state)
    if code is None:
        return None
    d: Mapping[str, Any] = ev.data
    named = d.get("delegat")
    delegat = named if isinstance(named, Mapping) else {"id": ev.actor.id, "roll": ev.actor.roll}
    belopp = d.get("belopp_per_dygn")
    return Decision(
        code=code,
        lagrum=str(d["lagrum"]) if ev.type == "beslut_fattat" else None,
        delegat_id=str(delegat["id"]),
        delegat_roll=str(delegat["roll"]),
        delegat_named=isinstance(named, Mapping),
        belopp_per_dygn=None if belopp is None else float(belopp),
        insats=d.get("insats") if ev.type == "beslut_fattat" else None,
        ordforande_flag=d.get("ordforandebeslut") is True,
        subject=next((str(d[f]) for f in SUBJECT_FIELDS if d.get(f) is not None), None),
    )
