"""The rules catalogue (docs/law.md §3) as data, plus the per-kommun policy file.

Keeping every deadline's length, legal reference and extension policy in one table means the
frist engine, the ``rules list`` command and ``docs/rules.md`` cannot disagree about the law.
Where the statute is silent or unclear (docs/law.md §5), the choice is a named ``UncertainPolicy``
with a safe default instead of a silent guess; a kommun may override some of them in its TOML
file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypedDict

from domain.calendar import add_days, add_months, add_weeks, add_years
from domain.events import INSATSTYPER

Unit = Literal["days", "weeks", "months", "years", "same_day", "annual_date"]
Recurrence = Literal["none", "rolling", "anniversary", "quarterly", "annual"]

OLD_SOL = "SoL 2001:453"
NEW_SOL = "SoL 2025:400"
LVU = "LVU 1990:52"
OLD_SOF = "SoF 2001:937"
NEW_SOF = "SoF 2025:468"
LOCAL = "Lokal regel"
#: SoL 2025:400 (and SoF 2025:468) replaced the old acts on this day; the trigger decides.
NEW_SOL_FROM = date(2025, 7, 1)
#: SFS 2025:1501: the one-week information duty to the anmälare (A3) starts here.
A3_FROM = date(2026, 1, 15)

FRIST_OVERSKRIDEN = "frist_overskriden"
EVB_UPPSTOD = "evb_rapporteringsskyldighet_uppstod"


@dataclass(frozen=True)
class LawRef:
    """An act and a paragraph in it, e.g. ``SoL 2025:400`` / ``20 kap. 3 §``."""

    law: str
    paragraph: str


@dataclass(frozen=True)
class ExtensionPolicy:
    """Who may extend a frist and how; the engine enforces ``before_expiry`` and ``stated_end``."""

    who: str
    grounds: str
    event_type: str
    before_expiry: bool = True
    stated_end: bool = True
    repeatable: bool = True


@dataclass(frozen=True)
class UncertainPolicy:
    """A point where the statute is silent or unclear, turned into an explicit, documented choice
    (docs/law.md §5)."""

    name: str
    default: str
    description: str


@dataclass(frozen=True)
class Rule:
    """One statutory or local deadline: what starts it, what meets it, how long, and where it is.

    ``length``/``unit`` are counted from the trigger's legal date with ``domain.calendar``;
    ``annual_date`` rules use ``annual_month``/``annual_day`` instead. ``missing_event_types``
    lists fulfilling/trigger types the event contract does not have yet (the rule is catalogued
    but cannot fire until they exist).
    """

    id: str
    name: str
    trigger_types: tuple[str, ...]
    fulfilled_by: tuple[str, ...]
    length: int
    unit: Unit
    old_ref: LawRef | None
    new_ref: LawRef | None
    blocks_closing: bool
    alert_event: str = FRIST_OVERSKRIDEN
    extension: ExtensionPolicy | None = None
    recurrence: Recurrence = "none"
    sondagsregel: bool = False
    exists_from: date | None = None
    new_from: date = NEW_SOL_FROM
    annual_month: int = 1
    annual_day: int = 31
    uncertain: tuple[UncertainPolicy, ...] = ()
    missing_event_types: tuple[str, ...] = ()
    note: str = ""

    def law_for(self, trigger: date) -> LawRef | None:
        """The act and paragraph that govern a frist started on ``trigger``.

        ``None`` means the rule did not exist then (A3 before 2026-01-15: no time limit).
        """
        if self.exists_from is not None and trigger < self.exists_from:
            return None
        if trigger >= self.new_from or self.old_ref is None:
            return self.new_ref
        return self.old_ref

    def due_from(self, trigger: date, length: int | None = None) -> date:
        """The literal due date (1930:173 1 §, month-end clamping); ``length`` overrides."""
        n = self.length if length is None else length
        if self.unit == "same_day":
            return trigger
        if self.unit == "days":
            return add_days(trigger, n)
        if self.unit == "weeks":
            return add_weeks(trigger, n)
        if self.unit == "months":
            return add_months(trigger, n)
        if self.unit == "years":
            return add_years(trigger, n)
        due = date(trigger.year, self.annual_month, self.annual_day)
        return due if due >= trigger else date(trigger.year + 1, self.annual_month, self.annual_day)

    def length_text(self) -> str:
        """Human wording of the period, for ``rules list`` and explanations."""
        if self.unit == "same_day":
            return "samma dag"
        if self.unit == "annual_date":
            return f"årligen {self.annual_day}/{self.annual_month}"
        words = {"days": "dagar", "weeks": "veckor", "months": "månader", "years": "år"}
        return f"{self.length} {words[self.unit]}"


class _Refs(TypedDict):
    old_ref: LawRef | None
    new_ref: LawRef | None


def _sol(old: str | None, new: str) -> _Refs:
    return {
        "old_ref": LawRef(OLD_SOL, old) if old else None,
        "new_ref": LawRef(NEW_SOL, new),
    }


def _lvu(par: str) -> _Refs:
    return {"old_ref": None, "new_ref": LawRef(LVU, par)}


P_SONDAG = UncertainPolicy(
    "sondagsregel",
    "av",
    "Om 1930:173 2 § flyttar myndighetens egna frister är ovisst (docs/law.md §2.4). Status och "
    "larm räknas alltid på den bokstavliga dagen; med regeln på visas nästa vardag som "
    "shifted_due.",
)
P_A1_LATE = UncertainPolicy(
    "a1_sen_anmalan",
    "samma dag",
    "Prop. 2012/13:10 s. 60 tillåter nästa dag om anmälan kom sent på dagen. Standard: samma dag; "
    "en kommun kan ange en klocktid (a1_nasta_dag_efter) efter vilken nästa dag gäller.",
)
P_B2_ANSOKAN = UncertainPolicy(
    "b2_ansokan_start",
    "ansokan_mottagen",
    "När en ansökningsgrundad utredning räknas som inledd är ovisst (docs/law.md §5). Standard: "
    "dagen då ansökan kom in (14:2 'genast'), den tidigaste kandidaten.",
)
P_D3_START = UncertainPolicy(
    "d3_start",
    "beslut",
    "Startdag för första övervägandet är ovisst (docs/law.md §5). Standard: beslutsdagen "
    "(tidigaste kandidaten); alternativ 'verkstallighet'. Därefter rullande sex månader från "
    "senaste.",
)
P_D4_ANNUAL = UncertainPolicy(
    "d4_arlig",
    "arsdag",
    "'Därefter årligen' räknas från verkställighetens årsdagar (2, 3, 4 … år), inte från senaste "
    "övervägandet, så att ett sent övervägande inte skjuter nästa.",
)
P_E5_LAGA_KRAFT = UncertainPolicy(
    "e5_start",
    "domsdag",
    "Laga kraft-dagen finns inte i händelserna; fyra veckor räknas från domens dag (tidigare än "
    "laga kraft, alltså säkert). Utfall 'avslag'/'avslaget'/'avvisat'/'avskrivet' ger ingen frist.",
)
P_E6_START = UncertainPolicy(
    "e6_start",
    "vardens_borjan",
    "LVU 13 § första st. anger ingen startdag (docs/law.md §5). Standard: vårdens början "
    "(domsdagen om barnet redan var omhändertaget, annars verkställigheten).",
)
P_F3_OLD = UncertainPolicy(
    "uppfoljning_gammal_sol_manader",
    "2",
    "Gamla 11:4 c: två månader 2013, troligen sex senare (docs/law.md §3 F1/F2). Standard för "
    "uppföljningar som startar före 2025-07-01: 2 månader (larmar tidigare); från 2025-07-01: 6.",
)
P_F_GRUND = UncertainPolicy(
    "uppfoljning_grund",
    "sammanhang",
    "uppfoljning_inledd.grund är fri text. 'utredning_utan_insats' → F1, 'placering_upphort' → "
    "F2, 'lvu_upphort' → E15; annars avgörs grunden av senaste föregående avslut (LVU-vård, "
    "placering, utredning).",
)
P_H3 = UncertainPolicy(
    "h3_overflyttning",
    "behall_start",
    "Vid överflyttning (H2) behåller pågående frister sin ursprungliga start och slutdag "
    "(docs/law.md §5, B3-logik); arende_overflyttat nollställer ingenting.",
)
P_D10 = UncertainPolicy(
    "d10_forteckning",
    "per_placering",
    "Förteckningen gäller barn i familjehem vid årets ingång; en frist per placering och år. "
    "Händelsetypen för inlämnad förteckning saknas ännu (ivo_forteckning_lamnad).",
)

_PLACEMENT_END = ("beslut_avslutat",)

RULES: tuple[Rule, ...] = (
    Rule(
        "A1",
        "Omedelbar skyddsbedömning",
        ("anmalan_mottagen",),
        ("skyddsbedomning_gjord",),
        0,
        "same_day",
        **_sol("11 kap. 1 a § första st.", "20 kap. 1 §"),
        blocks_closing=True,
        uncertain=(P_A1_LATE,),
    ),
    Rule(
        "A2",
        "Förhandsbedömning",
        ("anmalan_mottagen",),
        ("forhandsbedomning_beslutad",),
        14,
        "days",
        **_sol("11 kap. 1 a §", "20 kap. 2 §"),
        blocks_closing=True,
        extension=ExtensionPolicy(
            "nämnden/delegat", "synnerliga skäl", "forhandsbedomning_forlangd"
        ),
        note="Ingen förhandsbedömning om en utredning redan pågår (B4).",
    ),
    Rule(
        "A3",
        "Information till anmälaren",
        ("forhandsbedomning_beslutad",),
        ("anmalare_informerad",),
        1,
        "weeks",
        **_sol("14 kap. 1 b §", "19 kap. 6 §"),
        blocks_closing=False,
        exists_from=A3_FROM,
        uncertain=(
            UncertainPolicy(
                "a3_begaran",
                "av",
                "Anmälarens begäran anges i anmalan_mottagen.anmalare_begart_information. "
                "Utan den räknas fristen bara om kommunen slår på policy.a3_begaran_antas "
                "(alla anmälare antas ha begärt information).",
            ),
        ),
    ),
    Rule(
        "B1",
        "Utredning",
        ("utredning_inledd",),
        ("utredning_avslutad",),
        4,
        "months",
        **_sol("11 kap. 2 §", "20 kap. 3 §"),
        blocks_closing=True,
        extension=ExtensionPolicy("nämnden", "särskilda skäl", "utredning_forlangd"),
        uncertain=(P_B2_ANSOKAN, P_H3),
    ),
    Rule(
        "B3",
        "Förbud mot att kringgå utredningstiden",
        ("utredning_inledd",),
        ("utredning_avslutad",),
        4,
        "months",
        **_sol("11 kap. 2 §", "20 kap. 3 §"),
        blocks_closing=True,
        note="Ingen egen frist: en utredning med fortsatter_utredning_id behåller den ursprungliga "
        "startdagen i B1 (JO 2565-2016, 2411-2017).",
    ),
    Rule(
        "B4",
        "Ny anmälan under pågående utredning",
        ("anmalan_mottagen",),
        ("skyddsbedomning_gjord",),
        0,
        "same_day",
        **_sol("11 kap. 1 a §", "20 kap. 1-2 §§"),
        blocks_closing=True,
        note="Ingen egen frist: A1 gäller, A2 uteblir och B1:s slutdag flyttas inte.",
    ),
    Rule(
        "C2",
        "Ej verkställt gynnande beslut (rapport till IVO)",
        ("beslut_fattat",),
        ("insats_verkstalld", "beslut_avslutat"),
        3,
        "months",
        **_sol("16 kap. 6 f §", "34 kap. 1 § första st."),
        blocks_closing=True,
        alert_event=EVB_UPPSTOD,
        note="Gäller beslut med gynnande=true och en insats.",
    ),
    Rule(
        "C3",
        "Avbrott i verkställighet (rapport till IVO)",
        ("verkstallighet_avbruten",),
        ("verkstallighet_aterupptagen", "beslut_avslutat"),
        3,
        "months",
        **_sol("16 kap. 6 f §", "34 kap. 1 § andra st."),
        blocks_closing=True,
        alert_event=EVB_UPPSTOD,
    ),
    Rule(
        "C4",
        "Kvartalsvis återrapport till IVO",
        ("evb_rapporteringsskyldighet_uppstod",),
        ("evb_rapporterad",),
        0,
        "annual_date",
        **_sol("16 kap. 6 f §", "34 kap. 1 § tredje st."),
        blocks_closing=True,
        alert_event=EVB_UPPSTOD,
        recurrence="quarterly",
        note="En frist per kvartal från det kvartal rapportskyldigheten uppstod till och med det "
        "kvartal beslutet verkställdes/avslutades; slutdag = sista dagen i IVO:s "
        "rapporteringsfönster (Q1 30/4, Q2 31/8, Q3 31/10, Q4 31/1).",
    ),
    Rule(
        "D2",
        "Första revision av vårdplanen",
        ("insats_verkstalld",),
        ("vardplan_reviderad",),
        2,
        "years",
        **_sol("11 kap. 3 §", "9 kap. 13 §"),
        blocks_closing=False,
        note="Placeringsbeslut (familjehem, jourhem, HVB, stödboende, skyddat boende).",
    ),
    Rule(
        "D3",
        "Övervägande av vård enligt SoL",
        ("beslut_fattat", "insats_verkstalld"),
        ("overvagande_genomfort", "beslut_avslutat"),
        6,
        "months",
        **_sol("6 kap. 8 §", "22 kap. 13 §"),
        blocks_closing=False,
        recurrence="rolling",
        uncertain=(P_D3_START,),
    ),
    Rule(
        "D4",
        "Överväga vårdnadsöverflyttning",
        ("insats_verkstalld",),
        ("vardnadsoverflyttning_overvagd", "beslut_avslutat"),
        2,
        "years",
        **_sol("6 kap. 8 b §", "22 kap. 14 §"),
        blocks_closing=False,
        recurrence="anniversary",
        uncertain=(P_D4_ANNUAL,),
        note="Familjehemsplacering: 2 år, därefter årligen.",
    ),
    Rule(
        "D7",
        "Jourhem högst två månader efter utredningen",
        ("utredning_avslutad",),
        ("beslut_avslutat",),
        2,
        "months",
        **_sol("6 kap. 6 §", "22 kap. 4 §"),
        blocks_closing=False,
        note="Längre endast vid särskilda skäl; händelse för det beslutet saknas.",
    ),
    Rule(
        "D10",
        "Förteckning till IVO över barn i familjehem",
        ("insats_verkstalld",),
        ("ivo_forteckning_lamnad",),
        0,
        "annual_date",
        old_ref=LawRef(OLD_SOF, "7 kap. 1 §"),
        new_ref=LawRef(NEW_SOF, "3 kap. 4 §"),
        blocks_closing=False,
        recurrence="annual",
        uncertain=(P_D10,),
        missing_event_types=("ivo_forteckning_lamnad",),
    ),
    Rule(
        "E2",
        "Underställning av omedelbart omhändertagande",
        ("lvu_omhandertagande_beslutat",),
        ("lvu_understalld",),
        1,
        "weeks",
        **_lvu("7 §"),
        blocks_closing=True,
        note="Sen underställning: omhändertagandet upphör. Söndagsregeln får inte slås på.",
    ),
    Rule(
        "E3",
        "Ansökan om vård efter omhändertagande",
        ("lvu_omhandertagande_verkstallt",),
        ("lvu_ansokan_inlamnad",),
        4,
        "weeks",
        **_lvu("8 §"),
        blocks_closing=True,
        note="Förvaltningsrätten kan förlänga (9 §); händelse för det saknas.",
    ),
    Rule(
        "E5",
        "Vård enligt LVU ska påbörjas",
        ("lvu_dom",),
        ("lvu_omhandertagande_verkstallt", "insats_verkstalld"),
        4,
        "weeks",
        **_lvu("5 §, 10 §"),
        blocks_closing=True,
        uncertain=(P_E5_LAGA_KRAFT,),
    ),
    Rule(
        "E6",
        "Övervägande av vård enligt 2 § LVU",
        ("lvu_dom",),
        ("overvagande_genomfort", "lvu_vard_upphort"),
        6,
        "months",
        **_lvu("13 § första st."),
        blocks_closing=False,
        recurrence="rolling",
        uncertain=(P_E6_START,),
    ),
    Rule(
        "E7",
        "Omprövning av vård enligt 3 § LVU",
        ("lvu_dom",),
        ("overvagande_genomfort", "lvu_vard_upphort"),
        6,
        "months",
        **_lvu("13 § andra st."),
        blocks_closing=False,
        recurrence="rolling",
    ),
    Rule(
        "E10",
        "Prövning av umgängesbegränsning",
        ("lvu_umgangesbegransning_beslutad",),
        ("lvu_umgangesbegransning_provad",),
        3,
        "months",
        **_lvu("14 §"),
        blocks_closing=False,
        recurrence="rolling",
        missing_event_types=("lvu_umgangesbegransning_beslutad", "lvu_umgangesbegransning_provad"),
    ),
    Rule(
        "E15",
        "Uppföljning efter LVU-vård, högst sex månader",
        ("uppfoljning_inledd",),
        ("uppfoljning_avslutad", "utredning_inledd"),
        6,
        "months",
        **_lvu("21 b-c §§"),
        blocks_closing=True,
        uncertain=(P_F_GRUND,),
    ),
    Rule(
        "F1",
        "Uppföljning efter utredning utan insats, högst sex månader",
        ("uppfoljning_inledd",),
        ("uppfoljning_avslutad", "utredning_inledd"),
        6,
        "months",
        **_sol("11 kap. 4 a §, 4 c §", "23 kap. 1 §, 5 §"),
        blocks_closing=True,
        uncertain=(P_F_GRUND, P_F3_OLD),
        note="Räknas från dagen utredningen avslutades.",
    ),
    Rule(
        "F2",
        "Uppföljning efter avslutad placering, högst sex månader",
        ("uppfoljning_inledd",),
        ("uppfoljning_avslutad", "utredning_inledd"),
        6,
        "months",
        **_sol("11 kap. 4 b §, 4 c §", "23 kap. 2 §, 5 §"),
        blocks_closing=True,
        uncertain=(P_F_GRUND, P_F3_OLD),
        note="Räknas från dagen placeringen upphörde.",
    ),
    Rule(
        "H2",
        "Överflyttning: svar från mottagande kommun",
        ("overflyttning_begard",),
        ("overflyttning_besvarad",),
        1,
        "months",
        **_sol("2 a kap. 10-11 §§", "29 kap. 10-11 §§"),
        blocks_closing=False,
        uncertain=(P_H3,),
        missing_event_types=("overflyttning_begard", "overflyttning_besvarad"),
        note="Svar 'genast'; utan svar inom en månad får kommunen ansöka hos IVO.",
    ),
    Rule(
        "K1",
        "Klagomål besvarat",
        ("klagomal_mottaget",),
        ("klagomal_besvarat",),
        14,
        "days",
        old_ref=None,
        new_ref=LawRef(LOCAL, "kommunens riktlinje för klagomål"),
        blocks_closing=False,
        note="Lokal regel; antal dagar i kommun-policyn (klagomal.dagar).",
    ),
)

#: U-point policies that apply across the catalogue rather than to one rule.
GLOBAL_POLICIES: tuple[UncertainPolicy, ...] = (P_SONDAG, P_H3)

RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
#: Rules the engine never turns the söndagsregel on for (a late LVU 7 § ends the omhändertagande).
NO_SONDAGSREGEL = frozenset({"E2"})


def rule(rule_id: str) -> Rule:
    """The catalogue entry for ``rule_id`` (KeyError names the id if unknown)."""
    return RULES_BY_ID[rule_id]


# --- per-kommun policy ---------------------------------------------------------------------------


class PolicyError(ValueError):
    """The kommun policy file is invalid; the message starts with the offending key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class KommunPolicy:
    """Local targets and the U-point choices of one kommun (docs/domain.md §5.5, docs/law.md §5).

    The defaults are the safe choices documented in ``docs/rules.md``; a kommun file only states
    what differs.
    """

    kommun: str | None = None
    klagomal_dagar: int = 14
    verkstallighet_mal_dagar: Mapping[str, int] = field(default_factory=dict)
    sondagsregel: frozenset[str] = frozenset()
    a1_nasta_dag_efter: str | None = None
    d3_start: str = "beslut"
    uppfoljning_gammal_sol_manader: int = 2
    d10_per_arende: bool = False
    a3_begaran_antas: bool = False

    def sondagsregel_on(self, rule_id: str) -> bool:
        """Whether ``shifted_due`` is shown for ``rule_id`` (never for LVU 7 §)."""
        if rule_id in NO_SONDAGSREGEL:
            return False
        return rule_id in self.sondagsregel or RULES_BY_ID[rule_id].sondagsregel


