"""The words of the event contract: what each event type and data field means, in the Swedish
legal term and in English, and an example value for each field.

``domain.events`` is the one definition of the types and their fields (kinds, enums, required);
this module only explains them, keyed by type and field name, so the OpenAPI document
(``infra.api.contract``) can describe every event without a second copy of the field lists.
``missing_docs`` names every type or field the events define and this module does not explain:
the drift test (tests/api/test_contract.py) fails with exactly that list, so a new event type is
documented where it is added.
"""

from __future__ import annotations

from typing import Any

from domain.events import EVENT_TYPES, FieldSpec
from domain.homes import HOME_EVENT_TYPES
from domain.kvalitet import KVALITET_EVENT_TYPES

#: Each event type: "Swedish term — English meaning".
TYPE_DOCS: dict[str, str] = {
    # intake
    "anmalan_mottagen": "Anmälan mottagen — a report of concern about a child was received "
    "(opens the case)",
    "ansokan_mottagen": "Ansökan mottagen — an application for support was received "
    "(opens the case)",
    "skyddsbedomning_gjord": "Skyddsbedömning gjord — the immediate protection assessment of an "
    "anmälan was made",
    "forhandsbedomning_beslutad": "Förhandsbedömning beslutad — the decision whether to open an "
    "utredning (investigation) on an anmälan",
    "forhandsbedomning_forlangd": "Förhandsbedömning förlängd — the preliminary assessment was "
    "extended to a new last day",
    # utredning
    "utredning_inledd": "Utredning inledd — an investigation was opened",
    "utredning_forlangd": "Utredning förlängd — the investigation's time limit was extended",
    "barnet_hort": "Barnet hört — the child was heard (its views were sought)",
    "barnet_ej_hort": "Barnet ej hört — the child was not heard, with the reason",
    "barnenkat_erbjuden": "Barnenkät erbjuden — the child was offered the questionnaire",
    "utredning_avslutad": "Utredning avslutad — the investigation was closed with an outcome",
    # beslut / insats
    "beslut_fattat": "Beslut fattat — a decision on an insats (intervention) or a refusal",
    "insats_verkstalld": "Insats verkställd — the decided insats was carried out (started)",
    "verkstallighet_avbruten": "Verkställighet avbruten — carrying out the insats was interrupted",
    "verkstallighet_aterupptagen": "Verkställighet återupptagen — carrying out the insats was "
    "resumed",
    "beslut_avslutat": "Beslut avslutat — the decision's insats was ended",
    "evb_skal_angivet": "Skäl för ej verkställt beslut angivet — the reason a decision is not "
    "yet carried out was recorded (EVB)",
    "evb_rapporterad": "EVB rapporterad — a not-carried-out decision was reported to IVO for a "
    "quarter",
    # placement / LVU
    "vardplan_upprattad": "Vårdplan upprättad — the care plan of a placement was drawn up",
    "genomforandeplan_upprattad": "Genomförandeplan upprättad — the implementation plan was "
    "drawn up",
    "halsoundersokning_begard": "Hälsoundersökning begärd — a health examination of the placed "
    "child was requested",
    "overvagande_genomfort": "Övervägande genomfört — the periodic review of a placement was made",
    "vardplan_reviderad": "Vårdplan reviderad — the care plan was revised",
    "vardnadsoverflyttning_overvagd": "Vårdnadsöverflyttning övervägd — a transfer of custody "
    "was considered",
    "lvu_omhandertagande_beslutat": "Omedelbart omhändertagande beslutat (LVU) — an immediate "
    "taking into care under compulsory care law was decided",
    "lvu_omhandertagande_verkstallt": "Omhändertagande verkställt (LVU) — the immediate taking "
    "into care was carried out",
    "lvu_understalld": "Omhändertagandet underställt (LVU) — the immediate taking into care was "
    "submitted to the administrative court",
    "lvu_ansokan_inlamnad": "Ansökan om vård enligt LVU inlämnad — the application for "
    "compulsory care was filed with the court",
    "lvu_dom": "Dom i LVU-mål — the court's judgment on compulsory care",
    "lvu_vard_upphort": "Vård enligt LVU upphört — compulsory care ended",
    # follow-up / case
    "uppfoljning_inledd": "Uppföljning inledd — a follow-up was opened",
    "uppfoljning_avslutad": "Uppföljning avslutad — the follow-up was closed",
    "insats_uppfoljd": "Insats uppföljd — an insats was followed up",
    "klagomal_mottaget": "Klagomål mottaget — a complaint was received",
    "klagomal_besvarat": "Klagomål besvarat — the complaint was answered",
    "anmalare_informerad": "Anmälare informerad — the reporter was told whether an "
    "investigation was opened",
    "identitet_uppdaterad": "Identitet uppdaterad — the child's identity was corrected or a "
    "temporary id replaced",
    "arende_overflyttat": "Ärende överflyttat — the case was moved to another kommun",
    "arende_avslutat": "Ärende avslutat — the case was closed",
    # system
    "frist_overskriden": "Frist överskriden — a legal time limit passed unmet (written by "
    "barnflow)",
    "evb_rapporteringsskyldighet_uppstod": "Rapporteringsskyldighet för ej verkställt beslut "
    "uppstod — the duty to report a not-carried-out decision to IVO arose (written by barnflow)",
    "larm_aterkallat": "Larm återkallat — an alert above was withdrawn: a fulfilment with an "
    "earlier legal date arrived later (written by barnflow)",
    # lag (2026:1600) and lag (2026:1637)
    "lvu_omhandertagande_faststallt": "Omhändertagande fastställt — the court confirmed the "
    "immediate taking into care",
    "lvu_laga_kraft": "Laga kraft — the judgment or decision became final",
    "lvu_fortsatt_tillfallig_vard_beslutad": "Fortsatt tillfällig vård beslutad — continued "
    "temporary care was decided",
    "lvu_fortsatt_tillfallig_vard_ansokt": "Fortsatt tillfällig vård ansökt — continued "
    "temporary care was applied for",
    "lvu_ordforandebeslut_anmalt": "Ordförandebeslut anmält — a decision the chair took in the "
    "nämnd's place was reported to the nämnd",
    "lvu_placering_paborjad": "Placering påbörjad — a placement of a child in care began",
    "lvu_vardnadsoverflyttning_overvagd": "Vårdnadsöverflyttning övervägd (placering) — a "
    "transfer of custody was considered for a placement",
    "lvu_forbud_beslutat": "Förbud beslutat — a prohibition (moving or travel abroad) was decided",
    "lvu_forbud_understallt": "Förbud underställt — the prohibition was submitted to the court",
    "lvu_forbud_faststallt": "Förbud fastställt — the court confirmed the prohibition",
    "lvu_forbud_ansokt": "Förbud ansökt — a prohibition was applied for at the court",
    "lvu_forbud_overvagt": "Förbud övervägt — the prohibition was reviewed",
    "lvu_forbud_undantag_beslutat": "Undantag från förbud beslutat — an exception from the "
    "prohibition was decided until a date",
    "lvu_forbud_upphort": "Förbud upphört — the prohibition ended",
    "lvu_umgangesbegransning_beslutad": "Umgängesbegränsning beslutad — a restriction of contact "
    "(or keeping the whereabouts secret) was decided",
    "lvu_umgangesbegransning_provad": "Umgängesbegränsning prövad — the restriction was reviewed",
    "lvu_umgangesbegransning_upphort": "Umgängesbegränsning upphört — the restriction ended",
    "lvu_drogtest_beslutat": "Drogtest beslutat — a drug test of the child was decided",
    "lvu_lakarundersokning_beslutad": "Läkarundersökning beslutad — a medical examination was "
    "decided",
    "lvu_lakarundersokning_genomford": "Läkarundersökning genomförd — the medical examination "
    "was made",
    "lvu_offentligt_bitrade_behov": "Behov av offentligt biträde — a need for a public counsel "
    "was found",
    "lvu_offentligt_bitrade_anmalt": "Offentligt biträde anmält — the need for a public counsel "
    "was reported to the court",
    "lvu_forebyggande_insats_beslutad": "Förebyggande insats beslutad — a preventive insats "
    "without consent was decided",
    "lvu_forebyggande_insats_provad": "Förebyggande insats prövad — the preventive insats was "
    "reviewed",
    "lvu_forebyggande_insats_upphort": "Förebyggande insats upphört — the preventive insats ended",
    "insats_utan_samtycke_beslutad": "Insats utan samtycke beslutad — an insats without consent "
    "(lag 2026:1637) was decided, valid until a date",
    "sarskild_genomforandeplan_upprattad": "Särskild genomförandeplan upprättad — the special "
    "implementation plan of an insats without consent was drawn up",
    "insats_utan_samtycke_overvagd": "Insats utan samtycke övervägd — the insats without consent "
    "was reviewed",
    "insats_utan_samtycke_upphort": "Insats utan samtycke upphört — the insats without consent "
    "ended",
    # appeals
    "beslut_delgivet": "Beslut delgivet — a party was notified of the decision (the appeal "
    "period runs from this)",
    "overklagande_mottaget": "Överklagande mottaget — an appeal of a decision was received",
    "rattidsprovning_gjord": "Rättidsprövning gjord — whether the appeal came in time was examined",
    "omprovning_gjord": "Omprövning gjord — the kommun reconsidered its decision",
    "overklagande_overlamnat": "Överklagande överlämnat — the appeal was passed on to the court",
    "overklagande_aterkallat": "Överklagande återkallat — the appeal was withdrawn",
    "inhibition_beslutad": "Inhibition beslutad — the court stayed the decision",
    "overklagande_avgjort": "Överklagande avgjort — the court decided the appeal",
    # transfer
    "overflyttning_begard": "Överflyttning begärd — a transfer of the case to another kommun "
    "was requested",
    "overflyttning_besvarad": "Överflyttning besvarad — the receiving kommun answered",
    "overflyttning_ivo_ansokan": "Ansökan till IVO om överflyttning — IVO was asked to decide "
    "the transfer",
    "overflyttning_ivo_beslut": "IVO:s beslut om överflyttning — IVO decided the transfer",
    "arende_mottaget": "Ärende mottaget — the receiving kommun's record of a transferred case "
    "(written by barnflow)",
    # the placed child
    "placeringsplan_godkand": "Placeringsplan godkänd — the vårdplan or genomförandeplan was "
    "agreed with the vårdnadshavare or the young person",
    "socialsekreterare_utsedd": "Socialsekreterare utsedd — the social worker responsible for "
    "the placed child was appointed (a staff id, never a name)",
    "barnet_besokt": "Barnet besökt — a personal visit to the child where it is placed",
    "skolgang_kartlagd": "Skolgång kartlagd — the placed child's schooling was mapped",
    "umgange_planerat": "Umgänge planerat — contact with parents and relatives was planned",
    "utslussning_planerad": "Utslussning planerad — leaving care and aftercare were planned "
    "before the placement ends",
    "avvikning_anmald": "Avvikning anmäld — the child went missing from the placement",
    "avvikning_polis_underrattad": "Polisen underrättad — the police were told of the avvikning",
    "avvikning_migrationsverket_underrattat": "Migrationsverket underrättat — Migrationsverket "
    "was told of an ensamkommande child's avvikning",
    "avvikning_lvu_bedomning_gjord": "LVU-bedömning gjord — whether the missing child needs "
    "compulsory care was assessed",
    "avvikning_avslutad": "Avvikning avslutad — the avvikning ended",
    # homes
    "placering_flyttad": "Placering flyttad — a running placement moved to another home "
    "(omplacering; it keeps its kind)",
    "forsakringskassan_underrattad": "Försäkringskassan underrättad — Försäkringskassan was "
    "told of a placement, a move or a return home",
    "vistelsekommun_underrattad": "Vistelsekommun underrättad — the kommun the home lies in was "
    "told of the placement",
    # gallring
    "gallring_verkstalld": "Gallring verkställd — a class of the case's records was destroyed "
    "under a gallringsbeslut (written by barnflow)",
    # skyddade personuppgifter
    "skydd_markerat": "Skydd markerat — Skatteverket's protection of a person in the case "
    "(sekretessmarkering, skyddad folkbokföring, kvarskrivning) is registered; the case's content "
    "then reaches only the roles the kommun names",
    "skydd_upphort": "Skydd upphört — a registered protection of a person in the case has ended",
    # a home's own stream (POST /homes/commands; docs/domain.md §4.11)
    "hem_registrerat": "Hem registrerat — a familjehem, jourhem, HVB or stödboende is entered in "
    "the nämnd's register of homes",
    "familjehemsutredning_avslutad": "Familjehemsutredning avslutad — the utredning of a "
    "familjehem or jourhem is finished, approved or not",
    "registerkontroll_gjord": "Registerkontroll gjord — one register (belastnings-, "
    "misstanke- or socialtjänstens register) was read for the home",
    "medgivande_lamnat": "Medgivande lämnat — the nämnd consented to a child being received "
    "in the home",
    "hem_avtal_tecknat": "Avtal tecknat — an avtal with a konsulentstött familjehem, for a period",
    "hem_avslutat": "Hem avslutat — the home leaves the register",
    # complaints and lex Sarah, flows of their own (docs/domain.md §4.12)
    "klagomal_inkommet": "Klagomål inkommet — a synpunkt, klagomål or beröm came in from a "
    "child, a vårdnadshavare or anyone (starts KL1)",
    "klagomal_atgard": "Åtgärd beslutad — an åtgärd decided because of the complaint",
    "klagomal_aterkopplat": "Återkopplat — the sender was answered; the complaint is closed "
    "(meets KL1)",
    "lex_sarah_rapporterad": "Lex Sarah-rapport — a missförhållande or a påtaglig risk for one "
    "was reported to the nämnd (starts LS1, LS2)",
    "lex_sarah_utredning_startad": "Utredning påbörjad — the rapport's utredning began (meets LS1)",
    "lex_sarah_bedomd": "Bedömd — the utredning judged whether it is an allvarligt "
    "missförhållande (meets LS2; starts LS3 if so)",
    "lex_sarah_anmald_ivo": "Anmäld till IVO — the allvarligt missförhållande was reported to "
    "IVO with the utredning (meets LS3)",
    "lex_sarah_avslutad": "Avslutad — the rapport's handling is closed",
}

