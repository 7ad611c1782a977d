"""The rules catalogue (docs/law.md §3) as data, plus the per-kommun policy.

Keeping every deadline's length, legal reference and extension policy in one table means the
frist engine, the ``rules list`` command and ``docs/rules.md`` cannot disagree about the law.
Where the statute is silent or unclear (docs/law.md §5), the choice is a named ``UncertainPolicy``
with a safe default instead of a silent guess; a kommun may override some of them in its
configuration file (``infra.config.kommun``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, TypedDict

from domain.calendar import add_days, add_months, add_weeks, add_years

Unit = Literal["days", "weeks", "months", "years", "same_day", "annual_date"]
Recurrence = Literal["none", "rolling", "anniversary", "quarterly", "annual"]

OLD_SOL = "SoL 2001:453"
NEW_SOL = "SoL 2025:400"
LVU = "LVU 1990:52"
#: Lag (2026:1600) om omhändertagande för vård av barn och unga: replaces LVU on 2027-01-01.
LVU_NEW = "lag 2026:1600"
LVU_NEW_FROM = date(2027, 1, 1)
#: Lag (2026:1637) om insatser inom socialtjänsten när samtycke saknas ("/Träder i kraft
#: I:2027-01-02/" in its SFS text; one day after 2026:1600).
SAMTYCKE = "lag 2026:1637"
SAMTYCKE_FROM = date(2027, 1, 2)
OLD_SOF = "SoF 2001:937"
NEW_SOF = "SoF 2025:468"
LOCAL = "Lokal regel"
#: SoL 2025:400 (and SoF 2025:468) replaced the old acts on this day; the trigger decides.
NEW_SOL_FROM = date(2025, 7, 1)
#: SFS 2025:1501: the one-week information duty to the anmälare (A3) starts here.
A3_FROM = date(2026, 1, 15)
#: SFS 2003:407 / 2003:406 (prop. 2002/03:53): vårdnadsöverflyttning considered after three
#: years in the same familjehem (old SoL 6 kap. 8 § andra st., LVU 13 § tredje st.), once.
THREE_YEAR_RULE_FROM = date(2003, 7, 1)
#: SFS 2020:1260 / 2020:1259 (prop. 2020/21:35): the three-year consideration repeated yearly,
#: and the vårdplan revised within two years of placement (old SoL 11 kap. 3 § andra st.).
ANNUAL_RULE_FROM = date(2021, 3, 1)
#: SFS 2022:665 / 2022:664 (prop. 2021/22:178): two years instead of three (old SoL 6 kap.
#: 8 b §, LVU 13 c §).
TWO_YEAR_RULE_FROM = date(2022, 7, 1)

FRIST_OVERSKRIDEN = "frist_overskriden"
EVB_UPPSTOD = "evb_rapporteringsskyldighet_uppstod"


@dataclass(frozen=True)
class LawRef:
    """An act and a paragraph in it, e.g. ``SoL 2025:400`` / ``20 kap. 3 §``."""

    law: str
    paragraph: str


@dataclass(frozen=True)
class LawVersion:
    """One act and paragraph that governs a rule for frister triggered on or after ``since``.

    ``length`` and ``recurrence`` are set when this version's duty differs from the rule's own
    (the three-year vårdnadsöverflyttning rule of D4 and E9 before 2022-07-01, considered once
    until 2021-03-01); ``source`` names the amending act, for ``rules list``.
    """

    since: date
    ref: LawRef
    length: int | None = None
    recurrence: Recurrence | None = None
    source: str = ""


@dataclass(frozen=True)
class LawSwitch:
    """A day on which one act replaced another for some rules (SoL 2025-07-01, LVU 2027-01-01).

    Data for ``rules list``/``rules preview``: which rules change paragraph on ``on`` and which
    named transitional policies (``POL-…``) decide the frister that straddle it.
    """

    id: str
    on: date
    old_law: str
    new_law: str
    policies: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExtensionPolicy:
    """Who may extend a frist and how; the engine (``domain.frister.context._extend``) reads
    ``event_type``, ``before_expiry`` and ``repeatable``; ``stated_end`` is the event contract's
    required ``ny_slutdag``."""

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
    #: Explicit versions, oldest first, when a rule has more than an old and a new reference
    #: (e.g. LVU 22 § kept in force by a transitional rule). Empty: old_ref/new_ref/new_from.
    history: tuple[LawVersion, ...] = ()

    def law_for(self, trigger: date, law_on: date | None = None) -> LawRef | None:
        """The act and paragraph that govern a frist started on ``trigger``.

        ``None`` means the rule did not exist then (A3 before 2026-01-15: no time limit).
        ``law_on`` applies the catalogue as it stood on that day: a switch after it is not in
        force yet (``rules preview`` compares the day before a switch with the switch day).
        """
        if self.exists_from is not None and (
            trigger < self.exists_from or (law_on is not None and law_on < self.exists_from)
        ):
            return None
        if self.history:
            current = [
                v.ref
                for v in self.history
                if v.since <= trigger and (law_on is None or v.since <= law_on)
            ]
            return current[-1] if current else None
        switched = trigger >= self.new_from and (law_on is None or law_on >= self.new_from)
        if switched or self.old_ref is None:
            return self.new_ref
        return self.old_ref

    def versions(self) -> tuple[LawVersion, ...]:
        """Every (from-date, reference) the rule has had, oldest first; ``date.min`` = always."""
        if self.history:
            return self.history
        first = self.exists_from or date.min
        if self.old_ref is None:
            return (LawVersion(first, self.new_ref),) if self.new_ref else ()
        if self.new_ref is None:
            return (LawVersion(first, self.old_ref),)
        new = LawVersion(max(self.new_from, first), self.new_ref)
        # an old reference superseded before the rule existed never applied (A3)
        return (new,) if new.since <= first else (LawVersion(first, self.old_ref), new)

    def version_on(self, day: date, law_on: date | None = None) -> LawVersion | None:
        """The version in force on ``day`` (``None``: the rule did not exist then); ``law_on``
        as in ``law_for``: a version that entered into force after it is not known yet."""
        known = [v for v in self.versions() if law_on is None or v.since <= law_on]
        current = [v for v in known if v.since <= day]
        if self.exists_from is not None and (
            day < self.exists_from or (law_on is not None and law_on < self.exists_from)
        ):
            return None
        return current[-1] if current else None

    def owes_anniversary(self, version: LawVersion, years: int) -> bool:
        """Whether ``version`` requires the consideration due ``years`` after the start (D4,
        E9): its first one after ``length`` years, then yearly unless it recurs ``none``."""
        first = version.length or self.length
        recurrence = version.recurrence or self.recurrence
        return years == first or (recurrence == "anniversary" and years > first)

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

    def length_text(self, length: int | None = None) -> str:
        """Human wording of one period (``length`` overrides), for explanations: what is added
        to the day a frist counts from."""
        n = self.length if length is None else length
        if self.unit == "same_day":
            return "samma dag"
        if self.recurrence == "quarterly":
            return "IVO:s rapportfönster för kvartalet"
        if self.unit == "annual_date":
            return f"nästa {self.annual_day}/{self.annual_month}"
        return unit_text(n, self.unit)

    def version_text(self, version: LawVersion) -> str:
        """One version in words, for ``rules list``: from when, which paragraph, and the duty
        when it differs between versions ("från 2003-07-01 SoL 2001:453 6 kap. 8 § andra st.
        (SFS 2003:407): 3 år, en gång")."""
        since = "alltid" if version.since == date.min else f"från {version.since}"
        text = f"{since} {version.ref.law} {version.ref.paragraph}"
        if version.source:
            text += f" ({version.source})"
        if not any(v.length is not None or v.recurrence is not None for v in self.history):
            return text  # every version requires the same
        n = version.length or self.length
        recurrence = version.recurrence or self.recurrence
        tail = ", därefter årligen" if recurrence == "anniversary" else ", en gång"
        return f"{text}: {unit_text(n, self.unit)}{tail}"

    def cadence_text(self) -> str:
        """How often the rule's frist falls due, for ``rules list``: the period, and for
        re-arming rules how they recur ("kvartalsvis" for C4, "därefter årligen" for D4)."""
        if self.recurrence == "quarterly":
            return "kvartalsvis (IVO:s rapportfönster 30/4, 31/8, 31/10, 31/1)"
        if self.recurrence == "annual":
            return f"årligen senast {self.annual_day}/{self.annual_month}"
        base = self.length_text()
        if self.recurrence == "anniversary":
            return f"{base}, därefter årligen"
        if self.recurrence == "rolling":
            return f"{base}, därefter {base} från senaste"
        return base


_UNIT_WORDS: dict[str, tuple[str, str]] = {
    "days": ("dag", "dagar"),
    "weeks": ("vecka", "veckor"),
    "months": ("månad", "månader"),
    "years": ("år", "år"),
}


def unit_text(n: int, unit: str) -> str:
    """``n`` units in Swedish, singular or plural ("1 vecka", "2 veckor", "3 år")."""
    one, many = _UNIT_WORDS[unit]
    return f"{n} {one if n == 1 else many}"


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


class _SwitchRefs(TypedDict):
    old_ref: LawRef | None
    new_ref: LawRef | None
    new_from: date


def _lvu2027(old: str | None, new: str) -> _SwitchRefs:
    """LVU paragraph for triggers before 2027-01-01, lag 2026:1600 from that day."""
    return {
        "old_ref": LawRef(LVU, old) if old else None,
        "new_ref": LawRef(LVU_NEW, new),
        "new_from": LVU_NEW_FROM,
    }


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
    "(docs/law.md §5, B3-logik); arende_overflyttat nollställer ingenting. Fristerna följer "
    "ärendet till den mottagande kommunen och lämnar den sändandes frister-rapport, utom "
    "EVB-fristerna C2-C4 (POL-OVERFLYTTNING-EVB).",
)
P_D10 = UncertainPolicy(
    "d10_forteckning",
    "per_placering",
    "Förteckningen gäller barn i familjehem vid årets ingång; en frist per placering och år. "
    "Händelsetypen för inlämnad förteckning saknas ännu (ivo_forteckning_lamnad).",
)

