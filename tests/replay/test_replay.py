"""Recorded histories must replay on today's workflow code, with the production data converter
and codec (ARCHITECTURE: versioning discipline). A change that would break running cases fails
here, before it is deployed; see README "Changing workflow code" for the patching policy."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from domain.kommun import config_version, kommun_config_from_document
from infra.config.kommun import load_kommun_file
from infra.persistence.store import CaseStore
from infra.temporal import worker as worker_module
from infra.temporal.codec import data_converter
from infra.temporal.commands import CommandRejected
from infra.temporal.worker import running_worker
from tests.conftest import CODEC_KEY, PSEUDONYM_KEY
from tests.factories import PNR_FOURTH
from tests.kommun_configs import configured_store
from tests.workflows.driver import CaseDriver
from workflows.child_case import ChildCaseWorkflow

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def _load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def test_histories_are_committed() -> None:
    names = {p.name.split(".")[0] for p in HISTORIES}
    assert {"placement_continue_as_new", "lvu_track", "closed_after_late_forhandsbedomning"} <= (
        names
    )


def test_histories_from_before_and_after_the_timer_patch_are_both_kept() -> None:
    """The `reuse-frist-timer` patch must keep replaying runs recorded before it (no marker) as
    well as runs recorded after it (with the marker): both kinds are committed."""
    with_marker = {p.name for p in HISTORIES if "core_patch" in p.read_text()}
    assert with_marker and len(with_marker) < len(HISTORIES)


def test_histories_from_before_and_after_the_alert_patches_are_both_kept() -> None:
    """`alert-settle-window` and `alert-withdrawal` (docs/workflow.md, "Timers and alerts"):
    runs recorded before them and after them are committed, and one recorded run exercises an
    alert withdrawn by a late fulfilment."""
    for patch in ("alert-settle-window", "alert-withdrawal"):
        with_marker = {p.name for p in HISTORIES if f'"id":"{patch}"' in _patch_ids(p)}
        assert with_marker and len(with_marker) < len(HISTORIES), patch
    assert any(p.name.startswith("v3-late_registration_withdrawn") for p in HISTORIES)


def test_a_history_with_appeals_and_a_transfer_after_its_patch_is_kept() -> None:
    """`transfer-needs-answer`: a run that appealed a beslut through to the court's dom and then
    moved the ärende after the other kommun's answer replays with the patched branch; v5 ran
    after the merge with kommun-config-by-reference (a kommun file with its own O2 days), so it
    carries both patches."""
    marked = [p.name for p in HISTORIES if '"id":"transfer-needs-answer"' in _patch_ids(p)]
    assert marked == ["v4-appealed_and_transferred.0.json", "v5-appealed_and_transferred.0.json"]
    [v5] = [p for p in HISTORIES if p.name == marked[1]]
    assert '"id":"kommun-config-by-reference"' in _patch_ids(v5)


def _patch_ids(path: Path) -> str:
    """The patch markers' data of a history (JSON text; base64 in the file)."""
    out = []
    for ev in json.loads(path.read_text())["events"]:
        marker = ev.get("markerRecordedEventAttributes") or {}
        if marker.get("markerName") == "core_patch":
            for value in marker.get("details", {}).values():
                out += [base64.b64decode(p["data"]).decode() for p in value.get("payloads", [])]
    return "\n".join(out)


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_recorded_history_replays_on_current_code(path: Path) -> None:
    replayer = Replayer(workflows=[ChildCaseWorkflow], data_converter=data_converter(CODEC_KEY))
    await replayer.replay_workflow(_load(path))


#: How ``ChildCaseWorkflow.__init__`` asks the current ids (``CURRENT_PATCH``, then
#: ``PREVIOUS_CURRENT_PATCHES``): the line the older-code tests change.
_ASK_CURRENT = (
    "        self._newest = workflow.patched(CURRENT_PATCH)\n"
    "        self._current = self._newest or any(\n"
    "            workflow.patched(previous) for previous in PREVIOUS_CURRENT_PATCHES\n"
    "        )\n"
)


