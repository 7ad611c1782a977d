"""Random command sequences against the case guards and the deadline engine.

Each generated sequence is what a confused or hostile calling system might send for one case:
mostly well-shaped events of every type, referring to a small pool of ids, in roughly increasing
time with jumps back and into the future. Every event is judged by ``CaseState.check`` like the
aggregate and the workflow validator do; accepted ones are applied. Properties: nothing but a
``RuleViolation`` (or an ``EventValidationError`` at parse time) ever escapes; the accepted
history folds to the same state; ``compute_frister`` never raises on it and gives the same answer
whatever the input order.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time, timedelta
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from domain.calendar import STOCKHOLM
from domain.case import CaseState, fold
from domain.errors import EventValidationError, RuleViolation
from domain.events import EVENT_TYPES, CaseEvent, FieldSpec, parse_event
from domain.frister import compute_frister
from domain.placement import PLACEMENT_READS, PLACEMENT_STARTS, placements
from domain.returns.collect import RECORD_READS, RECORD_STARTS, case_records
from projections.folded import kontinuitet_facts, kontinuitet_versions, legal_order
from tests.factories import PNR_GIRL
from tests.fuzz.profile import fuzz_settings

TODAY = date(2026, 7, 1)
START = date(2024, 1, 1)
ID_POOLS = {
    "anmalan_id": ["a1", "a2", "a3"],
    "ansokan_id": ["s1", "s2"],
    "utredning_id": ["u1", "u2"],
    "fortsatter_utredning_id": ["u1", "u2"],
    "beslut_id": ["b1", "b2", "b3"],
    "uppfoljning_id": ["f1"],
    "klagomal_id": ["k1", "k2"],
}
FREE_TEXT = {
    "lagrum": ["SoL 4:1", "SoL 10:1", "LVU 6 §", "LVU 2"],
    "beslutstyp": ["insats", "bistand", "avslag", "omedelbart_omhandertagande"],
    "grund": ["utredning_utan_insats", "placering_upphort", "lvu_upphort", "annat"],
    "utfall": ["bifall", "avslag", "vard_enligt_lvu"],
    "kvartal": ["2025-Q1", "2025Q3", "2026-Q2", "Q5"],
    "frist": ["A2:a1", "B1:u1"],
    "regel": ["A2", "B1", "C2"],
    "till_kommun": ["0127", "1280"],
}
SCRIPT_BARN = {"personnummer": PNR_GIRL, "kon": "flicka"}
#: Common process steps appear more often than rare ones, so sequences get deep.
COMMON = [
    "anmalan_mottagen",
    "skyddsbedomning_gjord",
    "forhandsbedomning_beslutad",
    "utredning_inledd",
    "utredning_avslutad",
    "beslut_fattat",
    "insats_verkstalld",
]
TYPES = st.one_of(st.sampled_from(COMMON), st.sampled_from(sorted(EVENT_TYPES)))


def _field(name: str, spec: FieldSpec) -> st.SearchStrategy[Any]:
    if spec.choices:
        return st.sampled_from(spec.choices)
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "date":
        near = st.dates(START, TODAY + timedelta(days=400))
        return st.one_of(near, near, near, st.dates()).map(date.isoformat)
    if spec.kind == "number":
        return st.integers(0, 9000)
    if spec.kind == "barn":
        return st.sampled_from(
            [
                {"personnummer": PNR_GIRL, "kon": "flicka"},
                {"personnummer": PNR_GIRL, "kon": "okant"},
            ]
        )
    if spec.kind == "delegat":
        roles = ["socialsekreterare", "sektionschef", "ordforande", "nämnd"]
        return st.builds(lambda r: {"id": "d1", "roll": r}, st.sampled_from(roles))
    pool = ID_POOLS.get(name) or FREE_TEXT.get(name) or ["x", "y"]
    return st.sampled_from(pool)


@st.composite
def event_data(draw: st.DrawFn, etype: str) -> dict[str, Any]:
    data = {}
    for name, spec in EVENT_TYPES[etype].items():
        if spec.required or draw(st.booleans()):
            data[name] = draw(_field(name, spec))
    return data


#: A whole case's life; generated histories follow it loosely (steps dropped, swapped, inserted).
SCRIPT: list[tuple[str, dict[str, Any]]] = [
    ("anmalan_mottagen", {"anmalan_id": "a1", "anmalare_kategori": "skola"}),
    ("skyddsbedomning_gjord", {"anmalan_id": "a1", "omedelbart_skydd": False}),
    ("forhandsbedomning_beslutad", {"anmalan_id": "a1", "beslut": "inleda_utredning"}),
    ("utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "a1"}),
    ("anmalan_mottagen", {"anmalan_id": "a2", "anmalare_kategori": "polis"}),
    ("utredning_forlangd", {"utredning_id": "u1", "ny_slutdag": "", "skal": "x"}),
    ("barnet_hort", {"moment": "utredning", "satt": "samtal", "utredning_id": "u1"}),
    ("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}),
    (
        "beslut_fattat",
        {
            "beslut_id": "b1",
            "lagrum": "SoL 4:1",
            "beslutstyp": "insats",
            "insats": "familjehem",
            "gynnande": True,
            "delegat": {"id": "d1", "roll": "sektionschef"},
        },
    ),
    (
        "beslut_fattat",
        {
            "beslut_id": "b2",
            "lagrum": "SoL 4:1",
            "beslutstyp": "insats",
            "insats": "oppenvard",
            "gynnande": True,
            "delegat": {"id": "d1", "roll": "socialsekreterare"},
        },
    ),
    ("insats_verkstalld", {"beslut_id": "b1"}),
    ("vardplan_upprattad", {"beslut_id": "b1"}),
    ("verkstallighet_avbruten", {"beslut_id": "b1", "skal": "x"}),
    ("evb_skal_angivet", {"beslut_id": "b2", "skal": "kö"}),
    ("verkstallighet_aterupptagen", {"beslut_id": "b1"}),
    ("overvagande_genomfort", {"beslut_id": "b1", "slutsats": "fortsatt"}),
    ("insats_verkstalld", {"beslut_id": "b2"}),
    ("beslut_avslutat", {"beslut_id": "b1", "orsak": "hemflytt"}),
    ("beslut_avslutat", {"beslut_id": "b2", "orsak": "klar"}),
    ("uppfoljning_inledd", {"grund": "placering_upphort"}),
    ("uppfoljning_avslutad", {}),
    ("arende_avslutat", {"orsak": "klart"}),
]


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One case's lines, loosely following ``SCRIPT``; days mostly forward, sometimes not."""
    day = draw(st.dates(START, date(2025, 6, 30)))
    steps: list[tuple[str, dict[str, Any]]] = []
    for etype, data in SCRIPT:
        action = draw(st.sampled_from(["keep"] * 6 + ["skip", "random", "insert", "mutate"]))
        if action in ("random", "insert"):
            other = draw(TYPES)
            steps.append((other, draw(event_data(other))))
        if action in ("keep", "insert"):
            steps.append((etype, dict(data)))
        if action == "mutate":
            steps.append((etype, {**data, **draw(event_data(etype))}))
    lines = []
    for i, (etype, data) in enumerate(steps):
        day += timedelta(days=draw(st.sampled_from([0, 0, 1, 2, 5, 10, 20, 40, -3, 150])))
        if etype in ("anmalan_mottagen", "ansokan_mottagen", "identitet_uppdaterad"):
            data.setdefault("barn", {"personnummer": PNR_GIRL, "kon": "flicka"})
        if data.get("ny_slutdag") == "":
            data["ny_slutdag"] = (day + timedelta(days=draw(st.integers(-10, 200)))).isoformat()
        moment = datetime.combine(day, time(draw(st.integers(0, 23)), 30), tzinfo=STOCKHOLM)
        lines.append(
            {
                "kommun": draw(st.sampled_from(["1280"] * 19 + ["0127"])),
                "case_ref": draw(st.sampled_from(["VS-1"] * 19 + ["VS-2"])),
                "type": etype,
                "occurred_at": moment.isoformat(),
                "actor": {"id": "u1", "roll": "socialsekreterare"},
                "idempotency_key": f"k-{i}",
                "data": data,
            }
        )
    return lines


