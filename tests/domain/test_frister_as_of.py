"""Time travel (``compute_frister(..., as_of)``) never shows a frist that had not started yet.

Found by tests/fuzz: a familjehem placement whose vårdnadsöverflyttning was considered early got
its next yearly D4 cycle, which starts on the two-year anniversary, even as of a date before that
anniversary. Kept here as plain tests so a fresh clone checks it without Hypothesis's local
example database.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from frist_builders import ev

from domain.events import CaseEvent
from domain.frister import MET, OPEN, compute_frister


def _familjehem(*later: CaseEvent) -> list[CaseEvent]:
    return [
        ev("anmalan_mottagen", "2022-01-01", anmalan_id="a1"),
        ev("beslut_fattat", "2022-02-01", beslut_id="b1", insats="familjehem", gynnande=True),
        ev("insats_verkstalld", "2022-03-01", beslut_id="b1"),
        *later,
    ]


def test_d4_next_cycle_is_not_shown_before_its_anniversary() -> None:
    evs = _familjehem(ev("vardnadsoverflyttning_overvagd", "2023-06-01", beslut_id="b1"))
    d4 = {f.key: f for f in compute_frister(evs, date(2024, 1, 1)) if f.rule == "D4"}
    assert list(d4) == ["D4:b1:1"]
    assert (d4["D4:b1:1"].due, d4["D4:b1:1"].status) == (date(2024, 3, 1), MET)
    # On the anniversary itself the yearly cycle has started and is open.
    d4 = {f.key: f for f in compute_frister(evs, date(2024, 3, 1)) if f.rule == "D4"}
    assert (d4["D4:b1:2"].trigger_date, d4["D4:b1:2"].due) == (date(2024, 3, 1), date(2025, 3, 1))
    assert d4["D4:b1:2"].status == OPEN


def test_d4_overvagande_after_the_beslut_was_closed() -> None:
    """The fuzz example's shape: the beslut ends (after as_of) and an övervägande follows it."""
    evs = _familjehem(
        ev("vardnadsoverflyttning_overvagd", "2023-06-01", beslut_id="b1"),
        ev("beslut_avslutat", "2024-02-01", beslut_id="b1", orsak="hemflytt"),
        ev("vardnadsoverflyttning_overvagd", "2024-02-10", beslut_id="b1"),
    )
    as_of = date(2024, 1, 1)
    frister = compute_frister(evs, as_of)
    assert [f.key for f in frister if f.rule == "D4"] == ["D4:b1:1"]
    assert all(f.trigger_date <= as_of for f in frister)
    # Without as_of the placement ended before the first anniversary: one D4, met.
    assert [(f.key, f.status) for f in compute_frister(evs) if f.rule == "D4"] == [("D4:b1:1", MET)]


def _long_history() -> list[CaseEvent]:
    """Every rolling rule (D2, D3, D4, D10, C4, E6, E7) with early and late fulfilments."""
    return _familjehem(
        ev("overvagande_genomfort", "2022-05-20", beslut_id="b1", slutsats="fortsatt"),
        ev("vardplan_reviderad", "2022-09-01", beslut_id="b1"),
        ev("vardnadsoverflyttning_overvagd", "2022-12-01", beslut_id="b1"),
        ev("overvagande_genomfort", "2023-03-01", beslut_id="b1", slutsats="fortsatt"),
        ev("lvu_omhandertagande_beslutat", "2023-04-03", beslut_id="L1"),
        ev("lvu_understalld", "2023-04-05", beslut_id="L1"),
        ev("lvu_omhandertagande_verkstallt", "2023-04-04", beslut_id="L1"),
        ev("lvu_dom", "2023-05-02", beslut_id="L1", utfall="bifall", paragraf="2+3"),
        ev("overvagande_genomfort", "2023-08-15", beslut_id="L1", slutsats="fortsatt"),
        ev("vardnadsoverflyttning_overvagd", "2024-01-15", beslut_id="b1"),
        ev("overvagande_genomfort", "2024-05-01", beslut_id="L1", slutsats="fortsatt"),
        ev("beslut_avslutat", "2025-06-30", beslut_id="b1", orsak="hemflytt"),
        ev("lvu_vard_upphort", "2025-09-01", beslut_id="L1"),
    )


@pytest.mark.parametrize("step", [1, 7])
def test_no_frist_starts_or_is_met_after_the_as_of_date(step: int) -> None:
    """Every day (or week) of a case's life: time travel shows only what had happened by then."""
    evs = _long_history()
    rules_seen: set[str] = set()
    day = date(2022, 1, 1)
    while day <= date(2026, 6, 30):
        for f in compute_frister(evs, day):
            rules_seen.add(f.rule)
            assert f.trigger_date <= day, (day, f.key, f.trigger_date)
            assert f.fulfilled_date is None or f.fulfilled_date <= day, (day, f.key)
        day += timedelta(days=step)
    assert {"D2", "D3", "D4", "E5", "E6", "E7"} <= rules_seen


def test_e9_next_cycle_is_not_shown_before_its_anniversary() -> None:
    """E9 (2026:1600 9 kap. 1 §) counts like D4 and keeps the same as-of bound (review finding 3).

    Placement 2027-01-10, vårdnadsöverflyttning övervägd 2029-01-05: as of 2029-01-06 the
    yearly cycle from the two-year anniversary (2029-01-10) has not started yet.
    """
    evs = [
        ev("anmalan_mottagen", "2027-01-02", anmalan_id="a1"),
        ev("lvu_omhandertagande_beslutat", "2027-01-05", beslut_id="l1"),
        ev("lvu_omhandertagande_verkstallt", "2027-01-05", beslut_id="l1"),
        ev("lvu_placering_paborjad", "2027-01-10", placering_id="p1", placering="familjehem"),
        ev("lvu_vardnadsoverflyttning_overvagd", "2029-01-05", placering_id="p1"),
    ]
    e9 = {f.key: f for f in compute_frister(evs, date(2029, 1, 6)) if f.rule == "E9"}
    assert list(e9) == ["E9:p1:1"]
    assert (e9["E9:p1:1"].due, e9["E9:p1:1"].status) == (date(2029, 1, 10), MET)
    e9 = {f.key: f for f in compute_frister(evs, date(2029, 1, 10)) if f.rule == "E9"}
    assert (e9["E9:p1:2"].trigger_date, e9["E9:p1:2"].due) == (date(2029, 1, 10), date(2030, 1, 10))
    assert e9["E9:p1:2"].status == OPEN
