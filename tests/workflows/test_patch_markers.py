"""A run started on today's code asks one patch (``CURRENT_PATCH``), not every older one
(issue 19 item 2): temporalio's core writes a marker and a ``TemporalChangeVersion`` upsert
for each patch a new run asks, two history events apiece. The older patches' new branches are
still taken: a step dated before the one it follows is refused (``P-ORDER``) and a
``kvartal`` is stored canonical."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from infra.persistence.store import CaseStore
from infra.temporal.commands import CommandRejected
from infra.temporal.worker import running_worker
from tests.conftest import PSEUDONYM_KEY
from tests.workflows.driver import CaseDriver
from workflows.child_case import CURRENT_PATCH

CHANGE_VERSION = "TemporalChangeVersion"


def _patch_ids(history: WorkflowHistory) -> list[str]:
    """The ids of the run's patch markers, in order."""
    out = []
    for ev in json.loads(history.to_json())["events"]:
        marker = ev.get("markerRecordedEventAttributes") or {}
        if marker.get("markerName") == "core_patch":
            for payload in marker["details"]["patch-data"]["payloads"]:
                out.append(json.loads(base64.b64decode(payload["data"]))["id"])
    return out


def _change_versions(history: WorkflowHistory) -> list[Any]:
    """The ``TemporalChangeVersion`` values the run upserted, in order."""
    out = []
    for ev in json.loads(history.to_json())["events"]:
        attrs = ev.get("upsertWorkflowSearchAttributesEventAttributes") or {}
        fields = attrs.get("searchAttributes", {}).get("indexedFields", {})
        if CHANGE_VERSION in fields:
            out.append(json.loads(base64.b64decode(fields[CHANGE_VERSION]["data"])))
    return out


async def _runs(d: CaseDriver) -> list[WorkflowHistory]:
    """Every run of the case's workflow id, first to last (continue-as-new links)."""
    first = await d.client.get_workflow_handle(d.workflow_id).fetch_history()
    started = first.events[0].workflow_execution_started_event_attributes
    run_id: str | None = started.first_execution_run_id or first.run_id
    runs = []
    while run_id:
        history = await d.client.get_workflow_handle(d.workflow_id, run_id=run_id).fetch_history()
        runs.append(history)
        last = history.events[-1]
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return runs


async def test_a_new_run_asks_one_patch_and_takes_every_older_patchs_new_branch(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    d = CaseDriver(ts_env, store, task_queue)
    async with running_worker(ts_env.client, store, task_queue, pseudonym_key=PSEUDONYM_KEY):
        await d.start(continue_as_new_after=20)  # a second run: continue-as-new
        await d.open_utredning()
        await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
        await d.beslut("b1", "oppenvard")
        await d.sleep_days(10)
        await d.send("insats_verkstalld", {"beslut_id": "b1"})
        avslut = {"beslut_id": "b1", "orsak": "mal_uppnatt"}
        try:  # date-order's branch, taken without asking the patch
            await d.send("beslut_avslutat", avslut, at=await d.now() - timedelta(days=5))
        except CommandRejected as exc:
            assert getattr(exc.cause, "rule", None) == "P-ORDER", exc
        else:
            raise AssertionError("a beslut avslutat dated before its verkställighet was accepted")
        await d.send("beslut_avslutat", avslut)
        await d.sleep_days(1)
        runs = await _runs(d)
    assert len(runs) >= 2, "the scenario no longer continues as new"
    for history in runs:
        assert _patch_ids(history) == [CURRENT_PATCH]
        assert _change_versions(history) == [[CURRENT_PATCH]]
