"""Across a transfer between kommuner (SoL 29 kap.), on real Temporal (the time-skipping server)
and PostgreSQL: the ärende moves only after the other kommun's answer, the EVB duty of a beslut
stays with the kommun that made it, and IVO never receives the same beslut from two kommuner
(POL-OVERFLYTTNING-EVB, docs/law.md §5, §9).

Kommun 1280 grants a kontaktperson (b1) that waits past three months (C2: an EVB duty), asks
kommun 0127 to take the ärende over, may move it only once b1 is verkställd, then moves it. 0127
continues the case from the copy, grants its own insats (b2) that also waits, and the IVO reports
of both kommuner, quarter by quarter, are compared.
"""

from __future__ import annotations

from datetime import date

from temporalio.testing import WorkflowEnvironment

from domain.calendar import add_days, add_months
from infra.persistence.store import CaseStore, eventsourcing_env
from infra.temporal.commands import CommandRejected
from infra.temporal.worker import running_worker
from projections.periods import parse_period, period_containing
from projections.reports import REPORTS
from projections.runner import caught_up
from tests.conftest import CIPHER_KEY, PSEUDONYM_KEY
from tests.factories import PNR_THIRD
from tests.helpers import eventually
from tests.workflows.driver import CaseDriver

EVB = ("evb_rapporteringsskyldighet_uppstod",)


async def _rejected(d: CaseDriver, etype: str, data: dict[str, object]) -> str:
    try:
        await d.send(etype, data)
    except CommandRejected as exc:
        return str(getattr(exc.cause, "rule", exc.cause))
    raise AssertionError(f"{etype} was accepted")


def _quarters(first: date, last: date) -> list[str]:
    """Every quarter from the one of ``first`` to the one of ``last``, in order."""
    labels = []
    day = first
    while day <= last:
        labels.append(period_containing("quarter", day))
        day = add_months(day, 1)
    labels.append(period_containing("quarter", last))
    return list(dict.fromkeys(labels))


