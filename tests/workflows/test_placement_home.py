"""A familjehem placement through the workflow's command path (issue 15 part A), in the
time-skipping server: refused (HEM4, then HEM5) until the home is utrett and register-checked,
accepted after, and two days later the workflow alerts HEM9 (Försäkringskassan not told "genast",
POL-FK-GENAST) from the one deadline engine; the FK notice recorded late meets it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.calendar import add_days
from domain.homes import parse_home_event
from infra.persistence.homes import homes_of
from infra.persistence.store import CaseStore
from infra.temporal.commands import CommandRejected
from infra.temporal.worker import running_worker
from tests.factories import line
from tests.workflows.driver import CaseDriver


def _home(etype: str, data: dict[str, Any], at: datetime, key: str) -> dict[str, Any]:
    body = line(etype, data, at=at, key=key)
    body.pop("case_ref")
    return {**body, "hem_id": "FH-W"}


async def test_a_placement_waits_for_the_homes_checks_and_then_owes_the_fk_notice(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    d = CaseDriver(ts_env, store, task_queue)
    homes = homes_of(store)
    async with running_worker(ts_env.client, store, task_queue):
        now = await d.now()
        homes.record(parse_home_event(_home("hem_registrerat", {"hemtyp": "familjehem"}, now, "r")))
        await d.open_utredning()
        await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
        await d.beslut("b1", "familjehem")
        placing = {"beslut_id": "b1", "hem_id": "FH-W"}
        with pytest.raises(CommandRejected) as refused:
            await d.send("insats_verkstalld", placing, key="v1")
        assert getattr(refused.value.cause, "rule", None) == "HEM4"
        utredd = {"utredning_id": "fu", "utfall": "godkand"}
        homes.record(parse_home_event(_home("familjehemsutredning_avslutad", utredd, now, "u")))
        with pytest.raises(CommandRejected) as refused:
            await d.send("insats_verkstalld", placing, key="v1")
        assert getattr(refused.value.cause, "rule", None) == "HEM5"
        for i, register in enumerate(
            ("belastningsregistret", "misstankeregistret", "socialtjanstens_register")
        ):
            homes.record(
                parse_home_event(
                    _home("registerkontroll_gjord", {"register": register}, now, f"k{i}")
                )
            )
        await d.send("insats_verkstalld", placing, key="v1")
        placed = await d.today()
        assert [e.type for e in d.events()][-1] == "insats_verkstalld"

        await d.sleep_days(2)
        alerts = await d.wait_alerts(1)
        assert ("frist_overskriden", "HEM9", add_days(placed, 1).isoformat()) in alerts
        await d.send("forsakringskassan_underrattad", {"anledning": "placering"})
        await ts_env.sleep(timedelta(days=1))
        assert [a for a in d.alerts() if a[1] == "HEM9"] == [
            ("frist_overskriden", "HEM9", add_days(placed, 1).isoformat())
        ]
