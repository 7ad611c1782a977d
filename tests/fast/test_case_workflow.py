"""The real ChildCaseWorkflow with in-memory activities: what a caseworker or IVO would notice.

Runs in seconds without PostgreSQL (``tests/fast/conftest.py``); the same paths against the real
store are in ``tests/workflows/``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

import psycopg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from domain.calendar import add_days, add_months
from tests.fast.conftest import PostgresForbidden
from tests.fast.driver import FastCase, Rejected
from tests.fast.fakes import InMemoryStore
from tests.helpers import eventually

T = TypeVar("T")


async def eventually_async(probe: Callable[[], Awaitable[T]], *, timeout: float = 20.0) -> T:
    """``probe()``'s first truthy value, polled while the server runs (bounded)."""
    deadline = time.monotonic() + timeout
    while not (value := await probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {value!r})")
        await asyncio.sleep(0.05)
    return value


def _quarter_window_end(day: date) -> date:
    """The end of IVO's reporting window for the quarter holding ``day`` (docs/domain.md §5.2:
    Q1 by 30 April, Q2 by 31 August, Q3 by 31 October, Q4 by 31 January)."""
    q = (day.month - 1) // 3 + 1
    return {1: date(day.year, 4, 30), 2: date(day.year, 8, 31), 3: date(day.year, 10, 31)}.get(
        q, date(day.year + 1, 1, 31)
    )


def test_the_tier_cannot_reach_postgresql(no_postgres: list[str]) -> None:
    with pytest.raises(PostgresForbidden):
        psycopg.connect("postgresql://localhost/test")
    with pytest.raises(PostgresForbidden):
        psycopg.Connection.connect("postgresql://localhost/test")
    assert len(no_postgres) == 2
    no_postgres.clear()  # expected here; any other attempt in the tier fails its test


