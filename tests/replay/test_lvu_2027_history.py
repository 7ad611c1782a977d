"""The straddling LVU case of tests/workflows/test_lvu_2027_path.py, proven from its history.

The live test can only run while the real date lies in November 2026 (the time-skipping server
starts at the real time and only goes forward). Its recorded history (T0 = 2026-11-30) is
committed, so after that the same story is still checked, never silently skipped: the history
replays on today's workflow code, the alerts the workflow appended are exactly E1 (LVU side),
E6 and E10 cycle 2 (lag 2026:1600 side), and the frister computed from the recorded events cite
LVU (1990:52) before 2027-01-01 and lag (2026:1600) from that day, with the hand-checked dates of
the live test's docstring.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from domain.events import CaseEvent, event_from_json
from domain.frister import compute_frister
from infra.temporal.codec import data_converter
from tests.conftest import CODEC_KEY
from workflows.child_case import ChildCaseWorkflow

HISTORY = Path(__file__).parent / "histories" / "v3-lvu_2027_straddle.0.json"
LVU = "LVU 1990:52"
NEW = "lag 2026:1600"
D = date.fromisoformat


def _history() -> WorkflowHistory:
    return WorkflowHistory.from_json(HISTORY.stem, HISTORY.read_text())


async def _recorded_events() -> list[CaseEvent]:
    """Every event the workflow's append activity returned, in the order it was recorded."""
    codec = data_converter(CODEC_KEY).payload_codec
    assert codec is not None
    out: list[CaseEvent] = []
    for e in _history().events:
        if not e.HasField("marker_recorded_event_attributes"):
            continue
        marker = e.marker_recorded_event_attributes
        if marker.marker_name != "core_local_activity" or "result" not in marker.details:
            continue
        for payload in await codec.decode(list(marker.details["result"].payloads)):
            result: dict[str, Any] = orjson.loads(payload.data)
            out.append(event_from_json(result["event"]))
    return out


async def test_the_straddling_history_replays() -> None:
    replayer = Replayer(workflows=[ChildCaseWorkflow], data_converter=data_converter(CODEC_KEY))
    await replayer.replay_workflow(_history())


async def test_the_straddling_history_alerts_exactly_e1_then_e6_and_e10() -> None:
    evs = await _recorded_events()
    assert evs[0].occurred_at.date() == D("2026-11-30")  # T0 of the live test's docstring
    alerts = [
        (e.type, e.data["regel"], e.data["frist"], e.data["due"])
        for e in evs
        if e.actor.roll == "system"
    ]
    assert alerts == [
        ("frist_overskriden", "E1", "E1:L1", "2026-12-30"),
        ("frist_overskriden", "E6", "E6:L1:1", "2027-05-30"),
        ("frist_overskriden", "E10", "E10:UB1:2", "2027-06-01"),
    ]


async def test_the_straddling_history_cites_lvu_before_and_the_new_law_after() -> None:
    evs = await _recorded_events()
    by_key = {f.key: f for f in compute_frister(evs, as_of=D("2027-07-25"))}
    expected = {
        "E1:L1": (D("2026-12-30"), LVU, "6 § andra st.", "missed"),
        "E2:L1": (D("2026-12-07"), LVU, "7 §", "met"),
        "E3:L1": (D("2026-12-28"), LVU, "8 §", "met"),
        "E10:UB1:1": (D("2027-03-10"), LVU, "14 §", "met"),
        "E10:UB1:2": (D("2027-06-01"), NEW, "7 kap. 2 § andra st.", "overdue"),
        "E5:L1": (D("2027-02-17"), NEW, "6 kap. 4 § andra st.", "met"),
        "E6:L1:1": (D("2027-05-30"), NEW, "8 kap. 2 §", "overdue"),
    }
    got = {
        k: (by_key[k].due, by_key[k].law, by_key[k].paragraph, by_key[k].status)
        for k in expected
        if k in by_key
    }
    assert got == expected