#: Each data field name, the same meaning in every type: "Swedish term — English meaning".
FIELD_DOCS: dict[str, str] = {
    "anmalan_id": "Anmälans id — the anmälan's id in the calling system",
    "ansokan_id": "Ansökans id — the application's id in the calling system",
    "utredning_id": "Utrednings id — the investigation's id",
    "fortsatter_utredning_id": "Fortsätter utredning — the id of the investigation this one "
    "continues",
    "beslut_id": "Beslutets id — the decision's id in the calling system",
    "nytt_beslut_id": "Nytt beslut — the id of the decision that replaced the reconsidered one",
    "uppfoljning_id": "Uppföljningens id — the follow-up's id",
    "klagomal_id": "Klagomålets id — the complaint's id",
    "placering_id": "Placeringens id — the placement's id",
    "forbud_id": "Förbudets id — the prohibition's id",
    "begransning_id": "Begränsningens id — the restriction's id",
    "insats_id": "Insatsens id — the insats' id",
    "overklagande_id": "Överklagandets id — the appeal's id",
    "barn": "Barnet — the child: exactly one of personnummer or tillfalligt_id, kön and "
    "optionally the birth date",
    "anmalare_kategori": "Anmälarens kategori — who reported (e.g. skola, polis, anhorig)",
    "skyddad_anmalare": "Skyddad anmälare — the reporter's identity is protected",
    "anmalare_begart_information": "Anmälaren begär information — the reporter asked to be told "
    "whether an utredning is opened",
    "enhet": "Enhet — the unit (team) handling the case; unit-bound callers see only their units",
    "handlaggare": "Handläggare — the caseworker's id in the calling system (no name)",
    "sokande": "Sökande — who applied (e.g. vardnadshavare, barnet)",
    "omedelbart_skydd": "Omedelbart skydd — the child needs immediate protection",
    "beslut": "Beslut — the outcome of the preliminary assessment",
    "ny_slutdag": "Ny slutdag — the new last day of the extended time limit",
    "skal": "Skäl — the reason (free text; no names or personnummer)",
    "moment": "Moment — the step of the case the hearing belongs to (e.g. utredning, beslut)",
    "satt": "Sätt — how the child was heard (e.g. samtal, hembesok)",
    "lagrum": "Lagrum — the paragraph the decision rests on, e.g. 'SoL 11:1' (the new SoL "
    "2025:400 from 2025-07-01)",
    "beslutstyp": "Beslutstyp — the kind of decision (e.g. insats, avslag), matched against the "
    "delegationsordning",
    "insats": "Insats — the kind of intervention",
    "gynnande": "Gynnande — the decision is in the child's favour (only these can be 'ej "
    "verkställda')",
    "delegat": "Delegat — who made the decision (id and role); default: the actor",
    "belopp_per_dygn": "Belopp per dygn — cost per day in SEK",
    "orsak": "Orsak — why it ended",
    "erbjudet": "Erbjudet — what was offered instead (free text)",
    "kvartal": "Kvartal — the reporting quarter, canonical form 2026Q3 (2026-Q3, Q3 2026 … are "
    "accepted)",
    "rapport": "Rapport — the kind of report to IVO",
    "slutsats": "Slutsats — the conclusion of the review (free text)",
    "grund": "Grund — the ground",
    "ordforandebeslut": "Ordförandebeslut — the chair decided in the nämnd's place",
    "lakarundersokning_obehovlig": "Läkarundersökning obehövlig — no medical examination, for "
    "special reasons",
    "utfall": "Utfall — the outcome",
    "paragraf": "Paragraf — the LVU paragraph(s) the judgment rests on",
    "barnet_hort": "Barnet hört — the child was heard in the follow-up",
    "till_kommun": "Till kommun — the receiving kommun's 4-digit code",
    "fran_kommun": "Från kommun — the sending kommun's 4-digit code",
    "frist": "Frist — the time limit's key (e.g. A1:<anmalan_id>)",
    "regel": "Regel — the rule id of the time limit (docs/rules.md)",
    "due": "Förfallodag — the last day of the time limit",
    "larm_typ": "Larmtyp — the type of the withdrawn alert",
    "larm_position": "Larmets position — the feed position of the withdrawn alert",
    "uppfylld_position": "Uppfylld position — the position of the event that met the time limit",
    "uppfylld_datum": "Uppfylld datum — the legal date it was met",
    "avser": "Avser — what or whom it concerns",
    "placering": "Placering — where the child is placed",
    "forbud": "Förbud — the kind of prohibition",
    "tillfalligt": "Tillfälligt — a temporary prohibition",
    "till": "Till — the last day of the exception",
    "slag": "Slag — the kind of restriction",
    "provtyp": "Provtyp — the kind of sample",
    "syfte": "Syfte — the purpose of the test (free text)",
    "beslutad_av": "Beslutad av — who decided (the nämnd or the court)",
    "giltig_till": "Giltig till — the last day the decision is valid",
    "sarskilda_villkor": "Särskilda villkor — special conditions were set",
    "bostadsvillkor": "Bostadsvillkor — a housing condition was set",
    "part": "Part — the party (e.g. vardnadshavare, barnet)",
    "skydd": "Skydd — Skatteverket's measure: sekretessmarkering, skyddad folkbokföring or "
    "kvarskrivning",
    "hemtyp": "Hemtyp — familjehem, jourhem, HVB or stödboende",
    "konsulentstott": "Konsulentstött — the familjehem is supported by a private konsulent",
    "belagen_i_kommun": "Belägen i kommun — the kommunkod the home lies in, when not the nämnd's",
    "register": "Register — which register was read",
    "anmarkning": "Anmärkning — the register held something about the home",
    "medgivande_id": "Medgivande — the calling system's id of the medgivande",
    "avtal_id": "Avtal — the calling system's id of the avtal",
    "fran": "Från — the first day the avtal runs",
    "person": "Person — the protected person's role label in the case (default barnet), "
    "never a name",
    "i_tid": "I tid — the appeal came in time",
    "undantag": "Undantag — why a late appeal is still examined",
    "svar": "Svar — the receiving kommun's answer",
    "tar_over_utredning": "Tar över utredning — the receiving kommun takes over the investigation",
    "ensamkommande": "Ensamkommande — an unaccompanied minor (Migrationsverket is told of an "
    "avvikning)",
    "avvikning_id": "Avvikningens id — the avvikning's id",
    "enskilt_samtal": "Enskilt samtal — the child was spoken with alone at the visit",
    "fortsatter_beslut_id": "Fortsätter beslut — the placement beslut this one continues past "
    "the child's 18th birthday",
    "gallringsbeslut": "Gallringsbeslut — the reference of the decision to destroy",
    "klass": "Klass — the class of records destroyed",
    "nyckel": "Nyckel — the id of the destroyed key (crypto-shredding)",
    "temporal_nyckel": "Temporal-nyckel — the ids of the child's workflow keys destroyed with "
    "the identity key (Temporal payloads; comma-separated)",
    "obehovlig": "Obehövlig — the nämnd found the health examination unnecessary",
    "plan": "Plan — which plan was agreed",
    "anledning": "Anledning — why Försäkringskassan was told",
    "hem_id": "Hemmets id — the home (familjehem, HVB …) in barnflow's register of homes",
    "hem_undantag_skal": "Skäl för undantag — why the placement is made despite the home's "
    "check (free text; no names or personnummer)",
    "hem_undantag_beslutat_av": "Undantag beslutat av — who decided the exception (id and role)",
    "sarskilda_skal": "Särskilda skäl — the special reasons for a stödboende placement",
    "vistelsekommun": "Vistelsekommun — the kommunkod of the kommun the home lies in",
    "socialsekreterare_id": "Socialsekreterare — the responsible social worker's staff id "
    "(never a name)",
}

