"""New lag 2026:1600 decisions through the real workflow (time-skipping server): the förbud
events are validated and guarded like every command, and their frister arm exactly one alert."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.calendar import add_weeks
from domain.frister import compute_frister
from domain.rules import rule
from infra.persistence.store import CaseStore
from infra.temporal.commands import CommandRejected
from infra.temporal.worker import running_worker
from tests.workflows.driver import CaseDriver


async def _rejected(driver: CaseDriver, etype: str, data: dict[str, object]) -> str:
    with pytest.raises(CommandRejected) as info:
        await driver.send(etype, data)
    return str(getattr(info.value.cause, "rule", getattr(info.value.cause, "field", "")))


async def test_tillfalligt_utreseforbud_not_handed_to_the_court_alerts_once(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    d = CaseDriver(ts_env, store, task_queue)
    async with running_worker(ts_env.client, store, task_queue):
        await d.start()
        await d.open_utredning()
        assert await _rejected(d, "lvu_forbud_faststallt", {"forbud_id": "f1"}) == "P-REF"
        decided = await d.today()
        await d.send(
            "lvu_forbud_beslutat",
            {
                "forbud_id": "f1",
                "forbud": "utreseforbud",
                "tillfalligt": True,
                "ordforandebeslut": True,
            },
        )
        assert await _rejected(d, "lvu_forbud_faststallt", {"forbud_id": "f1"}) == "P-FORBUD"
        assert await _rejected(d, "lvu_forbud_beslutat", {"forbud_id": "f2"}) == "data.forbud"
        await d.sleep_days(9)
        due = add_weeks(decided, 1)
        assert await d.wait_alerts(1) == [("frist_overskriden", "E12U", due.isoformat())]
        await d.sleep_days(5)
        assert d.alerts() == [("frist_overskriden", "E12U", due.isoformat())]
        e12u = next(f for f in compute_frister(d.events()) if f.rule == "E12U")
        ref = rule("E12U").law_for(decided)  # LVU 31 e § until 2026-12-31, then 13 kap. 8 §
        assert ref is not None and (e12u.law, e12u.paragraph) == (ref.law, ref.paragraph)
        types = [e.type for e in d.events() if e.type.startswith("lvu_")]
        assert types == ["lvu_forbud_beslutat"]  # the rejected commands stored nothing
