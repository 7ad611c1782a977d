"""Against a real Temporal dev server and real PostgreSQL: backdating, restarts, privacy.

The dev server is shared by the session and a child has one workflow per kommun, so every test
uses its own child (personnummer) and task queue.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.client import Client

from domain.calendar import add_days, legal_date
from domain.events import parse_event
from domain.ids import case_id_for
from infra.persistence.store import CaseStore
from infra.temporal import devserver
from infra.temporal.codec import data_converter
from infra.temporal.commands import send_command
from infra.temporal.devserver import DevServer, dev_server
from infra.temporal.worker import running_worker
from tests.conftest import CODEC_KEY, PSEUDONYM_KEY
from tests.factories import PNR_BOY, PNR_FOURTH, PNR_THIRD, anmalan, days_ago, line
from tests.helpers import eventually


def _types(store: CaseStore, case_ref: str) -> list[str]:
    return [e.type for e in store.case_events(case_id_for("1280", case_ref))]


async def test_backdated_anmalan_produces_a2_overdue_event_at_once(
    dev_client: Client, store: CaseStore, task_queue: str
) -> None:
    received = days_ago(20)
    async with running_worker(dev_client, store, task_queue):
        await send_command(
            dev_client,
            store,
            parse_event(anmalan(received, case_ref="VS-BACK", pnr=PNR_FOURTH)),
            pseudonym_key=PSEUDONYM_KEY,
            task_queue=task_queue,
            alert_settle_seconds=1.0,  # "at once": as soon as a one-second settle window ends
        )
        case = case_id_for("1280", "VS-BACK")

        def a2_alerts() -> list[str]:
            return [
                e.data["due"]
                for e in store.case_events(case)
                if e.type == "frist_overskriden" and e.data["regel"] == "A2"
            ]

        due = add_days(legal_date(received), 14).isoformat()
        assert await eventually(a2_alerts, timeout=15) == [due]


async def test_worker_restart_mid_case_leaves_no_gap_and_no_duplicate(
    dev_client: Client, store: CaseStore, task_queue: str
) -> None:
    now = datetime.now(UTC)
    ref = "VS-RESTART"
    steps = [
        anmalan(now, case_ref=ref, pnr=PNR_BOY, kon="pojke"),
        line(
            "skyddsbedomning_gjord",
            {"anmalan_id": "anm-1", "omedelbart_skydd": False},
            at=now,
            key="r-2",
            case_ref=ref,
        ),
        line(
            "forhandsbedomning_beslutad",
            {"anmalan_id": "anm-1", "beslut": "inleda_utredning"},
            at=now,
            key="r-3",
            case_ref=ref,
        ),
        line(
            "utredning_inledd",
            {"utredning_id": "u-1", "grund": "anmalan"},
            at=now,
            key="r-4",
            case_ref=ref,
        ),
        line(
            "utredning_avslutad",
            {"utredning_id": "u-1", "utfall": "ingen_atgard"},
            at=now,
            key="r-5",
            case_ref=ref,
        ),
        line("arende_avslutat", {"orsak": "ingen_atgard"}, at=now, key="r-6", case_ref=ref),
    ]

    async def send(i: int) -> None:
        await send_command(
            dev_client,
            store,
            parse_event(steps[i]),
            pseudonym_key=PSEUDONYM_KEY,
            task_queue=task_queue,
        )

    async with running_worker(dev_client, store, task_queue):
        for i in range(3):
            await send(i)
    # worker stopped: the next command waits in Temporal until a worker returns
    pending = asyncio.create_task(send(3))
    await asyncio.sleep(1.0)
    assert not pending.done()
    async with running_worker(dev_client, store, task_queue):
        await asyncio.wait_for(pending, 30)
        await send(3)  # a client retry of the same command is a no-op
        for i in range(4, len(steps)):
            await send(i)
    events = store.case_events(case_id_for("1280", ref))
    assert [e.type for e in events] == [s["type"] for s in steps]
    keys = [e.idempotency_key for e in events]
    assert len(keys) == len(set(keys))
    positions = [e.position for e in events]
    assert positions == sorted(positions)


async def test_temporal_history_carries_no_personnummer(
    dev_temporal: DevServer, dev_client: Client, store: CaseStore, task_queue: str
) -> None:
    now = days_ago(3)
    ref = "VS-PRIVACY"
    async with running_worker(dev_client, store, task_queue):
        result = await send_command(
            dev_client,
            store,
            parse_event(anmalan(now, case_ref=ref, pnr=PNR_THIRD)),
            pseudonym_key=PSEUDONYM_KEY,
            task_queue=task_queue,
        )
        await send_command(
            dev_client,
            store,
            parse_event(
                line(
                    "skyddsbedomning_gjord",
                    {"anmalan_id": "anm-1", "omedelbart_skydd": False},
                    at=now,
                    key="p-2",
                    case_ref=ref,
                )
            ),
            pseudonym_key=PSEUDONYM_KEY,
            task_queue=task_queue,
        )
        assert result.case_id == str(case_id_for("1280", ref))
    # Read the history as the server stores it: a client *without* the codec.
    raw = await Client.connect(dev_temporal.address, namespace="default")

    async def listed() -> list[object]:
        return [w async for w in raw.list_workflows(f"TaskQueue = '{task_queue}'")]

    found: list = []
    for _ in range(50):  # visibility is eventually consistent
        found = await listed()
        if found:
            break
        await asyncio.sleep(0.2)
    assert len(found) == 1
    handle = raw.get_workflow_handle(found[0].id)
    history = await handle.fetch_history()
    blob = history.to_json().encode() + b"".join(e.SerializeToString() for e in history.events)
    desc = await handle.describe()
    visible = " ".join(
        [found[0].id, str(desc.search_attributes), str(desc.memo), str(desc.raw_description)]
    )
    short = PNR_THIRD[2:]
    for needle in (PNR_THIRD, short, f"{short[:6]}-{short[6:]}"):
        assert needle.encode() not in blob
        assert needle not in visible
    # and the codec really is what hides it: decoding with the key shows the child
    decoded = await Client.connect(
        dev_temporal.address, namespace="default", data_converter=data_converter(CODEC_KEY)
    )
    inputs = await decoded.get_workflow_handle(found[0].id).fetch_history()
    assert any(
        ev.HasField("workflow_execution_update_accepted_event_attributes") for ev in inputs.events
    )


async def test_dev_server_database_in_wal_mode_keeps_workflows_across_a_restart(
    tmp_path: Path,
) -> None:
    """The local stack's server runs its SQLite file in WAL mode (``SQLITE_PRAGMAS``: half the
    CPU per workflow start); what it committed is still there when it starts again."""
    for run in range(2):
        with dev_server(tmp_path, headless=True) as server:
            client = await Client.connect(server.address)
            if run == 0:
                await client.start_workflow("NoWorker", id="wal-kept", task_queue="none")
            described = await client.get_workflow_handle("wal-kept").describe()
            assert described.workflow_type == "NoWorker"
        with sqlite3.connect(tmp_path / "temporal.db") as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def _taken_port() -> socket.socket:
    """A loopback port some other program holds (listening), as a port picked free may be by the
    time the server binds it."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder


