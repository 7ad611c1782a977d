"""Law transitions: every rule whose paragraph changed, or which entered into force, while a case
was running is computed by the law in force on each date (docs/law.md §1, §5
POL-IKRAFT-PAGAENDE, POL-A3-GENAST), with one table per transition date and the day before,
the day itself and the day after.

Each row is a case whose frist falls on the boundary; the expected trigger (the day the frist
started to run), due date, act and paragraph are written out by hand from the statute, not
computed. ``test_explained_arithmetic_holds`` then checks that what ``rules explain`` prints
("2020-07-01 + 2 år = 2022-07-01") is true for every frist of every table.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from frist_builders import ev

from domain.calendar import add_days, add_months, add_weeks, add_years
from domain.events import CaseEvent
from domain.frister import Frist, compute_frister, frist_versions, visible_on
from domain.rules import LVU, LVU_NEW, NEW_SOL, OLD_SOL, policy_from_mapping, rule
from infra.cli.rules import register

D = date.fromisoformat
A3_ON = policy_from_mapping({"policy": {"a3_begaran_antas": True}})


def familjehem(verkstalld: str, *later: CaseEvent) -> list[CaseEvent]:
    """A SoL familjehem placement verkställd on ``verkstalld`` (D2, D4)."""
    day = D(verkstalld)
    return [
        ev("anmalan_mottagen", str(add_days(day, -40)), anmalan_id="a1"),
        ev("utredning_inledd", str(add_days(day, -39)), utredning_id="u1", grund="anmalan"),
        ev("utredning_avslutad", str(add_days(day, -11)), utredning_id="u1", utfall="insats"),
        ev("beslut_fattat", str(add_days(day, -10)), beslut_id="b1", insats="familjehem",
           gynnande=True),
        ev("insats_verkstalld", verkstalld, beslut_id="b1"),
        *later,
    ]  # fmt: skip


def lvu_familjehem(paborjad: str) -> list[CaseEvent]:
    """An LVU placement in a familjehem that began on ``paborjad`` (E9)."""
    day = D(paborjad)
    return [
        ev("anmalan_mottagen", str(add_days(day, -30)), anmalan_id="a1"),
        ev("lvu_omhandertagande_beslutat", str(add_days(day, -20)), beslut_id="l1"),
        ev("lvu_omhandertagande_verkstallt", str(add_days(day, -20)), beslut_id="l1"),
        ev("lvu_placering_paborjad", paborjad, placering_id="p1", placering="familjehem"),
    ]


def by_key(frister: list[Frist]) -> dict[str, Frist]:
    return {f.key: f for f in frister}


@dataclass(frozen=True)
class Row:
    """A frist the law requires (``trigger``…) or, with ``trigger=None``, one it does not."""

    name: str
    events: list[CaseEvent]
    key: str
    trigger: date | None
    due: date | None = None
    law: str = ""
    paragraph: str = ""
    as_of: date | None = None


def absent(name: str, events: list[CaseEvent], key: str, as_of: date | None = None) -> Row:
    return Row(name, events, key, None, as_of=as_of)


# --- D4: vårdnadsöverflyttning (SoL 2001:453 6 kap. 8 § andra st. / 8 b §, SoL 2025:400 22:14) --
# The three-year rule entered into force 2003-07-01 (SFS 2003:407); yearly after the third year
# from 2021-03-01 (SFS 2020:1260); two years from 2022-07-01 (SFS 2022:665); 22 kap. 14 § from
# 2025-07-01. An anniversary is owed if the version in force on some day from the previous owed
# one up to it requires it, and starts on the first such day.
OLD_3Y, OLD_8B, NEW_22_14 = "6 kap. 8 § andra st.", "6 kap. 8 b §", "22 kap. 14 §"
AS_OF_2022 = D("2022-06-30")
AS_OF_2026 = D("2026-06-30")
D4_ROWS = [
    # 2003-07-01: the three-year consideration is owed once its day is on or after entry
    absent("3 år, förfaller 2003-06-30 (dagen före)", familjehem("2000-06-30"), "D4:b1:2",
           as_of=D("2004-01-01")),
    Row("3 år, förfaller 2003-07-01 (dagen)", familjehem("2000-07-01"), "D4:b1:2",
        D("2003-07-01"), D("2003-07-01"), OLD_SOL, OLD_3Y, as_of=D("2004-01-01")),
    Row("3 år, förfaller 2003-07-02 (dagen efter)", familjehem("2000-07-02"), "D4:b1:2",
        D("2003-07-01"), D("2003-07-02"), OLD_SOL, OLD_3Y, as_of=D("2004-01-01")),
    # before 2021-03-01 the three-year consideration was the only one
    absent("4 år under treårsregeln: inget övervägande", familjehem("2015-01-10"), "D4:b1:3",
           as_of=D("2021-01-01")),
    # 2021-03-01: yearly after the third year, for placements already running
    absent("6 år, förfaller 2021-02-28 (dagen före)", familjehem("2015-02-28"), "D4:b1:5",
           as_of=AS_OF_2022),
    Row("6 år, förfaller 2021-03-01 (dagen)", familjehem("2015-03-01"), "D4:b1:5",
        D("2021-03-01"), D("2021-03-01"), OLD_SOL, OLD_3Y, as_of=AS_OF_2022),
    Row("6 år, förfaller 2021-03-02 (dagen efter)", familjehem("2015-03-02"), "D4:b1:5",
        D("2021-03-01"), D("2021-03-02"), OLD_SOL, OLD_3Y, as_of=AS_OF_2022),
    Row("7 år efter ett ensamt treårsövervägande", familjehem("2015-02-28"), "D4:b1:6",
        D("2021-03-01"), D("2022-02-28"), OLD_SOL, OLD_3Y, as_of=AS_OF_2022),
    # 2022-07-01: two years instead of three; a second anniversary before it is not owed
    absent("2 år, förfaller 2022-06-30 (dagen före)", familjehem("2020-06-30"), "D4:b1:1",
           as_of=AS_OF_2026),
    Row("… då gäller tre år från 2020-06-30", familjehem("2020-06-30"), "D4:b1:2",
        D("2020-06-30"), D("2023-06-30"), OLD_SOL, OLD_3Y, as_of=AS_OF_2026),
    Row("2 år, förfaller 2022-07-01 (dagen)", familjehem("2020-07-01"), "D4:b1:1",
        D("2022-07-01"), D("2022-07-01"), OLD_SOL, OLD_8B, as_of=AS_OF_2026),
    Row("2 år, förfaller 2022-07-02 (dagen efter)", familjehem("2020-07-02"), "D4:b1:1",
        D("2022-07-01"), D("2022-07-02"), OLD_SOL, OLD_8B, as_of=AS_OF_2026),
    Row("… och därefter årligen", familjehem("2020-07-02"), "D4:b1:2",
        D("2022-07-02"), D("2023-07-02"), OLD_SOL, OLD_8B, as_of=AS_OF_2026),
    # 2025-07-01: a cycle cites the act of the day it starts (docs/law.md §1)
    Row("cykel från 2025-06-30 (dagen före)", familjehem("2023-06-30"), "D4:b1:2",
        D("2025-06-30"), D("2026-06-30"), OLD_SOL, OLD_8B, as_of=AS_OF_2026),
    Row("cykel från 2025-07-01 (dagen)", familjehem("2023-07-01"), "D4:b1:2",
        D("2025-07-01"), D("2026-07-01"), NEW_SOL, NEW_22_14, as_of=AS_OF_2026),
    Row("cykel från 2025-07-02 (dagen efter)", familjehem("2023-07-02"), "D4:b1:2",
        D("2025-07-02"), D("2026-07-02"), NEW_SOL, NEW_22_14, as_of=AS_OF_2026),
]  # fmt: skip

# --- E9: the same rule for an LVU placement (LVU 13 § tredje st. / 13 c §, 2026:1600 9 kap. 1 §)
E9_ROWS = [
    absent("2 år, förfaller 2022-06-30 (dagen före)", lvu_familjehem("2020-06-30"), "E9:p1:1",
           as_of=AS_OF_2026),
    Row("… då gäller tre år (LVU 13 § tredje st.)", lvu_familjehem("2020-06-30"), "E9:p1:2",
        D("2020-06-30"), D("2023-06-30"), LVU, "13 § tredje st.", as_of=AS_OF_2026),
    Row("2 år, förfaller 2022-07-01 (dagen)", lvu_familjehem("2020-07-01"), "E9:p1:1",
        D("2022-07-01"), D("2022-07-01"), LVU, "13 c §", as_of=AS_OF_2026),
    Row("2 år, förfaller 2022-07-02 (dagen efter)", lvu_familjehem("2020-07-02"), "E9:p1:1",
        D("2022-07-01"), D("2022-07-02"), LVU, "13 c §", as_of=AS_OF_2026),
    Row("cykel från 2026-12-31 (dagen före)", lvu_familjehem("2024-12-31"), "E9:p1:2",
        D("2026-12-31"), D("2027-12-31"), LVU, "13 c §", as_of=D("2027-01-02")),
    Row("cykel från 2027-01-01 (dagen)", lvu_familjehem("2025-01-01"), "E9:p1:2",
        D("2027-01-01"), D("2028-01-01"), LVU_NEW, "9 kap. 1 §", as_of=D("2027-01-02")),
]  # fmt: skip

# --- D2: first revision of the vårdplan within two years (old 11 kap. 3 § andra st. from
# 2021-03-01, SFS 2020:1260; SoL 2025:400 9 kap. 13 § andra st.)
OLD_11_3, NEW_9_13 = "11 kap. 3 § andra st.", "9 kap. 13 § andra st."
D2_ROWS = [
    absent("2 år, förfaller 2021-02-28 (dagen före)", familjehem("2019-02-28"), "D2:b1"),
    Row("2 år, förfaller 2021-03-01 (dagen)", familjehem("2019-03-01"), "D2:b1",
        D("2021-03-01"), D("2021-03-01"), OLD_SOL, OLD_11_3),
    Row("2 år, förfaller 2021-03-02 (dagen efter)", familjehem("2019-03-02"), "D2:b1",
        D("2021-03-01"), D("2021-03-02"), OLD_SOL, OLD_11_3),
    Row("placering 2021-03-01", familjehem("2021-03-01"), "D2:b1",
        D("2021-03-01"), D("2023-03-01"), OLD_SOL, OLD_11_3),
    Row("placering 2025-06-30 (dagen före)", familjehem("2025-06-30"), "D2:b1",
        D("2025-06-30"), D("2027-06-30"), OLD_SOL, OLD_11_3),
    Row("placering 2025-07-01 (dagen)", familjehem("2025-07-01"), "D2:b1",
        D("2025-07-01"), D("2027-07-01"), NEW_SOL, NEW_9_13),
]  # fmt: skip


# --- A3: information to the anmälare (19 kap. 6 § andra st., SFS 2025:1501, from 2026-01-15)
def a3_after_decision(decided: str) -> list[CaseEvent]:
    return [
        ev("anmalan_mottagen", "2026-01-02", anmalan_id="a1", anmalare_begart_information=True),
        ev("forhandsbedomning_beslutad", decided, anmalan_id="a1", beslut="inleda_utredning"),
    ]


def a3_during_utredning(received: str) -> list[CaseEvent]:
    """A second anmälan while an utredning is pending: no decision, information 'genast'."""
    return [
        ev("anmalan_mottagen", "2025-12-01", anmalan_id="a1"),
        ev("forhandsbedomning_beslutad", "2025-12-03", anmalan_id="a1", beslut="inleda_utredning"),
        ev("utredning_inledd", "2025-12-03", utredning_id="u1", grund="anmalan", anmalan_id="a1"),
        ev("anmalan_mottagen", received, anmalan_id="a2", anmalare_begart_information=True),
    ]


A3_ROWS = [
    absent("beslut 2026-01-07: veckan slutar 2026-01-14 (dagen före)",
           a3_after_decision("2026-01-07"), "A3:a1"),
    Row("beslut 2026-01-08: veckan slutar 2026-01-15 (dagen)", a3_after_decision("2026-01-08"),
        "A3:a1", D("2026-01-15"), D("2026-01-15"), NEW_SOL, "19 kap. 6 §"),
    Row("beslut 2026-01-09: veckan slutar 2026-01-16 (dagen efter)",
        a3_after_decision("2026-01-09"), "A3:a1", D("2026-01-15"), D("2026-01-16"), NEW_SOL,
        "19 kap. 6 §"),
    Row("beslut 2026-01-15", a3_after_decision("2026-01-15"), "A3:a1", D("2026-01-15"),
        D("2026-01-22"), NEW_SOL, "19 kap. 6 §"),
    absent("utredning pågår, begäran 2026-01-14 (dagen före)", a3_during_utredning("2026-01-14"),
           "A3:a2"),
    Row("utredning pågår, begäran 2026-01-15: genast", a3_during_utredning("2026-01-15"), "A3:a2",
        D("2026-01-15"), D("2026-01-15"), NEW_SOL, "19 kap. 6 §"),
    Row("utredning pågår, begäran 2026-01-16: genast", a3_during_utredning("2026-01-16"), "A3:a2",
        D("2026-01-16"), D("2026-01-16"), NEW_SOL, "19 kap. 6 §"),
]  # fmt: skip


# --- C4: the quarterly report to IVO (16 kap. 6 f § tredje st. / 34 kap. 1 § tredje st.)
def unverkstalld(decided: str) -> list[CaseEvent]:
    day = D(decided)
    return [
        ev("anmalan_mottagen", str(add_days(day, -30)), anmalan_id="a1"),
        ev("utredning_inledd", str(add_days(day, -29)), utredning_id="u1", grund="anmalan"),
        ev("beslut_fattat", decided, beslut_id="b1", insats="kontaktperson", gynnande=True),
    ]


C4_ROWS = [
    # C2 due 2025-06-29 (beslut 2025-03-29): the duty arises 2025-06-30, the last day of Q2
    Row("rapportskyldighet från 2025-06-30 (dagen före)", unverkstalld("2025-03-29"),
        "C4:b1:2025Q2", D("2025-06-30"), D("2025-08-31"), OLD_SOL, "16 kap. 6 f § tredje st.",
        as_of=D("2025-12-31")),
    Row("… nästa kvartal från 2025-07-01 (dagen)", unverkstalld("2025-03-29"), "C4:b1:2025Q3",
        D("2025-07-01"), D("2025-10-31"), NEW_SOL, "34 kap. 1 § tredje st.",
        as_of=D("2025-12-31")),
    Row("rapportskyldighet från 2025-07-02 (dagen efter)", unverkstalld("2025-04-01"),
        "C4:b1:2025Q3", D("2025-07-02"), D("2025-10-31"), NEW_SOL, "34 kap. 1 § tredje st.",
        as_of=D("2025-12-31")),
]  # fmt: skip


# --- F1: uppföljning after an utredning without insats: two months (old 11 kap. 4 c §,
# policy uppfoljning_gammal_sol_manader) or six (23 kap. 5 §), by the day counted from
def closed_without_insats(closed: str) -> list[CaseEvent]:
    day = D(closed)
    return [
        ev("anmalan_mottagen", str(add_days(day, -60)), anmalan_id="a1"),
        ev("utredning_inledd", str(add_days(day, -59)), utredning_id="u1", grund="anmalan"),
        ev("utredning_avslutad", closed, utredning_id="u1", utfall="ingen_atgard"),
        ev("uppfoljning_inledd", str(add_days(day, 2)), grund="utredning_utan_insats",
           uppfoljning_id="f1"),
    ]  # fmt: skip


F1_ROWS = [
    Row("avslutad 2025-06-30 (dagen före)", closed_without_insats("2025-06-30"), "F1:f1",
        D("2025-06-30"), D("2025-08-30"), OLD_SOL, "11 kap. 4 a §, 4 c §"),
    Row("avslutad 2025-07-01 (dagen)", closed_without_insats("2025-07-01"), "F1:f1",
        D("2025-07-01"), D("2026-01-01"), NEW_SOL, "23 kap. 1 §, 5 §"),
    Row("avslutad 2025-07-02 (dagen efter)", closed_without_insats("2025-07-02"), "F1:f1",
        D("2025-07-02"), D("2026-01-02"), NEW_SOL, "23 kap. 1 §, 5 §"),
]  # fmt: skip

TABLES = {
    "D4": D4_ROWS,
    "E9": E9_ROWS,
    "D2": D2_ROWS,
    "A3": A3_ROWS,
    "C4": C4_ROWS,
    "F1": F1_ROWS,
}
ALL_ROWS = [(table, row) for table, rows in TABLES.items() for row in rows]


@pytest.mark.parametrize(("table", "row"), ALL_ROWS, ids=[f"{t}: {r.name}" for t, r in ALL_ROWS])
def test_transition_table(table: str, row: Row) -> None:
    frister = by_key(compute_frister(row.events, row.as_of, policy=A3_ON))
    if row.trigger is None:
        assert row.key not in frister, frister.get(row.key)
        return
    assert row.key in frister, sorted(frister)
    f = frister[row.key]
    assert (f.trigger_date, f.due, f.law, f.paragraph) == (
        row.trigger,
        row.due,
        row.law,
        row.paragraph,
    )


_SUM = re.compile(
    r"^(?P<base>\d{4}-\d\d-\d\d) \+ (?:(?P<n>\d+) (?P<unit>dagar?|veckor|vecka|månader|månad|år)"
    r"|(?P<same>samma dag))"
)
_ADD = {
    "dag": add_days,
    "dagar": add_days,
    "vecka": add_weeks,
    "veckor": add_weeks,
    "månad": add_months,
    "månader": add_months,
    "år": add_years,
}


@pytest.mark.parametrize(("table", "row"), ALL_ROWS, ids=[f"{t}: {r.name}" for t, r in ALL_ROWS])
def test_explained_arithmetic_holds(table: str, row: Row) -> None:
    """What ``rules explain`` prints for every frist of the case is a true sum."""
    for f in compute_frister(row.events, row.as_of, policy=A3_ON):
        assert f.arithmetic.endswith(f"= {f.original_due}"), f.arithmetic
        m = _SUM.match(f.arithmetic)
        if f.rule == "C4":
            assert "IVO:s rapportfönster" in f.arithmetic
            continue
        assert m, f.arithmetic
        base = D(m["base"])
        if m["same"]:
            assert base == f.original_due, f.arithmetic
        else:
            assert _ADD[m["unit"]](base, int(m["n"])) == f.original_due, f.arithmetic


def test_explain_prints_the_three_year_rule() -> None:
    """``rules explain`` for a 2020 placement: the first consideration after three years under
    6 kap. 8 § andra st., the next under 8 b §, each with the sum from the verkställighet."""
    frister = [f for f in compute_frister(familjehem("2020-06-30"), AS_OF_2026) if f.rule == "D4"]
    assert [(f.key, f.arithmetic) for f in frister][:2] == [
        ("D4:b1:2", "2020-06-30 + 3 år = 2023-06-30"),
        ("D4:b1:3", "2020-06-30 + 4 år = 2024-06-30"),
    ]
    assert [f.paragraph for f in frister][:2] == [OLD_3Y, OLD_8B]


def test_a3_genast_is_met_the_same_day_only() -> None:
    evs = a3_during_utredning("2026-02-02")
    same = by_key(compute_frister([*evs, ev("anmalare_informerad", "2026-02-02",
                                             anmalan_id="a2")]))["A3:a2"]  # fmt: skip
    late = by_key(compute_frister([*evs, ev("anmalare_informerad", "2026-02-03",
                                             anmalan_id="a2")]))["A3:a2"]  # fmt: skip
    assert (same.status, late.status) == ("met", "missed")
    assert any("genast" in n for n in same.notes)


def test_a3_genast_needs_the_request() -> None:
    """Without the anmälare's request (and without the kommun's assumption policy) no frist."""
    evs = a3_during_utredning("2026-02-02")
    unasked = [*evs[:-1], ev("anmalan_mottagen", "2026-02-02", anmalan_id="a2")]
    assert "A3:a2" not in by_key(compute_frister(unasked))
    assert "A3:a2" in by_key(compute_frister(unasked, policy=A3_ON))


def test_d2_not_owed_for_a_placement_that_ended_before_2021_03_01() -> None:
    evs = familjehem("2019-06-01", ev("beslut_avslutat", "2021-02-01", beslut_id="b1",
                                      orsak="hemflytt"))  # fmt: skip
    assert "D2:b1" not in by_key(compute_frister(evs, D("2022-01-01")))


@pytest.mark.parametrize(
    ("events", "law_days"),
    [
        (familjehem("2020-06-30"), (D("2021-03-01"), D("2022-07-01"), D("2025-07-01"))),
        (familjehem("2019-03-02"), (D("2021-03-01"),)),
        (a3_after_decision("2026-01-09"), (D("2026-01-15"),)),
    ],
    ids=["D4 three- then two-year rule", "D2 from 2021-03-01", "A3 from 2026-01-15"],
)
def test_stored_versions_match_time_travel_around_each_law_day(
    events: list[CaseEvent], law_days: tuple[date, ...]
) -> None:
    """The ``frister`` view's versions (cut at every law day) answer like ``compute_frister``
    on the days around each transition, although no event happens on them."""
    versions, _ = frist_versions(events, until=D("2027-12-31"))

    def shape(frister: list[Frist]) -> set[tuple[object, ...]]:
        return {(f.key, f.trigger_date, f.due, f.law, f.paragraph) for f in frister}

    for law_day in law_days:
        for offset in (-1, 0, 1):
            day = law_day + timedelta(days=offset)
            assert shape(visible_on(versions, day)) == shape(compute_frister(events, day)), day


def test_rules_catalogue_versions_of_the_changed_rules() -> None:
    d4 = rule("D4")
    assert [(v.since, v.ref.paragraph, v.length, v.recurrence) for v in d4.versions()] == [
        (D("2003-07-01"), OLD_3Y, 3, "none"),
        (D("2021-03-01"), OLD_3Y, 3, None),
        (D("2022-07-01"), OLD_8B, None, None),
        (D("2025-07-01"), NEW_22_14, None, None),
    ]
    assert rule("D2").law_for(D("2021-02-28")) is None
    assert rule("C4").cadence_text().startswith("kvartalsvis")


# --- the CLI: ``rules list`` and ``rules explain`` as a handläggare runs them ------------------


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="barnflow")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_rules_list_shows_quarterly_c4_and_every_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run(["rules", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    c4 = next(line for line in out if line.startswith("C4 "))
    assert "kvartalsvis" in c4 and "årligen" not in c4
    d4 = out.index(next(line for line in out if line.startswith("D4 ")))
    assert "2 år, därefter årligen" in out[d4]
    versions = out[d4 + 1]
    assert versions.lstrip().startswith("lydelser:")
    for part in (
        "från 2003-07-01 SoL 2001:453 6 kap. 8 § andra st. (SFS 2003:407): 3 år, en gång",
        "från 2021-03-01 SoL 2001:453 6 kap. 8 § andra st. (SFS 2020:1260): 3 år, därefter",
        "från 2022-07-01 SoL 2001:453 6 kap. 8 b § (SFS 2022:665): 2 år, därefter årligen",
        "från 2025-07-01 SoL 2025:400 22 kap. 14 §",
    ):
        assert part in versions


def test_rules_explain_prints_the_arithmetic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One file with a 2020 familjehem placement, a 2026-01-08 förhandsbedömning with a
    request, an ej verkställt beslut across 2025-07-01 and an uppföljning under the old SoL."""
    cases = {
        "T-D": familjehem("2020-06-30"),
        "T-A": a3_after_decision("2026-01-08"),
        "T-C": unverkstalld("2025-03-29"),
        "T-F": closed_without_insats("2025-06-30"),
    }
    path = tmp_path / "events.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({**e.to_json(), "case_ref": ref}, ensure_ascii=False)
            for ref, evs in cases.items()
            for e in evs
        )
        + "\n",
        encoding="utf-8",
    )
    argv = ["rules", "explain", str(path), "--as-of", "2026-01-20", "--format", "json"]
    assert _run(argv) == 0
    rows = {(r["case_ref"], r["key"]): r for r in json.loads(capsys.readouterr().out)}
    assert rows[("T-D", "D4:b1:2")]["computation"].startswith("2020-06-30 + 3 år = 2023-06-30;")
    assert rows[("T-D", "D4:b1:2")]["paragraph"] == OLD_3Y
    assert rows[("T-D", "D2:b1")]["computation"].startswith(
        "2020-06-30 + 2 år = 2022-06-30; skyldigheten gäller från 2021-03-01"
    )
    a3 = rows[("T-A", "A3:a1")]
    assert (a3["trigger_date"], a3["due"]) == ("2026-01-15", "2026-01-15")
    assert a3["computation"].startswith("2026-01-08 + 1 vecka = 2026-01-15")
    c4 = rows[("T-C", "C4:b1:2025Q3")]
    assert c4["computation"].startswith(
        "2025-07-01 + IVO:s rapportfönster för 2025Q3 (1/10-31/10) = 2025-10-31"
    )
    assert rows[("T-F", "F1:f1")]["computation"].startswith("2025-06-30 + 2 månader = 2025-08-30")


