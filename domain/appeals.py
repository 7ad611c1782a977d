"""The law of an överklagande that barnflow computes: the appellant's three weeks and whether a
beslut is one the social services' act lets the party appeal (docs/law.md §3 O1, §9).

Kept apart from the guards (``domain.case_appeals``) because the ``overklaganden`` report asks
the same questions: the guard that refuses an avvisning and the report that shows a handläggare
whether an appeal came in on time must count the period the same way.

- Förvaltningslagen (2017:900) 44 §: an överklagande must have come in to the beslutsmyndighet
  within three weeks of the day the appellant "fick del av beslutet". Weeks are counted by lag
  (1930:173) 1 §; the period is the party's, so 2 § moves a last day on a Saturday, Sunday or
  other helgdag to the next vardag (RÅ 1999 not 181).
- SoL 2025:400 35 kap. 1 § (old SoL 16 kap. 3 § for decisions made before 2025-07-01, ÖB 6 of
  2025:400) lists the nämnd's decisions that may be appealed to the förvaltningsdomstol
  (förvaltningsbesvär). Other decisions are not refused by barnflow: whether an appeal can be
  tried is for the court (FL 47 §), the report only says which kind the beslut is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from domain.calendar import next_vardag
from domain.rules import NEW_SOL_FROM, KommunPolicy, rule

#: SoL 2025:400 35 kap. 1 § 1-9: (kapitel, paragraf) of the decisions that may be appealed.
FORVALTNINGSBESVAR_NEW = frozenset(
    {
        ("11", "1"),
        ("12", "1"),
        ("12", "5"),
        ("18", "11"),
        ("22", "2"),
        ("24", "1"),
        ("24", "4"),
        ("24", "5"),
        ("29", "7"),
        *(("32", str(p)) for p in range(5, 11)),
    }
)
#: SoL 2001:453 16 kap. 3 § första st.: the same list in the old act's numbering.
FORVALTNINGSBESVAR_OLD = frozenset(
    {
        ("2 a", "8"),
        ("4", "1"),
        ("4", "5"),
        ("5", "2"),
        ("6", "6"),
        ("6", "12"),
        ("6", "13"),
        ("6", "14"),
        *(("8", str(p)) for p in range(4, 10)),
    }
)
#: "SoL 11:1", "SoL 4 kap. 1 §", "2 a kap. 8 §": a chapter (optionally with a letter) and a
#: paragraph. SFS numbers ("2025:400") are removed first so they are not read as chapter:§.
_SFS = re.compile(r"\b(?:19|20)\d{2}:\d+\b")
_KAP_PAR = re.compile(r"(\d+(?:\s?[a-z])?)\s*(?:kap\.?|:)\s*(\d+)", re.IGNORECASE)
_SOL = re.compile(r"\bsol\b|socialtj", re.IGNORECASE)


def overklagandetid(delgiven: date) -> date:
    """The last day an överklagande may come in when the appellant got the beslut on
    ``delgiven``: three weeks (FL 44 §, lag 1930:173 1 §), a non-vardag moved on (2 §)."""
    return next_vardag(rule("O1").due_from(delgiven))


def overlamnande_due(mottaget: date, policy: KommunPolicy) -> date:
    """O2: the day an överklagande that came in on ``mottaget`` is due at the court (FL 46 §
    "skyndsamt"; the days are the kommun's, POL-OVERKLAGANDE-OVERLAMNANDE) — the engine's
    arithmetic, for the report that lists appeals without folding their cases."""
    return rule("O2").due_from(mottaget, policy.overklagande_overlamnande_dagar)


def period_end(delgivningar: Iterable[tuple[str | None, date]], part: str | None) -> date | None:
    """The end of the period an appellant's överklagande is judged by (POL-OVERKLAGANDE-
    DELGIVNING): from the latest recorded delgivning to ``part``, without a part from the latest
    to anyone; ``None`` when none is recorded (the period has not begun: it is in time)."""
    days = [day for who, day in delgivningar if part is None or who == part]
    return overklagandetid(max(days)) if days else None


def forvaltningsbesvar(lagrum: str, fattat: date) -> bool | None:
    """Whether a beslut under ``lagrum`` is one SoL lets the party appeal to the court
    (35 kap. 1 §; old 16 kap. 3 § for a beslut made before 2025-07-01); ``None`` when the
    lagrum names no SoL chapter and paragraph barnflow can read (LVU, free text)."""
    if not _SOL.search(lagrum):
        return None
    found = [
        (re.sub(r"(\d+)\s?([a-z])", r"\1 \2", kap), par)
        for kap, par in _KAP_PAR.findall(_SFS.sub(" ", lagrum.lower()))
    ]
    if not found:
        return None
    listed = FORVALTNINGSBESVAR_NEW if fattat >= NEW_SOL_FROM else FORVALTNINGSBESVAR_OLD
    return any(pair in listed for pair in found)
