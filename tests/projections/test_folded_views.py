"""The five reports that folded cases' events at read time now read rows folded when the
events arrived (``projections.folded``; docs/operations.md "Rebuild"): ``placerade-barn``,
``placeringskostnader``, ``kontinuitet``, ``aktualiseringar`` and ``arsstatistik``. They give
exactly what the read-time folds gave (``tests/projections/report_time.py``, the code as it
was) for every period around the golden scenarios' and the demo's events, after the incremental
runner and after a rebuild, and decrypt nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from psycopg import sql

from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore
from projections import arsstatistik, extracts, placed, placeringar
from projections import view as view_module
from projections.periods import Period, parse_period
from projections.reports import REPORTS
from projections.runner import caught_up, rebuild
from projections.tables import (
    AKTUALISERINGAR,
    ALL_TABLES,
    ARSSTATISTIK_POSTER,
    KONTINUITET,
    PLACERINGAR,
)
from projections.view import ReportsView, open_view
from tests.golden.test_golden import LOADED_AT
from tests.projections import report_time
from tests.projections.test_reports import _demo

GOLDEN = Path(__file__).parents[1] / "golden"
SCENARIOS = ("placed", "placeringar", "extracts", "arsstatistik", "arsstatistik_fel", "evb")
FOLDED = ("placerade-barn", "placeringskostnader", "kontinuitet", "aktualiseringar", "arsstatistik")


def _load(store: CaseStore, scenario: str) -> None:
    if scenario == "demo":
        _demo(store)
        return
    lines = (GOLDEN / f"{scenario}.jsonl").read_text(encoding="utf-8").splitlines()
    assert import_lines(store, lines, now=LOADED_AT).appended == len(lines)


def _days(view: ReportsView) -> tuple[list[str], list[date]]:
    """The kommuner of the views and every legal day with an event, with the day before."""
    with view.cursor() as curs:
        curs.execute(
            sql.SQL("SELECT kommun, events FROM {}.{}").format(
                sql.Identifier(view.schema), sql.Identifier("report_cases")
            )
        )
        rows = curs.fetchall()
    kommuner = sorted({str(r["kommun"]) for r in rows})
    days: set[date] = set()
    for r in rows:
        for env in orjson.loads(view.unseal(r["events"])):
            day = date.fromisoformat(env["occurred_at"][:10])
            days |= {day - timedelta(days=1), day, day + timedelta(days=1)}
    return kommuner, sorted(days)


def _periods(days: list[date]) -> Iterator[tuple[str, Period]]:
    years = range(days[0].year, days[-1].year + 2)
    for y in years:
        yield "year", parse_period("year", str(y))
        for q in range(1, 5):
            yield "quarter", parse_period("quarter", f"{y}Q{q}")
    for day in days:
        yield "as_of", parse_period("as_of", day.isoformat())


Builder = Callable[..., dict[str, Any]]


def _pairs(
    view: ReportsView, monkeypatch: pytest.MonkeyPatch
) -> dict[str, tuple[Builder, Builder]]:
    """report → (its builder now, the read-time fold it replaced)."""

    def old_placements(curs: Any, schema: str, kommun: str, p: Period | None = None) -> Any:
        return report_time.kommun_placements(curs, schema, kommun, view.unseal)

    def with_old(module: Any, name: str, old: Any, build: Builder) -> Builder:
        def run(*args: Any) -> dict[str, Any]:
            with monkeypatch.context() as m:
                m.setattr(module, name, old)
                return build(*args)

        return run

    return {
        "placerade-barn": (
            placeringar.placerade_barn,
            with_old(placeringar, "kommun_placements", old_placements, placeringar.placerade_barn),
        ),
        "placeringskostnader": (
            placeringar.placeringskostnader,
            with_old(
                placeringar, "kommun_placements", old_placements, placeringar.placeringskostnader
            ),
        ),
        "kontinuitet": (placed.kontinuitet, report_time.kontinuitet),
        "aktualiseringar": (extracts.aktualiseringar, report_time.aktualiseringar),
        "arsstatistik": (
            arsstatistik.arsstatistik,
            with_old(
                arsstatistik, "year_records", report_time.year_records, arsstatistik.arsstatistik
            ),
        ),
    }


#: The period kinds each report is compared over (``aktualiseringar`` folds any period).
KINDS = {
    "placerade-barn": ("quarter", "year"),
    "placeringskostnader": ("quarter", "year"),
    "kontinuitet": ("as_of",),
    "aktualiseringar": ("year", "quarter"),
    "arsstatistik": ("year",),
}


def _compare(view: ReportsView, monkeypatch: pytest.MonkeyPatch) -> int:
    kommuner, days = _days(view)
    pairs = _pairs(view, monkeypatch)
    compared = 0
    with view.cursor() as curs:
        for kind, period in _periods(days):
            for name, (new, old) in pairs.items():
                if kind not in KINDS[name]:
                    continue
                if name == "arsstatistik" and period.start.year < 2025:
                    continue  # no rule set before 2025
                for k in kommuner:
                    args = (curs, view.schema, k, period, view.unseal)
                    got, want = new(*args), old(*args)
                    assert got == want, (name, k, period)
                    compared += isinstance(got, dict) and bool(got.get("rows"))
    return compared


@pytest.mark.parametrize("scenario", [*SCENARIOS, "demo"])
def test_folded_reports_give_what_the_read_time_folds_gave(
    store: CaseStore, scenario: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load(store, scenario)
    env = dict(store.env)
    with caught_up(env) as runner:
        assert _compare(runner.view, monkeypatch) > 0  # some periods have rows
    rebuild(env)
    with caught_up(env) as runner:
        _compare(runner.view, monkeypatch)


@pytest.mark.parametrize("scenario", ["placed", "placeringar", "extracts", "arsstatistik"])
def test_folded_reports_decrypt_nothing(store: CaseStore, scenario: str) -> None:
    """Each of the five reads only its view's rows in the clear (ids, codes, dates): not one
    case's sealed events is decrypted, where each decrypted every case that could give a row."""
    _load(store, scenario)
    with caught_up(dict(store.env)) as runner:
        view = runner.view
        opened: list[int] = []
        real = view.unseal

        def counting(sealed: bytes) -> bytes:
            opened.append(1)
            return real(sealed)

        view.unseal = counting  # type: ignore[method-assign]
        periods = {"as_of": "2026-11-01", "quarter": "2026Q2", "year": "2026"}
        rows = 0
        for name in FOLDED:
            spec = REPORTS[name]
            doc = spec.build(view, "1280", parse_period(spec.period, periods[spec.period]))
            rows += len(doc["rows"])
        assert rows > 0
        assert opened == []