def _changed_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str) -> type:
    """Import a copy of the workflow module with one source change, under another name (kept
    importable for the test, since the workflow sandbox re-imports it)."""
    source = (ROOT / "workflows" / "child_case.py").read_text()
    assert old in source, "the incompatible-change test no longer matches the workflow source"
    # a name of its own per change: a worker keeps the code of each workflow module it ran
    # (``infra.temporal.sandbox.KEPT_CODE``), so two changed copies under one name would run
    # whichever a worker of this test process met first
    name = "child_case_" + hashlib.sha256((old + "\0" + new).encode()).hexdigest()[:12]
    path = tmp_path / f"{name}.py"
    path.write_text(source.replace(old, new, 1))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    module: ModuleType = importlib.import_module(name)
    return module.ChildCaseWorkflow  # type: ignore[no-any-return]


async def test_an_incompatible_change_fails_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A "harmless-looking" change: wait a second before every append. Running cases recorded
    # the append first, so the new code no longer matches their history.
    changed = _changed_copy(
        tmp_path,
        monkeypatch,
        "    async def _append(self, event: dict[str, object], *, allow_system: bool)"
        " -> CommandResult:\n",
        "    async def _append(self, event: dict[str, object], *, allow_system: bool)"
        " -> CommandResult:\n        await workflow.sleep(1)\n",
    )
    replayer = Replayer(workflows=[changed], data_converter=data_converter(CODEC_KEY))
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(_load(HISTORIES[0]))


async def test_a_history_carries_the_kommun_config_version_not_the_document() -> None:
    """kommun-config-by-reference: recorded histories from before it (the ordning inline in
    each command) replay above; one recorded after it names the configuration version in its
    input and in every command, loads the document once by an activity, and holds no
    delegationsordning anywhere.

    The version is compared with the digest of the document the history loaded, not with
    today's ``KOMMUN_1280``: a policy key added since (e.g. ``overklagande_overlamnande_dagar``)
    fills in its default and so gives the same file a new version id."""
    [path] = [p for p in HISTORIES if p.name.startswith("v4-kommun_config.")]
    assert '"id":"kommun-config-by-reference"' in _patch_ids(path)
    history = _load(path)
    codec = data_converter(CODEC_KEY).payload_codec
    assert codec is not None
    commands, started, loads, documents = [], [], [], []
    for ev in history.events:
        attrs = ev.workflow_execution_update_accepted_event_attributes
        if attrs.HasField("accepted_request"):
            payloads = await codec.decode(list(attrs.accepted_request.input.args.payloads))
            commands += [json.loads(p.data) for p in payloads]
        if ev.HasField("workflow_execution_started_event_attributes"):
            inp = ev.workflow_execution_started_event_attributes.input.payloads
            started += [json.loads(p.data) for p in await codec.decode(list(inp))]
        if ev.HasField("activity_task_scheduled_event_attributes"):
            loads.append(ev.activity_task_scheduled_event_attributes.activity_type.name)
        if ev.HasField("activity_task_completed_event_attributes"):
            out = ev.activity_task_completed_event_attributes.result.payloads
            documents += [json.loads(p.data) for p in await codec.decode(list(out))]
    [document] = documents
    config = kommun_config_from_document(document)
    assert config.kommun == "1280" and config.policy.klagomal_dagar == 7
    assert config.delegationsordning is not None
    assert [s["kommun_config"] for s in started] == [config_version(document)]
    assert commands and {c["kommun_config"] for c in commands} == {config.version}
    assert all(c["delegationsordning"] is None for c in commands)
    assert loads == ["load_kommun_config"]  # once per run, whatever the number of commands
    decoded = json.dumps(commands) + json.dumps(started)
    assert "lagsta_delegat" not in decoded and '"regler"' not in decoded


def test_histories_from_before_and_after_the_delegation_patch_are_both_kept() -> None:
    """`delegation-on-every-decision`: runs recorded before it (only a beslut_fattat judged, no
    judgement stored) and after it are committed."""
    marker = '"id":"delegation-on-every-decision"'
    with_marker = {p.name for p in HISTORIES if marker in _patch_ids(p)}
    assert with_marker and len(with_marker) < len(HISTORIES)


