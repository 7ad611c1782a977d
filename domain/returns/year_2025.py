"""The rule set of the yearly return for reporting year 2025 (handed in early 2026).

Never edited once handed in: a later year gets its own module (``year_2026``), and
``tests/golden`` pins this year's output. What the variables and codes rest on, and what could
not be verified against the föreskrift, is in docs/law.md §13.
"""

from __future__ import annotations

from types import MappingProxyType

from domain.returns.model import RuleSet

RULES = RuleSet(
    year=2025,
    version="2025.1",
    foreskrift="SFS 1981:1370; HSLF-FS 2016:3 (ändrad genom HSLF-FS 2016:22)",
    variables=(
        "kommun",
        "barn_id",
        "id_typ",
        "kon",
        "insatstyp",
        "lagrum_form",
        "lagrum",
        "beslutsdatum",
        "start",
        "slut",
        "placeringsform",
        "omplaceringar",
        "ensamkommande",
        "vardnadshavare",
        "fodelseland",
    ),
    required=("kon", "fodelsedatum", "insatstyp", "start"),
    insatstyper=MappingProxyType(
        {
            "oppenvard": "oppenvard",
            "familjebehandling": "familjebehandling",
            "kontaktperson": "kontaktperson",
            "kontaktfamilj": "kontaktfamilj",
            "familjehem": "familjehem",
            "jourhem": "jourhem",
            "hvb": "hvb",
            "stodboende": "stodboende",
            "skyddat_boende": "skyddat_boende",
            "annan": "annan",
            # LVU placements name their form as the insats (lvu_placering_paborjad)
            "sarskilt_ungdomshem": "sarskilt_ungdomshem",
            "eget_hem": "eget_hem",
        }
    ),
    placeringsformer=MappingProxyType(
        {
            "familjehem": "familjehem",
            "jourhem": "jourhem",
            "hvb": "hvb",
            "stodboende": "stodboende",
            "skyddat_boende": "skyddat_boende",
            "sarskilt_ungdomshem": "sarskilt_ungdomshem",
            "eget_hem": "eget_hem",
        }
    ),
    ej_i_kontraktet=("vardnadshavare", "fodelseland"),
)
