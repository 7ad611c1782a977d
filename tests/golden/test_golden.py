"""Golden scenarios: event lines (docs/domain.md §4) in, the canonical report bytes out.

Each ``<scenario>.jsonl`` is loaded store-only through ``infra.persistence.importer.import_lines``
(as an
auditor would with ``barnflow import --no-workflows``), the views are brought up to date, and every
report listed in ``GOLDEN`` must equal ``<scenario>/<report>@<period>.json`` byte for byte; then
every view is rebuilt from the record and the bytes must still be equal.

The expected files were checked by hand against docs/domain.md §5 and docs/law.md (see the comments
in the scenarios and docs/reports.md). To regenerate after an intended change, run

    BARNFLOW_UPDATE_GOLDEN=1 .venv/bin/pytest tests/golden -q

and read the diff before committing it: a golden file is a claim about the law, not a snapshot.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from pathlib import Path

import pytest

from domain.calendar import STOCKHOLM
from domain.rules import KommunPolicy
from infra.config.kommun import load_kommun_file
from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore
from projections.periods import parse_period
from projections.reports import REPORTS, ReportOptions, dumps
from projections.runner import caught_up, rebuild
from projections.view import ReportsView
from tests.kommun_configs import configured_store

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
KOMMUN = "1280"
#: Scenarios of another kommun, loaded (and their views computed) with that kommun's
#: configuration file in force: its titles, its ordningar over time and its sammanträden.
CONFIGURED = {"delegation": ("0127", ROOT / "config" / "kommun.0127.sample.toml")}
#: When the auditor loads the files: after every event in them (none is in the future).
LOADED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=STOCKHOLM)
#: Scenarios whose events reach past LOADED_AT (the LVU -> lag 2026:1600 switch of 2027-01-01).
LOADED_AT_BY_SCENARIO = {"lvu2027": datetime(2027, 8, 1, 12, 0, tzinfo=STOCKHOLM)}
UPDATE = os.environ.get("BARNFLOW_UPDATE_GOLDEN") == "1"

#: scenario → the (report, period) pairs whose expected JSON is committed.
GOLDEN: dict[str, tuple[tuple[str, str], ...]] = {
    "evb": (
        ("evb", "2025Q3"),
        ("evb", "2025Q4"),
        ("evb", "2026Q1"),
        ("evb", "2026Q2"),
        ("evb", "2026Q3"),
        #: IVO's individrapport (issue 17 item 3), hand-checked in evb_snapshot.md
        ("individrapport", "2026Q2"),
        ("kf-statistik", "2026Q1"),
        ("kf-statistik", "2026Q2"),
        ("verkstallighetstider", "2026Q1"),
    ),
    "utredningar": (
        ("utredningstider", "2026H1"),
        ("barnets-rost", "2026H1"),
        ("delegationsbeslut", "2026-04"),
    ),
    "frister": (
        ("frister", "2025-09-30"),
        ("frister", "2026-02-10"),
        ("frister", "2026-06-30"),
    ),
    #: decisions judged by the ordning of their own era, imported (not refused) when they break
    #: it; the list for each sammanträde; ordförandebeslut due at the next one
    "delegation": (
        ("delegationsbeslut", "2025-05"),
        ("delegationsbeslut", "2026-08"),
        ("delegationsbeslut", "2026-09"),
        ("utan-delegation", "2026-11-01"),
        ("frister", "2026-10-01"),
    ),
    #: appeals pending on four dates: at the court, late forwarding, inhibition, an avvisning
    #: ahead, a dom to carry out (overklaganden.md)
    "overklaganden": (
        ("overklaganden", "2026-03-31"),
        ("overklaganden", "2026-06-30"),
        ("overklaganden", "2026-09-01"),
        ("overklaganden", "2026-10-31"),
    ),
    #: the placed child (issue #15 B): avvikningar in 2026 (one began in 2025, one still open)
    #: and the changes of socialsekreterare per placement year (placed.md)
    "placed": (
        ("avvikningar", "2026"),
        ("kontinuitet", "2026-11-01"),
    ),
    #: four placements: an omplacering, an open HVB, a jourhem overlapping the familjehem that
    #: follows it (double cost), a stödboende at 16 (placeringar.md)
    "placeringar": (
        ("placerade-barn", "2026Q2"),
        ("placerade-barn", "2026Q3"),
        ("placeringskostnader", "2026Q2"),
        ("placeringskostnader", "2026Q3"),
    ),
    #: national follow-up extracts (issue #17 item 2): aktualiseringar by kind, förhandsbedömning,
    #: kön, age band and anmälare; closed utredningar by outcome with lengths (extracts.md)
    "extracts": (
        ("aktualiseringar", "2025"),
        ("aktualiseringar", "2026"),
        ("avslutade-utredningar", "2026"),
    ),
    #: barnchecklista (issue #17 item 4): heard in the utredning, by the beslut's id, after the
    #: half-year; told to the child, to a vårdnadshavare, without a part; an LVU beslut
    #: (barncheck.md)
    "barncheck": (("barnchecklista", "2026H1"),),
    #: Socialstyrelsen's yearly return (issue #17 item 1): SoL placements over two years with
    #: omplaceringar, LVU placements resting on an omhändertagande and a dom, a temporary id, a
    #: samordningsnummer; 2025 pinned by its own rule set (arsstatistik.md)
    "arsstatistik": (("arsstatistik", "2025"), ("arsstatistik", "2026")),
    #: the validator's findings on planted errors (arsstatistik.md, "arsstatistik_fel")
    "arsstatistik_fel": (("arsstatistik", "2026"),),
    #: LVU frister before 2027-01-01, both acts side by side after it (docs/law-2027.md)
    "lvu2027": (
        ("frister", "2026-12-20"),
        ("frister", "2027-01-10"),
        ("frister", "2027-03-15"),
    ),
    #: complaints and lex Sarah as flows of their own (issue #17 item 4): answered in time, late,
    #: on the last day, overdue and open at the year's end; a rapport reported to IVO late, one
    #: not allvarligt, one overdue for IVO, one open (kvalitet.md)
    "kvalitet": (("klagomal", "2025"), ("lex-sarah", "2025")),
}
#: Scenarios of complaints' and lex Sarah lines (``domain.kvalitet``), recorded in their own
#: store (``infra.persistence.kvalitet``) rather than imported as case lines.
KVALITET_SCENARIOS = frozenset({"kvalitet"})


#: Options per (scenario, report): local verkställighet targets (docs/domain.md §5.5), one kommun.
OPTIONS = {
    ("evb", "verkstallighetstider"): ReportOptions(
        policy=KommunPolicy(
            kommun=KOMMUN, verkstallighet_mal_dagar={"hvb": 90, "kontaktperson": 30}
        )
    ),
}


def _expected_path(scenario: str, report: str, period: str) -> Path:
    return HERE / scenario / f"{report}@{period}.json"


def _reports(view: ReportsView, scenario: str) -> dict[Path, bytes]:
    out = {}
    for report, period in GOLDEN[scenario]:
        spec = REPORTS[report]
        doc = spec.build(
            view,
            CONFIGURED[scenario][0] if scenario in CONFIGURED else KOMMUN,
            parse_period(spec.period, period),
            options=OPTIONS.get((scenario, report)),
        )
        out[_expected_path(scenario, report, period)] = dumps(doc) + b"\n"
    return out


def _check(actual: dict[Path, bytes]) -> None:
    if UPDATE:
        for path, data in actual.items():
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
        return
    for path, data in actual.items():
        assert path.exists(), f"{path.name} missing (BARNFLOW_UPDATE_GOLDEN=1 writes it)"
        assert data.decode() == path.read_text(encoding="utf-8"), path.name


def _record_kvalitet(store: CaseStore, lines: list[str]) -> None:
    """Record complaints' and lex Sarah lines as the auditor's clerk would (``barnflow klagomal
    send``), each through its stream's guards, on LOADED_AT."""
    import orjson

    from domain.kvalitet import parse_kvalitet_event
    from infra.persistence.kvalitet import kvalitet_of

    record = kvalitet_of(store)
    for raw in lines:
        _, duplicate = record.record(parse_kvalitet_event(orjson.loads(raw)), now=LOADED_AT)
        assert not duplicate