#: The fields of the complaints' and lex Sarah flows (docs/domain.md §4.12).
FIELD_DOCS.update(
    {
        "avsandare": "Avsändare — who sent the complaint, as a category (never a name)",
        "kategori": "Kategori — what the complaint is about",
        "kanal": "Kanal — how it came in or was answered",
        "beskrivning": "Beskrivning — free text (no personnummer)",
        "atgard": "Åtgärd — the kind of åtgärd decided",
        "kommentar": "Kommentar — free text (no personnummer)",
        "rapportor": "Rapportör — the role of who reported (a label, never a name)",
        "utredare": "Utredare — the role of who investigates (a label)",
        "allvarligt": "Allvarligt — an allvarligt missförhållande or a påtaglig risk for one",
        "avhjalpt": "Avhjälpt — the missförhållande has been remedied",
        "motivering": "Motivering — why the bedömning came out so (no personnummer)",
        "utredning_bifogad": "Utredning bifogad — the utredning is attached to the anmälan",
        "ivo_diarienummer": "IVO:s diarienummer — IVO's reference of the anmälan",
    }
)

#: Where a field's meaning depends on the type: (type, field) -> description.
TYPE_FIELD_DOCS: dict[tuple[str, str], str] = {
    ("utredning_inledd", "grund"): "Grund — what the investigation was opened on",
    ("uppfoljning_inledd", "grund"): "Grund — why the follow-up was opened (free text label)",
    ("lvu_omhandertagande_beslutat", "grund"): "Grund — the LVU ground: hem (the home), "
    "eget_beteende (the child's own behaviour), anknytning (attachment)",
    ("lvu_ansokan_inlamnad", "grund"): "Grund — the LVU ground applied for",
    ("lvu_dom", "grund"): "Grund — the LVU ground of the judgment",
    ("lvu_dom", "utfall"): "Utfall — the judgment: bifall (care ordered), avslag, avvisat, "
    "avskrivet (older spellings such as bifallet are accepted and stored canonical)",
    ("utredning_avslutad", "utfall"): "Utfall — what the investigation led to",
    ("omprovning_gjord", "utfall"): "Utfall — the decision was changed (andrat) or not (oandrat)",
    ("overklagande_avgjort", "utfall"): "Utfall — the court's outcome",
    ("overflyttning_ivo_beslut", "utfall"): "Utfall — IVO ordered the transfer (bifall) or not",
    ("beslut_fattat", "insats"): "Insats — the kind of intervention decided",
    ("lvu_forebyggande_insats_beslutad", "insats"): "Insats — the preventive insats",
    ("avvikning_lvu_bedomning_gjord", "slutsats"): "Slutsats — what the assessment found",
    ("avvikning_avslutad", "utfall"): "Utfall — how the avvikning ended: found, came back, other",
    ("gallring_verkstalld", "regel"): "Regel — the gallring rule applied (docs/law.md)",
    ("gallring_verkstalld", "paragraf"): "Paragraf — the paragraph the gallring rests on",
    ("hem_avtal_tecknat", "till"): "Till — the last day the avtal runs",
    ("medgivande_lamnat", "case_ref"): "Ärendereferens — the case of the child the medgivande "
    "is for, when known",
    ("klagomal_inkommet", "slag"): "Slag — klagomål, synpunkt or beröm",
    ("klagomal_inkommet", "case_ref"): "Ärendereferens — the case the complaint concerns, if any",
    ("klagomal_aterkopplat", "utfall"): "Utfall — whether the complaint was founded",
    ("lex_sarah_rapporterad", "avser"): "Avser — a missförhållande or a påtaglig risk for one",
    ("lex_sarah_rapporterad", "case_ref"): "Ärendereferens — the case the rapport concerns, if any",
}

