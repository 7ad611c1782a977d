"""``audit verify`` against a real Temporal dev server: an open case whose workflow knows another
last position than the store, and an open case without a workflow, are each named."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

import pytest
from temporalio.client import Client

from domain.events import parse_event
from infra.audit.verify import running_case_workflows, verify_temporal
from infra.cli.main import main
from infra.config.settings import load_settings
from infra.persistence.store import CaseHead, CaseStore
from infra.temporal.commands import adopt_case
from infra.temporal.devserver import DevServer
from infra.temporal.worker import running_worker
from tests.conftest import CIPHER_KEY, CODEC_KEY, PSEUDONYM_KEY
from tests.factories import anmalan, earlier_today, fresh_pnr, line

#: Kommuner of their own: the session's dev server is shared with other tests.
DIVERGED, MISSING = "9921", "9922"


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def _env(pg_url: str, schema: str, address: str, queue: str) -> dict[str, str]:
    return {
        "BARNFLOW_DATABASE_URL": pg_url,
        "BARNFLOW_DATABASE_SCHEMA": schema,
        "BARNFLOW_TEMPORAL_ADDRESS": address,
        "BARNFLOW_TASK_QUEUE": queue,
        "BARNFLOW_CODEC_KEY": _b64(CODEC_KEY),
        "BARNFLOW_PSEUDONYM_KEY": _b64(PSEUDONYM_KEY),
        "BARNFLOW_CIPHER_KEY": _b64(CIPHER_KEY),
    }


def _head(store: CaseStore, kommun: str) -> CaseHead:
    return next(h for h in store.case_heads() if h.kommun == kommun)


async def _until_visible(client: Client, wid: str, position: int | None) -> None:
    """Visibility is eventually consistent: wait until it lists ``wid`` at ``position``
    (``None``: until it no longer lists it as running)."""
    for _ in range(150):
        running = await running_case_workflows(client, f" AND WorkflowId = '{wid}'")
        seen = running[wid].last_position if wid in running else None
        if seen == position:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"visibility never showed {wid} at {position}")


async def test_diverged_and_missing_workflows_are_named(
    dev_client: Client,
    dev_temporal: DevServer,
    store: CaseStore,
    pg_url: str,
    schema: str,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    [received] = earlier_today(within=timedelta(hours=1))
    settings = load_settings(_env(pg_url, schema, dev_temporal.address, task_queue))
    for kommun in (DIVERGED, MISSING):
        store.record(parse_event(anmalan(received, kommun=kommun, pnr=fresh_pnr())))
    async with running_worker(dev_client, store, task_queue):
        wid = await adopt_case(dev_client, store, settings, DIVERGED, "VS-2026-00417")
        gone = await adopt_case(dev_client, store, settings, MISSING, "VS-2026-00417")
        await _until_visible(dev_client, wid, _head(store, DIVERGED).last_position)
        assert await verify_temporal(dev_client, store.case_heads(), PSEUDONYM_KEY) == []

    # with no worker running: an event appended outside the workflow, a workflow terminated
    at = _head(store, DIVERGED).last_position
    store.record(
        parse_event(
            line(
                "klagomal_mottaget", {"klagomal_id": "kl-1"}, at=received, key="x", kommun=DIVERGED
            )
        )
    )
    await dev_client.get_workflow_handle(gone).terminate(reason="test")
    await _until_visible(dev_client, gone, None)

    findings = await verify_temporal(dev_client, store.case_heads(), PSEUDONYM_KEY)
    assert sorted((f.check, f.where, f.problem) for f in findings) == sorted(
        [
            ("temporal", wid, f"workflow knows position {at}, store has {at + 2}"),
            ("temporal", gone, "open case has no running workflow"),
        ]
    )

    # the command: exit 1, one FAIL line per finding, the store's own chains still fine
    for name, value in _env(pg_url, schema, dev_temporal.address, task_queue).items():
        monkeypatch.setenv(name, value)
    assert await asyncio.to_thread(main, ["audit", "verify"]) == 1
    out = capsys.readouterr().out.splitlines()
    fails = sorted(x for x in out if x.startswith("FAIL "))
    assert len(fails) == 2
    assert f"({wid}, case " in next(x for x in fails if "knows position" in x)
    assert f"({gone}, case " in next(x for x in fails if "no running workflow" in x)
    assert "2 finding(s): 2 streams, 3 events verified" in out
    assert await asyncio.to_thread(main, ["audit", "verify", "--no-temporal"]) == 0
