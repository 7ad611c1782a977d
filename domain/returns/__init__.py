"""Socialstyrelsen's yearly return on children in care (förordning 1981:1370; HSLF-FS 2016:3):
one rule set per reporting year, the records of a case, the validator and the file layouts.

``RULE_SETS`` is keyed by reporting year; a year's module is never edited once its return is
handed in (a new year gets a new module), so the file of an earlier year can always be made
again exactly as it was (tests/golden pins 2025).
"""

from __future__ import annotations

from dataclasses import replace

from domain.returns import year_2025, year_2026
from domain.returns.model import Finding, Record, RuleSet

__all__ = [
    "RULE_SETS",
    "Finding",
    "Record",
    "RuleSet",
    "UnknownReturnYear",
    "own_rule_set",
    "rule_set",
]

RULE_SETS: dict[int, RuleSet] = {r.year: r for r in (year_2025.RULES, year_2026.RULES)}


class UnknownReturnYear(ValueError):
    """No rule set for the reporting year asked (the message lists the years there are)."""


def rule_set(year: int) -> RuleSet:
    """The rule set of reporting ``year``. A year after the latest module is read with the
    latest rule set, marked ``harledd_fran`` (the report and the validator work in a new year
    before its module is written; the file does not). A year before the first is
    ``UnknownReturnYear``."""
    if year in RULE_SETS:
        return RULE_SETS[year]
    latest = max(RULE_SETS)
    if year > latest:
        base = RULE_SETS[latest]
        return replace(base, year=year, version=f"{base.version}+{year}", harledd_fran=latest)
    years = ", ".join(str(y) for y in sorted(RULE_SETS))
    raise UnknownReturnYear(f"no rule set for reporting year {year} (rule sets: {years})")


def own_rule_set(year: int) -> RuleSet:
    """The rule set of ``year``'s own module, as the file needs; ``UnknownReturnYear`` for a
    year without one (naming the module to write)."""
    rules = rule_set(year)
    if rules.harledd_fran is not None:
        raise UnknownReturnYear(
            f"reporting year {year} has no rule set of its own (the report reads it with "
            f"{rules.harledd_fran}'s); the file needs domain/returns/year_{year}.py"
        )
    return rules