P_IKRAFT = UncertainPolicy(
    "POL-IKRAFT-PAGAENDE",
    "pagaende_arenden",
    "En regel som träder i kraft eller ändras under ett pågående ärende gäller från "
    "ikraftträdandet även placeringar och beslut från före den dagen; ändringslagarna (SFS "
    "2003:407, 2020:1260, 2022:665, 2025:1501 och LVU-motsvarigheterna) har inga "
    "övergångsbestämmelser. En frist finns om den lydelse som gäller någon dag mellan fristens "
    "start och slutdagen kräver den; den räknas som paragrafen säger (från verkställigheten, "
    "från beslutet) och citerar lydelsen som gällde den första sådana dagen. En slutdag före "
    "ikraftträdandet ger ingen frist: ingen skyldighet i efterhand.",
)
P_A3_GENAST = UncertainPolicy(
    "POL-A3-GENAST",
    "samma_dag",
    "Pågår redan en utredning när anmälan kommer in ska informationen lämnas genast (19 kap. "
    "6 § andra st., SFS 2025:1501). Begäran registreras med anmälan "
    "(anmalare_begart_information), så fristen räknas från anmälans dag; 'genast' läses som "
    "samma dag (som A1). En begäran som kommer in efter beslutet har ingen händelse och räknas "
    "inte.",
)

# --- LVU (1990:52) -> lag (2026:1600) on 2027-01-01, lag (2026:1637) on 2027-01-02 --------------
# Named transitional policies (docs/law-2027.md). The övergångsbestämmelser (ÖB) of 2026:1600 say
# what happens to decisions and ansökningar; they do not say which starting point governs a
# period already running, so that is a named choice here.
P_LVU2027_TRIGGER = UncertainPolicy(
    "POL-LVU2027-TRIGGER",
    "utlosande_dag",
    "Lag och paragraf väljs efter den dag fristen utlöses: före 2027-01-01 LVU, från den dagen "
    "lag 2026:1600. En frist som löper över 2027-01-01 behåller sin slutdag och sin LVU-paragraf; "
    "bytet i sig startar ingen ny frist (ÖB 3: ett LVU-beslut anses som beslut enligt "
    "motsvarande bestämmelse i nya lagen).",
)
P_LVU2027_E3 = UncertainPolicy(
    "POL-LVU2027-E3-START",
    "verkstallighet",
    "LVU 8 § räknar fyra veckor från dagen omhändertagandet verkställdes, 2026:1600 5 kap. 5 § "
    "från dagen vården påbörjades (6 kap. 4 §). lvu_omhandertagande_verkstallt är båda dagarna "
    "(barnet kom till placeringen). En period som löper 2027-01-01 räknas från verkställigheten "
    "med LVU 8 §; från 2027-01-01 läses händelsen som 'vården påbörjades'.",
)
P_LVU2027_CYKEL = UncertainPolicy(
    "POL-LVU2027-CYKEL",
    "cykelns_start",
    "Återkommande överväganden (E6, E7, E10, E11, E12): varje cykel citerar lagen som gäller "
    "den dag cykeln startar (vårdens början eller senaste övervägandet). En cykel som löper "
    "2027-01-01 behåller slutdagen; nästa cykel citerar 2026:1600. Startpunkten 'vården "
    "påbörjades' (8 kap. 2-3 §§) är samma dag som E6/E7 redan räknar från.",
)
P_LVU2027_E6E7 = UncertainPolicy(
    "POL-LVU2027-E6E7-START",
    "vardens_borjan_6_4",
    "2026:1600 8 kap. 2-3 §§ räknar från dagen vården påbörjades enligt 6 kap. 4 §, som omfattar "
    "placeringen efter ett omedelbart omhändertagande. För en dom från 2027-01-01 på ett barn som "
    "redan är omhändertaget räknas första övervägandet/prövningen därför från den första "
    "verkställigheten (inte domsdagen) och citerar 2026:1600. Domar före 2027: oförändrat "
    "(e6_start: domsdagen; LVU 13 § andra st.: verkställigheten av vårdbeslutet).",
)
P_LVU2027_OB4 = UncertainPolicy(
    "POL-LVU2027-OB4",
    "paragraf_vid_gammal_ansokan",
    "ÖB 4: LVU 2-3 §§ gäller en ansökan som kom in till förvaltningsrätten före 2027-01-01. "
    "lvu_dom får då ange paragraf 2/3 även efter 2027-01-01; E6 (2 § = 3 kap. 2 § hem) och E7 "
    "(3 § = eget beteende) väljs efter paragrafen. En ansökan från 2027-01-01 anger grund.",
)
P_LVU2027_OB5 = UncertainPolicy(
    "POL-LVU2027-OB5",
    "lvu22_galler",
    "ÖB 5: förebyggande insatser enligt LVU 22-23 §§ som beslutats före 2027-01-01 behåller "
    "prövning inom sex månader (första gången från beslutet, sedan från senaste prövningen) och "
    "citerar LVU 22 § även efter bytet. Nya sådana beslut kan inte fattas från 2027-01-01.",
)
P_LVU2027_OB6 = UncertainPolicy(
    "POL-LVU2027-OB6",
    "flyttningsforbud_lvu24",
    "ÖB 6: ett barn med flyttningsförbud enligt LVU 24 § får ansökas omhändertaget på grund av "
    "anknytning (3 kap. 5 §) om 5 § 2-5 är uppfyllda; kravet i 5 § 1 (tidigare vård på grund "
    "av hemmet) gäller inte. Utan sådan vård eller sådant förbud nekas grund 'anknytning'.",
)
P_LVU2027_SAMMANTRADE = UncertainPolicy(
    "POL-LVU2027-SAMMANTRADE",
    "30 dagar",
    "Ordförandebeslut ska anmälas vid nämndens nästa sammanträde (LVU 6, 27, 31 d §§; 2026:1600 "
    "5 kap. 3 §, 12 kap. 7 §, 13 kap. 7 §). Med kommunens sammanträdeskalender "
    "(namnd.sammantraden) är fristen nästa sammanträde (POL-DELEG-SAMMANTRADE); utan kalender, "
    "eller efter dess sista datum, ett antal dagar från beslutet (policy.nasta_sammantrade_dagar, "
    "standard 30).",
)
P_LVU2027_BITRADE = UncertainPolicy(
    "POL-LVU2027-BITRADE",
    "1 dag",
    "2026:1600 17 kap. 6 §: behov av offentligt biträde anmäls till förvaltningsrätten 'så "
    "snart' det uppkommer. Standard: senast dagen efter (policy.offentligt_bitrade_dagar). LVU "
    "hade ingen motsvarande anmälningsplikt: regeln finns från 2027-01-01.",
)
P_LVU2027_E5 = UncertainPolicy(
    "POL-LVU2027-E5-LAGA-KRAFT",
    "laga_kraft_om_kant",
    "Med en lvu_laga_kraft-händelse räknas fyra veckor från laga kraft (LVU 5 §, 2026:1600 "
    "6 kap. 4 § andra st.); utan den från domsdagen (policy e5_start, tidigare och alltså säkert).",
)
P_LVU2027_E13 = UncertainPolicy(
    "POL-LVU2027-E13",
    "fran_2027",
    "Läkarundersökning före ansökan krävdes redan enligt LVU 32 § andra st. och krävs enligt "
    "2026:1600 11 kap. 4 §, men kontrolleras (E13) bara för ansökningar från 2027-01-01: "
    "händelsen lvu_lakarundersokning_genomford kom med 2027 års händelser, så äldre historik kan "
    "inte visa undersökningen och ska ge samma frister. "
    "lvu_ansokan_inlamnad.lakarundersokning_obehovlig=true (särskilda skäl) ger ingen frist.",
)
P_LVU2027_E14 = UncertainPolicy(
    "POL-LVU2027-E14",
    "fodelsedatum",
    "Vården upphör senast vid 18 år (hem, anknytning; LVU 2 §) eller 21 år (eget beteende; LVU "
    "3 §), 2026:1600 10 kap. 2 §. Räknas från barnets födelsedatum när domen anger grund eller "
    "paragraf; utan födelsedatum ingen frist. Dom på båda grunderna (paragraf 2+3): 21 år, "
    "eftersom vården får fortsätta på grund av eget beteende, med en anteckning om dagen då "
    "hemgrunden upphör (18 år).",
)
P_SAMTYCKE_IKRAFT = UncertainPolicy(
    "POL-SAMTYCKE2027-IKRAFT",
    "2027-01-02",
    "Lag 2026:1637 träder i kraft 2027-01-02 enligt SFS-texten (/Träder i kraft I:2027-01-02/), "
    "en dag efter 2026:1600. Beslut utan samtycke daterade före dess nekas (regel N0).",
)