#: An example value of each field whose kind or enum does not give one.
FIELD_EXAMPLES: dict[str, Any] = {
    "anmalan_id": "ANM-2026-0117",
    "ansokan_id": "ANS-2026-0042",
    "utredning_id": "UTR-2026-0088",
    "fortsatter_utredning_id": "UTR-2026-0051",
    "beslut_id": "BES-2026-0203",
    "nytt_beslut_id": "BES-2026-0219",
    "uppfoljning_id": "UPP-2026-0007",
    "klagomal_id": "KLA-2026-0003",
    "placering_id": "PLA-2026-0011",
    "forbud_id": "FOR-2026-0002",
    "begransning_id": "BEG-2026-0004",
    "insats_id": "INS-2026-0009",
    "overklagande_id": "OVK-2026-0005",
    "barn": {"personnummer": "201203142383", "kon": "flicka"},
    "anmalare_kategori": "skola",
    "enhet": "barn-och-unga-nord",
    "handlaggare": "hl-4711",
    "sokande": "vardnadshavare",
    "ny_slutdag": "2026-04-30",
    "skal": "barnets vårdnadshavare har inte kunnat nås",
    "moment": "utredning",
    "satt": "samtal",
    "lagrum": "SoL 11:1",
    "beslutstyp": "insats",
    "delegat": {"id": "hl-4711", "roll": "sektionschef"},
    "belopp_per_dygn": 1450,
    "orsak": "mal_uppnatt",
    "erbjudet": "kontaktfamilj i väntan på kontaktperson",
    "kvartal": "2026Q3",
    "slutsats": "vården behövs fortfarande",
    "grund": "oro_efter_insats",
    "till_kommun": "0180",
    "fran_kommun": "1280",
    "frist": "A1:ANM-2026-0117",
    "regel": "A1",
    "due": "2026-03-16",
    "larm_position": 4711,
    "uppfylld_position": 4712,
    "uppfylld_datum": "2026-03-13",
    "till": "2026-08-15",
    "syfte": "kontroll inför umgänge",
    "giltig_till": "2027-07-01",
    "part": "vardnadshavare",
    "person": "barnet",
    "belagen_i_kommun": "0180",
    "medgivande_id": "MED-2026-0007",
    "avtal_id": "AVT-2026-0031",
    "fran": "2026-09-01",
    "avvikning_id": "AVV-2026-0003",
    "fortsatter_beslut_id": "BES-2025-0412",
    "gallringsbeslut": "GB-2026-01",
    "nyckel": "k-7f3a9c",
    "temporal_nyckel": "wk-3c9e1f0a7b2d4e65",
    "socialsekreterare_id": "ss-1042",
    "hem_id": "HEM-1280-0042",
    "hem_undantag_skal": "akut placering i väntan på registerkontroll",
    "hem_undantag_beslutat_av": {"id": "hl-4711", "roll": "sektionschef"},
    "sarskilda_skal": "den unges behov av stöd i eget boende",
    "vistelsekommun": "0180",
}

