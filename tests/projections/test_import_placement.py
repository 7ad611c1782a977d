"""POL-IMPORT-PLACERING: an imported placement is judged by the command path's placement guard
(HEM1-HEM6) and, like a lagrum not in force, recorded as it happened and listed for the auditor.

A kommun moving its history into barnflow gets, in the import summary, every placement in a home
barnflow's register of homes does not know (or knew, but not as approved on that day) — the
question IVO asks of a placement — instead of a refused file or a silent record.
"""

from __future__ import annotations

from datetime import date

from domain.ids import case_id_for
from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore
from tests.projections.test_as_of import LOADED
from tests.projections.test_hem_id_policy import _case


def test_a_placement_in_an_unknown_home_is_recorded_and_flagged(store: CaseStore) -> None:
    case = _case()
    case.add(date(2026, 10, 5), "insats_verkstalld", {"beslut_id": "B1", "hem_id": "HEM-OKANT-1"})
    summary = import_lines(store, case.jsonl(), now=LOADED)
    [flag] = summary.flagged
    assert flag.rule == "HEM2"
    assert flag.case_ref == "HID"
    assert "HEM-OKANT-1" in flag.sv
    stored = store.case_events(case_id_for("1280", "HID"))
    assert stored[-1].type == "insats_verkstalld"  # history is kept as it happened


def test_a_placement_naming_no_home_is_not_flagged_without_the_kommuns_policy(
    store: CaseStore,
) -> None:
    case = _case()
    case.add(date(2026, 10, 5), "insats_verkstalld", {"beslut_id": "B1"})
    summary = import_lines(store, case.jsonl(), now=LOADED)
    assert summary.flagged == []