# --- appeals (förvaltningslagen 2017:900) and transfers between kommuner (SoL 29 kap.) ----------
FL = "FL 2017:900"
#: Förvaltningslagen (2017:900) in force; appeals of earlier decisions followed FL (1986:223),
#: which barnflow does not model (no O1/O2 before this day).
FL_FROM = date(2018, 7, 1)

P_O_DELGIVNING = UncertainPolicy(
    "POL-OVERKLAGANDE-DELGIVNING",
    "senaste_delgivning",
    "FL 44 §: tre veckor från den dag den som överklagar fick del av beslutet. Tiden räknas från "
    "den senast registrerade delgivningen (beslut_delgivet) till parten som överklagar, utan "
    "part från den senaste till någon: den läsning som aldrig avvisar ett överklagande som kan "
    "ha kommit in i tid. Utan registrerad delgivning har tiden inte börjat löpa. Sista dagen "
    "flyttas till nästa vardag (1930:173 2 §: partens åtgärd, RÅ 1999 not 181).",
)
P_O_OVERLAMNANDE = UncertainPolicy(
    "POL-OVERKLAGANDE-OVERLAMNANDE",
    "7 dagar",
    "FL 46 § första st.: ett överklagande som inte avvisas ska 'skyndsamt' överlämnas till "
    "överinstansen. Lagen anger inga dagar: barnflow räknar med ett antal dagar från att det kom "
    "in (policy.overklagande_overlamnande_dagar, standard 7), inom vilka rättidsprövningen (45 §) "
    "och en eventuell omprövning (39 §) också ska göras. En avvisning eller ett återkallande "
    "avslutar fristen.",
)
P_O_VERKSTALLIGHET = UncertainPolicy(
    "POL-OVERKLAGANDE-VERKSTALLIGHET",
    "galler_omedelbart",
    "SoL 35 kap. 5 § (gamla 16 kap. 3 § andra st.): nämndens beslut gäller omedelbart, ett "
    "överklagande hindrar inte verkställigheten och C2 löper vidare. Inhibition (FL 48 §) "
    "hindrar verkställighet tills domen. Ändrar domstolen beslutet eller återförvisar det "
    "verkställs det inte som det fattades: kommunen avslutar det (beslut_avslutat) och "
    "registrerar det nya beslutet.",
)
P_OVERFLYTTNING_EVB = UncertainPolicy(
    "POL-OVERFLYTTNING-EVB",
    "beslutande_kommun",
    "Rapporteringen till IVO av ett ej verkställt beslut stannar hos kommunen som fattade det "
    "(SoL 34:1, 'socialnämnden' vars beslut det är). Ett gynnande beslut med insats verkställs "
    "eller avslutas innan ärendet flyttas (vakt P-EVB-KOMMUN); den mottagande kommunen räknar "
    "inga C2-C4 och visar inga rader i evb, kf-statistik, verkställighetstider eller "
    "delegationsbeslut för beslut en annan kommun fattat, och registrerar ingen verkställighet, "
    "avbrott eller EVB-rapport för dem. IVO får alltså aldrig samma beslut från två kommuner.",
)

