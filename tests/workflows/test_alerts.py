"""Alerts that are true (issue #12): the settle window and the withdrawal of a false alert, in the
time-skipping server. Commands are dated at noon Stockholm on earlier days (registered late, as
socialjour and backfills do), so no test depends on the hour it runs at."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from domain.calendar import STOCKHOLM, add_days, add_months
from domain.events import parse_event
from domain.frister import MET, OVERDUE, compute_frister
from domain.settle import DEFAULT_ALERT_SETTLE_SECONDS
from infra.persistence.store import CaseStore
from infra.temporal.codec import data_converter
from infra.temporal.commands import adopt
from infra.temporal.worker import running_worker
from tests.conftest import CODEC_KEY, PSEUDONYM_KEY
from tests.factories import PNR_BOY, PNR_THIRD, line
from tests.helpers import eventually
from tests.workflows.driver import CaseDriver
from workflows.child_case import ChildCaseWorkflow

#: Longer than the default settle window: the window has surely ended after this.
PAST_SETTLE = timedelta(seconds=DEFAULT_ALERT_SETTLE_SECONDS + 60)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=STOCKHOLM)


def skydd(anmalan_id: str = "anm-1") -> dict[str, Any]:
    return {"anmalan_id": anmalan_id, "omedelbart_skydd": False}


async def test_late_registered_anmalan_and_its_skyddsbedomning_raise_no_alert(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    """The issue's case: an anmälan dated four days ago is sent now, the skyddsbedömning made
    the same day a second later. A1 was met: the stream never holds a frist_overskriden A1."""
    d = CaseDriver(ts_env, store, task_queue)
    async with running_worker(ts_env.client, store, task_queue):
        received = add_days(await d.today(), -4)
        await d.anmalan(at=noon(received))
        await ts_env.sleep(timedelta(seconds=1))
        await d.send("skyddsbedomning_gjord", skydd(), at=noon(received))
        await ts_env.sleep(PAST_SETTLE)
        assert [e.type for e in d.events()] == ["anmalan_mottagen", "skyddsbedomning_gjord"]
        # a frist that is truly missed is still alerted, once: no förhandsbedömning in 14 days
        await d.sleep_days(12)
        a2_due = add_days(received, 14).isoformat()
        assert await d.wait_alerts(1) == [("frist_overskriden", "A2", a2_due)]
        assert d.withdrawals() == []


def _backfill(start: date, pnr: str) -> list[tuple[str, dict[str, Any], date]]:
    """Fifty steps of one case over 150 days, all of them already done: one A2 is truly missed
    (anm-2 got its skyddsbedömning but never a förhandsbedömning); everything else was met."""
    beslut = {
        "beslut_id": "b1",
        "lagrum": "SoL 11:1",
        "beslutstyp": "insats",
        "insats": "oppenvard",
        "gynnande": True,
        "delegat": {"id": "d1", "roll": "utskott"},
    }
    barn = {"personnummer": pnr, "kon": "pojke"}
    hort = {"moment": "samtal", "satt": "enskilt", "utredning_id": "u1"}
    steps: list[tuple[str, dict[str, Any], int]] = [
        (
            "anmalan_mottagen",
            {"anmalan_id": "anm-1", "barn": barn, "anmalare_kategori": "skola"},
            0,
        ),
        ("skyddsbedomning_gjord", skydd(), 0),
        ("forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inleda_utredning"}, 10),
        ("utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "anm-1"}, 10),
        *(("barnet_hort", hort, 11 + i) for i in range(41)),
        ("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}, 100),
        ("beslut_fattat", beslut, 100),
        ("insats_verkstalld", {"beslut_id": "b1"}, 110),
        (
            "anmalan_mottagen",
            {"anmalan_id": "anm-2", "barn": barn, "anmalare_kategori": "polis"},
            150,
        ),
        ("skyddsbedomning_gjord", skydd("anm-2"), 150),
    ]
    return [(etype, data, add_days(start, offset)) for etype, data, offset in steps]


async def test_a_backfill_of_fifty_events_in_one_burst_alerts_only_what_was_missed(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    d = CaseDriver(ts_env, store, task_queue, pnr=PNR_BOY, case_ref="VS-BACKFILL")
    async with running_worker(ts_env.client, store, task_queue):
        start = add_days(await d.today(), -200)
        steps = _backfill(start, PNR_BOY)
        assert len(steps) == 50
        for etype, data, day in steps:
            await d.send(etype, data, at=noon(day))
        stored = d.events()
        assert len(stored) == 50 and d.alerts() == []  # nothing while the burst is settling
        last = max(e.position or 0 for e in stored)
        await ts_env.sleep(PAST_SETTLE)
        a2_due = add_days(start, 150 + 14).isoformat()
        assert await d.wait_alerts(1) == [("frist_overskriden", "A2", a2_due)]
        # only what the record shows as truly missed, alerted after the whole burst
        missed = [f for f in compute_frister(stored, as_of=await d.today()) if f.status == OVERDUE]
        assert [(f.rule, f.subject) for f in missed] == [("A2", "anm-2")]
        assert all((e.position or 0) > last for e in d.events()[50:])
        await d.sleep_days(1)
        assert len(d.alerts()) == 1 and d.withdrawals() == []


async def test_a_late_fulfilment_withdraws_the_alert_exactly_once(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    """An alert raised after the window, then the skyddsbedömning (made on the anmälan's day)
    arrives: one larm_aterkallat names the alert and the fulfilling event; a retried command
    and a replay of the history add no second one."""
    d = CaseDriver(ts_env, store, task_queue, pnr=PNR_THIRD, case_ref="VS-WITHDRAW")
    async with running_worker(ts_env.client, store, task_queue):
        received = add_days(await d.today(), -4)
        await d.anmalan(at=noon(received))
        await ts_env.sleep(PAST_SETTLE)
        assert await d.wait_alerts(1) == [("frist_overskriden", "A1", received.isoformat())]
        [alert] = [e for e in d.events() if e.type == "frist_overskriden"]
        late = await d.send("skyddsbedomning_gjord", skydd(), at=noon(received), key="k-late")
        [withdrawn] = await eventually(d.withdrawals)
        assert withdrawn.data == {
            "larm_typ": "frist_overskriden",
            "frist": "A1:anm-1",
            "regel": "A1",
            "due": received.isoformat(),
            "larm_position": alert.position,
            "uppfylld_position": late.position,
            "uppfylld_datum": received.isoformat(),
        }
        assert (
            withdrawn.idempotency_key
            == f"barnflow:larm_aterkallat:{alert.idempotency_key.removeprefix('barnflow:')}"
        )
        assert withdrawn.position is not None and withdrawn.position > late.position
        again = await d.send("skyddsbedomning_gjord", skydd(), at=noon(received), key="k-late")
        assert again.duplicate and again.position == late.position
        await d.sleep_days(1)
        assert (await d.summary()).overdue_frister == []
        assert len(d.withdrawals()) == 1 and len(d.alerts()) == 1
    # a worker that replays the history (a restart) issues the same appends, no new one
    replayer = Replayer(workflows=[ChildCaseWorkflow], data_converter=data_converter(CODEC_KEY))
    await replayer.replay_workflow(await d.handle.fetch_history())
    a1 = [f for f in compute_frister(d.events()) if f.rule == "A1"]
    assert [(f.status, f.fulfilled_date) for f in a1] == [(MET, received)]


async def test_a_late_verkstallighet_withdraws_the_evb_alert(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    """C2: a beslut 100 days old, backfilled, raises evb_rapporteringsskyldighet_uppstod after
    the window; its verkställighet, dated before the three months ran out, arrives later."""
    d = CaseDriver(ts_env, store, task_queue, case_ref="VS-EVB")
    async with running_worker(ts_env.client, store, task_queue):
        today = await d.today()
        decided = add_days(today, -100)
        await d.anmalan(at=noon(add_days(decided, -10)))
        await d.send("skyddsbedomning_gjord", skydd(), at=noon(add_days(decided, -10)))
        await d.send(
            "forhandsbedomning_beslutad",
            {"anmalan_id": "anm-1", "beslut": "inleda_utredning"},
            at=noon(add_days(decided, -5)),
        )
        await d.send(
            "utredning_inledd",
            {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "anm-1"},
            at=noon(add_days(decided, -5)),
        )
        await d.send(
            "utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}, at=noon(decided)
        )
        await d.send(
            "beslut_fattat",
            {
                "beslut_id": "b1",
                "lagrum": "SoL 11:1",
                "beslutstyp": "insats",
                "insats": "oppenvard",
                "gynnande": True,
                "delegat": {"id": "d1", "roll": "utskott"},
            },
            at=noon(decided),
        )
        await ts_env.sleep(PAST_SETTLE)
        c2_due = add_months(decided, 3)
        alerts = await d.wait_alerts(1)
        assert alerts == [("evb_rapporteringsskyldighet_uppstod", "b1", c2_due.isoformat())]
        assert (await d.summary()).open_evb == 1
        done = add_days(today, -20)
        late = await d.send("insats_verkstalld", {"beslut_id": "b1"}, at=noon(done))
        [withdrawn] = await eventually(d.withdrawals)
        assert withdrawn.data["larm_typ"] == "evb_rapporteringsskyldighet_uppstod"
        assert (withdrawn.data["frist"], withdrawn.data["regel"]) == ("C2:b1", "C2")
        assert withdrawn.data["due"] == c2_due.isoformat()
        assert withdrawn.data["uppfylld_position"] == late.position
        assert withdrawn.data["uppfylld_datum"] == done.isoformat()
        assert (await d.summary()).open_evb == 0
        await d.sleep_days(1)
        assert d.alerts() == alerts and len(d.withdrawals()) == 1


async def test_adoption_withdraws_a_false_alert_recorded_before_the_fix(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    """The issue's record as older code left it: anmälan, frist_overskriden A1, then the
    skyddsbedömning dated the anmälan's day. Adopted (ops repair, import), the workflow
    withdraws the false alert at once, naming the skyddsbedömning."""
    d = CaseDriver(ts_env, store, task_queue, pnr=PNR_BOY, case_ref="VS-OLD-RECORD")
    received = add_days(await d.today(), -4)
    at = noon(received)
    barn = {"personnummer": d.pnr, "kon": "pojke"}
    alert_key = "barnflow:frist_overskriden:A1:anm-1"
    lines = [
        line(
            "anmalan_mottagen",
            {"anmalan_id": "anm-1", "barn": barn, "anmalare_kategori": "skola"},
            at=at,
            key="o-1",
            case_ref=d.case_ref,
        ),
        {
            **line(
                "frist_overskriden",
                {"frist": "A1:anm-1", "regel": "A1", "due": received.isoformat()},
                at=datetime.combine(add_days(received, 1), time(0), STOCKHOLM),
                key=alert_key,
                case_ref=d.case_ref,
            ),
            "actor": {"id": "barnflow", "roll": "system"},
        },
        line("skyddsbedomning_gjord", skydd(), at=at, key="o-2", case_ref=d.case_ref),
    ]
    now = await d.now()
    positions = [store.record(parse_event(x, allow_system=True), now=now).position for x in lines]
    async with running_worker(ts_env.client, store, task_queue):
        await adopt(
            ts_env.client,
            store,
            "1280",
            d.case_ref,
            pseudonym_key=PSEUDONYM_KEY,
            task_queue=task_queue,
        )
        [withdrawn] = await eventually(d.withdrawals)
        assert (withdrawn.data["larm_position"], withdrawn.data["uppfylld_position"]) == (
            positions[1],
            positions[2],
        )
        await d.sleep_days(1)
        assert len(d.withdrawals()) == 1 and len(d.alerts()) == 1