async def test_an_accepted_command_is_stored_with_its_position(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    d = FastCase(fast_env, fake_store, fast_worker)
    first = await d.anmalan()
    second = await d.send(
        "skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False}
    )
    assert (first.position, first.duplicate) == (1, False)
    assert (second.position, second.duplicate) == (2, False)
    assert [(e.type, e.position) for e in d.events()] == [
        ("anmalan_mottagen", 1),
        ("skyddsbedomning_gjord", 2),
    ]
    # the stored event is the canonical one, and the workflow keeps none of the identity
    assert d.events()[0].data["barn"]["personnummer"] == d.pnr
    summary = await d.summary()
    assert (summary.stage, summary.event_count, summary.last_position) == (
        "forhandsbedomning",
        2,
        2,
    )
    assert summary.open_frister == ["A2:anm-1"]


async def test_a_rejected_command_reaches_neither_store_nor_history(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    d = FastCase(fast_env, fake_store, fast_worker)
    await d.anmalan()
    calls = fake_store.append_calls
    assert (
        await d.rejected(
            "forhandsbedomning_beslutad", {"anmalan_id": "nope", "beslut": "inleda_utredning"}
        )
        == "P-REF"
    )
    assert await d.rejected("insats_verkstalld", {"beslut_id": "b-1"}) == "P-REF"
    assert await d.rejected("arende_avslutat", {"orsak": "klart"}) == "P-CLOSE"
    assert (
        await d.rejected("skyddsbedomning_gjord", {"anmalan_id": "anm-1"})
        == "data.omedelbart_skydd"
    )
    assert fake_store.append_calls == calls  # the validator refused: no activity ran
    assert [e.type for e in d.events()] == ["anmalan_mottagen"]
    assert await d.accepted_updates() == 1
    assert (await d.summary()).event_count == 1


async def test_a_retried_command_returns_the_original_position(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    d = FastCase(fast_env, fake_store, fast_worker)
    await d.anmalan()
    line = d.event(
        "skyddsbedomning_gjord",
        {"anmalan_id": "anm-1", "omedelbart_skydd": False},
        await d.now(),
        "k-skydd",
    )
    first = await d.send_line(line)
    await d.sleep_days(1)
    again = await d.send_line(line)  # the verksamhetssystem retries a lost answer a day later
    assert (again.position, again.event, again.duplicate) == (first.position, first.event, True)
    assert [e.type for e in d.events()] == ["anmalan_mottagen", "skyddsbedomning_gjord"]
    assert (await d.summary()).event_count == 2
    other_body = {**line, "data": {"anmalan_id": "anm-1", "omedelbart_skydd": True}}
    with pytest.raises(Rejected) as info:  # the same key for another command: refused
        await d.send_line(other_body)
    assert (info.value.kind, info.value.rule) == ("RuleViolation", "P-IDEMPOTENCY")
    assert len(d.events()) == 2


async def test_one_a2_alert_when_the_forhandsbedomning_is_late(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    d = FastCase(fast_env, fake_store, fast_worker)
    received = await d.today()
    await d.anmalan()
    await d.send("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False})
    await d.sleep_days(14)
    assert d.alerts() == []  # day 14 is still within the frist (SoL 11:1 a, 14 days)
    await d.sleep_days(2)
    due = add_days(received, 14).isoformat()
    assert await eventually(d.alerts) == [("frist_overskriden", "A2", due)]
    alert = d.events()[-1]
    assert alert.actor.roll == "system" and alert.legal_date == add_days(received, 15)
    await d.sleep_days(30)
    assert d.alerts() == [("frist_overskriden", "A2", due)]  # exactly once
    assert (await d.summary()).overdue_frister == ["A2:anm-1"]


async def test_evb_alert_and_its_quarterly_re_report(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    d = FastCase(fast_env, fake_store, fast_worker)
    await d.open_utredning()
    await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
    decided = await d.today()
    await d.send(
        "beslut_fattat",
        {
            "beslut_id": "b1",
            "lagrum": "SoL 11:1",
            "beslutstyp": "insats",
            "insats": "kontaktfamilj",
            "gynnande": True,
            "delegat": {"id": "d1", "roll": "utskott"},
        },
    )
    c2_due = add_months(decided, 3)  # not verkställt within three months (C2)
    await d.sleep_days((c2_due - decided).days + 2)
    c2 = ("evb_rapporteringsskyldighet_uppstod", "b1", c2_due.isoformat())
    assert await eventually(d.alerts) == [c2]
    assert (await d.summary()).open_evb == 1
    window = _quarter_window_end(c2_due)  # C4: reported again for the quarter, by its window
    await d.sleep_days((window - c2_due).days + 2)
    c4 = ("evb_rapporteringsskyldighet_uppstod", "b1", window.isoformat())
    assert await eventually(lambda: len(d.alerts()) >= 2 and d.alerts()) == [c2, c4]
    await d.send("insats_verkstalld", {"beslut_id": "b1"})
    assert (await d.summary()).open_evb == 0


async def test_continue_as_new_keeps_the_case(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    """A stage boundary after a long history starts a new run that carries the whole case."""
    d = FastCase(fast_env, fake_store, fast_worker, continue_as_new_after=10)
    started = await d.today()
    await d.anmalan()
    skydd = d.event(
        "skyddsbedomning_gjord",
        {"anmalan_id": "anm-1", "omedelbart_skydd": False},
        await d.now(),
        "k-skydd",
    )
    await d.send_line(skydd)
    await d.send(
        "forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inleda_utredning"}
    )
    await d.send(
        "utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "anm-1"}
    )

    async def previous_run() -> str:
        """The run the latest run continued from ("" while the first run is still going)."""
        async for ev in d.handle.fetch_history_events():
            attrs = ev.workflow_execution_started_event_attributes
            return str(attrs.continued_execution_run_id)
        return ""

    first_run = await eventually_async(previous_run)
    ended = await fast_env.client.get_workflow_handle(
        d.workflow_id, run_id=first_run
    ).fetch_history()
    assert ended.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    summary = await d.summary()  # the new run
    assert (summary.stage, summary.event_count, summary.last_position) == ("utredning", 4, 4)
    assert summary.next_due == add_months(started, 4).isoformat()  # B1 carried over
    again = await d.send_line(skydd)  # a retry of a first-run command is still recognised
    assert (again.position, again.duplicate) == (2, True)
    later = await d.send(
        "barnet_hort", {"moment": "samtal", "satt": "enskilt", "utredning_id": "u1"}
    )
    assert later.position == 5
    assert [e.position for e in d.events()] == [1, 2, 3, 4, 5]


async def test_a_closed_case_ends_its_workflow(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    d = FastCase(fast_env, fake_store, fast_worker)
    await d.anmalan()
    await d.send("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False})
    await d.send(
        "forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inte_inleda_utredning"}
    )
    closed_on = await d.today()
    await d.send("arende_avslutat", {"orsak": "ingen utredning"})
    result = await d.handle.result()
    assert result.closed and result.stage == "avslutad" and result.event_count == 4
    assert d.events()[-1].legal_date == closed_on
    await d.sleep_days(60)
    assert d.alerts() == []  # a closed case raises no more alerts


async def test_a_transferred_case_hands_over_once_and_ends(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    """H2: the case continues in the receiving kommun; the sending workflow asks once and ends."""
    d = FastCase(fast_env, fake_store, fast_worker)
    await d.open_utredning()
    assert await d.rejected("arende_overflyttat", {"till_kommun": "1280"}) == "P-TRANSFER"
    # SoL 29:10: only once the other kommun accepted, here taking over the utredning (29:9)
    assert await d.rejected("arende_overflyttat", {"till_kommun": "0127"}) == "P-TRANSFER"
    await d.send("overflyttning_begard", {"till_kommun": "0127"})
    await d.send("overflyttning_besvarad", {"svar": "accepterad"})
    assert await d.rejected("arende_overflyttat", {"till_kommun": "0127"}) == "B8"
    await d.send("overflyttning_begard", {"till_kommun": "0127"})
    await d.send("overflyttning_besvarad", {"svar": "accepterad", "tar_over_utredning": True})
    await d.send("arende_overflyttat", {"till_kommun": "0127"})
    result = await d.handle.result()
    assert result.transferred_to == "0127"
    assert [(t.kommun, t.case_ref, t.till_kommun) for t in fake_store.transfers] == [
        ("1280", d.case_ref, "0127")
    ]