async def test_the_evb_duty_stays_with_the_deciding_kommun_and_ivo_hears_of_a_beslut_once(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str, pg_url: str, schema: str
) -> None:
    sending = CaseDriver(ts_env, store, task_queue, pnr=PNR_THIRD)
    receiving = CaseDriver(ts_env, store, task_queue, kommun="0127", pnr=PNR_THIRD)
    async with running_worker(ts_env.client, store, task_queue, pseudonym_key=PSEUDONYM_KEY):
        first = await sending.today()
        await sending.open_utredning()
        await sending.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
        await sending.beslut("b1", "kontaktperson")
        await sending.sleep_days(100)  # C2 passes in 1280: its EVB alert
        assert await sending.wait_alerts(1) == [
            ("evb_rapporteringsskyldighet_uppstod", "b1", add_months(first, 3).isoformat())
        ]

        # SoL 29:10: the request and the answer first; 34:1: b1 is settled by 1280 first
        moving = {"till_kommun": "0127"}
        assert await _rejected(sending, "arende_overflyttat", moving) == "P-TRANSFER"
        await sending.send("overflyttning_begard", moving)
        await sending.send("overflyttning_besvarad", {"svar": "accepterad"})
        assert await _rejected(sending, "arende_overflyttat", moving) == "P-EVB-KOMMUN"
        await sending.send("insats_verkstalld", {"beslut_id": "b1"})
        # a new anmälan just before the move: its förhandsbedömning (A2) moves with the ärende
        await sending.anmalan("anm-2")
        anm2_on = await sending.today()
        await sending.send(
            "skyddsbedomning_gjord", {"anmalan_id": "anm-2", "omedelbart_skydd": False}
        )
        await sending.sleep_days(1)
        moved_on = await sending.today()
        await sending.send("arende_overflyttat", moving)
        assert (await sending.handle.result()).transferred_to == "0127"

        copied = await eventually(
            lambda: (evs := receiving.events()) and evs[-1].type == "arende_mottaget" and evs
        )
        assert copied[-1].data == {"fran_kommun": "1280"}
        assert not any(e.type.startswith("overflyttning_") for e in copied)
        # 0127 records no verkställighet, avbrott or EVB report of 1280's beslut
        avbrott = {"beslut_id": "b1", "skal": "familjen flyttade"}
        assert await _rejected(receiving, "verkstallighet_avbruten", avbrott) == "P-EVB-KOMMUN"

        await receiving.sleep_days(2)  # 0127 decides the moved förhandsbedömning in time
        await receiving.send(
            "forhandsbedomning_beslutad", {"anmalan_id": "anm-2", "beslut": "inte_inleda_utredning"}
        )
        await receiving.beslut("b2", "oppenvard")
        await receiving.sleep_days(200)  # C2 of 0127's own beslut passes, and C4 quarters follow
        alerts = await receiving.wait_alerts(2)
        copies = sending.alerts()  # 1280's alerts came with the copy (the same keys)
        new = [a for a in alerts if a not in copies and a[0] in EVB]
        assert new and all(beslut == "b2" for _, beslut, _ in new), new
        assert (await receiving.summary()).open_evb == 1
        last = await receiving.today()

    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    reported: dict[str, set[tuple[str, str]]] = {"1280": set(), "0127": set()}
    statuses: dict[tuple[str, str], list[str]] = {}
    with caught_up(env) as runner:
        for label in _quarters(first, last):
            for kommun, found in reported.items():
                doc = REPORTS["evb"].build(runner.view, kommun, parse_period("quarter", label))
                for row in doc["rows"]:
                    if row["case_ref"] != sending.case_ref:
                        continue
                    found.add((row["ivo_id"], row["beslut_id"]))
                    statuses.setdefault((kommun, row["beslut_id"]), []).append(row["status"])
        deleg = REPORTS["delegationsbeslut"].build(
            runner.view, "0127", parse_period("month", period_containing("month", first))
        )
        waiting = REPORTS["verkstallighetstider"].build(
            runner.view, "0127", parse_period("quarter", period_containing("quarter", last))
        )
        frister = {
            (kommun, day): [
                r
                for r in REPORTS["frister"].build(runner.view, kommun, parse_period("as_of", day))[
                    "rows"
                ]
                if r["case_ref"] == sending.case_ref
            ]
            for kommun in ("1280", "0127")
            for day in (str(add_days(moved_on, -1)), str(moved_on), str(last))
        }

    ivo = {ivo_id for ivo_id, _ in reported["1280"] | reported["0127"]}
    assert len(ivo) == 1  # one child, one IVO pseudo-id in both kommuner
    assert {b for _, b in reported["1280"]} == {"b1"}
    assert {b for _, b in reported["0127"]} == {"b2"}
    assert not reported["1280"] & reported["0127"]  # IVO never gets one beslut from both
    # 1280 reports b1 until its verkställighet; 0127 reports b2 from its first quarter
    assert statuses[("1280", "b1")][-1] == "verkstalld"
    assert statuses[("0127", "b2")][0] == "ny" and "verkstalld" not in statuses[("0127", "b2")]
    assert "b1" not in {r["beslut_id"] for r in deleg["rows"] if r["case_ref"] == sending.case_ref}
    assert [r["beslut_id"] for r in waiting["vantande"] if r["case_ref"] == sending.case_ref] == [
        "b2"
    ]
    # H3: the anmälan's A2 moved with the ärende, with its due date; 1280 lists it until the move
    a2 = "A2:anm-2"
    before, on = str(add_days(moved_on, -1)), str(moved_on)
    due = add_days(anm2_on, 14).isoformat()
    assert [(r["key"], r["due"]) for r in frister[("1280", before)] if r["key"] == a2] == [
        (a2, due)
    ]
    assert [r["key"] for r in frister[("1280", on)] if r["rule"] not in ("C2", "C3", "C4")] == []
    assert [(r["key"], r["due"]) for r in frister[("0127", on)] if r["key"] == a2] == [(a2, due)]
    # the EVB frister of b1 stay with 1280: 0127 lists only its own beslut's
    evb_rules = {"C2", "C3", "C4"}
    assert {
        r["key"].split(":")[1] for r in frister[("0127", str(last))] if r["rule"] in evb_rules
    } == {"b2"}
