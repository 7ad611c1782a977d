"""The event contract of docs/domain.md §4: the one shape shared by import/export lines, the
HTTP API, the workflow's commands and the event store.

A line is validated here before anything else looks at it, so every entry point (CLI import,
HTTP, workflow update validator, aggregate) rejects the same inputs with the same field name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from domain.calendar import legal_date
from domain.error_texts import closest
from domain.errors import EventValidationError
from domain.identity import InvalidIdentity, contains_identity_number, parse_child_identifier

KOMMUN_RE = re.compile(r"^\d{4}$")
KON = ("flicka", "pojke", "annat", "okant")
INSATSTYPER = (
    "oppenvard",
    "familjebehandling",
    "kontaktperson",
    "kontaktfamilj",
    "familjehem",
    "jourhem",
    "hvb",
    "stodboende",
    "skyddat_boende",
    "annan",
)
#: Insatser that are vård utanför hemmet (placements): they get vårdplan, övervägande (D3) etc.
PLACEMENT_INSATSER = frozenset({"familjehem", "jourhem", "hvb", "stodboende", "skyddat_boende"})
MAX_TEXT = 2000
#: Legal dates outside these years are refused: no child's case lies there, and frist
#: arithmetic (re-arming clocks for up to 200 years) must not leave ``datetime``'s range.
MIN_YEAR = 1900
MAX_YEAR = 2200
#: The grounds of 2026:1600 3 kap.: hem (2 §), eget_beteende (3 §), anknytning (5 §).
LVU_GRUNDER = ("hem", "eget_beteende", "anknytning")
#: The prohibitions of 2026:1600 12 kap. (LVU 24 §) and 13 kap. (LVU 31 a §).
LVU_FORBUD = ("flyttningsforbud", "utreseforbud")
#: Where an omhändertaget barn is placed (2026:1600 6 kap. 1 §).
LVU_PLACERINGAR = ("familjehem", "jourhem", "hvb", "sarskilt_ungdomshem", "stodboende", "eget_hem")
#: The canonical outcomes of an lvu_dom: the court ordered care (``bifall``) or it did not
#: (``avslag``, ``avvisat``, ``avskrivet``). Stored and compared in this form only.
LVU_UTFALL = ("bifall", "avslag", "avvisat", "avskrivet")
#: Spellings accepted for ``lvu_dom.utfall`` (compared lower-cased) and their canonical
#: form: the spellings the rules treated as "no care ordered" before the field was canonical,
#: and the forms of ``bifall`` the calling systems send.
LVU_UTFALL_SPELLINGS: dict[str, str] = {
    **{u: u for u in LVU_UTFALL},
    "bifallet": "bifall",
    "bifallen": "bifall",
    "avslaget": "avslag",
    "avslagen": "avslag",
    "lamnad_utan_bifall": "avslag",
    "avvisad": "avvisat",
}
#: lvu_dom outcomes that mean the court ordered no care (canonical and legacy spellings).
LVU_REJECTED = frozenset(k for k, v in LVU_UTFALL_SPELLINGS.items() if v != "bifall")
#: A quarter with "-" and white space removed, upper-cased: 2026Q3 or Q32026.
_KVARTAL_FORMS = (
    re.compile(r"^(?P<y>\d{4})Q(?P<q>[1-4])$"),
    re.compile(r"^Q(?P<q>[1-4])(?P<y>\d{4})$"),
)


@dataclass(frozen=True)
class FieldSpec:
    """One data field: required or optional, and its allowed values (``None`` = free)."""

    required: bool = True
    choices: tuple[str, ...] | None = None
    #: str | label | bool | date | number | barn | delegat | kvartal | lvu_utfall | hem_id |
    #: kommunkod | key_ids
    kind: str = "str"


#: A role label (``label`` kind): lower-case ASCII letters, digits and "_", at most 40.
_LABEL_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")


#: barnflow's own key ids (``key_ids`` kind: ``gallring_verkstalld``'s ``nyckel`` and
#: ``temporal_nyckel``), comma-separated: an optional short prefix and hex digits
#: (``7f2e1201686449b4``, ``wk-3c9e1f0a7b2d4e65``). Random hex holds, about once in two thousand
#: keys, ten digits shaped like a samordningsnummer (``7f2e·1201686449·b4``: 12-01-68, Luhn
#: right), and the free-text identity check refused the gallring of that key; these ids are
#: matched by their shape instead (POL-KEY-ID, docs/law.md).
_KEY_IDS_RE = re.compile(r"(?:[a-z]{1,8}-)?[0-9a-f]{6,64}(?:,(?:[a-z]{1,8}-)?[0-9a-f]{6,64})*")


def _req(*choices: str, kind: str = "str") -> FieldSpec:
    return FieldSpec(True, choices or None, kind)


def _opt(*choices: str, kind: str = "str") -> FieldSpec:
    return FieldSpec(False, choices or None, kind)


#: The optional fields of a placement (``insats_verkstalld`` of a placement beslut,
#: ``lvu_placering_paborjad``): its home (``domain.placement``, POL-HEM-ID), a recorded exception
#: to HEM4/HEM5 (who decided it and why, POL-HEM-UNDANTAG) and stödboende's särskilda skäl (HEM6).
_PLACEMENT_FIELDS: dict[str, FieldSpec] = {
    "hem_id": _opt(kind="hem_id"),
    "hem_undantag_skal": _opt(),
    "hem_undantag_beslutat_av": _opt(kind="delegat"),
    "sarskilda_skal": _opt(),
    # the kommun the home lies in, when it is not the nämnd's own (HEM10)
    "vistelsekommun": _opt(kind="kommunkod"),
}

#: Every event type of docs/domain.md §4 with its data fields. Unknown fields are refused.
EVENT_TYPES: dict[str, dict[str, FieldSpec]] = {
    # intake
    "anmalan_mottagen": {
        "anmalan_id": _req(),
        "barn": _req(kind="barn"),
        "anmalare_kategori": _req(),
        "skyddad_anmalare": _opt(kind="bool"),
        # A3 (SoL 19:6): the anmälare asked to be told whether an utredning is opened
        "anmalare_begart_information": _opt(kind="bool"),
        "enhet": _opt(),
        "handlaggare": _opt(),
    },
    "ansokan_mottagen": {
        "ansokan_id": _req(),
        "barn": _req(kind="barn"),
        "sokande": _req(),
        "enhet": _opt(),
        "handlaggare": _opt(),
    },
    "skyddsbedomning_gjord": {"anmalan_id": _req(), "omedelbart_skydd": _req(kind="bool")},
    "forhandsbedomning_beslutad": {
        "anmalan_id": _req(),
        "beslut": _req("inleda_utredning", "inte_inleda_utredning"),
    },
    "forhandsbedomning_forlangd": {
        "anmalan_id": _req(),
        "ny_slutdag": _req(kind="date"),
        "skal": _req(),
    },
    # utredning
    "utredning_inledd": {
        "utredning_id": _req(),
        "grund": _req("anmalan", "ansokan", "eget_initiativ"),
        "anmalan_id": _opt(),
        "ansokan_id": _opt(),
        "fortsatter_utredning_id": _opt(),
    },
    "utredning_forlangd": {"utredning_id": _req(), "ny_slutdag": _req(kind="date"), "skal": _req()},
    "barnet_hort": {"moment": _req(), "satt": _req(), "utredning_id": _opt(), "beslut_id": _opt()},
    "barnet_ej_hort": {
        "moment": _req(),
        "skal": _req(),
        "utredning_id": _opt(),
        "beslut_id": _opt(),
    },
    "barnenkat_erbjuden": {"utredning_id": _req()},
    "utredning_avslutad": {
        "utredning_id": _req(),
        "utfall": _req("insats", "avslag", "ingen_atgard", "lvu_ansokan", "overflyttad"),
    },
    # beslut / insats
    "beslut_fattat": {
        "beslut_id": _req(),
        "lagrum": _req(),
        "beslutstyp": _req(),
        "insats": _opt(*INSATSTYPER),
        "gynnande": _req(kind="bool"),
        "delegat": _req(kind="delegat"),
        "belopp_per_dygn": _opt(kind="number"),
        "utredning_id": _opt(),
    },
    "insats_verkstalld": {
        "beslut_id": _req(),
        **_PLACEMENT_FIELDS,
    },
    "verkstallighet_avbruten": {"beslut_id": _req(), "skal": _req()},
    "verkstallighet_aterupptagen": {"beslut_id": _req()},
    "beslut_avslutat": {"beslut_id": _req(), "orsak": _req()},
    "evb_skal_angivet": {"beslut_id": _req(), "skal": _req(), "erbjudet": _opt()},
    "evb_rapporterad": {
        "beslut_id": _req(),
        "kvartal": _req(kind="kvartal"),
        "rapport": _req("individrapport", "aterrapport", "verkstalld", "avslutad"),
    },
    # placement / LVU
    "vardplan_upprattad": {"beslut_id": _opt()},
    "genomforandeplan_upprattad": {"beslut_id": _opt()},
    "halsoundersokning_begard": {"beslut_id": _opt()},
    "overvagande_genomfort": {"beslut_id": _req(), "slutsats": _req()},
    "vardplan_reviderad": {"beslut_id": _opt()},
    "vardnadsoverflyttning_overvagd": {"beslut_id": _req(), "slutsats": _opt()},
    "lvu_omhandertagande_beslutat": {
        "beslut_id": _opt(),
        "delegat": _opt(kind="delegat"),
        # lag 2026:1600 (from 2027-01-01): the ground of 3 kap. and a 5 kap. 3 § ordförandebeslut
        "grund": _opt(*LVU_GRUNDER),
        "ordforandebeslut": _opt(kind="bool"),
    },
    "lvu_omhandertagande_verkstallt": {"beslut_id": _opt()},
    "lvu_understalld": {"beslut_id": _opt()},
    "lvu_ansokan_inlamnad": {
        "beslut_id": _opt(),
        "grund": _opt(*LVU_GRUNDER),
        # 2026:1600 11 kap. 4 § / LVU 32 §: no läkarundersökning "av särskilda skäl"
        "lakarundersokning_obehovlig": _opt(kind="bool"),
    },
    "lvu_dom": {
        "utfall": _req(kind="lvu_utfall"),
        "beslut_id": _opt(),
        "paragraf": _opt("2", "3", "2+3"),
        "grund": _opt(*LVU_GRUNDER),
    },
    "lvu_vard_upphort": {"beslut_id": _opt()},
    # follow-up / case
    "uppfoljning_inledd": {"grund": _req(), "uppfoljning_id": _opt()},
    "uppfoljning_avslutad": {"uppfoljning_id": _opt()},
    "insats_uppfoljd": {"beslut_id": _req(), "barnet_hort": _req(kind="bool")},
    "klagomal_mottaget": {"klagomal_id": _opt()},
    "klagomal_besvarat": {"klagomal_id": _opt()},
    "anmalare_informerad": {"anmalan_id": _req()},
    "identitet_uppdaterad": {"barn": _req(kind="barn")},
    "arende_overflyttat": {"till_kommun": _req()},
    "arende_avslutat": {"orsak": _req()},
    # system
    "frist_overskriden": {"frist": _req(), "regel": _req(), "due": _req(kind="date")},
    "evb_rapporteringsskyldighet_uppstod": {"beslut_id": _req(), "due": _req(kind="date")},
    # an alert above proved false by a fulfilment with an earlier legal date that arrived later
    "larm_aterkallat": {
        "larm_typ": _req("frist_overskriden", "evb_rapporteringsskyldighet_uppstod"),
        "frist": _req(),
        "regel": _req(),
        "due": _req(kind="date"),
        "larm_position": _req(kind="number"),
        "uppfylld_position": _req(kind="number"),
        "uppfylld_datum": _req(kind="date"),
    },
}

# --- lag (2026:1600) and lag (2026:1637): the decisions their frister need (docs/law-2027.md) ---
#: Events added for the LVU -> 2026:1600 switch of 2027-01-01 and for 2026:1637. Old histories
#: never contain them, so every frist they start is new; ``lvu_*`` types above keep their shape.
LVU2027_EVENT_TYPES: dict[str, dict[str, FieldSpec]] = {
    "lvu_omhandertagande_faststallt": {"beslut_id": _opt()},
    "lvu_laga_kraft": {"beslut_id": _opt(), "avser": _opt("dom", "fortsatt_tillfallig_vard")},
    "lvu_fortsatt_tillfallig_vard_beslutad": {"beslut_id": _opt()},
    "lvu_fortsatt_tillfallig_vard_ansokt": {"beslut_id": _opt()},
    "lvu_ordforandebeslut_anmalt": {"beslut_id": _opt(), "forbud_id": _opt()},
    # 6 kap. 1 § placement; its legal date is the day the placement began (9 kap. 1 §, E9)
    "lvu_placering_paborjad": {
        "placering_id": _req(),
        "placering": _req(*LVU_PLACERINGAR),
        "beslut_id": _opt(),
        **_PLACEMENT_FIELDS,
        "belopp_per_dygn": _opt(kind="number"),
    },
    "lvu_vardnadsoverflyttning_overvagd": {"placering_id": _req(), "slutsats": _opt()},
    "lvu_forbud_beslutat": {
        "forbud_id": _req(),
        "forbud": _req(*LVU_FORBUD),
        "tillfalligt": _opt(kind="bool"),
        "ordforandebeslut": _opt(kind="bool"),
    },
    "lvu_forbud_understallt": {"forbud_id": _req()},
    "lvu_forbud_faststallt": {"forbud_id": _req()},
    "lvu_forbud_ansokt": {"forbud_id": _req()},
    "lvu_forbud_overvagt": {"forbud_id": _req(), "slutsats": _opt()},
    "lvu_forbud_undantag_beslutat": {"forbud_id": _req(), "till": _req(kind="date")},
    "lvu_forbud_upphort": {"forbud_id": _req()},
    "lvu_umgangesbegransning_beslutad": {
        "begransning_id": _req(),
        "slag": _req("umgange", "hemlighallande"),
    },
    "lvu_umgangesbegransning_provad": {"begransning_id": _req(), "slutsats": _opt()},
    "lvu_umgangesbegransning_upphort": {"begransning_id": _req()},
    "lvu_drogtest_beslutat": {
        "avser": _req("umgange", "upphorande", "sarskilt_villkor"),
        "provtyp": _req("blod", "urin", "utandning", "saliv", "svett", "har"),
        "syfte": _req(),
    },
    "lvu_lakarundersokning_beslutad": {"beslutad_av": _opt("namnden", "ratten")},
    "lvu_lakarundersokning_genomford": {},
    "lvu_offentligt_bitrade_behov": {"avser": _opt("barnet", "vardnadshavare", "foralder")},
    "lvu_offentligt_bitrade_anmalt": {},
    "lvu_forebyggande_insats_beslutad": {
        "insats_id": _req(),
        "insats": _req("kontaktperson", "behandling_oppna_former"),
    },
    "lvu_forebyggande_insats_provad": {"insats_id": _req(), "slutsats": _opt()},
    "lvu_forebyggande_insats_upphort": {"insats_id": _req()},
    # lag (2026:1637) om insatser inom socialtjänsten när samtycke saknas (from 2027-01-02)
    "insats_utan_samtycke_beslutad": {
        "insats_id": _req(),
        "avser": _req("vardnadshavare", "barn"),
        "giltig_till": _req(kind="date"),
        "sarskilda_villkor": _opt(kind="bool"),
        "bostadsvillkor": _opt(kind="bool"),
        "delegat": _opt(kind="delegat"),
    },
    "sarskild_genomforandeplan_upprattad": {"insats_id": _req()},
    "insats_utan_samtycke_overvagd": {"insats_id": _req(), "slutsats": _opt()},
    "insats_utan_samtycke_upphort": {"insats_id": _req()},
}
EVENT_TYPES.update(LVU2027_EVENT_TYPES)

# --- a placement's home, its move and the notifications that follow it (issue 15, part A) -----
#: Why Försäkringskassan is told of a placement (POL-FK-GENAST): it began, moved, or the child
#: came home.
FK_ANLEDNINGAR = ("placering", "flytt", "aterkomst")
PLACEMENT_EVENT_TYPES: dict[str, dict[str, FieldSpec]] = {
    # omplacering: a running placement (SoL by beslut_id, LVU by placering_id) moves to hem_id
    "placering_flyttad": {
        "hem_id": _req(kind="hem_id"),
        "beslut_id": _opt(),
        "placering_id": _opt(),
        "belopp_per_dygn": _opt(kind="number"),
        "hem_undantag_skal": _opt(),
        "hem_undantag_beslutat_av": _opt(kind="delegat"),
        "vistelsekommun": _opt(kind="kommunkod"),
    },
    "forsakringskassan_underrattad": {"anledning": _req(*FK_ANLEDNINGAR)},
    "vistelsekommun_underrattad": {"vistelsekommun": _req(kind="kommunkod")},
}
EVENT_TYPES.update(PLACEMENT_EVENT_TYPES)

# --- delegation on every decision (issue 14; docs/delegationsordning.md, "Decision codes") ---
#: The types that record a decision of the nämnd or of someone it delegated to: each may name
#: its ``delegat`` (default: the actor) and is judged against the kommun's delegationsordning in
#: force on its legal date (``domain.decisions`` gives each its decision code). Court decisions
#: (``lvu_dom``, a förbud the court decides …) and steps that carry out a decision are not here.
DECISION_EVENT_TYPES = frozenset(
    {
        "forhandsbedomning_beslutad",
        "forhandsbedomning_forlangd",
        "utredning_forlangd",
        "beslut_fattat",
        "beslut_avslutat",
        "overvagande_genomfort",
        "vardnadsoverflyttning_overvagd",
        "lvu_omhandertagande_beslutat",
        "lvu_ansokan_inlamnad",
        "lvu_vard_upphort",
        "lvu_fortsatt_tillfallig_vard_ansokt",
        "lvu_placering_paborjad",
        "lvu_vardnadsoverflyttning_overvagd",
        "lvu_forbud_beslutat",
        "lvu_forbud_ansokt",
        "lvu_forbud_overvagt",
        "lvu_forbud_undantag_beslutat",
        "lvu_forbud_upphort",
        "lvu_umgangesbegransning_beslutad",
        "lvu_umgangesbegransning_provad",
        "lvu_umgangesbegransning_upphort",
        "lvu_drogtest_beslutat",
        "lvu_lakarundersokning_beslutad",
        "lvu_forebyggande_insats_beslutad",
        "lvu_forebyggande_insats_provad",
        "lvu_forebyggande_insats_upphort",
        "insats_utan_samtycke_beslutad",
        "insats_utan_samtycke_overvagd",
        "insats_utan_samtycke_upphort",
    }
)
for _etype in sorted(DECISION_EVENT_TYPES):
    EVENT_TYPES[_etype].setdefault("delegat", _opt(kind="delegat"))
#: An ordförandebeslut on a placement (LVU 11 § tredje st.; 2026:1600 6 kap. 2 §) is reported
#: by its placering_id (rule E18).
EVENT_TYPES["lvu_ordforandebeslut_anmalt"]["placering_id"] = _opt()
#: The envelope field barnflow sets on a decision it records: the judgement against the
#: delegationsordning (``domain.decisions.DelegationRecord``). Never sent by a calling system.
DELEGATION_FIELD = "delegation"


# --- appeals and omprövning (förvaltningslagen 2017:900 33-48 §§; SoL 2025:400 35 kap.) ----------
#: The outcomes of an överklagande at the court: the beslut stands (``avslag``, ``avvisat``,
#: ``avskrivet``) or does not stand as made (``bifall``, wholly or partly; ``aterforvisat``).
OVERKLAGANDE_UTFALL = ("avslag", "bifall", "aterforvisat", "avvisat", "avskrivet")
#: FL 45 § second st.: a late överklagande is not avvisat when the authority's appeal
#: instructions were wrong (1) or it reached the court within the period (2).
RATTID_UNDANTAG = ("felaktig_hanvisning", "inkom_till_overinstans")
#: Events of an överklagande's way through the kommun and the court (docs/domain.md §4.7).
APPEAL_EVENT_TYPES: dict[str, dict[str, FieldSpec]] = {
    # FL 33 §: the party was told of the beslut (delgivning); FL 44 §'s three weeks run from it
    # ``part`` is the party's role label in the calling system (vardnadshavare_1, barnet, ombud),
    # never a name: a label kind refuses free text (docs/domain.md §4.7)
    "beslut_delgivet": {"beslut_id": _req(), "part": _opt(kind="label")},
    "overklagande_mottaget": {
        "overklagande_id": _req(),
        "beslut_id": _req(),
        "part": _opt(kind="label"),
    },
    "rattidsprovning_gjord": {
        "overklagande_id": _req(),
        "i_tid": _req(kind="bool"),
        "undantag": _opt(*RATTID_UNDANTAG),
    },
    "omprovning_gjord": {
        "overklagande_id": _req(),
        "utfall": _req("andrat", "oandrat"),
        "nytt_beslut_id": _opt(),
    },
    "overklagande_overlamnat": {"overklagande_id": _req()},
    "overklagande_aterkallat": {"overklagande_id": _req()},
    "inhibition_beslutad": {"overklagande_id": _req()},
    "overklagande_avgjort": {"overklagande_id": _req(), "utfall": _req(*OVERKLAGANDE_UTFALL)},
}
EVENT_TYPES.update(APPEAL_EVENT_TYPES)

# --- transfer of an ärende between kommuner (SoL 2025:400 29 kap. 9-12 §§; old 2 a kap. 10-12) ---
#: The sending kommun's record of the transfer: its written request, the receiving kommun's
#: answer, and the application to IVO and its decision when they do not agree.
TRANSFER_EVENT_TYPES: dict[str, dict[str, FieldSpec]] = {
    "overflyttning_begard": {"till_kommun": _req()},
    "overflyttning_besvarad": {
        "svar": _req("accepterad", "avslagen"),
        "tar_over_utredning": _opt(kind="bool"),
    },
    "overflyttning_ivo_ansokan": {},
    "overflyttning_ivo_beslut": {"utfall": _req("bifall", "avslag")},
    # written by barnflow in the receiving kommun's stream after the copy (activities/transfer.py)
    "arende_mottaget": {"fran_kommun": _req()},
}
EVENT_TYPES.update(TRANSFER_EVENT_TYPES)

# --- the placed child (issue #15 B; docs/law.md §3 D1-D11, V1-V3) ---------------------------------
#: How an avvikning ended: found, came back by itself, or ended otherwise (turned 18, moved
#: abroad, the case moved); the yearly statistic counts each.
AVVIKNING_UTFALL = ("aterfunnen", "atervand", "annat")
#: What the nämnd records while a child is placed (SoL 2025:400 9 kap. 12 §, 22 kap. 7-12 §§;
#: SoL 2001:453 6 kap. 7-7 c §§, 11 kap. 3-3 a §§) and when a placed child goes missing. Old
#: histories never contain them, so every frist they start or meet is new.
CARE_EVENT_TYPES: dict[str, dict[str, FieldSpec]] = {
    # the vårdplan or genomförandeplan agreed with (signed by) the vårdnadshavare / the young
    # person: kommun policy D1A
    "placeringsplan_godkand": {
        "plan": _req("vardplan", "genomforandeplan"),
        "beslut_id": _opt(),
    },
    # the socialsekreterare responsible for the child (22 kap. 12 §): a staff id, never a name
    "socialsekreterare_utsedd": {"socialsekreterare_id": _req(), "beslut_id": _opt()},
    # a personal visit where the child is placed (22 kap. 11 § 1-2, 12 § andra st.)
    "barnet_besokt": {"enskilt_samtal": _req(kind="bool"), "beslut_id": _opt()},
    "skolgang_kartlagd": {"beslut_id": _opt()},
    "umgange_planerat": {"beslut_id": _opt()},
    # utslussning and eftervård planned before the placement ends (D11V)
    "utslussning_planerad": {"beslut_id": _opt()},
    # the child went missing from the placement (avvikning) and what followed
    "avvikning_anmald": {
        "avvikning_id": _req(),
        "beslut_id": _opt(),
        "ensamkommande": _opt(kind="bool"),
    },
    "avvikning_polis_underrattad": {"avvikning_id": _req()},
    "avvikning_migrationsverket_underrattat": {"avvikning_id": _req()},
    "avvikning_lvu_bedomning_gjord": {
        "avvikning_id": _req(),
        "slutsats": _req("omhandertagande", "ej_omhandertagande", "vard_pagar"),
    },
    "avvikning_avslutad": {"avvikning_id": _req(), "utfall": _req(*AVVIKNING_UTFALL)},
}
EVENT_TYPES.update(CARE_EVENT_TYPES)
#: An ensamkommande child (lag 2005:429): Migrationsverket is told of an avvikning (V2).
for _etype in ("anmalan_mottagen", "ansokan_mottagen", "identitet_uppdaterad"):
    EVENT_TYPES[_etype]["ensamkommande"] = _opt(kind="bool")
#: The hälsoundersökning request (22 kap. 7 §) may record that the nämnd found it obehövligt.
EVENT_TYPES["halsoundersokning_begard"]["obehovlig"] = _opt(kind="bool")
#: A placement beslut that continues another past the child's 18th birthday (D11).
EVENT_TYPES["beslut_fattat"]["fortsatter_beslut_id"] = _opt()

# --- gallring (issue 16; docs/law.md §10): the record of a crypto-shredding run -----------------
#: Written by ``barnflow gallring run --apply`` once per case and key bucket it destroyed: which
#: class, under which rule and paragraph, by which gallringsbeslut, and the destroyed key's id.
GALLRING_EVENT_TYPES: dict[str, dict[str, FieldSpec]] = {
    "gallring_verkstalld": {
        "klass": _req("placering", "utredning", "personakt", "identitet"),
        "regel": _req(),
        "paragraf": _req(),
        "gallringsbeslut": _req(),
        "nyckel": _req(kind="key_ids"),
        # the identity key's run also destroys the child's workflow keys (Temporal payloads)
        "temporal_nyckel": _opt(kind="key_ids"),
    },
}
EVENT_TYPES.update(GALLRING_EVENT_TYPES)

# --- skyddade personuppgifter (issue 16 item 5; domain/protection.py, docs/law.md §12) -------
#: Skatteverket's measures the nämnd records for the child or another person of the case.
SKYDD_SLAG = ("sekretessmarkering", "skyddad_folkbokforing", "kvarskrivning")
#: The nämnd's registration that it knows of a measure, and that it ended: ``person`` is a role
#: label (``barnet`` by default, e.g. ``vardnadshavare_1``), never a name. Not decisions
#: (POL-SKYDD-REGISTRERING): no ``delegat``.
SKYDD_EVENT_TYPES: dict[str, dict[str, FieldSpec]] = {
    "skydd_markerat": {"skydd": _req(*SKYDD_SLAG), "person": _opt(kind="label")},
    "skydd_upphort": {"skydd": _req(*SKYDD_SLAG), "person": _opt(kind="label")},
}
EVENT_TYPES.update(SKYDD_EVENT_TYPES)

#: Types only barnflow itself writes (timers; the transfer's marker in the receiving stream; a
#: gallring run's record); a calling system may not send them, and they start or meet no frist.
SYSTEM_TYPES = frozenset(
    {"frist_overskriden", "evb_rapporteringsskyldighet_uppstod", "larm_aterkallat"}
    | {"arende_mottaget"}
    | set(GALLRING_EVENT_TYPES)
)
#: Types that open a case.
OPENING_TYPES = frozenset({"anmalan_mottagen", "ansokan_mottagen"})
ENVELOPE_FIELDS = frozenset(
    {
        "kommun",
        "case_ref",
        "type",
        "occurred_at",
        "actor",
        "idempotency_key",
        "data",
        # added by barnflow; accepted on import of an export and ignored for validation
        "case_id",
        "position",
        "recorded_at",
        "digest",
        DELEGATION_FIELD,
    }
)


@dataclass(frozen=True)
class Actor:
    """Who did it: the handläggare's id in the calling system and their role."""

    id: str
    roll: str