def _run(lines: list[dict[str, Any]]) -> tuple[CaseState, list[CaseEvent], set[str]]:
    state, accepted, rules = CaseState(), [], set()
    for line in lines:
        try:
            ev = parse_event(line, allow_system=True)
        except EventValidationError:
            continue
        try:
            state.check(ev, TODAY)
        except RuleViolation as exc:
            rules.add(exc.rule)
            continue
        state.apply(ev)
        accepted.append(ev)
    return state, accepted, rules


@fuzz_settings(400)
@given(histories())
def test_random_commands_are_accepted_or_refused_by_a_named_rule(
    lines: list[dict[str, Any]],
) -> None:
    state, accepted, rules = _run(lines)
    assert all(r for r in rules)  # every refusal names its rule
    assert fold(accepted) == state
    assert state.event_count == len(accepted)


def _example_line(i: int, etype: str, day: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "kommun": "1280",
        "case_ref": "VS-1",
        "type": etype,
        "occurred_at": f"{day}T10:30:00+01:00",
        "actor": {"id": "u1", "roll": "socialsekreterare"},
        "idempotency_key": f"k-{i}",
        "data": data,
    }


#: Found by this test: the next yearly D4 cycle (from the two-year anniversary) was shown as of a
#: date before that anniversary, in a case with an övervägande after its beslut was closed.
D4_AFTER_AS_OF = [
    _example_line(i, etype, day, data)
    for i, (etype, day, data) in enumerate(
        [
            ("anmalan_mottagen", "2022-01-03", dict(SCRIPT[0][1], barn=SCRIPT_BARN)),
            ("skyddsbedomning_gjord", "2022-01-03", SCRIPT[1][1]),
            ("forhandsbedomning_beslutad", "2022-01-04", SCRIPT[2][1]),
            ("utredning_inledd", "2022-01-04", SCRIPT[3][1]),
            ("utredning_avslutad", "2022-01-28", SCRIPT[7][1]),
            ("beslut_fattat", "2022-02-01", SCRIPT[8][1]),
            ("insats_verkstalld", "2022-03-01", {"beslut_id": "b1"}),
            ("vardnadsoverflyttning_overvagd", "2023-06-01", {"beslut_id": "b1"}),
            ("beslut_avslutat", "2024-02-01", {"beslut_id": "b1", "orsak": "hemflytt"}),
            ("vardnadsoverflyttning_overvagd", "2024-02-10", {"beslut_id": "b1"}),
        ]
    )
]