async def test_a_history_stores_each_decisions_judgement_with_the_event() -> None:
    """Recorded after `delegation-on-every-decision`: every decision the workflow appended
    carries its judgement (the configuration version and ordning that judged it), the refused
    extension never reached the history, and the unreported ordförandebeslut was alerted (E1)."""
    [path] = [p for p in HISTORIES if p.name.startswith("v5-delegation.")]
    history = _load(path)
    codec = data_converter(CODEC_KEY).payload_codec
    assert codec is not None
    appended: list[dict[str, Any]] = []
    started: list[dict[str, Any]] = []
    for ev in history.events:
        if ev.HasField("workflow_execution_started_event_attributes"):
            inp = ev.workflow_execution_started_event_attributes.input.payloads
            started += [json.loads(p.data) for p in await codec.decode(list(inp))]
        marker = ev.marker_recorded_event_attributes
        if ev.HasField("marker_recorded_event_attributes") and "result" in marker.details:
            payloads = await codec.decode(list(marker.details["result"].payloads))
            appended += [json.loads(p.data)["event"] for p in payloads]
    judged = {e["type"]: e.get("delegation") for e in appended}
    for etype in (
        "forhandsbedomning_beslutad",
        "utredning_forlangd",
        "lvu_omhandertagande_beslutat",
    ):
        record = judged[etype]
        assert isinstance(record, dict), etype
        assert record["kommun_config"] == started[0]["kommun_config"]
        assert record["ordning"] == {"version": "2026-01", "giltig_fran": None}
    assert [e["type"] for e in appended].count("utredning_forlangd") == 1
    alerts = [e["data"] for e in appended if e["type"] == "frist_overskriden"]
    assert [a["regel"] for a in alerts] == ["E1"]


async def test_a_history_of_the_placed_child_carries_its_patch_and_alerts() -> None:
    """`placed-child-guards` (issue #15 B): recorded after it, a familjehem placement whose
    requirements the kommun tracks (``policy.placering_krav_fran``) alerts the plans, the
    region's notice and the socialsekreterare after 14 days, and the avvikning's police notice
    and LVU 6 § assessment the day after; the close refused while the child was missing never
    reached the history. Histories recorded before the patch replay above without it."""
    [path] = [p for p in HISTORIES if p.name.startswith("v6-placed_child.")]
    assert '"id":"placed-child-guards"' in _patch_ids(path)
    assert all(
        '"id":"placed-child-guards"' not in _patch_ids(p)
        for p in HISTORIES
        if not p.name.startswith(("v6-", "v7-", "v8-"))  # recorded before it
    )
    codec = data_converter(CODEC_KEY).payload_codec
    assert codec is not None
    appended: list[dict[str, Any]] = []
    for ev in _load(path).events:
        marker = ev.marker_recorded_event_attributes
        if ev.HasField("marker_recorded_event_attributes") and "result" in marker.details:
            payloads = await codec.decode(list(marker.details["result"].payloads))
            appended += [json.loads(p.data)["event"] for p in payloads]
    alerts = sorted(e["data"]["regel"] for e in appended if e["type"] == "frist_overskriden")
    assert alerts == ["D1", "D1G", "D6", "D8", "V1", "V3"]
    types = [e["type"] for e in appended]
    assert "arende_avslutat" not in types and types[-1] != "avvikning_anmald"


async def _started_inputs(path: Path) -> list[dict[str, Any]]:
    codec = data_converter(CODEC_KEY).payload_codec
    assert codec is not None
    out = []
    for ev in _load(path).events:
        if ev.HasField("workflow_execution_started_event_attributes"):
            inp = ev.workflow_execution_started_event_attributes.input.payloads
            out += [json.loads(p.data) for p in await codec.decode(list(inp))]
        if ev.HasField("workflow_execution_continued_as_new_event_attributes"):
            inp = ev.workflow_execution_continued_as_new_event_attributes.input.payloads
            out += [json.loads(p.data) for p in await codec.decode(list(inp))]
    return out


