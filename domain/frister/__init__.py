"""The deadline engine: every frist of a case, with its legal basis, from the case's events.

The workflow uses it to arm timers, the projections use it for reports, ``rules explain`` prints
it; nothing else in barnflow computes a due date. Lengths, references and policies come from the
catalogue in ``domain.rules``; the engine only decides which events start, extend and meet a
frist. Re-arming clocks (C4, D3, D4, D10, E6, E7, E9, E10, E11, E12, E16, N2) produce a new
``key`` per cycle so that a workflow fires exactly one alert per key.

This module is the public surface; the work is done by one module per chapter of the law:

- SoL 2001:453 / 2025:400: ``sol_anmalan`` A1-A3, ``sol_utredning`` B1-B3, ``sol_beslut``
  C2-C4 and IVO's windows, ``sol_placering`` D2, D3, D4, D7, D10, ``uppfoljning`` F1, F2 (and
  E15, LVU 21 b-c §§);
- LVU 1990:52 / lag 2026:1600: ``lvu_vard`` E2, E3, E5-E7, ``lvu2027`` E1, E3T, E9-E14, E16,
  E17; lag 2026:1637: ``samtycke`` N1-N3; lokal regel: ``klagomal`` K1;
- ``context`` the case's events and ``emit``, ``cycles`` the re-arming clocks, ``ikraft`` the
  first day a rule that entered into force or changed during a case requires a frist
  (POL-IKRAFT-PAGAENDE), ``engine`` the orchestration, ``model`` the ``Frist``, ``versions``
  what the engine said on every as-of date.
"""

from __future__ import annotations

from domain.frister.engine import compute_frister
from domain.frister.model import MET, MISSED, OPEN, OVERDUE, Frist, law_for, status_on
from domain.frister.sol_beslut import ivo_window, ivo_window_of
from domain.frister.versions import (
    REPEATING_RULES,
    FristVersion,
    frist_versions,
    generation_horizon,
    visible_on,
)

__all__ = [
    "MET",
    "MISSED",
    "OPEN",
    "OVERDUE",
    "REPEATING_RULES",
    "Frist",
    "FristVersion",
    "compute_frister",
    "frist_versions",
    "generation_horizon",
    "ivo_window",
    "ivo_window_of",
    "law_for",
    "status_on",
    "visible_on",
]
