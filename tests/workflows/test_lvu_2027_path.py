"""An LVU case that starts in November 2026 and runs into 2027 in the time-skipping server:
omedelbart omhändertagande, underställning and fastställelse, a restriction of umgänge, the
ansökan, the dom in January 2027 and the first övervägande. Every alert is asserted exactly, and
each frist cites LVU (1990:52) when its trigger falls before 2027-01-01 and lag (2026:1600) from
that day (POL-LVU2027-TRIGGER, POL-LVU2027-CYKEL, ÖB 4 for the dom's paragraph).

The time-skipping server starts at the real current time, and the guards refuse backdated
commands, so the story can only start in November 2026 when the test runs then; later, rather
than telling a different story, this test proves the same story from its committed history
(tests/replay/histories/v3-lvu_2027_straddle.*.json, recorded by this test with
BARNFLOW_RECORD_LVU2027_HISTORY=1; checked by tests/replay/test_lvu_2027_history.py).

Hand-checked dates (T0 = the first day, 2026-11-30 when written; 30 days is the default of
policy nasta_sammantrade_dagar):
  E1  ordförandebeslut anmäls          T0 + 30 days   = 2026-12-30  LVU 6 § andra st.   missed
  E2  underställning                   T0 + 1 week    = 2026-12-07  LVU 7 §             met 12-03
  E3  ansökan om vård                  T0 + 4 weeks   = 2026-12-28  LVU 8 §             met 12-18
  E10 umgängesbegränsning, cycle 1     2026-12-10 + 3 months = 2027-03-10  LVU 14 §     met 03-01
  E10 cycle 2 (from the review)        2027-03-01 + 3 months = 2027-06-01  2026:1600 7 kap. 2 §
                                                                          andra st.     missed
  E5  vård påbörjas (already in care)  2027-01-20 + 4 weeks = 2027-02-17  2026:1600 6 kap. 4 §
                                                                          andra st.     met at
                                                                          the dom
  E6  övervägande, cycle 1             T0 + 6 months = 2027-05-30  2026:1600 8 kap. 2 §  missed
      (the dom is from 2027 and the child was already omhändertagen: six months from the day
      vården påbörjades, the verkställighet on T0, POL-LVU2027-E6E7-START; the act is the dom's)
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from domain.calendar import add_days, add_months, add_weeks
from domain.frister import compute_frister
from infra.persistence.store import CaseStore
from infra.temporal.worker import running_worker
from tests.replay.record import _chain
from tests.workflows.driver import CaseDriver

LVU = "LVU 1990:52"
NEW = "lag 2026:1600"
RECORD_ENV = "BARNFLOW_RECORD_LVU2027_HISTORY"
HISTORIES = Path(__file__).resolve().parents[1] / "replay" / "histories"
HISTORY_STEM = "v3-lvu_2027_straddle"


async def _until(d: CaseDriver, day: date) -> None:
    """Skip forward to ``day`` (same time of day, so the legal date is exactly ``day``)."""
    today = await d.today()
    assert day >= today, f"the story is behind the server: {day} < {today}"
    if day > today:
        await d.sleep_days((day - today).days)


async def test_lvu_case_from_november_2026_into_2027(
    ts_env: WorkflowEnvironment, store: CaseStore, task_queue: str
) -> None:
    d = CaseDriver(ts_env, store, task_queue, case_ref="VS-LVU-2027")
    t0 = await d.today()
    if not date(2026, 11, 1) <= t0 <= date(2026, 12, 2):
        # The live story can only start in November 2026 (the server starts on t0 and only goes
        # forward). From then on the same story is proven, not skipped: from the history this
        # test recorded live (tests/replay/histories/v3-lvu_2027_straddle.*.json).
        from tests.replay import test_lvu_2027_history as recorded

        await recorded.test_the_straddling_history_replays()
        await recorded.test_the_straddling_history_alerts_exactly_e1_then_e6_and_e10()
        await recorded.test_the_straddling_history_cites_lvu_before_and_the_new_law_after()
        return
    async with running_worker(ts_env.client, store, task_queue):
        await d.anmalan()
        await d.send("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": True})
        await d.send(
            "lvu_omhandertagande_beslutat",
            {
                "beslut_id": "L1",
                "delegat": {"id": "o1", "roll": "ordforande"},
                "ordforandebeslut": True,
            },
        )
        await d.send("lvu_omhandertagande_verkstallt", {"beslut_id": "L1"})
        await d.send(
            "forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inleda_utredning"}
        )
        await d.send(
            "utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "anm-1"}
        )
        await _until(d, date(2026, 12, 3))
        await d.send("lvu_understalld", {"beslut_id": "L1"})
        await _until(d, date(2026, 12, 8))
        await d.send("lvu_omhandertagande_faststallt", {"beslut_id": "L1"})
        await _until(d, date(2026, 12, 10))
        await d.send(
            "lvu_umgangesbegransning_beslutad", {"begransning_id": "UB1", "slag": "umgange"}
        )
        await _until(d, date(2026, 12, 17))
        await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "lvu_ansokan"})
        await _until(d, date(2026, 12, 18))
        await d.send("lvu_ansokan_inlamnad", {"beslut_id": "L1"})
        # the ordförandebeslut was not reported to the nämnd within 30 days: one alert, LVU side
        await _until(d, date(2027, 1, 2))
        e1_due = add_days(t0, 30)
        assert await d.wait_alerts(1) == [("frist_overskriden", "E1", e1_due.isoformat())]
        await _until(d, date(2027, 1, 12))
        await d.send("lvu_ordforandebeslut_anmalt", {"beslut_id": "L1"})
        # ÖB 4: the ansökan came in before 2027-01-01, so the dom applies LVU 2 §
        await _until(d, date(2027, 1, 20))
        await d.send("lvu_dom", {"utfall": "bifall", "beslut_id": "L1", "paragraf": "2"})
        await _until(d, date(2027, 3, 1))
        await d.send("lvu_umgangesbegransning_provad", {"begransning_id": "UB1"})
        # the first övervägande (six months from vården påbörjades on T0) and the second review
        # of the umgänge restriction (due 2027-06-01) are both missed: one alert each, lag
        # 2026:1600 side
        await _until(d, date(2027, 7, 25))
        e6_due = add_months(t0, 6)
        alerts = await d.wait_alerts(3)
        # E6 is due six months from t0 (2027-05-01 to 2027-06-02 as t0 runs from 1 November to
        # 2 December 2026), E10 on 2027-06-01: which of the two is alerted first depends on
        # the day the story starts (from t0 = 2 December, E10; both the same day for 1 December)
        assert alerts[0] == ("frist_overskriden", "E1", e1_due.isoformat())
        assert sorted(alerts[1:]) == [
            ("frist_overskriden", "E10", "2027-06-01"),
            ("frist_overskriden", "E6", e6_due.isoformat()),
        ]
        assert [due for _, _, due in alerts] == sorted(due for _, _, due in alerts)
        summary = await d.summary()
        assert not summary.closed
        assert {"E10:UB1:2", "E6:L1:1"} <= set(summary.overdue_frister)
        if os.environ.get(RECORD_ENV):
            # Re-record the committed history that tests/replay/test_lvu_2027_history.py checks
            # once this story can no longer run live (the test server only goes forward).
            for i, history in enumerate(await _chain(ts_env, d.workflow_id)):
                (HISTORIES / f"{HISTORY_STEM}.{i}.json").write_text(history.to_json())

    by_key = {f.key: f for f in compute_frister(d.events(), as_of=date(2027, 7, 25))}
    expected = {
        "E1:L1": (e1_due, LVU, "6 § andra st.", "missed"),
        "E2:L1": (add_weeks(t0, 1), LVU, "7 §", "met"),
        "E3:L1": (add_weeks(t0, 4), LVU, "8 §", "met"),
        "E10:UB1:1": (date(2027, 3, 10), LVU, "14 §", "met"),
        "E10:UB1:2": (date(2027, 6, 1), NEW, "7 kap. 2 § andra st.", "overdue"),
        "E5:L1": (date(2027, 2, 17), NEW, "6 kap. 4 § andra st.", "met"),
        "E6:L1:1": (e6_due, NEW, "8 kap. 2 §", "overdue"),
    }
    got = {
        k: (by_key[k].due, by_key[k].law, by_key[k].paragraph, by_key[k].status)
        for k in expected
        if k in by_key
    }
    assert got == expected
    # no alert is counted twice and none of the met frister alerted
    assert len(d.alerts()) == 3