def _local_activities(path: Path) -> list[str]:
    """The activity types of a history's local-activity markers, in order."""
    out = []
    for ev in json.loads(path.read_text())["events"]:
        marker = ev.get("markerRecordedEventAttributes") or {}
        if marker.get("markerName") == "core_local_activity":
            [payload] = marker["details"]["data"]["payloads"]
            out.append(json.loads(base64.b64decode(payload["data"]))["activity_type"])
    return out


async def test_a_history_started_by_reference_carries_no_case_content() -> None:
    """`minimal-input-by-reference` (issue #18 item 6): recorded after it, every run of a case
    (started by update-with-start, started explicitly, continued-as-new) has an input that names
    the case and carries no event, and reads the case through its first local activity. Runs
    recorded before carried the events in their input and replay above."""
    v7 = [p for p in HISTORIES if p.name.startswith("v7-")]
    assert {p.name.split(".")[0] for p in v7} == {
        "v7-placement_continue_as_new",
        "v7-late_registration_withdrawn",
    }
    for path in v7:
        inputs = await _started_inputs(path)
        assert inputs, path.name
        for inp in inputs:
            assert inp["events"] == [] and inp["case_id"], path.name
            assert "anmalan_mottagen" not in json.dumps(inp)
        assert _local_activities(path)[0] == "load_case_events", path.name
        # readable in the Web UI without a codec server: plaintext JSON, marked for the codec
        for ev in json.loads(path.read_text())["events"]:
            attrs = ev.get("workflowExecutionStartedEventAttributes") or ev.get(
                "workflowExecutionContinuedAsNewEventAttributes"
            )
            if attrs:
                [meta] = [p["metadata"] for p in attrs["input"]["payloads"]]
                assert base64.b64decode(meta["encoding"]) == b"json/plain", path.name
                assert base64.b64decode(meta["barnflow-visibility"]) == b"operator"
    marked = [p.name for p in HISTORIES if '"id":"minimal-input-by-reference"' in _patch_ids(p)]
    assert marked and all(name.startswith("v7-placement") for name in marked)
    # before the patch, a continue-as-new carried the case's events
    [old] = [p for p in HISTORIES if p.name == "v3-placement_continue_as_new.0.json"]
    assert any(inp["events"] for inp in await _started_inputs(old))


