"""P-ORDER on import (docs/domain.md §7.1): a kommun's history where a beslut was avslutat before
its insats was verkställd is recorded as it was kept, and listed in the import summary for the
auditor, like a lagrum not in force; a new command saying the same is refused."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import RuleViolation
from domain.events import parse_event
from domain.ids import case_id_for
from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore
from tests.projections.test_as_of import LOADED
from tests.projections.test_hem_id_policy import _case


def test_a_beslut_avslutat_before_its_verkstallighet_is_recorded_and_flagged(
    store: CaseStore,
) -> None:
    case = _case()
    case.add(date(2026, 10, 5), "insats_verkstalld", {"beslut_id": "B1"})
    case.add(date(2026, 10, 3), "beslut_avslutat", {"beslut_id": "B1", "orsak": "mal_uppnatt"})
    summary = import_lines(store, case.jsonl(), now=LOADED)
    [flag] = summary.flagged
    assert (flag.rule, flag.case_ref) == ("P-ORDER", "HID")
    assert "2026-10-05" in flag.sv and "2026-10-05" in flag.en
    stored = store.case_events(case_id_for("1280", "HID"))
    assert [e.type for e in stored[-2:]] == ["insats_verkstalld", "beslut_avslutat"]
    assert stored[-1].legal_date == date(2026, 10, 3)  # kept as it was recorded


def test_the_same_step_as_a_new_command_is_refused(store: CaseStore) -> None:
    case = _case()
    case.add(date(2026, 10, 5), "insats_verkstalld", {"beslut_id": "B1"})
    import_lines(store, case.jsonl(), now=LOADED)
    before = len(store.case_events(case_id_for("1280", "HID")))
    late = _case()
    late.add(date(2026, 10, 3), "beslut_avslutat", {"beslut_id": "B1", "orsak": "mal_uppnatt"})
    command = {**late.lines[-1], "idempotency_key": "HID-late-avslut"}
    with pytest.raises(RuleViolation) as info:
        store.record(parse_event(command), now=LOADED)
    assert info.value.rule == "P-ORDER"
    assert len(store.case_events(case_id_for("1280", "HID"))) == before
