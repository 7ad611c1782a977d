"""A familjehem placement's three years in the time-skipping server (issue #15 B): the plans, the
socialsekreterare, visits (some missed, one without an enskilt samtal), reviews on time, an
avvikning and the return, and the 18th birthday without a decision. The kommun tracks the
placement's requirements (``policy.placering_krav_fran``); every alert is asserted exactly.

T0 = the server's first day (the real date the test runs), P = T0 the verkställighet, B18 = the
child's 18th birthday = T0 + 30 months (the personnummer is built from it: every age comes from
the birth date). Hand-checked alerts (policy defaults: 14 / 90 days, visits monthly for 12 months
then every 3 months, the 18th-birthday warning 6 months before, 24 hours = the next day):

  D9   visit 3: the visit of T0+70 had no enskilt samtal, the next came T0+100
       due (T0+45) + 1 month
  D9K  contact with the family never planned          due T0 + 90 days
  V2   Migrationsverket never told (ensamkommande)    due (T0+200) + 1 day
  D11V utslussning never planned                      due B18 - 6 months
  D9   a 3-month gap from T0+695 to T0+800           due (T0+695) + 3 months
  D11  the placement ran past 18 without a decision   due B18

Everything else is met: the vårdplan (before the verkställighet), the genomförandeplan, the
approval, the region's notice, the socialsekreterare, schooling (D1, D1G, D1A, D6, D8, D9S); the
police and the LVU 6 § assessment (V1, V3); the six-monthly övervägande every 150 days (D3); the
vårdplan revised and vårdnadsöverflyttning considered before two years (D2, D4); the
utredning and the förhandsbedömning on the first day (A1, A2, B1); the verkställighet (C2).
"""

from __future__ import annotations

from datetime import date

from temporalio.testing import WorkflowEnvironment

from domain.calendar import add_days, add_months, add_years
from domain.frister import MET, MISSED, compute_frister
from domain.identity import luhn_check_digit
from domain.rules import policy_from_mapping
from infra.config.kommun import parse_kommun_config
from tests.fast.driver import FastCase
from tests.fast.fakes import InMemoryStore

B1 = "B1"


def _pnr(born: date) -> str:
    """A valid personnummer for ``born`` (Luhn check digit over the last ten digits)."""
    stem = f"{born:%Y%m%d}238"
    return stem + str(luhn_check_digit(stem[2:11]))


async def _until(d: FastCase, day: date) -> None:
    today = await d.today()
    assert day >= today, f"the story is behind the server: {day} < {today}"
    if day > today:
        await d.sleep_days((day - today).days)