# --- runs recorded before the transitions were exact keep their frister --------------------


def _shape(frister: list[Frist]) -> list[tuple[object, ...]]:
    return [(f.key, f.trigger_date, f.due, f.status, f.fulfilled_date) for f in frister]


def test_a_run_recorded_before_keeps_its_timers() -> None:
    """``transitions=False`` (a workflow replaying a history from before issue #14,
    ``LAW_TRANSITIONS_PATCH``): a 2020 placement keeps its two-year D4 and its D2 counted from the
    verkställighet, and no A3 arises for a decision before 2026-01-15 or for a pending utredning,
    so the replay arms the same timers and raises the same alerts."""
    old = by_key(compute_frister(familjehem("2020-06-30"), AS_OF_2026, transitions=False))
    assert (old["D4:b1:1"].trigger_date, old["D4:b1:1"].due) == (D("2020-06-30"), D("2022-06-30"))
    assert (old["D4:b1:2"].trigger_date, old["D4:b1:2"].due) == (D("2022-06-30"), D("2023-06-30"))
    assert (old["D2:b1"].trigger_date, old["D2:b1"].due) == (D("2020-06-30"), D("2022-06-30"))
    assert "D2:b1" in by_key(compute_frister(familjehem("2018-06-01"), transitions=False))
    for events in (a3_after_decision("2026-01-08"), a3_during_utredning("2026-01-20")):
        assert not [f for f in compute_frister(events, transitions=False) if f.rule == "A3"]


@pytest.mark.parametrize(
    "events",
    [
        familjehem(
            "2023-03-01", ev("vardnadsoverflyttning_overvagd", "2025-02-01", beslut_id="b1")
        ),
        lvu_familjehem("2025-01-01"),
        a3_after_decision("2026-01-15"),
        unverkstalld("2025-03-29"),
        closed_without_insats("2025-06-30"),
    ],
    ids=["D4 2023", "E9 2025", "A3 2026-01-15", "C4", "F1"],
)
def test_both_engines_agree_where_no_transition_applies(events: list[CaseEvent]) -> None:
    for as_of in (None, D("2026-06-30"), D("2028-01-01")):
        assert _shape(compute_frister(events, as_of)) == _shape(
            compute_frister(events, as_of, transitions=False)
        )
