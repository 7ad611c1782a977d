"""The rule set of the yearly return for reporting year 2026 (handed in early 2027).

2025's set (``year_2025``, not edited) plus ``vistelsekommun``: the kommun the home lies in,
which barnflow records on placements since issue 15 (docs/domain.md §4.6). That addition is
barnflow's choice pending Socialstyrelsen's published layout for 2026 (docs/law.md §13).
"""

from __future__ import annotations

from dataclasses import replace

from domain.returns import year_2025
from domain.returns.model import RuleSet

RULES: RuleSet = replace(
    year_2025.RULES,
    year=2026,
    version="2026.1",
    variables=(*year_2025.RULES.variables, "vistelsekommun"),
)
