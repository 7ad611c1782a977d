"""The workflow judges every decision and keeps the judgement with the event; an ordförandebeslut
is due at the nämnd's next sammanträde and alerted when it was not reported (issue 14, items 1,
3 and 4). The kommun's configuration is made by the production loader."""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio.testing import WorkflowEnvironment

from domain.calendar import add_days
from infra.config.kommun import LoadedConfig, parse_kommun_config
from tests.fast.driver import FastCase
from tests.fast.fakes import InMemoryStore

UTSKOTT = {"id": "iu", "roll": "utskott"}


def _config(store: InMemoryStore, sammantraden: list[date], **ordning: Any) -> LoadedConfig:
    regler = [
        {
            "id": "4.2",
            "beslutstyp": "omedelbart_omhandertagande",
            "lagrum": "LVU 6 §",
            "lagsta_delegat": "utskott",
            "ordforande": True,
        },
        {
            "id": "4.4",
            "beslutstyp": "placering",
            "lagrum": "LVU 11 §",
            "lagsta_delegat": "utskott",
            "ordforande": True,
        },
        {
            "id": "2.1",
            "beslutstyp": "inleda_utredning",
            "lagrum": "SoL 14:2",
            "lagsta_delegat": "socialsekreterare",
        },
    ]
    loaded = parse_kommun_config(
        {
            "kommun": "1280",
            "namnd": {"sammantraden": sammantraden},
            "delegationsordning": {"regler": regler, **ordning},
        },
        "test/1280.toml",
    )
    store.configs[loaded.version] = loaded.document
    return loaded


async def test_an_ordforandebeslut_not_reported_at_the_next_sammantrade_is_alerted(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    d = FastCase(fast_env, fake_store, fast_worker)
    today = await d.today()
    meeting, later = add_days(today, 6), add_days(today, 34)
    d.kommun_config = _config(fake_store, [add_days(today, -10), meeting, later]).version
    await d.anmalan()
    await d.send("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": True})
    # the chair decides the omhändertagande (LVU 6 § andra st.) and, the day after, the placement
    # (11 § tredje st.); only the placement is reported at the meeting
    await d.send("lvu_omhandertagande_beslutat", {"beslut_id": "L1", "ordforandebeslut": True})
    judged = d.events()[-1].delegation
    assert judged is not None
    assert (judged["ordforandebeslut"], judged["delegat"]["roll"], judged["punkt"]) == (
        True,
        "ordforande",
        "4.2",
    )
    assert judged["kommun_config"] == d.kommun_config
    await d.send("lvu_understalld", {"beslut_id": "L1"})
    await d.sleep_days(1)
    await d.send(
        "lvu_placering_paborjad",
        {
            "placering_id": "P1",
            "placering": "jourhem",
            "delegat": {"id": "o", "roll": "ordforande"},
        },
    )
    await d.sleep_days(5)
    await d.send("lvu_ordforandebeslut_anmalt", {"placering_id": "P1"})  # at the meeting
    await d.sleep_days(3)
    alerts = [a for a in d.alerts() if a[1] in ("E1", "E18")]
    assert alerts == [("frist_overskriden", "E1", meeting.isoformat())]  # not 30 days later


async def test_the_workflow_stores_each_judgement_and_a_later_version_does_not_change_it(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    first = _config(fake_store, [], version="2026-01")
    d = FastCase(fast_env, fake_store, fast_worker, kommun_config=first.version)
    await d.anmalan()
    await d.send("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False})
    await d.send(
        "forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inleda_utredning"}
    )
    before = d.events()[-1].delegation
    assert before is not None and before["ordning"]["version"] == "2026-01"
    # not listed in either version: only the nämnd; refused before it reaches the history
    assert await d.rejected("lvu_ansokan_inlamnad", {"delegat": UTSKOTT}) == "DELEG"
    second = _config(fake_store, [], version="2026-10")
    d.kommun_config = second.version
    await d.send("lvu_omhandertagande_beslutat", {"beslut_id": "L1", "delegat": UTSKOTT})
    after = d.events()[-1].delegation
    assert after is not None
    assert (after["kommun_config"], after["ordning"]["version"]) == (second.version, "2026-10")
    stored = [e.delegation for e in d.events() if e.type == "forhandsbedomning_beslutad"]
    assert stored == [before]  # the record of history is not re-judged
    assert before["kommun_config"] == first.version