def test_every_committed_golden_file_is_checked() -> None:
    listed = {_expected_path(s, r, p) for s, pairs in GOLDEN.items() for r, p in pairs}
    on_disk = {p for s in GOLDEN for p in (HERE / s).glob("*.json")}
    assert on_disk == listed
    assert {r for pairs in GOLDEN.values() for r, _ in pairs} == set(REPORTS) - {"access-log"}


@pytest.mark.parametrize("scenario", sorted(GOLDEN))
def test_scenario_reports_match_golden_files_before_and_after_rebuild(
    store: CaseStore, scenario: str
) -> None:
    lines = (HERE / f"{scenario}.jsonl").read_text(encoding="utf-8").splitlines()
    with contextlib.ExitStack() as stack:
        if scenario in CONFIGURED:  # the importing process and the views' writer have it in force
            config = load_kommun_file(CONFIGURED[scenario][1])
            store = stack.enter_context(configured_store(store, config))
        env = dict(store.env)
        if scenario in KVALITET_SCENARIOS:
            _record_kvalitet(store, lines)
            with caught_up(env) as runner:
                recorded = _reports(runner.view, scenario)
            _check(recorded)
            return
        summary = import_lines(store, lines, now=LOADED_AT_BY_SCENARIO.get(scenario, LOADED_AT))
        assert summary.appended == len(lines)
        with caught_up(env) as runner:
            incremental = _reports(runner.view, scenario)
        _check(incremental)
        result = rebuild(env)
        assert result.events == len(lines)
        with caught_up(env) as runner:
            assert _reports(runner.view, scenario) == incremental