@fuzz_settings(300)
@given(histories(), st.dates(START, TODAY))
@example(D4_AFTER_AS_OF, date(2024, 1, 1))
def test_compute_frister_never_raises_on_an_accepted_history(
    lines: list[dict[str, Any]], as_of: date
) -> None:
    _, accepted, _ = _run(lines)
    frister = compute_frister(accepted)
    assert compute_frister(list(reversed(accepted))) == frister
    assert len({f.key for f in frister}) == len(frister)
    for f in frister:
        assert f.original_due >= f.trigger_date
    past = compute_frister(accepted, as_of)
    assert all(f.trigger_date <= as_of for f in past)


EXTREME_TIMES = st.builds(
    lambda d, h, off: f"{d.isoformat()}T{h:02d}:30:00{off}",
    st.one_of(
        st.dates(),
        st.dates(date(1, 1, 1), date(1, 1, 3)),
        st.dates(date(9999, 12, 29)),
        st.dates(date(1899, 12, 30), date(1900, 1, 2)),
        st.dates(date(2199, 12, 1), date(2201, 1, 2)),
    ),
    st.integers(0, 23),
    st.sampled_from(["+23:59", "-23:59", "+01:00", "Z"]),
)


@fuzz_settings(300)
@given(EXTREME_TIMES, st.sampled_from(["anmalan_mottagen", "ansokan_mottagen"]))
def test_any_timestamp_is_accepted_or_refused_never_a_crash(when: str, etype: str) -> None:
    """Found by this suite: year 1 / 9999 with a large offset has no Stockholm date."""
    data: dict[str, Any] = {"barn": {"personnummer": PNR_GIRL, "kon": "flicka"}}
    data.update(
        {"anmalan_id": "a1", "anmalare_kategori": "skola"}
        if etype == "anmalan_mottagen"
        else {"ansokan_id": "s1", "sokande": "vh"}
    )
    line = {
        "kommun": "1280",
        "case_ref": "VS-1",
        "type": etype,
        "occurred_at": when,
        "actor": {"id": "u1", "roll": "socialsekreterare"},
        "idempotency_key": "k-1",
        "data": data,
    }
    try:
        ev = parse_event(line)
    except EventValidationError as exc:
        assert exc.field == "occurred_at"
        return
    with contextlib.suppress(RuleViolation):
        CaseState().check(ev, TODAY)
    compute_frister([ev])  # the `rules explain` path computes without the guards