#: The law switches barnflow models, for ``rules list`` and ``rules preview --on``.
LAW_SWITCHES: tuple[LawSwitch, ...] = (
    LawSwitch("SOL2021", ANNUAL_RULE_FROM, OLD_SOL, f"{OLD_SOL} (SFS 2020:1260)", (P_IKRAFT.name,)),
    LawSwitch(
        "SOL2022", TWO_YEAR_RULE_FROM, OLD_SOL, f"{OLD_SOL} (SFS 2022:665)", (P_IKRAFT.name,)
    ),
    LawSwitch("SOL2025", NEW_SOL_FROM, OLD_SOL, NEW_SOL),
    LawSwitch("SOL2026", A3_FROM, NEW_SOL, f"{NEW_SOL} (SFS 2025:1501)", (P_IKRAFT.name,)),
    LawSwitch(
        "LVU2027",
        LVU_NEW_FROM,
        LVU,
        LVU_NEW,
        (
            P_LVU2027_TRIGGER.name,
            P_LVU2027_E3.name,
            P_LVU2027_CYKEL.name,
            P_LVU2027_E6E7.name,
            P_LVU2027_OB4.name,
            P_LVU2027_OB5.name,
            P_LVU2027_OB6.name,
            P_LVU2027_SAMMANTRADE.name,
            P_LVU2027_BITRADE.name,
            P_LVU2027_E5.name,
            P_LVU2027_E13.name,
            P_LVU2027_E14.name,
        ),
    ),
    LawSwitch("SAMTYCKE2027", SAMTYCKE_FROM, "-", SAMTYCKE, (P_SAMTYCKE_IKRAFT.name,)),
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
            P_A3_GENAST,
            P_IKRAFT,
        ),
        note="En vecka från beslutet att inleda/inte inleda utredning; pågår redan en "
        "utredning: genast (samma dag) från anmälan.",
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
        **_sol("16 kap. 6 f § tredje st.", "34 kap. 1 § tredje st."),
        # the report owed for the quarter a beslut ended in does not keep the case open; the
        # P-CLOSE guard never enforced it (domain.case.CLOSE_BLOCKERS)
        blocks_closing=False,
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
        ("vardplan_reviderad", "beslut_avslutat"),
        2,
        "years",
        old_ref=LawRef(OLD_SOL, "11 kap. 3 § andra st."),
        new_ref=LawRef(NEW_SOL, "9 kap. 13 § andra st."),
        history=(
            LawVersion(
                ANNUAL_RULE_FROM, LawRef(OLD_SOL, "11 kap. 3 § andra st."), source="SFS 2020:1260"
            ),
            LawVersion(
                NEW_SOL_FROM, LawRef(NEW_SOL, "9 kap. 13 § andra st."), source="SFS 2025:400"
            ),
        ),
        blocks_closing=False,
        uncertain=(P_IKRAFT,),
        note="Placeringsbeslut (familjehem, jourhem, HVB, stödboende, skyddat boende); från "
        "2021-03-01 (SFS 2020:1260).",
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
        old_ref=LawRef(OLD_SOL, "6 kap. 8 b §"),
        new_ref=LawRef(NEW_SOL, "22 kap. 14 §"),
        history=(
            LawVersion(
                THREE_YEAR_RULE_FROM,
                LawRef(OLD_SOL, "6 kap. 8 § andra st."),
                length=3,
                recurrence="none",
                source="SFS 2003:407",
            ),
            LawVersion(
                ANNUAL_RULE_FROM,
                LawRef(OLD_SOL, "6 kap. 8 § andra st."),
                length=3,
                source="SFS 2020:1260",
            ),
            LawVersion(TWO_YEAR_RULE_FROM, LawRef(OLD_SOL, "6 kap. 8 b §"), source="SFS 2022:665"),
            LawVersion(NEW_SOL_FROM, LawRef(NEW_SOL, "22 kap. 14 §"), source="SFS 2025:400"),
        ),
        blocks_closing=False,
        recurrence="anniversary",
        uncertain=(P_D4_ANNUAL, P_IKRAFT),
        note="Familjehemsplacering: 2 år, därefter årligen (från 2022-07-01; tre år, en gång "
        "från 2003-07-01, årligen från 2021-03-01).",
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
        "E1",
        "Ordförandebeslut om omedelbart omhändertagande anmäls vid nästa sammanträde",
        ("lvu_omhandertagande_beslutat",),
        ("lvu_ordforandebeslut_anmalt",),
        30,
        "days",
        **_lvu2027("6 § andra st.", "5 kap. 3 §"),
        blocks_closing=False,
        uncertain=(P_LVU2027_SAMMANTRADE,),
        note="Bara när lvu_omhandertagande_beslutat.ordforandebeslut=true.",
    ),
    Rule(
        "E2",
        "Underställning av omedelbart omhändertagande",
        ("lvu_omhandertagande_beslutat",),
        ("lvu_understalld",),
        1,
        "weeks",
        **_lvu2027("7 §", "5 kap. 4 §, 6 § 1"),
        blocks_closing=True,
        note="Sen underställning: omhändertagandet upphör. Söndagsregeln får inte slås på.",
    ),
    Rule(
        "E3",
        "Ansökan om vård efter omhändertagande",
        ("lvu_omhandertagande_verkstallt",),
        ("lvu_ansokan_inlamnad", "lvu_fortsatt_tillfallig_vard_ansokt"),
        4,
        "weeks",
        **_lvu2027("8 §", "5 kap. 5 §, 6 § 2"),
        blocks_closing=True,
        uncertain=(P_LVU2027_E3,),
        note="Förvaltningsrätten kan förlänga (LVU 8 § andra st., 2026:1600 5 kap. 5 § andra "
        "st.); händelse för det saknas.",
    ),
    Rule(
        "E5",
        "Vård enligt LVU ska påbörjas",
        ("lvu_dom",),
        ("lvu_omhandertagande_verkstallt", "insats_verkstalld"),
        4,
        "weeks",
        **_lvu2027("5 §, 10 §", "6 kap. 4 § andra st."),
        blocks_closing=True,
        uncertain=(P_E5_LAGA_KRAFT, P_LVU2027_E5),
    ),
    Rule(
        "E6",
        "Övervägande av vård enligt 2 § LVU",
        ("lvu_dom",),
        ("overvagande_genomfort", "lvu_vard_upphort"),
        6,
        "months",
        **_lvu2027("13 § första st.", "8 kap. 2 §"),
        blocks_closing=False,
        recurrence="rolling",
        uncertain=(P_E6_START, P_LVU2027_CYKEL, P_LVU2027_E6E7, P_LVU2027_OB4),
    ),
    Rule(
        "E7",
        "Omprövning av vård enligt 3 § LVU",
        ("lvu_dom",),
        ("overvagande_genomfort", "lvu_vard_upphort"),
        6,
        "months",
        **_lvu2027("13 § andra st.", "8 kap. 3 §"),
        blocks_closing=False,
        recurrence="rolling",
        uncertain=(P_LVU2027_CYKEL, P_LVU2027_E6E7, P_LVU2027_OB4),
    ),
    Rule(
        "E10",
        "Prövning av umgängesbegränsning",
        ("lvu_umgangesbegransning_beslutad",),
        ("lvu_umgangesbegransning_provad",),
        3,
        "months",
        **_lvu2027("14 §", "7 kap. 2 § andra st."),
        blocks_closing=False,
        recurrence="rolling",
        uncertain=(P_LVU2027_CYKEL,),
    ),
    Rule(
        "E15",
        "Uppföljning efter LVU-vård, högst sex månader",
        ("uppfoljning_inledd",),
        ("uppfoljning_avslutad", "utredning_inledd"),
        6,
        "months",
        **_lvu2027("21 b-c §§", "10 kap. 6-7 §§"),
        blocks_closing=True,
        uncertain=(P_F_GRUND,),
    ),
    Rule(
        "E3T",
        "Fortsatt omhändertagande för tillfällig vård, högst två månader åt gången",
        ("lvu_fortsatt_tillfallig_vard_beslutad",),
        ("lvu_fortsatt_tillfallig_vard_ansokt", "lvu_vard_upphort"),
        2,
        "months",
        **_lvu2027("9 a § fjärde st., 9 b §", "5 kap. 10-11 §§"),
        blocks_closing=True,
        note="Utan ny ansökan före slutdagen upphör omhändertagandet (5 kap. 11 §); högst ett "
        "år i följd om inte fortsatt tillfällig vård är nödvändig.",
    ),
    Rule(
        "E9",
        "Överväga vårdnadsöverflyttning (LVU-placering i familjehem)",
        ("lvu_placering_paborjad",),
        ("lvu_vardnadsoverflyttning_overvagd", "lvu_placering_paborjad", "lvu_vard_upphort"),
        2,
        "years",
        old_ref=LawRef(LVU, "13 c §"),
        new_ref=LawRef(LVU_NEW, "9 kap. 1 §"),
        new_from=LVU_NEW_FROM,
        history=(
            LawVersion(
                THREE_YEAR_RULE_FROM,
                LawRef(LVU, "13 § tredje st."),
                length=3,
                recurrence="none",
                source="SFS 2003:406",
            ),
            LawVersion(
                ANNUAL_RULE_FROM, LawRef(LVU, "13 § tredje st."), length=3, source="SFS 2020:1259"
            ),
            LawVersion(TWO_YEAR_RULE_FROM, LawRef(LVU, "13 c §"), source="SFS 2022:664"),
            LawVersion(LVU_NEW_FROM, LawRef(LVU_NEW, "9 kap. 1 §"), source="SFS 2026:1600"),
        ),
        blocks_closing=False,
        recurrence="anniversary",
        uncertain=(P_D4_ANNUAL, P_LVU2027_CYKEL, P_IKRAFT),
        note="placering=familjehem: två år från placeringens början, därefter årligen (på "
        "årsdagarna); slutar vid ny placering eller när vården upphör.",
    ),
    Rule(
        "E11",
        "Övervägande av flyttningsförbud",
        ("lvu_forbud_beslutat",),
        ("lvu_forbud_overvagt", "lvu_forbud_upphort"),
        3,
        "months",
        **_lvu2027("26 §", "12 kap. 4 §"),
        blocks_closing=False,
        recurrence="rolling",
        uncertain=(P_LVU2027_CYKEL,),
        note="forbud=flyttningsforbud, inte tillfälligt; från dagen beslutet fattades.",
    ),
    Rule(
        "E11U",
        "Tillfälligt flyttningsförbud lämnas till förvaltningsrätten",
        ("lvu_forbud_beslutat",),
        ("lvu_forbud_understallt", "lvu_forbud_upphort"),
        1,
        "weeks",
        **_lvu2027("28 §, 7 §", "12 kap. 8 §, 10 § 1"),
        blocks_closing=True,
        note="Sent: förbudet upphör (12 kap. 10 § 1).",
    ),
    Rule(
        "E11A",
        "Ansökan om flyttningsförbud efter fastställt tillfälligt förbud",
        ("lvu_forbud_faststallt",),
        ("lvu_forbud_ansokt", "lvu_forbud_upphort"),
        2,
        "weeks",
        **_lvu2027("29 §, 30 §", "12 kap. 9 §, 10 § 2"),
        blocks_closing=True,
        note="Från 2027 får förvaltningsrätten förlänga tiden (12 kap. 9 § andra st.).",
    ),
    Rule(
        "E11N",
        "Ordförandebeslut om tillfälligt flyttningsförbud anmäls vid nästa sammanträde",
        ("lvu_forbud_beslutat",),
        ("lvu_ordforandebeslut_anmalt",),
        30,
        "days",
        **_lvu2027("27 § andra st.", "12 kap. 7 §"),
        blocks_closing=False,
        uncertain=(P_LVU2027_SAMMANTRADE,),
    ),
    Rule(
        "E12",
        "Prövning av utreseförbud",
        ("lvu_forbud_beslutat",),
        ("lvu_forbud_overvagt", "lvu_forbud_upphort"),
        6,
        "months",
        **_lvu2027("31 c §", "13 kap. 4 §"),
        blocks_closing=False,
        recurrence="rolling",
        uncertain=(P_LVU2027_CYKEL,),
        note="forbud=utreseforbud, inte tillfälligt; från dagen beslutet fattades.",
    ),
    Rule(
        "E12U",
        "Tillfälligt utreseförbud lämnas till förvaltningsrätten",
        ("lvu_forbud_beslutat",),
        ("lvu_forbud_understallt", "lvu_forbud_upphort"),
        1,
        "weeks",
        **_lvu2027("31 e §", "13 kap. 8 §, 10 § 1"),
        blocks_closing=True,
    ),
    Rule(
        "E12A",
        "Ansökan om utreseförbud efter fastställt tillfälligt förbud",
        ("lvu_forbud_faststallt",),
        ("lvu_forbud_ansokt", "lvu_forbud_upphort"),
        4,
        "weeks",
        **_lvu2027("31 f §, 31 g §", "13 kap. 9 §, 10 § 2"),
        blocks_closing=True,
    ),
    Rule(
        "E12N",
        "Ordförandebeslut om tillfälligt utreseförbud anmäls vid nästa sammanträde",
        ("lvu_forbud_beslutat",),
        ("lvu_ordforandebeslut_anmalt",),
        30,
        "days",
        **_lvu2027("31 d § andra st.", "13 kap. 7 §"),
        blocks_closing=False,
        uncertain=(P_LVU2027_SAMMANTRADE,),
    ),
    Rule(
        "E13",
        "Läkarundersökning före ansökan om omhändertagande",
        ("lvu_ansokan_inlamnad",),
        ("lvu_lakarundersokning_genomford",),
        0,
        "same_day",
        **_lvu2027("32 § andra st.", "11 kap. 4 §"),
        blocks_closing=False,
        exists_from=LVU_NEW_FROM,
        uncertain=(P_LVU2027_E13,),
        note="Uppfylld av en läkarundersökning senast ansökningsdagen.",
    ),
    Rule(
        "E14",
        "Omhändertagandet upphör senast vid 18 eller 21 år",
        ("lvu_dom",),
        ("lvu_vard_upphort",),
        18,
        "years",
        **_lvu2027("21 § tredje-fjärde st.", "10 kap. 2 §"),
        blocks_closing=False,
        uncertain=(P_LVU2027_E14,),
        note="18 år för hem och anknytning (LVU 2 §), 21 år för eget beteende (LVU 3 §); "
        "räknat från födelsedatum.",
    ),
    Rule(
        "E16",
        "Prövning av förebyggande insats enligt LVU 22 §",
        ("lvu_forebyggande_insats_beslutad",),
        ("lvu_forebyggande_insats_provad", "lvu_forebyggande_insats_upphort"),
        6,
        "months",
        old_ref=LawRef(LVU, "22 § tredje st., 13 § andra st."),
        new_ref=LawRef(LVU, "22 § tredje st., 13 § andra st. (ÖB 5 lag 2026:1600)"),
        history=(
            LawVersion(date.min, LawRef(LVU, "22 § tredje st., 13 § andra st.")),
            LawVersion(
                LVU_NEW_FROM, LawRef(LVU, "22 § tredje st., 13 § andra st. (ÖB 5 lag 2026:1600)")
            ),
        ),
        blocks_closing=False,
        recurrence="rolling",
        uncertain=(P_LVU2027_OB5,),
    ),
    Rule(
        "E17",
        "Behov av offentligt biträde anmäls till förvaltningsrätten",
        ("lvu_offentligt_bitrade_behov",),
        ("lvu_offentligt_bitrade_anmalt",),
        1,
        "days",
        old_ref=None,
        new_ref=LawRef(LVU_NEW, "17 kap. 6 §"),
        new_from=LVU_NEW_FROM,
        exists_from=LVU_NEW_FROM,
        blocks_closing=False,
        uncertain=(P_LVU2027_BITRADE,),
    ),
    Rule(
        "N1",
        "Särskild genomförandeplan när insatser utan samtycke beslutas",
        ("insats_utan_samtycke_beslutad",),
        ("sarskild_genomforandeplan_upprattad",),
        0,
        "same_day",
        old_ref=None,
        new_ref=LawRef(SAMTYCKE, "5 kap. 1 §"),
        new_from=SAMTYCKE_FROM,
        exists_from=SAMTYCKE_FROM,
        blocks_closing=False,
        uncertain=(P_SAMTYCKE_IKRAFT,),
        note="Planen ska finnas när beslutet fattas: uppfylld av en plan daterad senast "
        "beslutsdagen.",
    ),
    Rule(
        "N2",
        "Övervägande av insatser och särskilda villkor utan samtycke",
        ("insats_utan_samtycke_beslutad",),
        ("insats_utan_samtycke_overvagd", "insats_utan_samtycke_upphort"),
        6,
        "months",
        old_ref=None,
        new_ref=LawRef(SAMTYCKE, "9 kap. 1 §"),
        new_from=SAMTYCKE_FROM,
        exists_from=SAMTYCKE_FROM,
        blocks_closing=False,
        recurrence="rolling",
    ),
    Rule(
        "N3",
        "Beslut utan samtycke gäller viss tid (villkor om bostaden högst sex månader)",
        ("insats_utan_samtycke_beslutad",),
        ("insats_utan_samtycke_upphort", "insats_utan_samtycke_beslutad"),
        6,
        "months",
        old_ref=None,
        new_ref=LawRef(SAMTYCKE, "7 kap. 2 §"),
        new_from=SAMTYCKE_FROM,
        exists_from=SAMTYCKE_FROM,
        blocks_closing=False,
        note="Slutdag = beslutets giltig_till (bostadsvillkor: högst sex månader, vakt N3); "
        "uppfylld av att insatsen upphör eller ett nytt beslut.",
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
        uncertain=(P_H3, P_OVERFLYTTNING_EVB),
        note="Begäran skriftlig, svar 'genast' (29:10; gamla 2 a:10 'utan dröjsmål'); utan svar "
        "inom en månad, eller efter ett nej, får kommunen ansöka hos IVO (29:11, H4).",
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

# --- delegation (issue 14): ordförandebeslut that E1, E11N and E12N do not cover -------------
P_DELEG_SAMMANTRADE = UncertainPolicy(
    "POL-DELEG-SAMMANTRADE",
    "nästa sammanträde efter beslutsdagen",
    "Ett ordförandebeslut anmäls vid nämndens nästa sammanträde: det första i kommunens "
    "sammanträdeskalender (namnd.sammantraden) efter beslutsdagen. Utan kalender, eller efter "
    "kalenderns sista datum, gäller policy.nasta_sammantrade_dagar (POL-LVU2027-SAMMANTRADE).",
)
RULES = (
    *RULES,
    Rule(
        "E18",
        "Övriga ordförandebeslut (placering, beslut_fattat) anmäls vid nästa sammanträde",
        ("beslut_fattat", "lvu_placering_paborjad"),
        ("lvu_ordforandebeslut_anmalt",),
        30,
        "days",
        **_lvu2027("11 § tredje st.", "6 kap. 2 §"),
        blocks_closing=False,
        uncertain=(P_DELEG_SAMMANTRADE, P_LVU2027_SAMMANTRADE),
        note=(
            "Bara när händelsens delegationsprövning visar ett ordförandebeslut (LVU 6, 11 §§; "
            "2026:1600 5 kap. 3 §, 6 kap. 2 §) som E1, E11N och E12N inte redan täcker."
        ),
    ),
)

#: The rules of appeals (FL 2017:900) and of transfers between kommuner (SoL 29 kap.), in a block of
#: their own; H2 above is the transfer's first rule.
APPEAL_TRANSFER_RULES: tuple[Rule, ...] = (
    Rule(
        "O1",
        "Överklagandetid: tre veckor från delgivningen",
        ("beslut_delgivet",),
        ("overklagande_mottaget",),
        3,
        "weeks",
        old_ref=None,
        new_ref=LawRef(FL, "44 §"),
        blocks_closing=True,
        exists_from=FL_FROM,
        uncertain=(P_O_DELGIVNING,),
        note="Partens tid, ingen egen frist: rättidsprövningen (vakt O1) och rapporten "
        "overklaganden räknar den; ärendet avslutas inte medan den löper.",
    ),
    Rule(
        "O2",
        "Rättidsprövning och överlämnande av överklagande till förvaltningsrätten",
        ("overklagande_mottaget",),
        ("overklagande_overlamnat", "rattidsprovning_gjord", "overklagande_aterkallat"),
        7,
        "days",
        old_ref=None,
        new_ref=LawRef(FL, "45-46 §§"),
        blocks_closing=True,
        exists_from=FL_FROM,
        uncertain=(P_O_OVERLAMNANDE, P_O_VERKSTALLIGHET),
        note="Dagar i kommun-policyn (policy.overklagande_overlamnande_dagar); uppfylld av "
        "överlämnandet, en avvisning (i_tid=false) eller ett återkallande.",
    ),
    Rule(
        "H4",
        "IVO prövar ansökan om överflyttning",
        ("overflyttning_ivo_ansokan",),
        ("overflyttning_ivo_beslut",),
        3,
        "months",
        **_sol("2 a kap. 11 § andra st.", "29 kap. 11 § andra st."),
        blocks_closing=False,
        note="IVO:s frist (längre vid särskilda skäl); larmet säger kommunen att beslutet dröjer.",
    ),
    Rule(
        "B8",
        "Påbörjad utredning slutförs av kommunen som inledde den",
        ("utredning_inledd",),
        ("utredning_avslutad",),
        4,
        "months",
        **_sol("11 kap. 4 §", "29 kap. 9 §"),
        blocks_closing=False,
        note="Ingen egen frist (B1 gäller): vakt B8, ärendet flyttas inte med en pågående "
        "utredning om inte den mottagande kommunen tar över den.",
    ),
)
RULES = (*RULES, *APPEAL_TRANSFER_RULES)

# --- the placed child (issue #15 B): what a placement requires, the 18th birthday, avvikning ------
P_PLACERING_KRAV_START = UncertainPolicy(
    "POL-PLACERING-KRAV-START",
    "av",
    "Kraven under placeringen (D1, D1G, D1A, D6, D8, D9, D9S, D9K, D11V, D11) räknas för "
    "placeringar verkställda från kommunens dag policy.placering_krav_fran. Utan den dagen räknas "
    "de inte: barnflow kunde inte ta emot besök, socialsekreterare eller planer förut, så en äldre "
    "placering skulle larma för allt som aldrig kunde registreras.",
)
P_PLACERING_I_ANSLUTNING = UncertainPolicy(
    "POL-PLACERING-I-ANSLUTNING",
    "14 dagar",
    "Vårdplan, genomförandeplan, underrättelsen till regionen om hälsoundersökning och den "
    "ansvariga socialsekreteraren ska finnas när vården inleds ('i anslutning till', SoL 22:7); "
    "lagen anger ingen dag. Standard: 14 dagar från verkställigheten "
    "(policy.placering_plan_dagar), samma dagar för godkännandet av vårdplanen räknat från "
    "planen (D1A, lokal regel). En plan "
    "upprättad före verkställigheten uppfyller fristen.",
)
P_BESOK_FREKVENS = UncertainPolicy(
    "POL-BESOK-FREKVENS",
    "varje månad första året, sedan var tredje månad",
    "SoL 22:11-12 kräver regelbundna besök och enskilda samtal 'i den omfattning som är lämplig'. "
    "Kommunens rutin (IVO:s tillsyn av Malmö: ungefär en gång i månaden vid nyplacering, "
    "ungefär fyra gånger per år senare): ett besök med enskilt samtal senast "
    "policy.besok_tat_intervall_manader (1) efter det förra (först: verkställigheten) under de "
    "första policy.besok_tat_manader (12) månaderna, därefter var "
    "policy.besok_senare_intervall_manader (3) månad. Ett besök utan enskilt samtal uppfyller inte "
    "fristen.",
)
P_PLACERING_KARTLAGGNING = UncertainPolicy(
    "POL-PLACERING-KARTLAGGNING",
    "90 dagar",
    "Skolgången ska uppmärksammas och kontakten med närstående främjas (SoL 22:8-9, 22:11 andra "
    "st.) utan tidsgräns i lagen. Kommunens rutin: kartlagd respektive planerad senast "
    "policy.placering_kartlaggning_dagar (90) dagar från verkställigheten.",
)
P_PLACERING_18 = UncertainPolicy(
    "POL-PLACERING-18",
    "6 månader före",
    "En SoL-placering av ett barn avslutas när barnet fyller 18 (barn: under 18 år, SoL 3:1) om "
    "inte ett nytt beslut fortsätter den (beslut_fattat.fortsatter_beslut_id; den unge samtycker "
    "själv). Fristen D11 är 18-årsdagen; D11V larmar policy.alder18_varning_manader (6) månader "
    "före om varken utslussning planerats, ett fortsättningsbeslut fattats eller placeringen "
    "avslutats. Åldern räknas alltid från födelsedatumet (personnumret eller det tillfälliga "
    "id:ts), aldrig från en lagrad ålder.",
)
P_AVVIKNING_24H = UncertainPolicy(
    "POL-AVVIKNING-24H",
    "samma eller nästa kalenderdag",
    "Kommunens rutin vid avvikning: polisen, och för ett ensamkommande barn Migrationsverket, "
    "underrättas inom 24 timmar. Barnflow räknar dagar, inte timmar: senast kalenderdagen efter "
    "avvikningens legala datum (V1, V2).",
)
P_AVVIKNING_LVU = UncertainPolicy(
    "POL-AVVIKNING-LVU",
    "1 dag",
    "Vid en avvikning bedöms om barnet omedelbart ska omhändertas (LVU 6 §, lag 2026:1600 5 kap. "
    "1 §), eller att pågående vård räcker, senast policy.avvikning_lvu_bedomning_dagar (1) dagar "
    "efter avvikningen (V3).",
)
P_AVVIKNING_TRE_MANADER = UncertainPolicy(
    "POL-AVVIKNING-TRE-MANADER",
    "3 månader",
    "Ett ärende avslutas inte medan barnet är försvunnet och det gått mindre än tre månader sedan "
    "avvikningen (vakt P-AVVIKNING); efter tre månader får nämnden avsluta det med en orsak.",
)
_REQ_NOTE = (
    "Bara placeringar verkställda från policy.placering_krav_fran (POL-PLACERING-KRAV-START)."
)
CARE_RULES: tuple[Rule, ...] = (
    Rule(
        "D1",
        "Vårdplan upprättad",
        ("insats_verkstalld",),
        ("vardplan_upprattad", "beslut_avslutat"),
        14,
        "days",
        **_sol("11 kap. 3 § första st.", "9 kap. 12 § första st."),
        blocks_closing=False,
        uncertain=(P_PLACERING_KRAV_START, P_PLACERING_I_ANSLUTNING),
        note=_REQ_NOTE,
    ),
    Rule(
        "D1G",
        "Genomförandeplan upprättad",
        ("insats_verkstalld",),
        ("genomforandeplan_upprattad", "beslut_avslutat"),
        14,
        "days",
        **_sol("11 kap. 3 § tredje st.", "9 kap. 12 § andra st."),
        blocks_closing=False,
        uncertain=(P_PLACERING_KRAV_START, P_PLACERING_I_ANSLUTNING),
        note=_REQ_NOTE,
    ),
    Rule(
        "D1A",
        "Vårdplanen godkänd av vårdnadshavaren/den unge",
        ("vardplan_upprattad",),
        ("placeringsplan_godkand", "beslut_avslutat"),
        14,
        "days",
        old_ref=None,
        new_ref=LawRef(LOCAL, "kommunens rutin för vårdplan"),
        blocks_closing=False,
        uncertain=(P_PLACERING_KRAV_START, P_PLACERING_I_ANSLUTNING),
        note="Lokal regel; uppfylld av placeringsplan_godkand med plan vardplan.",
    ),
    Rule(
        "D6",
        "Underrättelse till regionen om hälsoundersökning",
        ("insats_verkstalld",),
        ("halsoundersokning_begard", "beslut_avslutat"),
        14,
        "days",
        **_sol("11 kap. 3 a §", "22 kap. 7 §"),
        blocks_closing=False,
        uncertain=(P_PLACERING_KRAV_START, P_PLACERING_I_ANSLUTNING),
        note="Regionen erbjuder undersökningen (lag 2017:209); nämnden underrättar, om det inte "
        "är obehövligt (halsoundersokning_begard.obehovlig).",
    ),
    Rule(
        "D8",
        "Ansvarig socialsekreterare utsedd",
        ("insats_verkstalld",),
        ("socialsekreterare_utsedd", "beslut_avslutat"),
        14,
        "days",
        **_sol("6 kap. 7 c § första st.", "22 kap. 12 § första st."),
        blocks_closing=False,
        uncertain=(P_PLACERING_KRAV_START, P_PLACERING_I_ANSLUTNING),
        note="Familjehem, stödboende, skyddat boende, HVB (inte jourhem). " + _REQ_NOTE,
    ),
    Rule(
        "D9",
        "Besök och enskilt samtal med barnet",
        ("insats_verkstalld",),
        ("barnet_besokt", "beslut_avslutat"),
        1,
        "months",
        **_sol(
            "6 kap. 7 b § första st., 7 c § andra st.", "22 kap. 11 § första st., 12 § andra st."
        ),
        blocks_closing=False,
        recurrence="rolling",
        uncertain=(P_PLACERING_KRAV_START, P_BESOK_FREKVENS),
        note="Frekvensen är kommunens (POL-BESOK-FREKVENS). " + _REQ_NOTE,
    ),
    Rule(
        "D9S",
        "Barnets skolgång kartlagd",
        ("insats_verkstalld",),
        ("skolgang_kartlagd", "beslut_avslutat"),
        90,
        "days",
        **_sol("6 kap. 7 § 2, 7 b § andra st.", "22 kap. 8 § 2, 11 § andra st."),
        blocks_closing=False,
        uncertain=(P_PLACERING_KRAV_START, P_PLACERING_KARTLAGGNING),
        note="Plikten är lagens, tiden kommunens (POL-PLACERING-KARTLAGGNING).",
    ),
    Rule(
        "D9K",
        "Kontakt med familj och nätverk planerad",
        ("insats_verkstalld",),
        ("umgange_planerat", "beslut_avslutat"),
        90,
        "days",
        **_sol("6 kap. 1 § fjärde st.", "9 kap. 10 § andra st., 22 kap. 9 §"),
        blocks_closing=False,
        uncertain=(P_PLACERING_KRAV_START, P_PLACERING_KARTLAGGNING),
        note="Plikten är lagens, tiden kommunens (POL-PLACERING-KARTLAGGNING).",
    ),
    Rule(
        "D11V",
        "Placeringen närmar sig 18-årsdagen: utslussning eller fortsättning planerad",
        ("insats_verkstalld",),
        ("utslussning_planerad", "beslut_fattat", "beslut_avslutat"),
        6,
        "months",
        old_ref=None,
        new_ref=LawRef(LOCAL, "kommunens rutin för utslussning och eftervård"),
        blocks_closing=False,
        uncertain=(P_PLACERING_KRAV_START, P_PLACERING_18),
        note="Slutdag: 18-årsdagen minus policy.alder18_varning_manader månader.",
    ),
    Rule(
        "D11",
        "SoL-placering av barn upphör vid 18 år om inget beslut fortsätter den",
        ("insats_verkstalld",),
        ("beslut_avslutat", "beslut_fattat"),
        18,
        "years",
        **_sol("1 kap. 2 §", "3 kap. 1 §"),
        blocks_closing=False,
        uncertain=(P_PLACERING_KRAV_START, P_PLACERING_18),
        note="Slutdag: 18-årsdagen från födelsedatumet; uppfylld av beslut_avslutat eller ett "
        "beslut_fattat med fortsatter_beslut_id.",
    ),
    Rule(
        "V1",
        "Polisen underrättad om avvikning",
        ("avvikning_anmald",),
        ("avvikning_polis_underrattad",),
        1,
        "days",
        old_ref=None,
        new_ref=LawRef(LOCAL, "kommunens rutin vid avvikning"),
        blocks_closing=False,
        uncertain=(P_AVVIKNING_24H,),
    ),
    Rule(
        "V2",
        "Migrationsverket underrättat om avvikning (ensamkommande barn)",
        ("avvikning_anmald",),
        ("avvikning_migrationsverket_underrattat",),
        1,
        "days",
        old_ref=None,
        new_ref=LawRef(LOCAL, "kommunens rutin vid avvikning"),
        blocks_closing=False,
        uncertain=(P_AVVIKNING_24H,),
        note="Bara för ett barn som registrerats som ensamkommande.",
    ),
    Rule(
        "V3",
        "Bedömning av omedelbart omhändertagande vid avvikning",
        ("avvikning_anmald",),
        ("avvikning_lvu_bedomning_gjord", "lvu_omhandertagande_beslutat", "avvikning_avslutad"),
        1,
        "days",
        old_ref=None,
        new_ref=LawRef(LOCAL, "kommunens rutin vid avvikning (LVU 6 §)"),
        blocks_closing=False,
        uncertain=(P_AVVIKNING_LVU, P_AVVIKNING_TRE_MANADER),
    ),
)
RULES = (*RULES, *CARE_RULES)
# --- the notifications that follow a placement in a named home (issue 15, docs/law.md §11) -----
P_FK_GENAST = UncertainPolicy(
    "POL-FK-GENAST",
    "dagen efter",
    'Försäkringskassan underrättas "genast" när en placering börjar, flyttas eller upphör; '
    "barnflow räknar genast som dagen efter händelsen. Skyldighetens lagrum finns inte i de "
    "lagtexter barnflow kontrollerar mot (docs/law.md §11).",
)
PLACEMENT_RULES: tuple[Rule, ...] = (
    Rule(
        "HEM9",
        "Försäkringskassan underrättas om placering, omplacering och återkomst",
        (
            "insats_verkstalld",
            "lvu_placering_paborjad",
            "placering_flyttad",
            "beslut_avslutat",
            "lvu_vard_upphort",
        ),
        ("forsakringskassan_underrattad",),
        1,
        "days",
        old_ref=None,
        new_ref=LawRef(LOCAL, "POL-FK-GENAST"),
        blocks_closing=False,
        uncertain=(P_FK_GENAST,),
        note="Bara placeringar som anger sitt hem (hem_id); uppfylld av en underrättelse med "
        "samma anledning (placering, flytt, aterkomst).",
    ),
    Rule(
        "HEM10",
        "Vistelsekommunen informeras före placering i ett hem i en annan kommun",
        ("insats_verkstalld", "lvu_placering_paborjad", "placering_flyttad"),
        ("vistelsekommun_underrattad",),
        0,
        "same_day",
        **_sol("6 kap. 6 a §", "22 kap. 6 §"),
        blocks_closing=False,
        note="Bara när placeringen anger en vistelsekommun som inte är nämndens egen; "
        "informationen ska ges före beslutet, senast placeringsdagen.",
    ),
)
RULES = (*RULES, *PLACEMENT_RULES)
# --- complaints and lex Sarah as flows of their own (issue 17 item 4, docs/law.md §14) --------
P_KLAGOMAL_FRIST = UncertainPolicy(
    "POL-KLAGOMAL-FRIST",
    "14 dagar (klagomal.dagar)",
    "Ingen lag sätter en tid för att besvara synpunkter och klagomål; kommunens rutin gör det "
    "(Malmö: återkoppling inom 14 kalenderdagar från att det inkommit, seed 003). barnflow "
    "räknar kalenderdagar från dagen det inkom till återkopplingen, kommunens klagomal.dagar.",
)
P_LEXSARAH_UTAN_DROJSMAL = UncertainPolicy(
    "POL-LEXSARAH-UTAN-DROJSMAL",
    "1 dag (policy.lex_sarah_utredning_start_dagar)",
    'Ett rapporterat missförhållande ska "genast" dokumenteras och utredas (SoL 2025:400 27 kap. '
    '5 §; gamla 14 kap. 6 § "utan dröjsmål"). barnflow räknar det som att utredningen påbörjas '
    "senast dagen efter rapporten; kommunen kan ange ett annat antal dagar.",
)
P_LEXSARAH_UTREDNING = UncertainPolicy(
    "POL-LEXSARAH-UTREDNING",
    "14 dagar (policy.lex_sarah_utredning_dagar)",
    "Lagen anger ingen tid för när utredningen ska vara klar och bedömd; barnflow följer "
    "kommunens rutin, 14 kalenderdagar från rapporten om kommunen inget annat anger.",
)
P_LEXSARAH_SNARAST = UncertainPolicy(
    "POL-LEXSARAH-SNARAST",
    "7 dagar (policy.lex_sarah_ivo_dagar)",
    'Ett allvarligt missförhållande ska "snarast" anmälas till IVO med utredningen bifogad '
    "(SoL 2025:400 27 kap. 6 §; gamla 14 kap. 7 §). barnflow räknar snarast som högst sju "
    "kalenderdagar från bedömningen att missförhållandet är allvarligt.",
)
KVALITET_RULES: tuple[Rule, ...] = (
    Rule(
        "KL1",
        "Synpunkt eller klagomål återkopplat",
        ("klagomal_inkommet",),
        ("klagomal_aterkopplat",),
        14,
        "days",
        old_ref=None,
        new_ref=LawRef(LOCAL, "POL-KLAGOMAL-FRIST"),
        blocks_closing=False,
        uncertain=(P_KLAGOMAL_FRIST,),
        note="Eget flöde, utan ärende (domain/kvalitet.py); antal dagar i klagomal.dagar.",
    ),
    Rule(
        "LS1",
        "Lex Sarah: utredningen påbörjad",
        ("lex_sarah_rapporterad",),
        ("lex_sarah_utredning_startad",),
        1,
        "days",
        **_sol("14 kap. 6 §", "27 kap. 5 §"),
        blocks_closing=False,
        uncertain=(P_LEXSARAH_UTAN_DROJSMAL,),
        note='"Genast" (gamla: "utan dröjsmål"); antal dagar i '
        "policy.lex_sarah_utredning_start_dagar.",
    ),
    Rule(
        "LS2",
        "Lex Sarah: utredningen bedömd (allvarligt eller inte)",
        ("lex_sarah_rapporterad",),
        ("lex_sarah_bedomd",),
        14,
        "days",
        **_sol("14 kap. 6 §", "27 kap. 5 §"),
        blocks_closing=False,
        uncertain=(P_LEXSARAH_UTREDNING,),
        note="Räknas från rapporten; antal dagar i policy.lex_sarah_utredning_dagar.",
    ),
    Rule(
        "LS3",
        "Lex Sarah: allvarligt missförhållande anmält till IVO",
        ("lex_sarah_bedomd",),
        ("lex_sarah_anmald_ivo",),
        7,
        "days",
        **_sol("14 kap. 7 §", "27 kap. 6 §"),
        blocks_closing=False,
        uncertain=(P_LEXSARAH_SNARAST,),
        note="Bara när bedömningen är allvarligt; antal dagar i policy.lex_sarah_ivo_dagar.",
    ),
)
RULES = (*RULES, *KVALITET_RULES)

#: U-point policies that apply across the catalogue rather than to one rule.
GLOBAL_POLICIES: tuple[UncertainPolicy, ...] = (P_SONDAG, P_H3)

RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
#: Rules the engine never turns the söndagsregel on for: missing them ends the decision itself, so
#: barnflow never shows a later date to rely on. E2 (LVU 7 §, 5 kap. 6 § 1), E3 (LVU 9 § 1,
#: 5 kap. 6 § 2), E3T (LVU 9 b §, 5 kap. 11 §), E11U/E11A (12 kap. 10 § 1-2), E12U/E12A
#: (13 kap. 10 § 1-2).
NO_SONDAGSREGEL = frozenset({"E2", "E3", "E3T", "E11U", "E11A", "E12U", "E12A"})
#: Policy days for "nästa sammanträde" (E1, E11N, E12N) and "så snart" (E17).
SAMMANTRADE_RULES = frozenset({"E1", "E11N", "E12N", "E18"})


def rule(rule_id: str) -> Rule:
    """The catalogue entry for ``rule_id`` (KeyError names the id if unknown)."""
    return RULES_BY_ID[rule_id]


# --- per-kommun policy ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KommunPolicy:
    """Local targets and the U-point choices of one kommun (docs/domain.md §5.5, docs/law.md §5).

    The defaults are the safe choices documented in ``docs/rules.md``; a kommun file only states
    what differs. A kommun's file is validated in ``infra.config.kommun`` (pydantic) and reaches
    the domain as a validated document (``policy_from_mapping``), as part of its versioned
    configuration (``domain.kommun.KommunConfig``).
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
    nasta_sammantrade_dagar: int = 30
    offentligt_bitrade_dagar: int = 1
    #: POL-OVERKLAGANDE-OVERLAMNANDE: days to hand an överklagande to the court (O2)
    overklagande_overlamnande_dagar: int = 7
    #: The nämnd's sammanträden (``namnd.sammantraden``), in order: an ordförandebeslut is due at
    #: the first after its date (POL-DELEG-SAMMANTRADE); delegationsbeslut are grouped by them.
    sammantraden: tuple[date, ...] = ()
    #: POL-PLACERING-KRAV-START: placements verkställda from this day owe D1-D11 (None: off)
    placering_krav_fran: date | None = None
    #: POL-HEM-ID: placements from this day name their home (HEM1); None = not required
    hem_id_krav_fran: date | None = None
    #: POL-PLACERING-I-ANSLUTNING: days for the plans, the region's notice, the socialsekreterare
    placering_plan_dagar: int = 14
    #: POL-PLACERING-KARTLAGGNING: days to map schooling and plan contact with the family
    placering_kartlaggning_dagar: int = 90
    #: POL-BESOK-FREKVENS: months of frequent visits, and the interval then and later
    besok_tat_manader: int = 12
    besok_tat_intervall_manader: int = 1
    besok_senare_intervall_manader: int = 3
    #: POL-PLACERING-18: months before the 18th birthday that D11V falls due
    alder18_varning_manader: int = 6
    #: POL-AVVIKNING-LVU: days for the LVU 6 § assessment after an avvikning (V3)
    avvikning_lvu_bedomning_dagar: int = 1
    #: POL-LEXSARAH-UTAN-DROJSMAL, POL-LEXSARAH-UTREDNING, POL-LEXSARAH-SNARAST (LS1-LS3)
    lex_sarah_utredning_start_dagar: int = 1
    lex_sarah_utredning_dagar: int = 14
    lex_sarah_ivo_dagar: int = 7

    def nasta_sammantrade(self, day: date) -> date | None:
        """The first sammanträde after ``day`` (``None``: the calendar has none)."""
        return next((m for m in self.sammantraden if m > day), None)

    def sondagsregel_on(self, rule_id: str) -> bool:
        """Whether ``shifted_due`` is shown for ``rule_id`` (never for ``NO_SONDAGSREGEL``)."""
        if rule_id in NO_SONDAGSREGEL:
            return False
        return rule_id in self.sondagsregel or RULES_BY_ID[rule_id].sondagsregel


DEFAULT_POLICY = KommunPolicy()


def policy_from_mapping(raw: Mapping[str, Any]) -> KommunPolicy:
    """A ``KommunPolicy`` from a validated kommun document (the TOML file's shape; keys left out
    keep their defaults, keys this builder does not read, such as ``delegationsordning``, are
    ignored).

    Validation is not done here: ``infra.config.kommun`` checks every file with pydantic (errors
    naming the file and the key path) before a document is stored and referenced, so the pure
    domain only builds the object the workflow, the views and the API all compute with.
    """
    klagomal = raw.get("klagomal") or {}
    sond = raw.get("sondagsregel") or {}
    pol = raw.get("policy") or {}
    verk = raw.get("verkstallighet") or {}
    return KommunPolicy(
        kommun=raw.get("kommun"),
        klagomal_dagar=int(klagomal.get("dagar", 14)),
        verkstallighet_mal_dagar={str(k): int(v) for k, v in verk.items() if v is not None},
        sondagsregel=frozenset(str(r) for r in sond.get("regler", ())),
        a1_nasta_dag_efter=pol.get("a1_nasta_dag_efter"),
        d3_start=str(pol.get("d3_start", "beslut")),
        uppfoljning_gammal_sol_manader=int(pol.get("uppfoljning_gammal_sol_manader", 2)),
        d10_per_arende=bool(pol.get("d10_per_arende", False)),
        a3_begaran_antas=bool(pol.get("a3_begaran_antas", False)),
        nasta_sammantrade_dagar=int(pol.get("nasta_sammantrade_dagar", 30)),
        offentligt_bitrade_dagar=int(pol.get("offentligt_bitrade_dagar", 1)),
        overklagande_overlamnande_dagar=int(pol.get("overklagande_overlamnande_dagar", 7)),
        sammantraden=tuple(
            d if isinstance(d, date) else date.fromisoformat(str(d))
            for d in (raw.get("namnd") or {}).get("sammantraden") or ()
        ),
        placering_krav_fran=_optional_date(pol.get("placering_krav_fran")),
        hem_id_krav_fran=_optional_date(pol.get("hem_id_krav_fran")),
        placering_plan_dagar=_int_or(pol, "placering_plan_dagar", 14),
        placering_kartlaggning_dagar=_int_or(pol, "placering_kartlaggning_dagar", 90),
        besok_tat_manader=_int_or(pol, "besok_tat_manader", 12),
        besok_tat_intervall_manader=_int_or(pol, "besok_tat_intervall_manader", 1),
        besok_senare_intervall_manader=_int_or(pol, "besok_senare_intervall_manader", 3),
        alder18_varning_manader=_int_or(pol, "alder18_varning_manader", 6),
        avvikning_lvu_bedomning_dagar=_int_or(pol, "avvikning_lvu_bedomning_dagar", 1),
        lex_sarah_utredning_start_dagar=_int_or(pol, "lex_sarah_utredning_start_dagar", 1),
        lex_sarah_utredning_dagar=_int_or(pol, "lex_sarah_utredning_dagar", 14),
        lex_sarah_ivo_dagar=_int_or(pol, "lex_sarah_ivo_dagar", 7),
    )


def _int_or(pol: Mapping[str, Any], key: str, default: int) -> int:
    """A policy number, or its default when the file leaves it out (or unset: ``None``)."""
    value = pol.get(key)
    return default if value is None else int(value)


def _optional_date(value: object) -> date | None:
    """A policy date given as a TOML date or an ISO string; ``None`` when unset."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
