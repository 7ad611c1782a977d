"""``ops stuck`` kinds found by comparing the store with Temporal on a real dev server:
``diverged`` (an event appended outside the workflow) and ``no-progress`` (nothing recorded for
X days and no frist to wait for)."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta

from temporalio.client import Client

from domain.events import parse_event
from infra.audit.verify import running_case_workflows
from infra.config.settings import load_settings
from infra.ops.stuck import StuckOptions, StuckRow, find_stuck
from infra.persistence.store import CaseHead, CaseStore
from infra.temporal.commands import adopt_case
from infra.temporal.devserver import DevServer
from infra.temporal.worker import running_worker
from tests.conftest import CIPHER_KEY, CODEC_KEY, PSEUDONYM_KEY
from tests.factories import anmalan, earlier_today, fresh_pnr, line

#: Kommuner of their own: the session's dev server is shared with other tests.
DIVERGED, IDLE = "9931", "9932"
REF = "VS-2026-00417"


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def _head(store: CaseStore, kommun: str) -> CaseHead:
    return next(h for h in store.case_heads() if h.kommun == kommun)


def _rows(rows: list[StuckRow], wid: str) -> dict[str, StuckRow]:
    return {r.kind: r for r in rows if r.workflow_id == wid}


async def test_diverged_and_no_progress_are_reported(
    dev_client: Client,
    dev_temporal: DevServer,
    store: CaseStore,
    pg_url: str,
    schema: str,
    task_queue: str,
) -> None:
    settings = load_settings(
        {
            "BARNFLOW_DATABASE_URL": pg_url,
            "BARNFLOW_DATABASE_SCHEMA": schema,
            "BARNFLOW_TEMPORAL_ADDRESS": dev_temporal.address,
            "BARNFLOW_TASK_QUEUE": task_queue,
            "BARNFLOW_CODEC_KEY": _b64(CODEC_KEY),
            "BARNFLOW_PSEUDONYM_KEY": _b64(PSEUDONYM_KEY),
            "BARNFLOW_CIPHER_KEY": _b64(CIPHER_KEY),
        }
    )
    [received] = earlier_today(within=timedelta(minutes=5))
    for kommun in (DIVERGED, IDLE):
        store.record(parse_event(anmalan(received, kommun=kommun, pnr=fresh_pnr())))
    async with running_worker(dev_client, store, task_queue):
        div = await adopt_case(dev_client, store, settings, DIVERGED, REF)
        idle = await adopt_case(dev_client, store, settings, IDLE, REF)
        known = _head(store, DIVERGED).last_position
        for _ in range(150):  # visibility is eventually consistent
            running = await running_case_workflows(dev_client, f" AND WorkflowId = '{div}'")
            if div in running and running[div].last_position == known:
                break
            await asyncio.sleep(0.1)
        # an event recorded straight into the store, past the workflow
        store.record(
            parse_event(
                line(
                    "klagomal_mottaget",
                    {"klagomal_id": "kl-1"},
                    at=received,
                    key="outside",
                    kommun=DIVERGED,
                    case_ref=REF,
                )
            )
        )
        now = datetime.now(UTC)
        rows = await find_stuck(dev_client, store, PSEUDONYM_KEY, StuckOptions(now=now))
        stored = _head(store, DIVERGED).last_position
        diverged = _rows(rows, div)
        assert set(diverged) == {"diverged"}, diverged
        assert diverged["diverged"].evidence == (f"workflow at position {known}, store at {stored}")
        assert "ops repair" in diverged["diverged"].action
        # freshly recorded, waiting for its förhandsbedömning: not idle
        assert _rows(rows, idle) == {}

        # sixty days on, nothing recorded and the frister behind it: no progress
        later = now + timedelta(days=60)
        rows = await find_stuck(
            dev_client, store, PSEUDONYM_KEY, StuckOptions(no_progress_days=30, now=later)
        )
        stale = _rows(rows, idle)
        assert set(stale) == {"no-progress"}, stale
        assert stale["no-progress"].evidence == "nothing recorded for 60 days"
        assert stale["no-progress"].since == _head(store, IDLE).last.recorded_at
        assert stale["no-progress"].case_id == str(_head(store, IDLE).case_id)
        # a longer threshold is not crossed yet
        rows = await find_stuck(
            dev_client, store, PSEUDONYM_KEY, StuckOptions(no_progress_days=90, now=later)
        )
        assert _rows(rows, idle) == {}
