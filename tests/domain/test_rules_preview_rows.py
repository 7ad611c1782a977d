"""The rows of ``barnflow rules preview`` (table, JSON and CSV) for the golden LVU cases, without
a database: which cases are listed and what one row says."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from domain.events import CaseEvent, parse_event
from infra.cli.rules_preview import NO_FRISTER, is_listed, previews, rows
from tests.domain.frist_builders import ev

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "lvu2027.jsonl"


def _cases() -> dict[str, list[CaseEvent]]:
    out: dict[str, list[CaseEvent]] = {}
    for raw in GOLDEN.read_text(encoding="utf-8").splitlines():
        ev = parse_event(json.loads(raw))
        out.setdefault(ev.case_ref, []).append(ev)
    return out


def test_the_first_overvagande_row_shows_both_starts_dates_and_acts() -> None:
    cases = [("id", ref, evs) for ref, evs in _cases().items()]
    out = {
        (r["case_ref"], r["key"]): r for r in rows(previews(cases, "1280", date(2027, 1, 1), None))
    }
    e6 = out[("LV-1", "E6:L1:1")]
    assert e6["trigger_date"] == "2026-11-30 (före: 2027-01-20)"
    assert (e6["due_before"], e6["law_before"]) == ("2027-07-20", "LVU 1990:52 13 § första st.")
    assert (e6["due_after"], e6["law_after"]) == ("2027-05-30", "lag 2026:1600 8 kap. 2 §")
    assert e6["change"] == "due_moved,paragraph_changed,policy_applied"
    assert e6["policy"].split("; ")[0] == "POL-LVU2027-TRIGGER"


def test_a_listed_case_with_nothing_running_gets_one_row() -> None:
    ordf = {"id": "o1", "roll": "ordforande"}
    settled = [
        ev("anmalan_mottagen", "2026-11-30", anmalan_id="A1"),
        ev("skyddsbedomning_gjord", "2026-11-30", anmalan_id="A1", omedelbart_skydd=True),
        ev("lvu_omhandertagande_beslutat", "2026-11-30", beslut_id="L1", delegat=ordf),
        ev("lvu_omhandertagande_verkstallt", "2026-11-30", beslut_id="L1"),
        ev("forhandsbedomning_beslutad", "2026-11-30", anmalan_id="A1", beslut="inleda_utredning"),
        ev("utredning_inledd", "2026-11-30", utredning_id="U1", grund="anmalan", anmalan_id="A1"),
        ev("lvu_understalld", "2026-12-03", beslut_id="L1"),
        ev("utredning_avslutad", "2026-12-17", utredning_id="U1", utfall="lvu_ansokan"),
        ev("lvu_ansokan_inlamnad", "2026-12-18", beslut_id="L1"),
    ]
    assert is_listed(settled)
    # every frist was met in 2026 (the dom is awaited): the case is listed with one row
    result = rows(previews([("id", "LV-9", settled)], "1280", date(2027, 1, 1), None))
    assert result == [{"case_ref": "LV-9", "change": NO_FRISTER}]
    # before any lvu_* event the case is no compulsory care: not listed at all
    assert previews([("id", "LV-9", settled[:2])], "1280", date(2027, 1, 1), None) == []
