"""The documented list queries (``infra.ops.visibility``, docs/operations.md "List queries")
answer their questions on a real Temporal dev server: cases recorded backdated in the store,
adopted into workflows, then listed the way an operator lists them in the Web UI or with
``temporal workflow list --query``.

The dev server is shared by the session, so each query is narrowed to this test's task queue.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from domain.calendar import add_days
from domain.events import parse_event
from infra.ops.visibility import COLUMNS, QUERIES, query
from infra.persistence.store import CaseStore
from infra.temporal.commands import adopt
from infra.temporal.worker import running_worker
from tests.conftest import PSEUDONYM_KEY
from tests.factories import anmalan, days_ago, fresh_pnr, line, stockholm_today

KOMMUN = "9711"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _record(store: CaseStore, ref: str, steps: list[tuple[int, str, dict[str, Any]]]) -> None:
    """Record ``steps`` (days ago, type, data) of case ``ref``; the first is its anmälan."""
    for i, (ago, etype, data) in enumerate(steps):
        at = days_ago(ago) + timedelta(minutes=i)
        if etype == "anmalan_mottagen":
            body = anmalan(at, pnr=fresh_pnr(), kommun=KOMMUN, case_ref=ref, key=f"{ref}-{i}")
            body["data"].update(data)
        else:
            body = line(etype, data, at=at, key=f"{ref}-{i}", kommun=KOMMUN, case_ref=ref)
        store.record(parse_event(body))


def _anmalan_and_skydd(ago: int, enhet: str) -> list[tuple[int, str, dict[str, Any]]]:
    return [
        (ago, "anmalan_mottagen", {"enhet": enhet}),
        (ago, "skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False}),
    ]


def _evb_case(enhet: str) -> list[tuple[int, str, dict[str, Any]]]:
    """A gynnande beslut 125 days ago, never verkställt: C2 (three months) has passed."""
    return [
        *_anmalan_and_skydd(200, enhet),
        (199, "forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inleda_utredning"}),
        (
            199,
            "utredning_inledd",
            {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "anm-1"},
        ),
        (126, "utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}),
        (
            125,
            "beslut_fattat",
            {
                "beslut_id": "b1",
                "lagrum": "SoL 11:1",
                "beslutstyp": "insats",
                "insats": "oppenvard",
                "gynnande": True,
                "delegat": {"id": "d1", "roll": "utskott"},
            },
        ),
    ]


async def _ids(client: Client, q: str) -> set[str]:
    return {w.id async for w in client.list_workflows(q)}


async def test_each_documented_list_query_answers_its_question(
    dev_client: Client, store: CaseStore, task_queue: str
) -> None:
    cases = {
        "late-nord": _anmalan_and_skydd(20, "Nord"),  # A2 (14 days) passed
        "fresh-syd": _anmalan_and_skydd(3, "Syd"),  # förhandsbedömning day 3 of 14
        "late-syd": _anmalan_and_skydd(18, "Syd"),
        "evb-ost": _evb_case("Öst"),
    }
    async with running_worker(dev_client, store, task_queue):
        wid = {}
        for ref, steps in cases.items():
            _record(store, ref, steps)
            wid[ref] = await adopt(
                dev_client, store, KOMMUN, ref, pseudonym_key=PSEUDONYM_KEY, task_queue=task_queue
            )
        ours = f" AND TaskQueue = '{task_queue}'"

        async def listed(name: str, **values: str) -> set[str]:
            found = await _ids(dev_client, query(name).render(kommun=KOMMUN, **values) + ours)
            return {ref for ref, w in wid.items() if w in found}

        for _ in range(150):  # visibility is eventually consistent (the workflows publish)
            if await listed("open-evb") == {"evb-ost"} and await listed("overdue") >= {
                "late-nord",
                "late-syd",
            }:
                break
            await asyncio.sleep(0.2)
        assert await listed("open") == set(cases)
        overdue = await listed("overdue")
        assert {"late-nord", "late-syd"} <= overdue and "fresh-syd" not in overdue
        assert await listed("overdue-in-unit", enhet="Nord") == {"late-nord"}
        assert await listed("overdue-in-unit", enhet="Syd") == {"late-syd"}
        assert await listed("open-evb") == {"evb-ost"}
        assert await listed("stage", stage="forhandsbedomning") == {
            "late-nord",
            "fresh-syd",
            "late-syd",
        }
        tomorrow = add_days(stockholm_today(), 1).isoformat()
        before = await listed("due-before", before=f"{tomorrow}T00:00:00+01:00")
        assert {"late-nord", "late-syd"} <= before and "fresh-syd" not in before


def test_a_value_that_would_end_the_quoted_string_is_refused() -> None:
    with pytest.raises(ValueError, match="enhet"):
        query("overdue-in-unit").render(kommun=KOMMUN, enhet="Nord' OR BarnflowKommun != '")
    with pytest.raises(KeyError, match="overdue-in-unit"):
        query("per-unit")


def test_the_operations_guide_prints_every_query_and_column() -> None:
    """docs/operations.md "List queries" shows each query exactly as the code renders it."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## List queries", 1)[1].split("\n## ", 1)[0]
    for q in QUERIES:
        assert f"`{q.name}`" in section and q.template in section, q.name
    for column in COLUMNS:
        assert column in section
    shots = re.findall(r"\]\((web-ui-[\w-]+\.png)\)", section)
    assert shots and all((DOCS.parent / shot).is_file() for shot in shots)