@fuzz_settings(300)
@given(histories())
def test_placements_read_only_their_event_types(lines: list[dict[str, Any]]) -> None:
    """The placement reports build events of ``PLACEMENT_READS`` only and read only the cases
    with a ``PLACEMENT_STARTS`` event: on any accepted history, the placements are the same
    as from every event, and there are none without such an event."""
    _, accepted, _ = _run(lines)
    found = placements(accepted)
    assert placements([e for e in accepted if e.type in PLACEMENT_READS]) == found
    if not any(e.type in PLACEMENT_STARTS for e in accepted):
        assert found == []


@fuzz_settings(300)
@given(histories())
def test_year_records_read_only_their_event_types(lines: list[dict[str, Any]]) -> None:
    """``arsstatistik`` builds events of ``RECORD_READS`` only and reads only the cases with a
    ``RECORD_STARTS`` event (``projections.arsstatistik.year_records``): on any accepted
    history, each year's records are the same as from every event, and there are none without
    such an event."""
    _, accepted, _ = _run(lines)
    for year in (TODAY.year - 1, TODAY.year):
        found = case_records(accepted, year=year, case_id="c1")
        kept = [e for e in accepted if e.type in RECORD_READS]
        assert case_records(kept, year=year, case_id="c1") == found
        if not any(e.type in RECORD_STARTS for e in accepted):
            assert found == []


@fuzz_settings(300)
@given(histories())
def test_kontinuitet_versions_are_the_fold_of_the_events_known_on_each_day(
    lines: list[dict[str, Any]],
) -> None:
    """The ``kontinuitet`` view's versions (``projections.folded.kontinuitet_versions``, one
    pass) are, on every event's day, the day before and the day after, exactly what folding the
    events legally known by that day gives (the report's old read-time fold)."""
    _, accepted, _ = _run(lines)
    items = legal_order(accepted)
    versions = kontinuitet_versions(items)
    days = sorted({d + timedelta(days=n) for d, _, _ in items for n in (-1, 0, 1)})
    for day in days:
        held = sorted(
            (f for since, until, f in versions if since <= day and (until is None or day < until)),
            key=lambda f: f.beslut_id,
        )
        want = kontinuitet_facts(i for i in items if i[0] <= day)
        if any(t == "insats_verkstalld" for _, t, _ in items):
            assert held == want, day
        else:
            assert held == [] and want == [], day