async def test_a_port_taken_before_the_server_binds_it_is_picked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``free_port`` releases the port it found before the server binds it; when another program
    takes it meanwhile the server exits at once ("address already in use"), and the start is
    tried again on newly picked ports instead of failing the test or command that started it."""
    with _taken_port() as holder:
        taken = int(holder.getsockname()[1])
        picks = iter([taken])
        real = devserver.free_port
        monkeypatch.setattr(devserver, "free_port", lambda: next(picks, None) or real())
        with dev_server(tmp_path, headless=True) as server:
            assert not server.address.endswith(f":{taken}")
            client = await Client.connect(server.address)
            assert (await client.count_workflows()).count == 0
    assert devserver.PORT_TAKEN in (tmp_path / "temporal.log").read_text()


def test_a_given_port_that_is_taken_is_one_error_naming_it(tmp_path: Path) -> None:
    """A port the caller gave (``barnflow dev --temporal-port``) is not picked again: the start
    fails with the server's own line. Before, the readiness check connected to whatever held the
    port and took it for the server, which had exited."""
    with _taken_port() as holder:
        taken = int(holder.getsockname()[1])
        refused = pytest.raises(RuntimeError, match=f"{taken}.*address already in use")
        with refused, dev_server(tmp_path, port=taken, headless=True):
            pass
