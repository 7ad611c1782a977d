"""A kommun's configuration reaches the workflow by reference (issue 13, item 4): commands and the
workflow input carry a version id, the workflow loads the document once per run through the
configuration activity, alerts use the kommun's own policy and beslut are judged against its
delegationsordning. The versions are made by the production loader (``infra.config.kommun``)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from domain.calendar import add_days
from infra.config.kommun import LoadedConfig, parse_kommun_config
from tests.fast.driver import FastCase
from tests.fast.fakes import InMemoryStore

DELEGATION = {
    "regler": [
        {
            "id": "3.4",
            "beslutstyp": "placering_familjehem",
            "lagrum": "SoL 11:1",
            "lagsta_delegat": "utskott",
        }
    ]
}


def _config(store: InMemoryStore, **tables: Any) -> LoadedConfig:
    """A validated kommun file for 1280, stored as a version the fake activity can return."""
    loaded = parse_kommun_config({"kommun": "1280", **tables}, "test/1280.toml")
    store.configs[loaded.version] = loaded.document
    return loaded


async def _klagomal(d: FastCase) -> None:
    await d.anmalan()
    await d.send("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False})
    await d.send(
        "forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inleda_utredning"}
    )
    await d.send("klagomal_mottaget", {"klagomal_id": "k1"})


async def test_the_kommuns_klagomal_days_drive_the_alert(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    """K1 with klagomål days 7 (the default is 14): the alert comes after a week, due day 7."""
    config = _config(fake_store, klagomal={"dagar": 7})
    d = FastCase(fast_env, fake_store, fast_worker, kommun_config=config.version)
    await _klagomal(d)
    received = await d.today()
    await d.sleep_days(8)
    await d.send(
        "utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "anm-1"}
    )
    assert ("frist_overskriden", "K1", add_days(received, 7).isoformat()) in d.alerts()
    assert fake_store.config_loads == [config.version]  # once per run, not once per command


async def test_without_a_configuration_the_documented_default_applies(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    d = FastCase(fast_env, fake_store, fast_worker)
    await _klagomal(d)
    await d.sleep_days(8)
    assert not [a for a in d.alerts() if a[1] == "K1"]
    assert "K1:k1" in (await d.summary()).open_frister
    assert fake_store.config_loads == []


async def test_the_history_carries_the_version_id_not_the_document(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    config = _config(fake_store, klagomal={"dagar": 7}, delegationsordning=DELEGATION)
    d = FastCase(fast_env, fake_store, fast_worker, kommun_config=config.version)
    await _klagomal(d)
    history = await d.handle.fetch_history()
    inputs: list[dict[str, Any]] = []
    for ev in history.events:
        if ev.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            payloads = ev.workflow_execution_update_accepted_event_attributes.accepted_request
            inputs += [json.loads(p.data) for p in payloads.input.args.payloads]
        if ev.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            started = ev.workflow_execution_started_event_attributes.input.payloads
            assert json.loads(started[0].data)["kommun_config"] == config.version
    assert len(inputs) == 4
    for cmd in inputs:
        assert cmd["kommun_config"] == config.version
        assert cmd["delegationsordning"] is None
    raw = history.to_json()
    assert '"regler"' not in raw and "placering_familjehem" not in raw


async def test_a_beslut_is_judged_against_the_referenced_delegationsordning(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    config = _config(fake_store, delegationsordning=DELEGATION)
    d = FastCase(fast_env, fake_store, fast_worker, kommun_config=config.version)
    await d.open_utredning()
    await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
    placement = {
        "beslut_id": "b1",
        "lagrum": "SoL 11:1",
        "beslutstyp": "placering_familjehem",
        "insats": "familjehem",
        "gynnande": True,
        "delegat": {"id": "d1", "roll": "sektionschef"},
    }
    accepted = await d.accepted_updates()
    assert await d.rejected("beslut_fattat", placement) == "DELEG"
    assert await d.accepted_updates() == accepted  # refused by the validator: not in history
    await d.send("beslut_fattat", {**placement, "delegat": {"id": "d1", "roll": "namnd"}})
    assert d.events()[-1].type == "beslut_fattat"


async def test_a_new_version_named_by_a_command_is_in_force_from_then_on(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    """The nämnd shortens the klagomål days from 14 to 3 while the case runs: the workflow's
    frister follow the version the latest command named (docs/rules.md, "Which configuration
    version applies"); alerts already due under the old version are not re-judged."""
    old = _config(fake_store, klagomal={"dagar": 14})
    new = _config(fake_store, klagomal={"dagar": 3})
    d = FastCase(fast_env, fake_store, fast_worker, kommun_config=old.version)
    await _klagomal(d)
    received = await d.today()
    await d.sleep_days(4)
    assert not [a for a in d.alerts() if a[1] == "K1"]  # day 4 of 14
    d.kommun_config = new.version  # the API restarted with the nämnd's new file
    await d.send("anmalare_informerad", {"anmalan_id": "anm-1"})
    await fast_env.sleep(timedelta(minutes=10))  # the settle window after that command
    assert ("frist_overskriden", "K1", add_days(received, 3).isoformat()) in d.alerts()
    assert fake_store.config_loads == [old.version, new.version]