def test_views_of_a_release_without_them_are_backfilled_from_the_cached_events(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release before these views has ``report_cases`` but not them: the first process that
    opens its views creates and fills them from the cases' cached events (``_backfill``, a few
    cases at a time: one here), with exactly the rows the runner wrote, and keeps the other
    views as they are."""
    monkeypatch.setattr(view_module, "BACKFILL_CHUNK", 1)
    _load(store, "placed")
    env = dict(store.env)
    new = (PLACERINGAR, ARSSTATISTIK_POSTER, AKTUALISERINGAR, KONTINUITET)

    def dump(view: ReportsView) -> dict[str, list[str]]:
        with view.cursor() as curs:
            out = {}
            for t in ALL_TABLES:
                curs.execute(
                    sql.SQL("SELECT t::text AS r FROM {}.{} t ORDER BY 1").format(
                        sql.Identifier(view.schema), sql.Identifier(t.name)
                    )
                )
                out[t.name] = [r["r"] for r in curs.fetchall()]
            return out

    with caught_up(env) as runner:
        written = dump(runner.view)
        with runner.view.cursor(commit=True) as curs:
            for t in new:
                curs.execute(
                    sql.SQL("DROP TABLE {}.{}").format(
                        sql.Identifier(runner.view.schema), sql.Identifier(t.name)
                    )
                )
    assert all(written[t.name] for t in new)
    view = open_view(env)
    try:
        assert dump(view) == written
    finally:
        view.datastore.close()


def test_a_backfill_that_fails_is_done_by_the_next_process_to_open_the_views(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new views are created with a mark that only the backfill's own commit clears: a
    backfill that fails (here: the fold raises on the second chunk) leaves them empty *and*
    marked, and the next process that opens the views fills them, instead of reports reading
    empty tables for ever."""
    monkeypatch.setattr(view_module, "BACKFILL_CHUNK", 1)
    _load(store, "placed")
    env = dict(store.env)
    with caught_up(env) as runner:
        with runner.view.cursor() as curs:
            curs.execute(
                sql.SQL("SELECT count(*) AS n FROM {}.{}").format(
                    sql.Identifier(runner.view.schema), sql.Identifier(PLACERINGAR.name)
                )
            )
            written = curs.fetchone()
        with runner.view.cursor(commit=True) as curs:
            curs.execute(
                sql.SQL("DROP TABLE {}.{}").format(
                    sql.Identifier(runner.view.schema), sql.Identifier(PLACERINGAR.name)
                )
            )
    assert written is not None and written["n"] > 0
    real = view_module.encode_cases
    calls = 0

    def failing(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("killed mid-backfill")
        return real(*args, **kwargs)

    monkeypatch.setattr(view_module, "encode_cases", failing)
    with pytest.raises(RuntimeError, match="killed mid-backfill"):
        open_view(env)
    monkeypatch.setattr(view_module, "encode_cases", real)
    view = open_view(env)
    try:
        with view.cursor() as curs:
            curs.execute(
                sql.SQL("SELECT count(*) AS n FROM {}.{}").format(
                    sql.Identifier(view.schema), sql.Identifier(PLACERINGAR.name)
                )
            )
            assert curs.fetchone() == written
        assert view.added_views == ()
    finally:
        view.datastore.close()


def test_kontinuitet_of_a_placement_verkstalld_that_day_has_no_rate_per_year(
    store: CaseStore,
) -> None:
    """POL-KONTINUITET-KORT: PL-1's placement was verkställd on 2026-01-25; as of that day its
    placement years round to 0.00, and the report answers (``byten_per_ar`` None) instead of
    failing with a division by zero, as it did for every as-of date of a placement's first two
    days."""
    _load(store, "placed")
    spec = REPORTS["kontinuitet"]
    with caught_up(dict(store.env)) as runner:
        first = spec.build(runner.view, "1280", parse_period("as_of", "2026-01-25"))
        later = spec.build(runner.view, "1280", parse_period("as_of", "2026-03-01"))
    row = next(r for r in first["rows"] if r["case_ref"] == "PL-1")
    assert (row["placerad"], row["placeringsar"], row["byten_per_ar"]) == ("2026-01-25", 0.0, None)
    assert next(r for r in later["rows"] if r["case_ref"] == "PL-1")["byten_per_ar"] is not None
