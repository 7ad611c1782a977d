"""POL-HEM-ID is the kommun's choice (``policy.hem_id_krav_fran``), read from the configuration
version in force by the command path's placement guard.

A kommun without the key keeps placing children whatever the date (its verksamhetssystem may not
send ``hem_id`` yet: a fixed day would refuse every placement from then on); a kommun that names
a day gets HEM1 for a placement on or after it that names no home.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.calendar import STOCKHOLM
from domain.errors import RuleViolation
from domain.events import CaseEvent, parse_event
from infra.persistence.homes import homes_of, judge_placement
from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore
from infra.temporal.commands import kommun_config_of
from tests.factories import PNR_THIRD, line
from tests.kommun_configs import configured_store, kommun_config
from tests.projections.test_as_of import LOADED, _Case


def _placing(day: date) -> CaseEvent:
    at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=STOCKHOLM)
    return parse_event(
        line("insats_verkstalld", {"beslut_id": "B1"}, at=at, key="v", case_ref="HID")
    )


def _case() -> _Case:
    c = _Case("HID", PNR_THIRD, "annat", date(2026, 9, 1))
    c.add(date(2026, 9, 1), "utredning_inledd", {"utredning_id": "U1", "grund": "anmalan"})
    c.add(date(2026, 10, 1), "utredning_avslutad", {"utredning_id": "U1", "utfall": "insats"})
    c.add(
        date(2026, 10, 1),
        "beslut_fattat",
        {
            "beslut_id": "B1",
            "lagrum": "SoL 11:1",
            "beslutstyp": "insats",
            "insats": "familjehem",
            "gynnande": True,
            "delegat": {"id": "u1", "roll": "utskott"},
            "utredning_id": "U1",
        },
    )
    return c


def test_hem1_only_from_the_day_the_kommun_names(store: CaseStore) -> None:
    import_lines(store, _case().jsonl(), now=LOADED)
    late = _placing(date(2027, 2, 1))
    # no configuration: never refused for a missing home, also after 2027-01-01
    judge_placement(store, homes_of(store), late, kommun_config=None)
    plain = kommun_config("1280")
    with configured_store(store, plain) as configured:
        version = kommun_config_of(configured, "1280")
        assert version is not None
        judge_placement(configured, homes_of(configured), late, kommun_config=version)
    strict = kommun_config("1280", policy={"hem_id_krav_fran": date(2027, 1, 1)})
    with configured_store(store, strict) as configured:
        version = kommun_config_of(configured, "1280")
        assert version is not None
        early = _placing(date(2026, 12, 30))
        judge_placement(configured, homes_of(configured), early, kommun_config=version)
        with pytest.raises(RuleViolation) as refused:
            judge_placement(configured, homes_of(configured), late, kommun_config=version)
        assert refused.value.rule == "HEM1"
