"""The whole life of a case in the time-skipping server: each path asserts the exact events and
legal dates it produces (docs/domain.md §2, §4; rule ids of docs/law.md §3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from domain.calendar import add_days, add_months, add_weeks, add_years
from infra.config.kommun import load_kommun_file
from infra.persistence.store import CaseStore
from infra.temporal.commands import CommandRejected, adopt
from infra.temporal.worker import running_worker
from tests.conftest import PSEUDONYM_KEY
from tests.factories import PNR_BOY
from tests.helpers import eventually
from tests.kommun_configs import configured_store
from tests.workflows.driver import CaseDriver

ROOT = Path(__file__).resolve().parents[2]


def _quarter_window_end(year: int, q: int) -> date:
    """IVO's reporting windows (docs/domain.md §5.2): Q1 April, Q2 July–August, Q3 Oct, Q4 Jan."""
    return {1: date(year, 4, 30), 2: date(year, 8, 31), 3: date(year, 10, 31)}.get(
        q, date(year + 1, 1, 31)
    )


async def _rejected(driver: CaseDriver, etype: str, data: dict[str, object]) -> str:
    with pytest.raises(CommandRejected) as info:
        await driver.send(etype, data)
    return str(getattr(info.value.cause, "rule", getattr(info.value.cause, "field", "")))


async def _accepted_updates(driver: CaseDriver) -> int:
    """How many commands reached the workflow's history (all runs of the chain)."""
    count = 0
    async for ev in driver.handle.fetch_history_events():
        count += ev.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    return count