@dataclass(frozen=True)
class CaseEvent:
    """One validated event of a child's case (docs/domain.md §4).

    ``occurred_at`` is legal time (what the law counts from); ``recorded_at`` is system time (when
    barnflow learned of it). Both are kept so an auditor can ask what was known when.
    """

    kommun: str
    case_ref: str
    type: str
    occurred_at: datetime
    actor: Actor
    idempotency_key: str
    data: dict[str, Any] = field(default_factory=dict)
    case_id: str | None = None
    position: int | None = None
    recorded_at: datetime | None = None
    #: The stream's hash-chain link over this event (domain.aggregate.stream_digest).
    digest: str | None = None
    #: barnflow's judgement of a decision against the kommun's delegationsordning, set when it
    #: was recorded (``DELEGATION_FIELD``); ``None`` for other events and for decisions stored
    #: before judgements were recorded.
    delegation: dict[str, Any] | None = None

    @property
    def legal_date(self) -> date:
        """The calendar date in Europe/Stockholm the law counts from.

        Cached on the instance, outside the dataclass fields (equality, ``replace`` and payloads
        are unchanged): the fold, the frister and the views ask for it many times per event.
        """
        try:
            return self.__dict__["_legal_date"]  # type: ignore[no-any-return]
        except KeyError:
            day = self.__dict__["_legal_date"] = legal_date(self.occurred_at)
            return day

    def to_json(self) -> dict[str, Any]:
        """The docs/domain.md §4 line (plus barnflow's fields when known)."""
        out: dict[str, Any] = {
            "kommun": self.kommun,
            "case_ref": self.case_ref,
            "type": self.type,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": {"id": self.actor.id, "roll": self.actor.roll},
            "idempotency_key": self.idempotency_key,
            "data": self.data,
        }
        if self.case_id is not None:
            out["case_id"] = self.case_id
        store_fields_json(out, self.position, self.recorded_at, self.digest)
        if self.delegation is not None:
            out[DELEGATION_FIELD] = self.delegation
        return out

    def redacted(self) -> CaseEvent:
        """A copy without the child's personnummer/temporary id (kön and birth date stay).

        The workflow keeps only redacted events in its state: the process needs dates and ids,
        never the identity.
        """
        barn = self.data.get("barn")
        if not isinstance(barn, dict):
            return self
        kept = {k: v for k, v in barn.items() if k not in ("personnummer", "tillfalligt_id")}
        for kind in ("personnummer", "tillfalligt_id"):
            if barn.get(kind) is not None:
                kept["identitet"] = kind  # which kind, never which value (P-IDENTITY needs it)
        return replace(self, data={**self.data, "barn": kept})