#: Where a type needs its own example value: (type, field) -> value.
TYPE_FIELD_EXAMPLES: dict[tuple[str, str], Any] = {
    ("utredning_inledd", "grund"): "anmalan",
    ("lvu_dom", "utfall"): "bifall",
    # an LVU decision's id is a row of the beslut view next to the SoL beslut's (its own id)
    ("lvu_omhandertagande_beslutat", "beslut_id"): "LVU-2026-0014",
    ("gallring_verkstalld", "regel"): "G-PERSONAKT",
    ("gallring_verkstalld", "paragraf"): "SoL 16:1",
    ("hem_avtal_tecknat", "till"): "2027-08-31",
    ("medgivande_lamnat", "case_ref"): "VS-2026-00417",
    ("klagomal_inkommet", "case_ref"): "VS-2026-00417",
    ("lex_sarah_rapporterad", "case_ref"): "VS-2026-00417",
    ("klagomal_inkommet", "enhet"): "barn-ost",
    ("lex_sarah_rapporterad", "enhet"): "hvb-norr",
    ("klagomal_inkommet", "beskrivning"): "Barnet upplevde att ingen lyssnade på mötet.",
    ("klagomal_atgard", "beskrivning"): "Samtal med handläggaren och enhetschefen.",
    ("lex_sarah_rapporterad", "beskrivning"): "Tillsynen nattetid brast två nätter i rad.",
    ("klagomal_aterkopplat", "kommentar"): "Återkopplat per telefon.",
    ("lex_sarah_avslutad", "kommentar"): "Åtgärderna följs upp i egenkontrollen.",
    ("lex_sarah_rapporterad", "rapportor"): "behandlingsassistent",
    ("lex_sarah_utredning_startad", "utredare"): "kvalitetsutvecklare",
    ("lex_sarah_bedomd", "motivering"): "Upprepad brist som kunde skada den unge.",
    ("lex_sarah_anmald_ivo", "ivo_diarienummer"): "3.5.1-12345-2026",
}