async def test_three_year_familjehem_placement_with_six_overvaganden(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    d = CaseDriver(ts_env, store, task_queue)
    async with running_worker(ts_env.client, store, task_queue):
        first_run = await d.start(continue_as_new_after=40)
        await d.open_utredning()
        await d.sleep_days(30)
        placed = await d.today()
        await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
        await d.beslut("b1", "familjehem")
        await d.send("insats_verkstalld", {"beslut_id": "b1"})
        await d.send("vardplan_upprattad", {"beslut_id": "b1"})
        await d.send("genomforandeplan_upprattad", {"beslut_id": "b1"})
        done: list[date] = []
        for _ in range(6):  # each within six months of the previous one (D3)
            await d.sleep_days(170)
            done.append(await d.today())
            await d.send("overvagande_genomfort", {"beslut_id": "b1", "slutsats": "fortsatt vard"})
        end = add_days(add_years(placed, 3), -5)
        await d.sleep_days((end - done[-1]).days)
        # D2 (vårdplan revision) and D4 (vårdnadsöverflyttning) at two years were not met;
        # no D3 alert, the six överväganden were on time.
        two_years = add_years(placed, 2).isoformat()
        alerts = await d.wait_alerts(2)
        assert sorted(alerts) == [
            ("frist_overskriden", "D2", two_years),
            ("frist_overskriden", "D4", two_years),
        ]
        assert [e.legal_date for e in d.events() if e.type == "overvagande_genomfort"] == done
        summary = await d.summary()
        assert summary.stage == "insats" and not summary.closed
        assert summary.overdue_frister == ["D2:b1", "D4:b1:1"]
        assert "D3:b1:7" in summary.open_frister  # the seventh övervägande is armed
        first = ts_env.client.get_workflow_handle(d.workflow_id, run_id=first_run)
        last = (await first.fetch_history()).events[-1]
        assert last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        history = await d.handle.fetch_history()
        assert len(history.events) < 1_000  # three years of a placement, far below 51,200


async def test_lvu_omhandertagande_with_missed_understallning(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    d = CaseDriver(ts_env, store, task_queue)
    async with running_worker(ts_env.client, store, task_queue):
        await d.open_utredning()
        taken = await d.today()
        await d.send(
            "lvu_omhandertagande_beslutat",
            {"beslut_id": "lvu-1", "delegat": {"id": "o1", "roll": "ordforande"}},
        )
        await d.send("lvu_omhandertagande_verkstallt", {"beslut_id": "lvu-1"})
        assert await _rejected(d, "lvu_dom", {"utfall": "bifall", "beslut_id": "lvu-1"}) == "P-LVU"
        await d.sleep_days(9)  # the one-week underställning (E2) passes
        alerts = await d.wait_alerts(1)
        assert alerts == [("frist_overskriden", "E2", add_weeks(taken, 1).isoformat())]
        await d.send("lvu_understalld", {"beslut_id": "lvu-1"})
        await d.sleep_days(10)
        await d.send(
            "lvu_ansokan_inlamnad",
            {"beslut_id": "lvu-1", "grund": "hem", "lakarundersokning_obehovlig": True},
        )  # within four weeks (E3)
        await d.sleep_days(30)
        assert d.alerts() == alerts  # E3 met: nothing more
        assert "E3:lvu-1" not in (await d.summary()).overdue_frister
    accepted = [e.type for e in d.events() if e.type != "frist_overskriden"]
    assert accepted == d.sent  # the rejected lvu_dom reached neither the store...
    assert await _accepted_updates(d) == len(d.sent)  # ...nor the workflow's history


async def test_beslut_never_verkstallt_is_reported_four_quarters_then_verkstallt(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    d = CaseDriver(ts_env, store, task_queue)
    async with running_worker(ts_env.client, store, task_queue):
        await d.open_utredning()
        await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
        decided = await d.today()
        await d.beslut("b1", "kontaktfamilj")
        c2_due = add_months(decided, 3)
        # four consecutive quarters after the C2 date, each unreported: one C4 alert each
        year, month = c2_due.year, c2_due.month
        quarters = []
        q = (year, (month - 1) // 3 + 1)
        for _ in range(4):
            quarters.append(q)
            q = (q[0] + 1, 1) if q[1] == 4 else (q[0], q[1] + 1)
        last_window = _quarter_window_end(*quarters[-1])
        await d.sleep_days((last_window - decided).days + 2)
        alerts = await d.wait_alerts(5)
        assert alerts == [("evb_rapporteringsskyldighet_uppstod", "b1", c2_due.isoformat())] + [
            ("evb_rapporteringsskyldighet_uppstod", "b1", _quarter_window_end(*q).isoformat())
            for q in quarters
        ]
        assert (await d.summary()).open_evb == 1
        await d.send("insats_verkstalld", {"beslut_id": "b1"})
        assert (await d.summary()).open_evb == 0
        # the quarter it was verkställd in still owes IVO one report: "verkställd (date)"
        today = await d.today()
        kvartal = f"{today.year}Q{(today.month - 1) // 3 + 1}"
        await d.send(
            "evb_rapporterad", {"beslut_id": "b1", "kvartal": kvartal, "rapport": "verkstalld"}
        )
        await d.sleep_days(200)
        assert d.alerts() == alerts  # reported verkställd: the quarterly clock stopped


async def test_two_anmalningar_during_one_utredning(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    d = CaseDriver(ts_env, store, task_queue)
    async with running_worker(ts_env.client, store, task_queue):
        started = await d.today()
        await d.open_utredning()
        await d.sleep_days(20)
        await d.anmalan("anm-2")
        await d.send("skyddsbedomning_gjord", {"anmalan_id": "anm-2", "omedelbart_skydd": False})
        rule = await _rejected(
            d, "forhandsbedomning_beslutad", {"anmalan_id": "anm-2", "beslut": "inleda_utredning"}
        )
        assert rule == "B4"
        await d.sleep_days(20)
        second = await d.today()
        await d.anmalan("anm-3")  # no skyddsbedömning today: A1 is missed
        summary = await d.summary()
        assert "A2:anm-2" not in summary.open_frister and "A2:anm-3" not in summary.open_frister
        await d.sleep_days(30)
        assert d.alerts() == [("frist_overskriden", "A1", second.isoformat())]
        await d.send("skyddsbedomning_gjord", {"anmalan_id": "anm-3", "omedelbart_skydd": False})
        # B4: the utredning clock did not restart — it is due four months after the first start
        assert (await d.summary()).next_due == add_months(started, 4).isoformat()


async def test_transfer_keeps_the_original_due_dates(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    d = CaseDriver(ts_env, store, task_queue, pnr=PNR_BOY)
    async with running_worker(ts_env.client, store, task_queue, pseudonym_key=PSEUDONYM_KEY):
        started = await d.today()
        await d.open_utredning()
        await d.sleep_days(20)
        await d.send("overflyttning_begard", {"till_kommun": "0127"})
        # the other kommun accepts and takes over the utredning in progress (SoL 29:9-10)
        await d.send("overflyttning_besvarad", {"svar": "accepterad", "tar_over_utredning": True})
        await d.send("arende_overflyttat", {"till_kommun": "0127"})
        assert (await d.handle.result()).transferred_to == "0127"
        receiving = CaseDriver(ts_env, store, task_queue, kommun="0127", pnr=PNR_BOY)
        copied = await eventually(receiving.events)
        # the sending kommun's negotiation stays its own; the copy ends with where it came from
        original = [e for e in d.events() if not e.type.startswith(("overflyttning_", "arende_"))]
        assert [(e.type, e.occurred_at, e.idempotency_key) for e in copied[:-1]] == [
            (e.type, e.occurred_at, e.idempotency_key) for e in original
        ]
        assert (copied[-1].type, copied[-1].data) == ("arende_mottaget", {"fran_kommun": "1280"})
        b1_due = add_months(started, 4)
        assert (await receiving.summary()).next_due == b1_due.isoformat()
        await receiving.sleep_days((b1_due - await receiving.today()).days + 2)
        assert await receiving.wait_alerts(1) == [("frist_overskriden", "B1", b1_due.isoformat())]
        assert d.alerts() == []  # the sending kommun's case ended with the transfer
        with pytest.raises(CommandRejected) as info:
            await d.send(
                "utredning_forlangd",
                {"utredning_id": "u1", "ny_slutdag": "2099-01-01", "skal": "x"},
            )
        assert getattr(info.value.cause, "rule", None) == "P-CLOSED"


async def test_closing_is_refused_while_an_insats_or_uppfoljning_is_open(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    d = CaseDriver(ts_env, store, task_queue)
    async with running_worker(ts_env.client, store, task_queue):
        await d.open_utredning()
        await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
        await d.beslut("b1", "oppenvard")
        await d.send("insats_verkstalld", {"beslut_id": "b1"})
        assert await _rejected(d, "arende_avslutat", {"orsak": "klart"}) == "P-CLOSE"
        await d.sleep_days(60)
        await d.send("beslut_avslutat", {"beslut_id": "b1", "orsak": "mal_uppnatt"})
        await d.send("uppfoljning_inledd", {"grund": "placering_upphort"})
        assert await _rejected(d, "arende_avslutat", {"orsak": "klart"}) == "P-CLOSE"
        await d.sleep_days(30)
        await d.send("uppfoljning_avslutad", {})
        closed_on = await d.today()
        await d.send("arende_avslutat", {"orsak": "klart"})
        result = await d.handle.result()
        assert result.closed and result.stage == "avslutad"
        assert d.events()[-1].legal_date == closed_on


async def test_temporary_id_is_replaced_by_a_personnummer_once(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    d = CaseDriver(ts_env, store, task_queue, pnr="TMP-1280-20261123-7KQ2ZD")
    async with running_worker(ts_env.client, store, task_queue):
        await d.send(
            "anmalan_mottagen",
            {
                "anmalan_id": "anm-1",
                "barn": {"tillfalligt_id": d.pnr, "kon": "pojke"},
                "anmalare_kategori": "polis",
            },
        )
        await d.send("identitet_uppdaterad", {"barn": {"personnummer": PNR_BOY, "kon": "pojke"}})
        again = {"barn": {"personnummer": PNR_BOY, "kon": "pojke"}}
        assert await _rejected(d, "identitet_uppdaterad", again) == "P-IDENTITY"
        # later commands still reach the same workflow (keyed by the identity it opened with)
        await d.send("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False})
        assert (await d.summary()).event_count == 3


async def test_beslut_below_the_delegationsordning_is_rejected(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    """The kommun's delegationsordning (its configuration version, loaded by reference) judges
    the delegat in the update validator: the refused beslut never reaches the history."""
    sample = load_kommun_file(ROOT / "config" / "kommun.sample.toml")
    placement = {
        "beslut_id": "b1",
        "lagrum": "SoL 11:1",
        "beslutstyp": "placering_familjehem",
        "insats": "familjehem",
        "gynnande": True,
        "delegat": {"id": "d1", "roll": "socialsekreterare"},
    }
    with configured_store(store, sample) as configured:
        d = CaseDriver(ts_env, configured, task_queue)
        async with running_worker(ts_env.client, configured, task_queue):
            await d.open_utredning()
            await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
            accepted = await _accepted_updates(d)
            assert await _rejected(d, "beslut_fattat", placement) == "DELEG"
            assert await _accepted_updates(d) == accepted
            assert [e.type for e in d.events()][-1] == "utredning_avslutad"
            await d.send("beslut_fattat", {**placement, "delegat": {"id": "d2", "roll": "utskott"}})
            assert [e.type for e in d.events()][-1] == "beslut_fattat"


async def test_an_adopted_case_behaves_as_if_it_had_lived(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    """Adoption (import/repair): a workflow started from the store's record of a case raises
    the same alerts with the same dates, and reports the same state, as one that lived it."""
    lived = CaseDriver(ts_env, store, task_queue, pnr=PNR_BOY)
    async with running_worker(ts_env.client, store, task_queue, pseudonym_key=PSEUDONYM_KEY):
        await lived.anmalan()
        await lived.send(
            "skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False}
        )
        await lived.sleep_days(10)
        await lived.send(
            "forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inleda_utredning"}
        )
        await lived.send(
            "utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "anm-1"}
        )
        await lived.sleep_days(20)
        await lived.beslut("b1", "oppenvard")
        # the same record, written straight to the store for another kommun (no workflow)
        adopted = CaseDriver(ts_env, store, task_queue, kommun="0127", pnr=PNR_BOY)
        now = await lived.now()
        for ev in lived.events():
            moved = replace(ev, kommun="0127", case_id=None, position=None, digest=None)
            store.record(moved, now=now)
        assert (
            await adopt(
                ts_env.client,
                store,
                "0127",
                adopted.case_ref,
                pseudonym_key=PSEUDONYM_KEY,
                task_queue=task_queue,
            )
            == adopted.workflow_id
        )
        await lived.sleep_days(200)  # B1 and C2 pass unmet in both
        want = await lived.wait_alerts(2)
        assert await adopted.wait_alerts(len(want), kommun="0127") == want
        a, b = await lived.summary(), await adopted.summary()
        assert (a.stage, a.open_frister, a.overdue_frister, a.next_due, a.open_evb) == (
            b.stage,
            b.open_frister,
            b.overdue_frister,
            b.next_due,
            b.open_evb,
        )


async def test_extended_utredning_alerts_at_the_new_due_date_only(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    d = CaseDriver(ts_env, store, task_queue)
    async with running_worker(ts_env.client, store, task_queue):
        started = await d.today()
        await d.open_utredning()
        await d.send("barnet_hort", {"moment": "samtal", "satt": "enskilt", "utredning_id": "u1"})
        await d.send("barnenkat_erbjuden", {"utredning_id": "u1"})
        old_due = add_months(started, 4)
        new_due = add_months(started, 6)
        too_late = {"utredning_id": "u1", "ny_slutdag": old_due.isoformat(), "skal": "x"}
        assert await _rejected(d, "utredning_forlangd", too_late) == "P-EXT"
        await d.sleep_days(100)
        await d.send(
            "utredning_forlangd",
            {"utredning_id": "u1", "ny_slutdag": new_due.isoformat(), "skal": "sakkunnig"},
        )
        await d.sleep_days((old_due - await d.today()).days + 3)
        assert d.alerts() == []  # the original due date passed: extended, so no alert
        await d.sleep_days((new_due - await d.today()).days + 2)
        assert await d.wait_alerts(1) == [("frist_overskriden", "B1", new_due.isoformat())]


async def test_a_step_dated_before_the_step_it_follows_is_refused(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    """P-ORDER (docs/domain.md §7.1): a beslut avslutat dated before its insats was verkställd
    is refused by the workflow, and neither history nor store gets it; the same step dated on
    or after the verkställighet is accepted."""
    d = CaseDriver(ts_env, store, task_queue)
    async with running_worker(ts_env.client, store, task_queue):
        await d.open_utredning()
        await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
        await d.beslut("b1", "oppenvard")
        await d.sleep_days(10)
        await d.send("insats_verkstalld", {"beslut_id": "b1"})
        verkstalld = await d.today()
        accepted, stored = await _accepted_updates(d), len(d.events())
        avslut = {"beslut_id": "b1", "orsak": "mal_uppnatt"}
        with pytest.raises(CommandRejected) as info:
            await d.send("beslut_avslutat", avslut, at=await d.now() - timedelta(days=5))
        assert getattr(info.value.cause, "rule", None) == "P-ORDER"
        assert str(verkstalld) in str(info.value.cause)
        assert (await _accepted_updates(d), len(d.events())) == (accepted, stored)
        await d.send("beslut_avslutat", avslut)
        assert d.events()[-1].type == "beslut_avslutat"
        assert d.events()[-1].legal_date == verkstalld