def _text(value: object, where: str, *, max_len: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EventValidationError(where, "must be a non-empty string")
    if len(value) > max_len:
        raise EventValidationError(where, f"longer than {max_len} characters")
    return value


def parse_datetime(value: object, where: str) -> datetime:
    """An ISO 8601 timestamp with an explicit UTC offset (a naive time has no legal date)."""
    return _moment(value, where)[0]


def _moment(value: object, where: str) -> tuple[datetime, date]:
    """``parse_datetime`` with the legal date it checked (``parse_event`` needs it too: one
    ``legal_date`` per line, not two, in a bulk import)."""
    text = _text(value, where, max_len=64)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise EventValidationError(where, f"not an ISO 8601 timestamp: {text!r}") from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise EventValidationError(where, "timestamp needs a UTC offset, e.g. +01:00")
    try:
        day = _in_range(legal_date(parsed), where)
    except OverflowError as exc:  # e.g. 0001-01-01T00:30+23:59 has no Stockholm date
        raise EventValidationError(where, f"outside {MIN_YEAR}-{MAX_YEAR}: {text!r}") from exc
    return parsed, day


def parse_date(value: object, where: str) -> date:
    text = _text(value, where, max_len=32)
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise EventValidationError(where, f"not an ISO date (YYYY-MM-DD): {text!r}") from exc
    return _in_range(day, where)


def _in_range(day: date, where: str) -> date:
    """Legal dates stay where deadline arithmetic cannot overflow (found by tests/fuzz)."""
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise EventValidationError(where, f"year must be between {MIN_YEAR} and {MAX_YEAR}")
    return day


def _barn(value: object, where: str, reference: date) -> dict[str, Any]:
    """The child: ``reference`` (the event's legal date) resolves a 10-digit personnummer's
    century, so parsing never reads the clock and gives the same answer at every replay."""
    if not isinstance(value, Mapping):
        raise EventValidationError(where, "must be an object")
    allowed = {"personnummer", "tillfalligt_id", "kon", "fodelsedatum"}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise EventValidationError(f"{where}.{unknown[0]}", "unknown field")
    out: dict[str, Any] = {}
    has_pnr = value.get("personnummer") is not None
    has_tmp = value.get("tillfalligt_id") is not None
    if has_pnr == has_tmp:
        raise EventValidationError(where, "give exactly one of personnummer or tillfalligt_id")
    key = "personnummer" if has_pnr else "tillfalligt_id"
    raw = _text(value[key], f"{where}.{key}", max_len=64)
    try:
        ident = parse_child_identifier(raw, today=reference)
    except InvalidIdentity as exc:
        raise EventValidationError(f"{where}.{key}", str(exc)) from exc
    if has_pnr and ident.kind == "tillfalligt_id":
        raise EventValidationError(f"{where}.personnummer", "is a temporary id, not a personnummer")
    if has_tmp and ident.kind != "tillfalligt_id":
        raise EventValidationError(f"{where}.tillfalligt_id", "looks like a personnummer")
    out[key] = ident.canonical
    kon = value.get("kon")
    if kon not in KON:
        raise EventValidationError(f"{where}.kon", f"must be one of {', '.join(KON)}")
    out["kon"] = kon
    born = value.get("fodelsedatum")
    if born is not None:
        out["fodelsedatum"] = parse_date(born, f"{where}.fodelsedatum").isoformat()
    elif ident.birth_date is not None:
        out["fodelsedatum"] = ident.birth_date.isoformat()
    return out


def _delegat(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise EventValidationError(where, "must be an object with id and roll")
    unknown = sorted(set(value) - {"id", "roll"})
    if unknown:
        raise EventValidationError(f"{where}.{unknown[0]}", "unknown field")
    return {
        "id": _text(value.get("id"), f"{where}.id", max_len=128),
        "roll": _text(value.get("roll"), f"{where}.roll", max_len=64),
    }


def parse_kvartal(value: object, where: str = "data.kvartal") -> str:
    """The one parser of a quarter: every accepted spelling to the canonical ``2026Q3``.

    Accepts ``2026Q3``, ``2026-Q3``, ``2026 Q3``, ``2026q3``, ``Q3 2026``, ``Q3-2026`` (any case,
    "-" and white space ignored: the union of what the C4 rule and the EVB report each accepted
    before, so stored events read the same); anything else is an
    ``EventValidationError`` naming the field, in Swedish and English.
    """
    text = _text(value, where, max_len=32)
    raw = re.sub(r"[-\s]", "", text).upper()
    for form in _KVARTAL_FORMS:
        m = form.match(raw)
        if m:
            return f"{m.group('y')}Q{m.group('q')}"
    raise EventValidationError(
        where,
        f"okänt kvartal {text!r}, ange t.ex. 2026Q3 / "
        f"unknown quarter {text!r}, expected e.g. 2026Q3",
    )


def parse_lvu_utfall(value: object, where: str = "data.utfall") -> str:
    """The one parser of an lvu_dom's outcome: accepted spellings to one of ``LVU_UTFALL``."""
    text = _text(value, where, max_len=64)
    canonical = LVU_UTFALL_SPELLINGS.get(text.lower())
    if canonical is None:
        raise EventValidationError(
            where,
            f"okänt utfall {text!r}, ange ett av {', '.join(LVU_UTFALL)} / unknown outcome "
            f"{text!r}, expected one of {', '.join(LVU_UTFALL)}",
        )
    return canonical


def stored_kvartal(value: object) -> str | None:
    """A stored event's quarter through ``parse_kvartal``; ``None`` for a spelling it refuses.

    Events stored before the field was canonical keep their spelling in the store (the hash
    chain covers them); the engine reads them through this, so they fold and report as before.
    """
    try:
        return parse_kvartal(value)
    except EventValidationError:
        return None


def lvu_care_ordered(value: object) -> bool:
    """Whether a stored lvu_dom's ``utfall`` means the court ordered care.

    Read through ``parse_lvu_utfall``; a stored spelling it refuses (from before the field was
    canonical) keeps its old meaning: anything not a known refusal (``LVU_REJECTED``) was a bifall.
    """
    try:
        return parse_lvu_utfall(value) == "bifall"
    except EventValidationError:
        return str(value).lower() not in LVU_REJECTED


_HEM_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def parse_hem_id(value: object, where: str = "data.hem_id") -> str:
    """A home's id (``domain.homes``): a short code of letters, digits and ``_.:-``, never a
    name, so it may appear in a placement event that the workflow keeps."""
    text = _text(value, where, max_len=64)
    if not _HEM_ID_RE.match(text):
        raise EventValidationError(where, "must be 1-64 letters, digits or _.:- (a code)")
    return text


def parse_kommunkod(value: object, where: str) -> str:
    """A kommun's 4-digit kommunkod (the vistelsekommun of a placement, HEM10)."""
    text = _text(value, where, max_len=4)
    if not KOMMUN_RE.match(text):
        raise EventValidationError(where, "must be a 4-digit kommunkod")
    return text


_CANONICAL = {
    "kvartal": parse_kvartal,
    "lvu_utfall": parse_lvu_utfall,
    "hem_id": parse_hem_id,
    "kommunkod": parse_kommunkod,
}


def _value(
    spec: FieldSpec, value: object, where: str, reference: date, *, legacy_values: bool = False
) -> Any:
    canonical = None if legacy_values else _CANONICAL.get(spec.kind)
    if canonical is not None:
        return canonical(value, where)
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise EventValidationError(where, "must be true or false")
        return value
    if spec.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise EventValidationError(where, "must be a non-negative number")
        return value
    if spec.kind == "date":
        return parse_date(value, where).isoformat()
    if spec.kind == "barn":
        return _barn(value, where, reference)
    if spec.kind == "delegat":
        return _delegat(value, where)
    text = _text(value, where)
    if spec.choices is not None and text not in spec.choices:
        raise EventValidationError(where, f"must be one of {', '.join(spec.choices)}")
    if spec.kind == "key_ids":
        if not _KEY_IDS_RE.fullmatch(text):
            raise EventValidationError(
                where, "must be key ids: hex digits with an optional prefix, comma-separated"
            )
        return text  # generated by barnflow, not free text: no identity check (see _KEY_IDS_RE)
    if spec.kind == "label" and not _LABEL_RE.fullmatch(text):
        raise EventValidationError(
            where, "must be a role label such as vardnadshavare_1 (a-z, 0-9, _), never a name"
        )
    if spec.choices is None and contains_identity_number(text):
        raise EventValidationError(
            where,
            "must not contain a personnummer or samordningsnummer (free text reaches reports "
            "and workflow history; the child is identified only by data.barn)",
        )
    return text


def parse_actor(value: object) -> Actor:
    """The envelope's ``actor`` (id and roll), shared by every stream's lines."""
    if not isinstance(value, Mapping):
        raise EventValidationError("actor", "must be an object with id and roll")
    unknown = sorted(set(value) - {"id", "roll"})
    if unknown:
        raise EventValidationError(f"actor.{unknown[0]}", "unknown field")
    return Actor(
        _text(value.get("id"), "actor.id", max_len=128),
        _text(value.get("roll"), "actor.roll", max_len=64),
    )


def parse_data(
    value: object,
    spec: Mapping[str, FieldSpec],
    etype: str,
    reference: date,
    *,
    legacy_values: bool = False,
) -> dict[str, Any]:
    """An event's ``data`` checked against its type's field specs (shared by every stream).

    ``reference`` is the event's legal date: relative checks (a 10-digit personnummer's century,
    plausible dates) are made against it, so every entry point and a replay give one answer.
    """
    if not isinstance(value, Mapping):
        raise EventValidationError("data", "must be an object")
    unknown = sorted(set(value) - set(spec))
    if unknown:
        raise EventValidationError(f"data.{unknown[0]}", f"unknown field for {etype}")
    data: dict[str, Any] = {}
    for name, fspec in spec.items():
        raw = value.get(name)
        if raw is None:
            if fspec.required:
                raise EventValidationError(f"data.{name}", f"required for {etype}")
            continue
        data[name] = _value(fspec, raw, f"data.{name}", reference, legacy_values=legacy_values)
    return data


def store_fields_json(
    out: dict[str, Any], position: int | None, recorded_at: datetime | None, digest: str | None
) -> dict[str, Any]:
    """Add the fields the store gave a line (position, recorded_at, digest) when known."""
    if position is not None:
        out["position"] = position
    if recorded_at is not None:
        out["recorded_at"] = recorded_at.isoformat()
    if digest is not None:
        out["digest"] = digest
    return out


def parse_event(
    obj: object, *, allow_system: bool = False, legacy_values: bool = False
) -> CaseEvent:
    """Validate one docs/domain.md §4 line (already JSON-decoded) into a ``CaseEvent``.

    Raises ``EventValidationError`` naming the first bad field. System types (timers' events) are
    refused unless ``allow_system`` (import of an export, the workflow's own appends). The century
    of a 10-digit personnummer is resolved against the event's legal date (``occurred_at``), not
    the clock: the workflow's validator calls this, and every entry point gets the same answer.

    ``legacy_values`` keeps canonical fields (``kvartal``, ``lvu_dom.utfall``) as sent, as before
    they were canonical: for a workflow replaying a command accepted by the older code (to be
    chosen with ``workflow.patched`` in the command handler), never for a new command.
    """
    if not isinstance(obj, Mapping):
        raise EventValidationError("$", "an event must be a JSON object")
    unknown = sorted(set(obj) - ENVELOPE_FIELDS)
    if unknown:
        raise EventValidationError(unknown[0], "unknown field")
    kommun = _text(obj.get("kommun"), "kommun", max_len=4)
    if not KOMMUN_RE.match(kommun):
        raise EventValidationError("kommun", "must be a 4-digit kommunkod")
    case_ref = _text(obj.get("case_ref"), "case_ref", max_len=128)
    etype = _text(obj.get("type"), "type", max_len=64)
    spec = EVENT_TYPES.get(etype)
    if spec is None:
        close = closest(etype, EVENT_TYPES)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise EventValidationError("type", f"unknown event type {etype!r}{hint}")
    if etype in SYSTEM_TYPES and not allow_system:
        raise EventValidationError("type", f"{etype} is written by barnflow only")
    # a 10-digit personnummer's century comes from the legal date, never the clock
    occurred_at, day = _moment(obj.get("occurred_at"), "occurred_at")
    actor = parse_actor(obj.get("actor"))
    key = _text(obj.get("idempotency_key"), "idempotency_key", max_len=200)
    data = parse_data(obj.get("data", {}), spec, etype, day, legacy_values=legacy_values)
    position = obj.get("position")
    recorded_raw = obj.get("recorded_at")
    case_id = obj.get("case_id")
    judged = obj.get(DELEGATION_FIELD)
    if judged is not None and not isinstance(judged, Mapping):
        raise EventValidationError(DELEGATION_FIELD, "must be an object")
    ev = CaseEvent(
        kommun=kommun,
        case_ref=case_ref,
        type=etype,
        occurred_at=occurred_at,
        actor=actor,
        idempotency_key=key,
        data=data,
        case_id=case_id if isinstance(case_id, str) else None,
        position=position if isinstance(position, int) and not isinstance(position, bool) else None,
        recorded_at=parse_datetime(recorded_raw, "recorded_at") if recorded_raw else None,
        delegation=None if judged is None else dict(judged),
    )
    ev.__dict__["_legal_date"] = day  # ``CaseEvent.legal_date``'s cache, known already
    return ev


#: ``event_from_json``'s parses by text: an ``occurred_at`` text and its (datetime, legal date),
#: an actor's (id, roll) and its ``Actor``. Both are immutable, so events may share them; a
#: rebuild meets the same few thousand texts and handläggare over and over. Emptied when full
#: (16,384 texts, about 4 MB: a worker meets a new text with nearly every command).
_OCCURRED: dict[str, tuple[datetime, date]] = {}
_ACTORS: dict[tuple[str, str], Actor] = {}
_PARSE_CACHE_SIZE = 16_384


def _occurred(text: str) -> tuple[datetime, date]:
    """``occurred_at``'s datetime and legal date from its stored text (cached by the text: the
    same text is the same instant, so the same Stockholm date: a dict lookup by text costs a
    fraction of the parse and of ``legal_date``'s cache, keyed by aware datetimes)."""
    found = _OCCURRED.get(text)
    if found is None:
        if len(_OCCURRED) >= _PARSE_CACHE_SIZE:
            _OCCURRED.clear()
        moment = datetime.fromisoformat(text)
        found = _OCCURRED[text] = (moment, legal_date(moment))
    return found


def _actor(ident: str, roll: str) -> Actor:
    key = (ident, roll)
    found = _ACTORS.get(key)
    if found is None:
        if len(_ACTORS) >= _PARSE_CACHE_SIZE:
            _ACTORS.clear()
        found = _ACTORS[key] = Actor(ident, roll)
    return found


def event_from_json(obj: Mapping[str, Any]) -> CaseEvent:
    """Rebuild an event barnflow itself stored (already validated once; no re-validation).

    Fills the instance directly instead of through the frozen dataclass ``__init__`` (one
    ``object.__setattr__`` per field): a rebuild constructs every stored event, and this is the
    same object, field for field, with its legal date (``CaseEvent.legal_date``) known.
    """
    actor = obj["actor"]
    recorded = obj.get("recorded_at")
    occurred, day = _occurred(obj["occurred_at"])
    ev = object.__new__(CaseEvent)
    ev.__dict__.update(
        kommun=obj["kommun"],
        case_ref=obj["case_ref"],
        type=obj["type"],
        occurred_at=occurred,
        actor=_actor(actor["id"], actor["roll"]),
        idempotency_key=obj["idempotency_key"],
        data=dict(obj.get("data") or {}),
        case_id=obj.get("case_id"),
        position=obj.get("position"),
        recorded_at=datetime.fromisoformat(recorded) if recorded else None,
        digest=obj.get("digest"),
        delegation=obj.get(DELEGATION_FIELD),
        _legal_date=day,
    )
    return ev


# --- delegation on every decision (issue 14) -------------------------------------------------


def is_ordforandebeslut(ev: CaseEvent) -> bool:
    """Whether ``ev`` is a decision the nämnd's ordförande took in its place (to be reported at
    the next sammanträde): the event says so (``ordforandebeslut: true``) or its judgement
    against the delegationsordning found the ordförande as its delegat."""
    judged = ev.delegation or {}
    return ev.data.get("ordforandebeslut") is True or judged.get("ordforandebeslut") is True
