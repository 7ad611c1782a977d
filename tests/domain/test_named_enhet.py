"""The API's scope check reads a case's enhet with ``named_enhet`` instead of a whole ``fold``;
both must name the same enhet after every event of every golden case, including a later
anmälan that moves the case to another unit and one that names none."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import orjson

from domain.case import fold, named_enhet
from domain.events import CaseEvent, parse_event

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def _cases() -> dict[str, list[CaseEvent]]:
    cases: dict[str, list[CaseEvent]] = defaultdict(list)
    for path in sorted(GOLDEN.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                raw = orjson.loads(line)
                if "case_ref" in raw and "type" in raw:
                    cases[f"{path.stem}/{raw['kommun']}/{raw['case_ref']}"].append(parse_event(raw))
    return cases


def _anmalan(key: str, enhet: str | None) -> CaseEvent:
    data = {
        "anmalan_id": key,
        "barn": {"personnummer": "201401150626", "kon": "flicka"},
        "anmalare_kategori": "skola",
    }
    if enhet is not None:
        data["enhet"] = enhet
    return parse_event(
        {
            "kommun": "1280",
            "case_ref": "EN-1",
            "type": "anmalan_mottagen",
            "occurred_at": "2026-03-02T09:15:00+01:00",
            "actor": {"id": "hl-1", "roll": "socialsekreterare"},
            "idempotency_key": f"EN-1-{key}",
            "data": data,
        }
    )


def test_named_enhet_is_folds_enhet_after_every_event_of_the_golden_cases() -> None:
    cases = _cases()
    assert len(cases) > 10
    named = 0
    for name, events in cases.items():
        for n in range(1, len(events) + 1):
            assert named_enhet(events[:n]) == fold(events[:n]).enhet, (name, n)
        named += named_enhet(events) is not None
    assert named > 0  # the comparison covered cases that name a unit


def test_a_later_anmalan_moves_the_case_and_one_without_enhet_keeps_it() -> None:
    events = [_anmalan("A1", "barn-vast"), _anmalan("A2", "barn-ost"), _anmalan("A3", None)]
    assert named_enhet(events[:1]) == "barn-vast"
    assert named_enhet(events) == "barn-ost" == fold(events).enhet
    assert named_enhet([]) is None
