"""The rules catalogue and the deadline engine agree (issue #13, deliverable 3).

Every field of ``domain.rules.Rule`` that says what a frist is must be what the engine does:
each frist the engine emits, over the golden scenarios and the per-rule table of
``tests/domain/test_frister.py``, was triggered by an
event type its rule lists in ``trigger_types`` and met by one its rule lists in
``fulfilled_by``; ``blocks_closing`` is what the P-CLOSE guard enforces, rule for rule.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from domain.calendar import STOCKHOLM
from domain.case import CLOSE_BLOCKERS, CaseState
from domain.case_appeals import APPEAL_CLOSE_RULES
from domain.case_lvu2027 import LVU2027_CLOSE_RULES
from domain.errors import RuleViolation
from domain.events import CaseEvent, parse_event
from domain.frister import REPEATING_RULES, compute_frister
from domain.rules import RULES, RULES_BY_ID, rule
from tests.domain.test_frister import CASES as RULE_TABLE
from tests.factories import PNR_GIRL, line

GOLDEN = Path(__file__).parent.parent / "golden"
#: Far enough after every scenario for repeating frister and late fulfilments to appear.
AS_OF = date(2029, 12, 31)


def _cases() -> dict[str, list[CaseEvent]]:
    cases: dict[str, list[CaseEvent]] = defaultdict(list)
    for path in sorted(GOLDEN.glob("*.jsonl")):
        if path.stem == "kvalitet":  # complaints' and lex Sarah lines, no case's (kvalitet.md)
            continue
        for raw in path.read_text(encoding="utf-8").splitlines():
            if raw.strip():
                ev = parse_event(orjson.loads(raw), allow_system=True)
                cases[f"{path.stem}/{ev.case_ref}"].append(ev)
    for row in RULE_TABLE:
        cases[f"rule-table/{row.name}"] = list(row.events)
    return dict(cases)


CASES = _cases()


def test_the_corpus_covers_most_rules() -> None:
    seen = {f.rule for evs in CASES.values() for f in compute_frister(evs, AS_OF)}
    assert len(seen) >= 22, sorted(seen)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_frist_has_a_rule_that_lists_its_trigger_and_its_fulfilment(name: str) -> None:
    events = CASES[name]
    wrong = []
    for f in compute_frister(events, AS_OF):
        r = rule(f.rule)
        if f.trigger_type not in r.trigger_types:
            wrong.append((f.key, "trigger", f.trigger_type, r.trigger_types))
        if f.fulfilled_date is not None:
            # met by an event of a fulfilling type dated that day, or (E5: verkställd before
            # the dom) by one dated before and counted from the trigger
            by = {e.type for e in events if e.legal_date <= f.fulfilled_date}
            if not by & set(r.fulfilled_by):
                wrong.append((f.key, "fulfilled_by", sorted(by), r.fulfilled_by))
        if f.blocks_closing != r.blocks_closing or f.alert_event != r.alert_event:
            wrong.append((f.key, "copied fields", f.blocks_closing, f.alert_event))
    assert wrong == []


def test_blocks_closing_is_exactly_what_the_close_guard_enforces() -> None:
    guarded = {r for b in CLOSE_BLOCKERS for r in b.rules} | set(LVU2027_CLOSE_RULES)
    guarded |= set(APPEAL_CLOSE_RULES)  # an appeal period or an överklagande (O1, O2)
    assert guarded == {r.id for r in RULES if r.blocks_closing}


def _pending_utredning() -> tuple[CaseState, CaseEvent]:
    """A case whose utredning is still open (B1, B3 running), and a command to close it."""

    def ev(etype: str, data: dict[str, Any], key: str) -> CaseEvent:
        at = datetime(2026, 3, 2, 10, tzinfo=STOCKHOLM)
        return parse_event(line(etype, data, at=at, key=key))

    state = CaseState()
    for e in (
        ev(
            "anmalan_mottagen",
            {
                "anmalan_id": "A1",
                "barn": {"personnummer": PNR_GIRL, "kon": "flicka"},
                "anmalare_kategori": "skola",
            },
            "k1",
        ),
        ev("skyddsbedomning_gjord", {"anmalan_id": "A1", "omedelbart_skydd": False}, "k2"),
        ev("forhandsbedomning_beslutad", {"anmalan_id": "A1", "beslut": "inleda_utredning"}, "k3"),
        ev("utredning_inledd", {"utredning_id": "U1", "grund": "anmalan"}, "k4"),
    ):
        state.check(e, date(2026, 3, 2))
        state.apply(e)
    return state, ev("arende_avslutat", {"orsak": "flytt"}, "k5")


def test_the_close_guard_follows_blocks_closing_in_the_catalogue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state, close = _pending_utredning()
    with pytest.raises(RuleViolation) as err:
        state.check(close, date(2026, 3, 2))
    assert err.value.rule == "P-CLOSE" and "an utredning is pending" in err.value.en
    for rid in ("B1", "B3"):
        monkeypatch.setitem(RULES_BY_ID, rid, replace(rule(rid), blocks_closing=False))
    state.check(close, date(2026, 3, 2))  # no frist of the open utredning blocks closing now


def _twice_extended_utredning() -> list[CaseEvent]:
    def ev(etype: str, day: str, key: str, **data: Any) -> CaseEvent:
        at = datetime.fromisoformat(f"{day}T10:00:00+02:00")
        return parse_event(line(etype, data, at=at, key=key))

    return [
        ev(
            "anmalan_mottagen",
            "2026-01-01",
            "k1",
            anmalan_id="a1",
            barn={"personnummer": PNR_GIRL, "kon": "flicka"},
            anmalare_kategori="skola",
        ),
        ev("utredning_inledd", "2026-01-10", "k2", utredning_id="u1", grund="anmalan"),
        ev("utredning_forlangd", "2026-05-01", "k3", utredning_id="u1", ny_slutdag="2026-06-10",
           skal="a"),
        ev("utredning_forlangd", "2026-06-01", "k4", utredning_id="u1", ny_slutdag="2026-07-10",
           skal="b"),
    ]  # fmt: skip


def test_extensions_follow_the_rules_extension_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    def b1_due() -> date:
        frister = compute_frister(_twice_extended_utredning(), date(2026, 6, 20))
        return next(f.due for f in frister if f.key == "B1:u1")

    assert b1_due() == date(2026, 7, 10)  # särskilda skäl, repeatable (SoL 20:3)
    b1 = rule("B1")
    assert b1.extension is not None
    once = replace(b1, extension=replace(b1.extension, repeatable=False))
    monkeypatch.setitem(RULES_BY_ID, "B1", once)
    assert b1_due() == date(2026, 6, 10)
    monkeypatch.setitem(RULES_BY_ID, "B1", replace(b1, extension=None))
    assert b1_due() == date(2026, 5, 10)


def test_the_repeating_rules_are_the_catalogues_time_driven_ones() -> None:
    """The stored frist versions keep generating exactly these past a case's last event (E9 was
    missing before: its later anniversaries vanished from the frister report; the day-by-day
    case is ``tests/projections/test_as_of.py``'s ``lvu_familjehem``)."""
    assert {"C4", "D4", "D10", "E9"} == REPEATING_RULES
    assert {rule(r).recurrence for r in REPEATING_RULES} == {"quarterly", "anniversary", "annual"}