def test_the_static_summary_is_readable_and_names_no_one() -> None:
    """The run started by a command carries its static summary as plaintext JSON (marked for
    the codec), with what the search attributes hold: kommun, pseudonym prefix, stage."""
    [path] = [p for p in HISTORIES if p.name == "v7-late_registration_withdrawn.0.json"]
    started = json.loads(path.read_text())["events"][0]
    payload = started["userMetadata"]["summary"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"
    text = json.loads(base64.b64decode(payload["data"]))
    assert text.startswith("barnärende 1280-") and "steg vid start: forhandsbedomning" in text
    assert PNR_FOURTH not in text and PNR_FOURTH.replace("-", "") not in text


def test_a_step_accepted_out_of_order_before_the_date_order_guard_is_kept() -> None:
    """`date-order` (P-ORDER): a run recorded by the code before the guard accepted a beslut
    avslutat dated before its verkställighet (eight commands, no refusal, no marker); today's
    code replays it unchanged (``test_recorded_history_replays_on_current_code``) because the
    handler asks the patch only where the guard would refuse."""
    [path] = [p for p in HISTORIES if p.name == "v8-out_of_order.0.json"]
    events = json.loads(path.read_text())["events"]
    completed = [e for e in events if e["eventType"].endswith("UPDATE_COMPLETED")]
    assert len(completed) == 8
    assert not any(
        "failure" in e["workflowExecutionUpdateCompletedEventAttributes"]["outcome"]
        for e in completed
    )
    assert '"id":"date-order"' not in _patch_ids(path)


def _change_versions(path: Path) -> list[bytes]:
    """The ``TemporalChangeVersion`` values a history upserted, in order (JSON text)."""
    return [
        base64.b64decode(fields["TemporalChangeVersion"]["data"])
        for ev in json.loads(path.read_text())["events"]
        for fields in [
            (ev.get("upsertWorkflowSearchAttributesEventAttributes") or {})
            .get("searchAttributes", {})
            .get("indexedFields", {})
        ]
        if "TemporalChangeVersion" in fields
    ]


def _scheduled_activities(path: Path) -> list[str]:
    """The activity types a history scheduled on the server (not local activities), in order."""
    return [
        ev["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for ev in json.loads(path.read_text())["events"]
        if "activityTaskScheduledEventAttributes" in ev
    ]


@pytest.mark.parametrize(
    ("tag", "current"), [("v9", "current-2026-11"), ("v10", "current-2026-12")]
)
def test_a_history_of_a_current_id_carries_one_patch_and_one_change_version(
    tag: str, current: str
) -> None:
    """`current-2026-11` (issue 19 item 2) and `current-2026-12`: every run recorded on the code
    of a current id (a placement continued as new twice, an appeal and a transfer, the placed
    child, a step refused out of order; ``v10`` also the delegation scenario) asks that one
    patch, first, and no older one: one marker and one ``TemporalChangeVersion`` upsert per run
    instead of nine or ten of each. No history of another tag carries the id."""
    mine = [p for p in HISTORIES if p.name.startswith(f"{tag}-")]
    assert {p.name.split(".")[0] for p in mine} >= {
        f"{tag}-placement_continue_as_new",
        f"{tag}-appealed_and_transferred",
        f"{tag}-placed_child",
        f"{tag}-out_of_order",
    }
    for path in mine:
        assert _patch_ids(path) == f'{{"id":"{current}","deprecated":false}}', path.name
        assert _change_versions(path) == [f'["{current}"]'.encode()], path.name
    others = [p for p in HISTORIES if not p.name.startswith(f"{tag}-")]
    assert others and all(current not in _patch_ids(p) for p in others)


def test_todays_code_reads_the_kommun_configuration_in_the_task_that_needs_it() -> None:
    """`current-2026-12`: a run of a configured kommun reads its configuration through a local
    activity (recorded as a marker in the workflow task that needed it), not through an activity
    scheduled on the server (six more history events and a second workflow task per run). The
    same scenarios recorded on `current-2026-11` (``v9``) scheduled one; they still replay
    (``test_recorded_history_replays_on_current_code``)."""
    configured = ("appealed_and_transferred", "placed_child")
    for name in configured:
        [v9] = [p for p in HISTORIES if p.name == f"v9-{name}.0.json"]
        [v10] = [p for p in HISTORIES if p.name == f"v10-{name}.0.json"]
        assert "load_kommun_config" in _scheduled_activities(v9), v9.name
        assert "load_kommun_config" not in _scheduled_activities(v10), v10.name
        assert "load_kommun_config" in _local_activities(v10), v10.name
    [delegation] = [p for p in HISTORIES if p.name == "v10-delegation.0.json"]
    assert "load_kommun_config" in _local_activities(delegation)
    for path in (p for p in HISTORIES if p.name.startswith("v10-")):
        assert "load_kommun_config" not in _scheduled_activities(path), path.name


async def test_a_run_begun_on_older_code_keeps_asking_the_older_patches(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ts_env: WorkflowEnvironment,
    store: CaseStore,
    task_queue: str,
) -> None:
    """A run whose first workflow task an older worker completed (no ``current-…`` marker)
    and that a worker on today's code continues must keep asking each older patch as it did:
    the current ids, asked in ``__init__`` while the first task replays, answer false there.
    The older worker is today's code with no current id ever on, which is what the code before
    them did. The whole history, both halves, replays on today's code."""
    older = _changed_copy(
        tmp_path,
        monkeypatch,
        _ASK_CURRENT,
        "        self._newest = False\n        self._current = False\n",
    )
    d = CaseDriver(ts_env, store, task_queue)
    monkeypatch.setattr(worker_module, "ChildCaseWorkflow", older)
    # no sticky cache: the next task goes to the normal queue, where today's worker takes it
    async with running_worker(
        ts_env.client, store, task_queue, pseudonym_key=PSEUDONYM_KEY, max_cached_workflows=0
    ):
        await d.open_utredning()
        await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
    monkeypatch.setattr(worker_module, "ChildCaseWorkflow", ChildCaseWorkflow)
    async with running_worker(ts_env.client, store, task_queue, pseudonym_key=PSEUDONYM_KEY):
        await d.beslut("b1", "oppenvard")
        await d.sleep_days(10)
        await d.send("insats_verkstalld", {"beslut_id": "b1"})
        avslut = {"beslut_id": "b1", "orsak": "mal_uppnatt"}
        with pytest.raises(CommandRejected):  # P-ORDER (the validator's)
            await d.send("beslut_avslutat", avslut, at=await d.now() - timedelta(days=5))
        await d.send("beslut_avslutat", avslut)
        await d.sleep_days(1)
        history = await d.handle.fetch_history()
    path = tmp_path / "mixed.json"
    path.write_text(history.to_json())
    ids = _patch_ids(path)
    assert "current-2026-11" not in ids and "current-2026-12" not in ids
    for patch in ("delegation-on-every-decision", "alert-settle-cap", "reuse-frist-timer"):
        assert f'"id":"{patch}"' in ids, patch
    replayer = Replayer(workflows=[ChildCaseWorkflow], data_converter=data_converter(CODEC_KEY))
    await replayer.replay_workflow(history)


async def test_a_run_begun_on_the_previous_current_id_keeps_reading_its_configuration_by_activity(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ts_env: WorkflowEnvironment,
    store: CaseStore,
    task_queue: str,
) -> None:
    """A run of a configured kommun that began on `current-2026-11` (its marker, its kommun
    configuration read by a scheduled activity) and that a worker on today's code continues
    keeps the activity: its first task replays with today's id answering false and the previous
    one true. A new configuration version in force meanwhile is read the same way. Had today's
    code read it by local activity, the replay of the first half would fail (a local-activity
    marker where the history scheduled an activity) and the commands would never be answered.
    The previous code is today's with ``CURRENT_PATCH`` never on."""
    previous = _changed_copy(
        tmp_path,
        monkeypatch,
        "        self._newest = workflow.patched(CURRENT_PATCH)\n",
        "        self._newest = False\n",
    )
    sample_text = (ROOT / "config" / "kommun.sample.toml").read_text()
    assert "dagar = 14" in sample_text
    (tmp_path / "changed.toml").write_text(sample_text.replace("dagar = 14", "dagar = 13", 1))
    first = load_kommun_file(ROOT / "config" / "kommun.sample.toml")
    second = load_kommun_file(tmp_path / "changed.toml")
    assert first.version != second.version
    with configured_store(store, first) as configured:
        d = CaseDriver(ts_env, configured, task_queue)
        monkeypatch.setattr(worker_module, "ChildCaseWorkflow", previous)
        async with running_worker(ts_env.client, configured, task_queue, max_cached_workflows=0):
            await d.open_utredning()
    monkeypatch.setattr(worker_module, "ChildCaseWorkflow", ChildCaseWorkflow)
    with configured_store(store, second) as configured:
        d.store = configured
        async with running_worker(ts_env.client, configured, task_queue):
            await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
            history = await d.handle.fetch_history()
    path = tmp_path / "continued.json"
    path.write_text(history.to_json())
    assert _patch_ids(path) == '{"id":"current-2026-11","deprecated":false}'
    assert _scheduled_activities(path).count("load_kommun_config") == 2
    assert "load_kommun_config" not in _local_activities(path)
    replayer = Replayer(workflows=[ChildCaseWorkflow], data_converter=data_converter(CODEC_KEY))
    await replayer.replay_workflow(history)
