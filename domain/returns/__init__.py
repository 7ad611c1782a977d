"""Socialstyrelsen's yearly return on children in care (förordning 1981:1370; HSLF-FS 2016:3):
one rule set per reporting year, the records of a case, the validator and the file layouts.

``RULE_SETS`` is keyed by reporting year; a year's module is never edited once its return is
handed in (a new year gets a new module), so the file of an earlier year can always be made
again exactly as it was (tests/golden pins 2025).
"""

from __future__ import annotations

from domain.returns import year_2025, year_2026
from domain.returns.model import Finding, Record, RuleSet

__all__ = ["RULE_SETS", "Finding", "Record", "RuleSet", "UnknownReturnYear", "rule_set"]

RULE_SETS: dict[int, RuleSet] = {r.year: r for r in (year_2025.RULES, year_2026.RULES)}


class UnknownReturnYear(ValueError):
    """No rule set for the reporting year asked (the message lists the years there are)."""


def rule_set(year: int) -> RuleSet:
    """The rule set of reporting ``year``; ``UnknownReturnYear`` when there is none."""
    try:
        return RULE_SETS[year]
    except KeyError:
        years = ", ".join(str(y) for y in sorted(RULE_SETS))
        raise UnknownReturnYear(
            f"no rule set for reporting year {year} (rule sets: {years})"
        ) from None