DEFAULT_POLICY = KommunPolicy()
_POLICY_KEYS = (
    "a1_nasta_dag_efter",
    "d3_start",
    "uppfoljning_gammal_sol_manader",
    "d10_per_arende",
    "a3_begaran_antas",
)
_TOP_KEYS = {"kommun", "namn", "klagomal", "verkstallighet", "sondagsregel", "policy"}


def _int(value: object, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PolicyError(key, f"must be an integer {low}..{high}, got {value!r}")
    return value


def _table(raw: Mapping[str, Any], key: str, allowed: set[str]) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise PolicyError(key, "must be a table")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise PolicyError(f"{key}.{unknown[0]}", "unknown key")
    return value


def policy_from_mapping(raw: Mapping[str, Any]) -> KommunPolicy:
    """Validate a decoded TOML document into a ``KommunPolicy`` (errors name the key)."""
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise PolicyError(unknown[0], "unknown key")
    kommun = raw.get("kommun")
    if kommun is not None and (
        not isinstance(kommun, str) or not kommun.isdigit() or len(kommun) != 4
    ):
        raise PolicyError("kommun", 'must be a 4-digit kommunkod as a string, e.g. "1280"')
    klag = _table(raw, "klagomal", {"dagar"})
    verk = _table(raw, "verkstallighet", set(INSATSTYPER))
    sond = _table(raw, "sondagsregel", {"regler"})
    pol = _table(raw, "policy", set(_POLICY_KEYS))
    regler = sond.get("regler", [])
    if not isinstance(regler, list) or not all(isinstance(r, str) for r in regler):
        raise PolicyError("sondagsregel.regler", "must be a list of rule ids")
    for rid in regler:
        if rid not in RULES_BY_ID:
            raise PolicyError("sondagsregel.regler", f"unknown rule id {rid!r}")
        if rid in NO_SONDAGSREGEL:
            raise PolicyError("sondagsregel.regler", f"{rid} (LVU 7 §) may not use söndagsregeln")
    late = pol.get("a1_nasta_dag_efter")
    if late is not None and (not isinstance(late, str) or not _is_hhmm(late)):
        raise PolicyError("policy.a1_nasta_dag_efter", 'must be a time "HH:MM"')
    d3 = pol.get("d3_start", "beslut")
    if d3 not in ("beslut", "verkstallighet"):
        raise PolicyError("policy.d3_start", 'must be "beslut" or "verkstallighet"')
    d10 = _bool(pol, "d10_per_arende")
    a3 = _bool(pol, "a3_begaran_antas")
    return KommunPolicy(
        kommun=kommun,
        d10_per_arende=d10,
        a3_begaran_antas=a3,
        klagomal_dagar=_int(klag.get("dagar", 14), "klagomal.dagar", 1, 365),
        verkstallighet_mal_dagar={
            k: _int(v, f"verkstallighet.{k}", 0, 3650) for k, v in verk.items()
        },
        sondagsregel=frozenset(regler),
        a1_nasta_dag_efter=late,
        d3_start=str(d3),
        uppfoljning_gammal_sol_manader=_int(
            pol.get("uppfoljning_gammal_sol_manader", 2),
            "policy.uppfoljning_gammal_sol_manader",
            1,
            6,
        ),
    )


def _bool(pol: Mapping[str, Any], key: str) -> bool:
    value = pol.get(key, False)
    if not isinstance(value, bool):
        raise PolicyError(f"policy.{key}", "must be true or false")
    return value


def _is_hhmm(text: str) -> bool:
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        return False
    return int(parts[0]) < 24 and int(parts[1]) < 60


def load_policy(path: str | Path) -> KommunPolicy:
    """Read and validate a kommun TOML file; syntax errors become ``PolicyError("toml", …)``."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError("toml", str(exc)) from exc
    return policy_from_mapping(raw)
