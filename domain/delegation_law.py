"""Decisions the law lets a socialnämnd delegate only to an utskott: never to an official.

SoL 2025:400 30 kap. 6 § (vård i familjehem and jourhem, övervägande, vårdnadsöverflyttning …)
and 7 § (the LVU decisions) say the nämnd "får endast delegera beslutanderätten till ett
utskott"; before 2025-07-01 SoL 2001:453 10 kap. 4 § said the same ("endast åt en särskild
avdelning som består av ledamöter eller ersättare i nämnden"). A kommun's delegationsordning
cannot change that, so these decisions are refused for an official whatever its file says, with
the paragraph named. The ordförande may decide only where the statute gives the kompletterande
beslutanderätt (LVU 6 § andra st., 11 § tredje st., 27 § andra st., 31 d § andra st.; from
2027-01-01 lag 2026:1600 5 kap. 3 §, 6 kap. 2 §, 12 kap. 7 §, 13 kap. 7 §).

From 2027-01-01 the LVU points are read for lag 2026:1600 (policy POL-DELEG-2027): the SoL
2025:400 text in the corpus (amended through 2026-01-15) still lists LVU paragraphs in 30:7, and
lag 2026:1600 ÖB 3 makes a decision under a repealed LVU paragraph one under the corresponding
new provision (docs/law-2027.md). Lag 2026:1637 (insatser utan samtycke) sets limits that are
not in the corpus: none are applied (noted in docs/law.md).

Pure: the update validator and the importer judge with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from domain.delegation import normalize_lagrum
from domain.rules import LVU_NEW_FROM, NEW_SOL_FROM

__all__ = ["LIMITS", "StatutoryLimit", "limit_for", "ordforande_right"]


@dataclass(frozen=True)
class StatutoryLimit:
    """One decision the law reserves to the nämnd or its utskott.

    ``new`` is the point of SoL 2025:400 30 kap. (6 § or 7 §), ``old`` the paragraphs of SoL
    2001:453 10 kap. 4 § first stycke it lists (or LVU's), ``ordforande`` the paragraph giving
    the chair the kompletterande beslutanderätt, if any.
    """

    what: str
    new: str
    old: str
    ordforande: str | None = None
    ordforande_2027: str | None = None

    def paragraph(self, day: date) -> str:
        """The paragraph that forbids delegating the decision to an official on ``day``."""
        if day < NEW_SOL_FROM:
            return f"SoL 2001:453 10 kap. 4 § ({self.old})"
        if day >= LVU_NEW_FROM and self.new.startswith("30 kap. 7 §"):
            return f"SoL 2025:400 {self.new}, läst för lag 2026:1600 (POL-DELEG-2027)"
        return f"SoL 2025:400 {self.new}"

    def ordforande_paragraph(self, day: date) -> str | None:
        """Where the statute lets the ordförande decide in the nämnd's place (``None``: nowhere)."""
        if day >= LVU_NEW_FROM and self.ordforande_2027 is not None:
            return f"lag 2026:1600 {self.ordforande_2027}"
        return None if self.ordforande is None else f"LVU {self.ordforande}"


def _lvu(what: str, point: int, lvu: str, **kw: str) -> StatutoryLimit:
    return StatutoryLimit(what, f"30 kap. 7 § {point}", f"LVU {lvu}", **kw)


#: Decision code → the limit. A ``beslut_fattat`` is matched by its ``beslutstyp`` when that is
#: one of these codes, by its insats (familjehem, jourhem) and by its lagrum (``limit_for``).
LIMITS: Final[dict[str, StatutoryLimit]] = {
    "vard_i_familjehem": StatutoryLimit(
        "vård i familjehem eller jourhem", "30 kap. 6 § 1", "6 kap. 6 §"
    ),
    "overvagande": StatutoryLimit(
        "övervägande av fortsatt vård",
        "30 kap. 6 § 2 (SoL 22 kap. 13 §), 7 § 5 (LVU 13 §)",
        "6 kap. 8 §; LVU 13 §",
    ),
    "overvagande_vardnadsoverflyttning": StatutoryLimit(
        "övervägande av vårdnadsöverflyttning",
        "30 kap. 6 § 2 (SoL 22 kap. 14 §), 7 § 7 (LVU 13 c §)",
        "6 kap. 8 b §; LVU 13 c §",
    ),
    "ansokan_om_vard": _lvu("ansökan om vård", 1, "4 §"),
    "omedelbart_omhandertagande": _lvu(
        "omedelbart omhändertagande",
        2,
        "6 och 6 a §§",
        ordforande="6 § andra st.",
        ordforande_2027="5 kap. 3 §",
    ),
    "ansokan_fortsatt_tillfallig_vard": _lvu("ansökan om fortsatt omhändertagande", 3, "9 a §"),
    "placering": _lvu(
        "vårdens innehåll och utformning (placering)",
        4,
        "11 § första och andra st.",
        ordforande="11 § tredje st.",
        ordforande_2027="6 kap. 2 §",
    ),
    "umgangesbegransning": _lvu(
        "umgängesbegränsning och hemlighållande av vistelseort", 8, "14 § andra och tredje st."
    ),
    "provning_umgangesbegransning": _lvu(
        "övervägande av umgängesbegränsning", 8, "14 § tredje st."
    ),
    "upphorande_umgangesbegransning": _lvu("umgängesbegränsning", 8, "14 § andra st."),
    "upphorande_av_vard": _lvu("upphörande av vård", 9, "21 §"),
    "forebyggande_insats": _lvu("förebyggande insats", 10, "22 §"),
    "provning_forebyggande_insats": _lvu("prövning av förebyggande insats", 10, "22 §"),
    "upphorande_forebyggande_insats": _lvu("upphörande av förebyggande insats", 10, "22 §"),
    "ansokan_flyttningsforbud": _lvu("ansökan om flyttningsförbud", 11, "24 §"),
    "tillfalligt_flyttningsforbud": _lvu(
        "tillfälligt flyttningsförbud",
        11,
        "27 §",
        ordforande="27 § andra st.",
        ordforande_2027="12 kap. 7 §",
    ),
    "overvagande_flyttningsforbud": _lvu("övervägande av flyttningsförbud", 12, "26 §"),
    "upphorande_flyttningsforbud": _lvu("upphörande av flyttningsförbud", 12, "26 §"),
    "ansokan_utreseforbud": _lvu("utreseförbud", 14, "31 b §"),
    "tillfalligt_utreseforbud": _lvu(
        "tillfälligt utreseförbud",
        14,
        "31 d §",
        ordforande="31 d § andra st.",
        ordforande_2027="13 kap. 7 §",
    ),
    "provning_utreseforbud": _lvu("prövning av utreseförbud", 14, "31 c §"),
    "upphorande_utreseforbud": _lvu("upphörande av utreseförbud", 14, "31 c § andra st."),
    "undantag_utreseforbud": _lvu("tillfälligt undantag från utreseförbud", 14, "31 i §"),
    "drogtest": _lvu("provtagning inför umgänge eller upphörande", 15, "32 a och 32 b §§"),
}

#: LVU paragraphs (as a ``beslut_fattat`` lagrum cites them) → the decision code they stand for.
_LVU_PARAGRAPHS: Final[dict[str, str]] = {
    "4": "ansokan_om_vard",
    "6": "omedelbart_omhandertagande",
    "6 a": "omedelbart_omhandertagande",
    "9 a": "ansokan_fortsatt_tillfallig_vard",
    "11": "placering",
    "13": "overvagande",
    "13 c": "overvagande_vardnadsoverflyttning",
    "14": "umgangesbegransning",
    "21": "upphorande_av_vard",
    "22": "forebyggande_insats",
    "24": "ansokan_flyttningsforbud",
    "26": "overvagande_flyttningsforbud",
    "27": "tillfalligt_flyttningsforbud",
    "31": "umgangesbegransning",
    "31 b": "ansokan_utreseforbud",
    "31 c": "provning_utreseforbud",
    "31 d": "tillfalligt_utreseforbud",
    "31 i": "undantag_utreseforbud",
    "32 a": "drogtest",
    "32 b": "drogtest",
}
#: SoL paragraphs (kap, §) → code: SoL 2025:400 from 2025-07-01, SoL 2001:453 before.
_NEW_SOL: Final[dict[tuple[str, str], str]] = {
    ("22", "2"): "vard_i_familjehem",
    ("22", "4"): "vard_i_familjehem",
    ("22", "13"): "overvagande",
    ("22", "14"): "overvagande_vardnadsoverflyttning",
}
_OLD_SOL: Final[dict[tuple[str, str], str]] = {
    ("6", "6"): "vard_i_familjehem",
    ("6", "8"): "overvagande",
    ("6", "8 b"): "overvagande_vardnadsoverflyttning",
}
_LVU_RE: Final = re.compile(r"^lvu\s*(\d+)\s*([a-z])?\s*§")
_SOL_RE: Final = re.compile(r"^sol\s*(\d+)\s*(?::|kap\.?)\s*(\d+)\s*([a-z])?\b")
#: Insatser whose decision is "vård i ett familjehem, jourhem eller annat enskilt hem" (30:6 1).
_FAMILY_HOMES: Final = frozenset({"familjehem", "jourhem"})


def _lagrum_code(lagrum: str, day: date) -> str | None:
    key = normalize_lagrum(lagrum)
    m = _LVU_RE.match(key)
    if m:
        para = m.group(1) + (f" {m.group(2)}" if m.group(2) else "")
        return _LVU_PARAGRAPHS.get(para)
    m = _SOL_RE.match(key)
    if m:
        para = m.group(2) + (f" {m.group(3)}" if m.group(3) else "")
        table = _NEW_SOL if day >= NEW_SOL_FROM else _OLD_SOL
        return table.get((m.group(1), para))
    return None


def _covers(limit: StatutoryLimit, lagrum: str) -> bool:
    """Whether a code's limit can concern a decision under ``lagrum``: a 30:7 (LVU) limit an
    LVU or lag 2026:1600 decision, a 30:6 limit a SoL decision (a ``beslut_fattat`` names its
    ``beslutstyp`` freely, so "placering" under SoL 11:1 is not the LVU 11 § placement)."""
    lvu = normalize_lagrum(lagrum).startswith(("lvu", "lag 2026:1600", "2026:1600"))
    return "7 §" in limit.new if lvu else limit.new.startswith("30 kap. 6 §")


def limit_for(
    code: str, day: date, *, lagrum: str | None = None, insats: str | None = None
) -> StatutoryLimit | None:
    """The statutory limit on a decision with this code taken on ``day``, or ``None`` when the
    law lets the nämnd delegate it to an official. A ``beslut_fattat`` (which names its
    ``lagrum`` and ``insats``) is matched by its lagrum's paragraph, then by its insats
    (familjehem, jourhem), then by its code when the code's limit concerns the lagrum's act."""
    found = LIMITS.get(code)
    if lagrum is None:
        return found
    by_lagrum = _lagrum_code(lagrum, day)
    if by_lagrum is not None:
        return LIMITS[by_lagrum]
    if insats in _FAMILY_HOMES:
        return LIMITS["vard_i_familjehem"]
    return found if found is not None and _covers(found, lagrum) else None


def ordforande_right(limit: StatutoryLimit | None, day: date) -> str | None:
    """The paragraph giving the ordförande the right to take this decision, if any."""
    return None if limit is None else limit.ordforande_paragraph(day)
