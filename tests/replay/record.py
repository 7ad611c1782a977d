"""Record the JSON histories under ``tests/replay/histories`` (run when workflow code changes
*compatibly*, i.e. never to paper over a replay failure):

    .venv/bin/python -m tests.replay.record [TAG [SCENARIO ...]]

Files are named ``[TAG-]<scenario>.<run>.json``; histories of earlier versions stay committed
next to the new ones (tag them, e.g. ``v2``), so the code must keep replaying all of them. Naming
scenarios records only those (a new scenario for a new shape of history).

Each scenario runs the production workflow in the time-skipping server against a throwaway
embedded PostgreSQL, then saves every run's history of the case (continue-as-new chains too).
Payloads are encrypted with the test codec key (``tests.conftest.CODEC_KEY``) and the children
are the made-up test personnummer, so the files hold no real data.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from domain.calendar import STOCKHOLM, add_days, add_months, legal_date
from infra.config.kommun import LoadedConfig
from infra.persistence.embedded_pg import embedded_postgres
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
from infra.temporal.client import register_search_attributes
from infra.temporal.codec import data_converter
from infra.temporal.commands import CommandRejected
from infra.temporal.devserver import TEST_SERVER_STARTUP, temporal_test_server
from infra.temporal.worker import running_worker
from tests.conftest import CIPHER_KEY, CODEC_KEY, PSEUDONYM_KEY
from tests.factories import PNR_BOY, PNR_FOURTH, PNR_GIRL, PNR_THIRD
from tests.kommun_configs import kommun_config, store_configs
from tests.workflows.driver import CaseDriver

HERE = Path(__file__).parent / "histories"


async def placement(d: CaseDriver) -> None:
    await d.start(continue_as_new_after=30)
    await d.open_utredning()
    await d.sleep_days(16)
    await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
    await d.beslut("b1", "familjehem")
    await d.sleep_days(100)  # C2 passes: an EVB alert
    await d.send("insats_verkstalld", {"beslut_id": "b1"})
    for _ in range(2):
        await d.sleep_days(170)
        await d.send("overvagande_genomfort", {"beslut_id": "b1", "slutsats": "fortsatt vard"})


async def lvu(d: CaseDriver) -> None:
    await d.open_utredning()
    await d.send(
        "lvu_omhandertagande_beslutat",
        {"beslut_id": "lvu-1", "delegat": {"id": "o1", "roll": "ordforande"}},
    )
    await d.send("lvu_omhandertagande_verkstallt", {"beslut_id": "lvu-1"})
    await d.sleep_days(9)
    await d.send("lvu_understalld", {"beslut_id": "lvu-1"})
    await d.send(
        "lvu_ansokan_inlamnad",
        {"beslut_id": "lvu-1", "grund": "hem", "lakarundersokning_obehovlig": True},
    )
    await d.sleep_days(20)
    await d.send("lvu_dom", {"utfall": "bifall", "beslut_id": "lvu-1", "paragraf": "2"})


async def closed(d: CaseDriver) -> None:
    await d.anmalan()
    await d.send("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False})
    await d.sleep_days(20)  # A2 missed
    await d.send(
        "forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inte_inleda_utredning"}
    )
    await d.send("arende_avslutat", {"orsak": "ingen_utredning"})
    await d.handle.result()


async def late(d: CaseDriver) -> None:
    """Late registration (alert-settle-window, alert-withdrawal): a burst that fulfils in time
    raises nothing; an alert raised after the window is withdrawn by a late fulfilment."""
    today = await d.today()
    first, second = (datetime.combine(add_days(today, n), time(12), STOCKHOLM) for n in (-4, -2))
    await d.anmalan(at=first)
    await d.env.sleep(timedelta(minutes=10))  # the window ends: A1 is alerted
    skydd = {"anmalan_id": "anm-1", "omedelbart_skydd": False}
    await d.send("skyddsbedomning_gjord", skydd, at=first)  # ...and withdrawn
    await d.send(
        "forhandsbedomning_beslutad",
        {"anmalan_id": "anm-1", "beslut": "inte_inleda_utredning"},
        at=first,
    )
    await d.anmalan("anm-2", at=second)  # a burst: its skyddsbedömning within the window
    await d.send("skyddsbedomning_gjord", {**skydd, "anmalan_id": "anm-2"}, at=second)
    await d.sleep_days(1)


async def appealed_and_transferred(d: CaseDriver) -> None:
    """An avslag appealed through the kommun to the court (O2, inhibition-free), then the ärende
    moved to another kommun after its answer (transfer-needs-answer)."""
    await d.open_utredning()
    await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "avslag"})
    await d.send(
        "beslut_fattat",
        {
            "beslut_id": "b1",
            "lagrum": "SoL 11:1",
            "beslutstyp": "avslag",
            "gynnande": False,
            "delegat": {"id": "d1", "roll": "utskott"},
        },
    )
    await d.send("beslut_delgivet", {"beslut_id": "b1"})
    await d.sleep_days(10)
    await d.send("overklagande_mottaget", {"overklagande_id": "o1", "beslut_id": "b1"})
    await d.sleep_days(9)  # O2 (7 days; 5 in v5's configuration) passes: an alert
    await d.send("rattidsprovning_gjord", {"overklagande_id": "o1", "i_tid": True})
    await d.send("overklagande_overlamnat", {"overklagande_id": "o1"})
    await d.sleep_days(30)
    await d.send("overklagande_avgjort", {"overklagande_id": "o1", "utfall": "avslag"})
    await d.send("overflyttning_begard", {"till_kommun": "0127"})
    await d.send("overflyttning_besvarad", {"svar": "accepterad"})
    await d.send("arende_overflyttat", {"till_kommun": "0127"})
    await d.handle.result()


#: kommun 1280's configuration in the ``kommun_config`` scenario: K1 within 7 days, and an
#: insats needs at least a sektionschef. The rule names SoL (2025:400) 11:1, the lagrum a
#: beslut names since 2025-07-01 (``CaseDriver.beslut``); under the v4 recording it named
#: SoL (2001:453) 4:1, and recording again refused the sektionschef's beslut (DELEG: not in
#: the ordning), so only the nämnd could decide it.
KOMMUN_1280 = kommun_config(
    "1280",
    klagomal={"dagar": 7},
    delegationsordning={
        "regler": [
            {
                "id": "3.1",
                "beslutstyp": "insats",
                "lagrum": "SoL 11:1",
                "lagsta_delegat": "sektionschef",
            },
        ]
    },
)


async def configured(d: CaseDriver) -> None:
    """The kommun's configuration by reference (kommun-config-by-reference): the input and every
    command name its version, the workflow loads it once, K1 alerts after the kommun's 7 days and
    a beslut below its delegationsordning is refused by the validator."""
    await d.start()
    # this ordning lists no förhandsbedömning: only the nämnd itself may decide it (since
    # delegation-on-every-decision; the committed v4 history predates that)
    await d.anmalan()
    await d.send("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False})
    await d.send(
        "forhandsbedomning_beslutad",
        {
            "anmalan_id": "anm-1",
            "beslut": "inleda_utredning",
            "delegat": {"id": "n", "roll": "namnd"},
        },
    )
    await d.send(
        "utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "anm-1"}
    )
    await d.send("klagomal_mottaget", {"klagomal_id": "k1"})
    await d.sleep_days(8)  # K1 (7 days) is alerted
    await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
    try:
        await d.beslut("b1", "oppenvard", roll="socialsekreterare")
    except CommandRejected as exc:
        assert getattr(exc.cause, "rule", None) == "DELEG", exc
    else:
        raise AssertionError("a socialsekreterare's beslut was accepted")
    await d.beslut("b1", "oppenvard", roll="sektionschef")
    await d.send("klagomal_besvarat", {"klagomal_id": "k1"})


_TODAY = legal_date(datetime.now(UTC))  # the time-skipping server starts at the real time
#: kommun 1280 in the ``delegation`` scenario: every decision judged, an ordförandebeslut due at
#: the next sammanträde of its calendar.
KOMMUN_1280_DELEGATION = kommun_config(
    "1280",
    namnd={"sammantraden": [add_days(_TODAY, 3), add_days(_TODAY, 31)]},
    delegationsordning={
        "version": "2026-01",
        "regler": [
            {
                "id": "2.1",
                "beslutstyp": "inleda_utredning",
                "lagrum": "SoL 14:2",
                "lagsta_delegat": "socialsekreterare",
            },
            {
                "id": "2.5",
                "beslutstyp": "forlangning_utredning",
                "lagrum": "SoL 20:3",
                "lagsta_delegat": "sektionschef",
            },
            {
                "id": "4.2",
                "beslutstyp": "omedelbart_omhandertagande",
                "lagrum": "LVU 6 §",
                "lagsta_delegat": "utskott",
                "ordforande": True,
            },
        ],
    },
)


async def delegation(d: CaseDriver) -> None:
    """Every decision judged (delegation-on-every-decision): the förhandsbedömning and the
    extension by the ordning in force, a refused extension never in the history, the stored
    judgement in every append; the ordförande's omhändertagande due at the next sammanträde and
    alerted when that passes unreported (E1)."""
    await d.start()
    await d.open_utredning()
    extension = {"utredning_id": "u1", "ny_slutdag": add_months(_TODAY, 5).isoformat(), "skal": "s"}
    try:
        await d.send(
            "utredning_forlangd", {**extension, "delegat": {"id": "s", "roll": "socialsekreterare"}}
        )
    except CommandRejected as exc:
        assert getattr(exc.cause, "rule", None) == "DELEG", exc
    else:
        raise AssertionError("a socialsekreterare's extension was accepted")
    await d.send(
        "utredning_forlangd", {**extension, "delegat": {"id": "c", "roll": "sektionschef"}}
    )
    await d.send("lvu_omhandertagande_beslutat", {"beslut_id": "L1", "ordforandebeslut": True})
    await d.send("lvu_understalld", {"beslut_id": "L1"})
    await d.sleep_days(5)  # the sammanträde passes without the anmälan: E1 is alerted


#: kommun 1280 in the ``placed_child`` scenario: a placement's requirements are tracked.
KOMMUN_1280_PLACED = kommun_config("1280", policy={"placering_krav_fran": add_days(_TODAY, -365)})


async def placed_child(d: CaseDriver) -> None:
    """The placed child (placed-child-guards, issue #15 B): a familjehem placement whose plans,
    notice and socialsekreterare are missing after 14 days (D1, D1G, D6, D8 alerted), a visit
    with an enskilt samtal, an avvikning whose police notice and LVU 6 § assessment are late
    (V1, V3 alerted), a refused close while the child is missing, and the return."""
    await d.start()
    await d.open_utredning()
    await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
    await d.beslut("b1", "familjehem")
    await d.send("insats_verkstalld", {"beslut_id": "b1"})
    await d.sleep_days(10)
    await d.send("barnet_besokt", {"enskilt_samtal": True, "beslut_id": "b1"})
    await d.sleep_days(6)  # D1, D1G, D6, D8 (14 days) are alerted
    await d.send("avvikning_anmald", {"avvikning_id": "av1", "beslut_id": "b1"})
    await d.sleep_days(3)  # V1, V3 (the next day) are alerted
    try:
        await d.send("arende_avslutat", {"orsak": "barnet_forsvunnet"})
    except CommandRejected as exc:
        assert getattr(exc.cause, "rule", None) in ("P-AVVIKNING", "P-CLOSE"), exc
    else:
        raise AssertionError("the case of a missing child was closed")
    await d.send("avvikning_avslutad", {"avvikning_id": "av1", "utfall": "aterfunnen"})


async def out_of_order(d: CaseDriver) -> None:
    """A beslut avslutat dated before its insats was verkställd (date-order): recorded by the
    code before the guard (``v8``), which accepted it; the code since refuses it (``P-ORDER``)
    and the beslut is then avslutat today."""
    await d.open_utredning()
    await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
    await d.beslut("b1", "oppenvard")
    await d.sleep_days(10)
    await d.send("insats_verkstalld", {"beslut_id": "b1"})
    avslut = {"beslut_id": "b1", "orsak": "mal_uppnatt"}
    try:
        await d.send("beslut_avslutat", avslut, at=await d.now() - timedelta(days=5))
    except CommandRejected as exc:
        assert getattr(exc.cause, "rule", None) == "P-ORDER", exc
        await d.send("beslut_avslutat", avslut)
    await d.sleep_days(1)


SCENARIOS: dict[str, tuple[str, Callable[[CaseDriver], Awaitable[None]]]] = {
    "placement_continue_as_new": (PNR_GIRL, placement),
    # a child of 16 (PNR_BOY turned 18 on 2026-01-01: LVU care on the hem ground is refused,
    # P-LVU-ALDER); the committed histories recorded with him stay as they are
    "lvu_track": (PNR_THIRD, lvu),
    "closed_after_late_forhandsbedomning": (PNR_THIRD, closed),
    "late_registration_withdrawn": (PNR_FOURTH, late),
    "appealed_and_transferred": (PNR_GIRL, appealed_and_transferred),
    "kommun_config": (PNR_GIRL, configured),
    "delegation": (PNR_BOY, delegation),
    "placed_child": (PNR_THIRD, placed_child),
    "out_of_order": (PNR_FOURTH, out_of_order),
}
#: kommun 1280's configuration in the ``appealed_and_transferred`` scenario (from v5, recorded
#: after the merge of kommun-config-by-reference; v4 ran on the defaults): O2 within 5 days.
KOMMUN_1280_APPEALS = kommun_config("1280", policy={"overklagande_overlamnande_dagar": 5})
#: The kommun configurations in force in a scenario's process (none: the defaults).
CONFIGS: dict[str, tuple[LoadedConfig, ...]] = {
    "kommun_config": (KOMMUN_1280,),
    "delegation": (KOMMUN_1280_DELEGATION,),
    "appealed_and_transferred": (KOMMUN_1280_APPEALS,),
    "placed_child": (KOMMUN_1280_PLACED,),
}


async def _chain(env: WorkflowEnvironment, workflow_id: str) -> list[WorkflowHistory]:
    """Every run of a workflow id, first to last, following continue-as-new links."""
    latest = await env.client.get_workflow_handle(workflow_id).fetch_history()
    started = latest.events[0].workflow_execution_started_event_attributes
    run_id: str | None = started.first_execution_run_id or latest.run_id
    runs: list[WorkflowHistory] = []
    while run_id:
        history = await env.client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append(history)
        last = history.events[-1]
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return runs


async def record(out: Path = HERE, tag: str = "", only: tuple[str, ...] = ()) -> list[Path]:
    """Record every scenario, or those named in ``only`` (a new scenario next to old tags)."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="bf-rec-") as tmp, embedded_postgres(Path(tmp)) as url:
        for name, (pnr, scenario) in SCENARIOS.items():
            if only and name not in only:
                continue
            schema = f"rec_{uuid.uuid4().hex[:8]}"
            ensure_schema(url, schema)
            env = eventsourcing_env(url, schema, CIPHER_KEY)
            store = CaseStore(env=store_configs(env, *CONFIGS.get(name, ())))
            env = await WorkflowEnvironment.start_time_skipping(
                test_server_existing_path=temporal_test_server(),
                data_converter=data_converter(CODEC_KEY),
                test_server_startup_timeout=TEST_SERVER_STARTUP,
            )
            try:
                await register_search_attributes(env.client, "default")
                async with running_worker(env.client, store, "replay", pseudonym_key=PSEUDONYM_KEY):
                    d = CaseDriver(env, store, "replay", pnr=pnr)
                    await scenario(d)
                    runs = await _chain(env, d.workflow_id)
                for i, history in enumerate(runs):
                    path = out / f"{tag + '-' if tag else ''}{name}.{i}.json"
                    path.write_text(history.to_json())
                    written.append(path)
            finally:
                await env.shutdown()
                store.close()
    return written


if __name__ == "__main__":
    import sys

    tag = sys.argv[1] if len(sys.argv) > 1 else ""
    for p in asyncio.run(record(tag=tag, only=tuple(sys.argv[2:]))):
        print(p)