async def test_a_placements_three_years_raise_exactly_the_expected_alerts(
    fast_env: WorkflowEnvironment, fake_store: InMemoryStore, fast_worker: str
) -> None:
    start = await FastCase(fast_env, fake_store, fast_worker).today()
    t0 = start
    b18 = add_months(t0, 30)
    born = add_years(b18, -18)
    policy = {"placering_krav_fran": add_years(t0, -1)}
    config = parse_kommun_config({"kommun": "1280", "policy": policy}, "test/1280.toml")
    fake_store.configs[config.version] = config.document
    d = FastCase(
        fast_env,
        fake_store,
        fast_worker,
        case_ref="VS-PLACERAD",
        pnr=_pnr(born),
        kommun_config=config.version,
    )

    def day(n: int) -> date:
        return add_days(t0, n)

    # --- T0: anmälan (ensamkommande), utredning, vårdplan, beslut, placement --------------------
    await d.send(
        "anmalan_mottagen",
        {
            "anmalan_id": "anm-1",
            "barn": {"personnummer": d.pnr, "kon": "pojke"},
            "anmalare_kategori": "polis",
            "ensamkommande": True,
        },
    )
    await d.send("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": False})
    await d.send(
        "forhandsbedomning_beslutad", {"anmalan_id": "anm-1", "beslut": "inleda_utredning"}
    )
    await d.send(
        "utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "anm-1"}
    )
    await d.send("vardplan_upprattad", {"beslut_id": B1})
    await d.send("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"})
    await d.send(
        "beslut_fattat",
        {
            "beslut_id": B1,
            "lagrum": "SoL 11:1",
            "beslutstyp": "insats",
            "insats": "familjehem",
            "gynnande": True,
            "delegat": {"id": "d1", "roll": "utskott"},
        },
    )
    await d.send("socialsekreterare_utsedd", {"socialsekreterare_id": "ss-1", "beslut_id": B1})
    await d.send("insats_verkstalld", {"beslut_id": B1})

    # --- the story, day by day (offsets from T0) -------------------------------------------------
    visits = [20, 45, 100, 125, *range(150, 351, 25), 375, 455, 535, 615, 695, 800, 880]
    steps: dict[int, list[tuple[str, dict[str, object]]]] = {}

    def at(n: int, etype: str, data: dict[str, object]) -> None:
        steps.setdefault(n, []).append((etype, data))

    at(3, "placeringsplan_godkand", {"plan": "vardplan", "beslut_id": B1})
    at(5, "halsoundersokning_begard", {"beslut_id": B1})
    at(10, "genomforandeplan_upprattad", {"beslut_id": B1})
    at(60, "skolgang_kartlagd", {"beslut_id": B1})
    at(70, "barnet_besokt", {"enskilt_samtal": False, "beslut_id": B1})
    for n in visits:
        at(n, "barnet_besokt", {"enskilt_samtal": True, "beslut_id": B1})
    for n in range(150, 901, 150):
        at(n, "overvagande_genomfort", {"beslut_id": B1, "slutsats": "fortsatt vård"})
    at(200, "avvikning_anmald", {"avvikning_id": "AV1", "beslut_id": B1})
    at(200, "avvikning_polis_underrattad", {"avvikning_id": "AV1"})
    at(201, "avvikning_lvu_bedomning_gjord", {"avvikning_id": "AV1", "slutsats": "vard_pagar"})
    at(203, "avvikning_avslutad", {"avvikning_id": "AV1", "utfall": "aterfunnen"})
    at(700, "vardplan_reviderad", {"beslut_id": B1})
    at(700, "vardnadsoverflyttning_overvagd", {"beslut_id": B1, "slutsats": "inte aktuellt"})
    end = (add_days(b18, 10) - t0).days
    at(end, "beslut_avslutat", {"beslut_id": B1, "orsak": "fyllt 18"})

    for n in sorted(steps):
        await _until(d, day(n))
        for etype, data in steps[n]:
            await d.send(etype, data)
    last = add_years(t0, 3)
    await _until(d, last)
    # a last command: the workflow has handled every timer before it (its alerts are stored)
    await d.send("umgange_planerat", {})

    expected = sorted(
        [
            ("frist_overskriden", "D9K", day(90).isoformat()),
            ("frist_overskriden", "D9", add_months(day(45), 1).isoformat()),
            ("frist_overskriden", "V2", day(201).isoformat()),
            ("frist_overskriden", "D11V", add_months(b18, -6).isoformat()),
            ("frist_overskriden", "D9", add_months(day(695), 3).isoformat()),
            ("frist_overskriden", "D11", b18.isoformat()),
        ],
        key=lambda a: a[2],
    )
    assert sorted(d.alerts(), key=lambda a: a[2]) == expected

    # the engine agrees with what the workflow alerted, and met the rest
    pol = policy_from_mapping({"policy": policy})
    by_key = {f.key: f for f in compute_frister(d.events(), as_of=last, policy=pol)}
    for key in ("D1:B1", "D1G:B1", "D1A:B1", "D6:B1", "D8:B1", "D9S:B1", "V1:AV1", "V3:AV1"):
        assert by_key[key].status == MET, key
    assert by_key["D9K:B1"].status == MISSED  # ended by the placement's end, long after
    assert by_key["D11:B1"].status == MISSED and by_key["D11:B1"].due == b18
    assert by_key["V2:AV1"].status == MISSED  # the child's return met it, two days late