_BOOL_EXAMPLE = True


def field_doc(etype: str, name: str) -> str | None:
    """The description of ``name`` in ``etype`` (the type's own first), or None if missing."""
    return TYPE_FIELD_DOCS.get((etype, name)) or FIELD_DOCS.get(name)


def field_example(etype: str, name: str, spec: FieldSpec) -> Any:
    """An example value of ``name`` in ``etype``; ``KeyError`` when none is known.

    An enum field's example is its first choice and a boolean's is ``true`` unless this module
    names a better one.
    """
    if (etype, name) in TYPE_FIELD_EXAMPLES:
        return TYPE_FIELD_EXAMPLES[(etype, name)]
    if spec.choices is not None:
        return spec.choices[0]
    if spec.kind == "bool":
        return _BOOL_EXAMPLE
    return FIELD_EXAMPLES[name]


def example_data(etype: str) -> dict[str, Any]:
    """An example ``data`` of ``etype`` (a case's or a home's type) with every field."""
    spec = {**HOME_EVENT_TYPES, **KVALITET_EVENT_TYPES, **EVENT_TYPES}[etype]
    return {name: field_example(etype, name, f) for name, f in spec.items()}


def missing_docs() -> list[str]:
    """Every event type and ``type.field`` without a description or an example, sorted.

    Empty when the contract is fully documented; the drift test prints this list.
    """
    missing: list[str] = []
    for etype, spec in (
        *EVENT_TYPES.items(),
        *HOME_EVENT_TYPES.items(),
        *KVALITET_EVENT_TYPES.items(),
    ):
        if etype not in TYPE_DOCS:
            missing.append(f"{etype}: no description in TYPE_DOCS")
        for name, fspec in spec.items():
            if field_doc(etype, name) is None:
                missing.append(f"{etype}.{name}: no description in FIELD_DOCS")
            try:
                field_example(etype, name, fspec)
            except KeyError:
                missing.append(f"{etype}.{name}: no example in FIELD_EXAMPLES")
    return sorted(missing)
