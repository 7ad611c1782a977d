"""Report views against a real PostgreSQL: rebuilds are byte-identical, a runner killed between or
inside batches ends equal to a rebuild, EVB re-reports across quarters, and imports are all or
nothing."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson
import pytest
from psycopg import Cursor
from psycopg.rows import DictRow

from domain.calendar import STOCKHOLM
from domain.events import parse_event
from infra.cli.demo import demo_cases
from infra.persistence.importer import ImportRejected, import_lines
from infra.persistence.store import CaseStore, eventsourcing_env
from projections import arsstatistik
from projections.periods import parse_period
from projections.reports import REPORTS, dumps
from projections.runner import ReportsRunner, caught_up, rebuild
from projections.tables import ALL_TABLES
from projections.view import ReportsView
from tests.conftest import CIPHER_KEY
from tests.factories import PNR_BOY, PNR_GIRL, line
from tests.projections import report_time

TODAY = date(2026, 11, 20)
PERIODS = {
    "as_of": "2026-11-20",
    "quarter": "2026Q3",
    "half": "2026H2",
    "month": "2026-06",
    "year": "2026",
}


@pytest.fixture
def env(pg_url: str, schema: str) -> dict[str, str]:
    return eventsourcing_env(pg_url, schema, CIPHER_KEY)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=STOCKHOLM)


def _evb_case(
    ref: str, pnr: str, kon: str, fattat: date, verkst: date | None
) -> list[dict[str, Any]]:
    k = iter(range(100))

    def ln(day: date, etype: str, data: dict[str, Any]) -> dict[str, Any]:
        return line(etype, data, at=_at(day), key=f"{ref}-{next(k)}", case_ref=ref)

    start = fattat - timedelta(days=100)
    out = [
        ln(
            start,
            "anmalan_mottagen",
            {
                "anmalan_id": "A1",
                "barn": {"personnummer": pnr, "kon": kon},
                "anmalare_kategori": "skola",
            },
        ),
        ln(start, "skyddsbedomning_gjord", {"anmalan_id": "A1", "omedelbart_skydd": False}),
        ln(
            start + timedelta(days=5),
            "forhandsbedomning_beslutad",
            {"anmalan_id": "A1", "beslut": "inleda_utredning"},
        ),
        ln(
            start + timedelta(days=5),
            "utredning_inledd",
            {"utredning_id": "U1", "grund": "anmalan"},
        ),
        ln(fattat, "utredning_avslutad", {"utredning_id": "U1", "utfall": "insats"}),
        ln(
            fattat,
            "beslut_fattat",
            {
                "beslut_id": "B1",
                "lagrum": "SoL 11:1",
                "beslutstyp": "insats",
                "insats": "kontaktperson",
                "gynnande": True,
                "delegat": {"id": "d1", "roll": "sektionschef"},
            },
        ),
        ln(
            fattat + timedelta(days=120),
            "evb_skal_angivet",
            {"beslut_id": "B1", "skal": "ingen kontaktperson", "erbjudet": "stodsamtal"},
        ),
    ]
    if verkst is not None:
        out.append(ln(verkst, "insats_verkstalld", {"beslut_id": "B1"}))
    return out


def _record_all(store: CaseStore, lines: list[dict[str, Any]]) -> None:
    for ln in lines:
        store.record(parse_event(ln), now=_at(TODAY))


def _demo(store: CaseStore) -> None:
    for c in demo_cases(TODAY):
        _record_all(store, c.history)
    _record_all(store, _evb_case("EVB-1", PNR_GIRL, "flicka", date(2026, 2, 10), date(2026, 9, 1)))
    _record_all(store, _evb_case("EVB-2", PNR_BOY, "pojke", date(2026, 3, 2), None))


def _all_reports(runner: ReportsRunner) -> dict[str, bytes]:
    return {
        f"{k}/{name}": dumps(
            spec.build(runner.view, k, parse_period(spec.period, PERIODS[spec.period]))
        )
        for k in ("1280", "0127")
        for name, spec in REPORTS.items()
    }


def _tables(runner: ReportsRunner) -> dict[str, list[Any]]:
    return view_rows(runner.view)


def view_rows(view: ReportsView) -> dict[str, list[Any]]:
    """Every view row, sealed columns decrypted (ciphertexts differ per write: fresh nonces)."""
    with view.cursor() as curs:
        return rows_read(view, curs)


def rows_read(view: ReportsView, curs: Cursor[DictRow]) -> dict[str, list[Any]]:
    """``view_rows`` as read in the transaction of ``curs``."""
    out = {}
    for t in ALL_TABLES:
        curs.execute(f'SELECT * FROM "{view.schema}"."{t.name}" ORDER BY 1, 4')
        out[t.name] = sorted(
            orjson.dumps(
                {
                    k: view.unseal(v) if isinstance(v, bytes | memoryview) else v
                    for k, v in r.items()
                },
                default=str,
            )
            for r in curs.fetchall()
        )
    return out


def test_rebuild_from_scratch_gives_byte_identical_reports(
    store: CaseStore, env: dict[str, str]
) -> None:
    _demo(store)
    with caught_up(env) as runner:
        before = _all_reports(runner)
    result = rebuild(env)
    assert result.events == store.max_position() and result.cases == len(demo_cases(TODAY)) + 2
    with caught_up(env) as runner:
        assert _all_reports(runner) == before
    assert b"PNR" not in b"".join(before.values())
    assert PNR_GIRL.encode() not in b"".join(before.values())


def test_rebuild_vacuums_the_views_it_rewrote(store: CaseStore, env: dict[str, str]) -> None:
    """A rebuild swaps in new view tables; it vacuums and analyses them afterwards, so reports
    get planned on their statistics and read through a visibility map at once, not when
    autovacuum comes by."""
    _demo(store)
    result = rebuild(env)
    assert result.vacuum_error is None and result.vacuum_seconds > 0
    with caught_up(env) as runner, runner.view.cursor() as curs:
        curs.execute("SELECT pg_stat_clear_snapshot()")
        curs.execute(
            "SELECT relname, last_vacuum IS NOT NULL AS vacuumed FROM pg_stat_user_tables "
            "WHERE schemaname = %s AND relname = ANY(%s)",
            (runner.view.schema, [t.name for t in ALL_TABLES]),
        )
        vacuumed = {r["relname"]: r["vacuumed"] for r in curs.fetchall()}
    assert vacuumed == {t.name: True for t in ALL_TABLES}


def test_rebuild_folded_by_worker_processes_equals_one_folded_in_process(
    store: CaseStore, env: dict[str, str]
) -> None:
    """The parallel rebuild (worker processes return COPY bytes) writes exactly the views the
    in-process fold writes, chunk boundaries anywhere."""
    _demo(store)
    rebuild(env, workers=0)
    with caught_up(env) as runner:
        in_process, reports = _tables(runner), _all_reports(runner)
    result = rebuild(env, workers=2, chunk_cases=3)
    assert result.events == store.max_position()
    with caught_up(env) as runner:
        assert _tables(runner) == in_process
        assert _all_reports(runner) == reports


def test_evb_reports_new_then_aterrapport_then_verkstalld(
    store: CaseStore, env: dict[str, str]
) -> None:
    _demo(store)
    with caught_up(env) as runner:

        def rows(q: str) -> dict[str, dict[str, Any]]:
            doc = REPORTS["evb"].build(runner.view, "1280", parse_period("quarter", q))
            return {r["case_ref"]: r for r in doc["rows"]}

        q2, q3 = rows("2026Q2"), rows("2026Q3")
    assert q2["EVB-1"]["status"] == "ny" and q2["EVB-2"]["status"] == "ny"
    assert q3["EVB-2"]["status"] == "aterrapport"
    assert q3["EVB-1"]["status"] == "verkstalld" and q3["EVB-1"]["verkstalld_datum"] == "2026-09-01"
    assert q3["EVB-2"]["ivo_id"] == q2["EVB-2"]["ivo_id"]  # stable across quarters
    assert q3["EVB-2"]["ivo_id"].startswith("2008") and int(q3["EVB-2"]["ivo_id"][-2]) % 2 == 1
    assert q3["EVB-2"]["skal"] == "ingen kontaktperson"


@pytest.mark.parametrize("where", ["between", "inside"])
def test_runner_killed_between_or_inside_batches_ends_equal_to_rebuild(
    store: CaseStore, env: dict[str, str], where: str
) -> None:
    _demo(store)

    class Crash(Exception):
        pass

    batches = 0

    def crash(position: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 3:
            raise Crash(position)

    hook = {"after_batch": crash} if where == "between" else {"before_commit": crash}
    runner = ReportsRunner(env, batch_size=7, **hook)
    with pytest.raises(Crash), runner:
        runner.wait(store.max_position(), timeout=30)
    with caught_up(env) as resumed:
        incremental = _tables(resumed)
        reports = _all_reports(resumed)
    rebuild(env)
    with caught_up(env) as fresh:
        assert _tables(fresh) == incremental
        assert _all_reports(fresh) == reports


def test_import_with_a_bad_line_stores_nothing_and_a_rerun_appends_no_duplicates(
    store: CaseStore,
) -> None:
    lines = [
        orjson.dumps(x).decode()
        for x in _evb_case("IMP-1", PNR_GIRL, "flicka", date(2026, 2, 10), None)
    ]
    bad = [*lines[:3], lines[3].replace("utredning_inledd", "utredning_inleddd"), *lines[4:]]
    with pytest.raises(ImportRejected, match="line 4"):
        import_lines(store, bad, now=_at(TODAY))
    assert store.max_position() == 0
    first = import_lines(store, lines[:4], now=_at(TODAY))
    again = import_lines(store, lines, now=_at(TODAY))
    assert (first.appended, again.appended, again.skipped_duplicates) == (4, 3, 4)
    assert again.open_cases == [("1280", "IMP-1")]
    assert store.max_position() == len(lines)


def test_a_report_that_computes_longer_than_the_stores_idle_limit_still_answers(
    env: dict[str, str], store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's connections end a transaction idle for longer than their limit (5 s in
    production, 1 s here); a report that folds its rows for longer between two statements (the
    placement reports at 1,000,000 events) must still answer, and with the rows it read."""
    import time as _time

    from projections import reports as reports_mod

    _demo(store)
    slow_env = {**env, "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "1"}
    spec = REPORTS["evb"]
    real = spec.builder
    assert real is not None

    def slow(*args: Any, **kwargs: Any) -> dict[str, Any]:
        body = real(*args, **kwargs)
        _time.sleep(1.6)  # computing, between this report's statements
        return body

    period = parse_period("quarter", "2026Q3")
    with caught_up(slow_env) as runner:
        fast = spec.build(runner.view, "1280", period)["rows"]
        monkeypatch.setitem(reports_mod.REPORTS, "evb", dataclasses.replace(spec, builder=slow))
        slowly = reports_mod.REPORTS["evb"].build(runner.view, "1280", period)["rows"]
    assert {r["case_ref"] for r in slowly} == {"EVB-1", "EVB-2"}
    assert slowly == fast


def test_a_runner_batch_that_folds_longer_than_the_stores_idle_limit_is_written(
    env: dict[str, str], store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A runner's batch reads its cases under ``FOR UPDATE`` and folds them in Python before it
    writes; catching up a million events on a busy machine, one fold outlasted the store's idle
    limit (5 s; 1 s here) and the batch failed with ``IdleInTransactionSessionTimeout``, every
    time it was retried. The batch is written, with the same rows as a quick one."""
    import time as _time

    from projections import view as view_mod

    _demo(store)
    slow_env = {**env, "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "1"}
    real = view_mod.redact
    slept: list[float] = []

    def slow(env_: dict[str, Any]) -> dict[str, Any]:
        if not slept:
            slept.append(1.6)
            _time.sleep(1.6)  # folding, between the batch's read and its writes
        return real(env_)

    monkeypatch.setattr(view_mod, "redact", slow)
    with caught_up(slow_env) as runner:
        assert slept
        slowly = _tables(runner)
    monkeypatch.undo()
    rebuild(env)
    with caught_up(env) as runner:
        assert _tables(runner) == slowly


def test_reports_answer_from_the_old_views_while_a_rebuild_runs(
    env: dict[str, str], store: CaseStore
) -> None:
    """A rebuild writes the views in one transaction; until it commits, a report asked meanwhile
    answers at once from the views as they were (a rebuild after a deploy must not take the
    reports offline), and afterwards from the rebuilt ones: the same rows."""
    import threading

    _demo(store)
    period = parse_period("quarter", "2026Q3")
    with caught_up(env) as runner:
        before = REPORTS["evb"].build(runner.view, "1280", period)["rows"]
    assert before

    during: list[Any] = []

    def ask() -> None:
        during.append(REPORTS["evb"].build(env, "1280", period)["rows"])

    def progress(done: int, total: int) -> None:
        if during:
            return
        asker = threading.Thread(target=ask, daemon=True)
        asker.start()
        asker.join(timeout=15)  # the rebuild's transaction is open and has written
        during.append(None if asker.is_alive() else "answered")

    rebuild(env, progress, workers=0)
    assert during and during[-1] == "answered", "a report waited for the rebuild to commit"
    assert during[0] == before
    with caught_up(env) as runner:
        assert REPORTS["evb"].build(runner.view, "1280", period)["rows"] == before


#: The reports that fold cases' events at read time, and the event types a case must have for
#: it to give one of their rows (``projections.placed.case_events(having=...)``); the placement
#: reports and kontinuitet read rows folded at write time and decrypt none
#: (``tests/projections/test_folded_views.py``).
FOLDING_REPORTS: dict[str, set[str]] = {
    "avvikningar": {"avvikning_anmald"},
    "placerade-barn": set(),
    "placeringskostnader": set(),
    "kontinuitet": set(),
}


def test_reports_that_fold_events_decrypt_only_the_cases_that_can_give_a_row(
    env: dict[str, str], store: CaseStore
) -> None:
    """At a million events, reading and decrypting every case of a kommun took these reports 5-7
    s (docs/operations.md, "Rebuild"). Each now asks PostgreSQL only for the cases with an
    event its rows begin with: it decrypts those and no other, and answers as before (the golden
    reports hold the rows)."""
    _demo(store)
    with caught_up(env) as runner:
        view = runner.view
        with view.cursor() as curs:
            curs.execute(
                "SELECT events FROM " + f'"{view.schema}".report_cases WHERE kommun = %s',
                ("1280",),
            )
            cases = [orjson.loads(view.unseal(r["events"])) for r in curs.fetchall()]
        types = [{e["type"] for e in envs} for envs in cases]
        opened: list[int] = []
        real = view.unseal

        def counting(sealed: bytes) -> bytes:
            opened.append(1)
            return real(sealed)

        view.unseal = counting  # type: ignore[method-assign]
        for name, wanted in FOLDING_REPORTS.items():
            spec = REPORTS[name]
            opened.clear()
            spec.build(view, "1280", parse_period(spec.period, PERIODS[spec.period]))
            expected = sum(1 for t in types if t & wanted)
            assert len(opened) == expected, name
            assert expected < len(cases), name  # the demo has cases without them


def test_aktualiseringar_and_arsstatistik_read_only_their_views(
    env: dict[str, str], store: CaseStore
) -> None:
    """At a million events ``aktualiseringar`` and ``arsstatistik`` read and decrypted every
    case that could give a row (0.5-1.1 s; docs/operations.md, "Rebuild"). Both now read rows
    folded when the events arrived (``projections.folded``) and decrypt nothing, and answer
    exactly what folding every case's events at read time answers
    (``tests/projections/report_time.py``), for a year that a case ends before, one it ends in,
    one it spans with a second anmälan in it, and one a case only begins after."""
    _demo(store)
    # AKT-2024: an anmälan and its skyddsbedömning on 2024-06-03, nothing after
    old = _evb_case("AKT-2024", PNR_BOY, "pojke", date(2024, 9, 11), None)[:2]
    spans = _evb_case("AKT-2025", PNR_GIRL, "flicka", date(2026, 2, 2), None)  # anmäld 2025-10-25
    spans.append(
        line(
            "anmalan_mottagen",
            {
                "anmalan_id": "A2",
                "barn": {"personnummer": PNR_GIRL, "kon": "flicka"},
                "anmalare_kategori": "polis",
            },
            at=_at(date(2026, 3, 9)),
            key="AKT-2025-A2",
            case_ref="AKT-2025",
        )
    )
    for lines in (old, spans):
        _record_all(store, lines)
    with caught_up(env) as runner:
        view = runner.view
        opened: list[int] = []
        real = view.unseal

        def counting(sealed: bytes) -> bytes:
            opened.append(1)
            return real(sealed)

        def build_all() -> dict[tuple[str, str], tuple[bytes, int]]:
            out = {}
            for name, years in (
                ("aktualiseringar", "2024 2025 2026"),
                ("arsstatistik", "2025 2026"),
            ):
                for year in years.split():
                    opened.clear()
                    doc = REPORTS[name].build(view, "1280", parse_period("year", year))
                    out[(name, year)] = (dumps(doc), len(opened))
            return out

        view.unseal = counting  # type: ignore[method-assign]
        narrowed = build_all()
        view.unseal = real  # type: ignore[method-assign]
        with view.cursor() as curs:
            for (name, year), (body, n) in narrowed.items():
                assert n == 0, (name, year)
                period = parse_period("year", year)
                args = (curs, view.schema, "1280", period, view.unseal)
                if name == "aktualiseringar":
                    want = report_time.aktualiseringar(*args)
                else:
                    with pytest.MonkeyPatch.context() as m:
                        m.setattr(arsstatistik, "year_records", report_time.year_records)
                        want = arsstatistik.arsstatistik(*args)
                got = orjson.loads(body)
                assert {k: got[k] for k in want} == orjson.loads(dumps(want)), (name, year)
    assert orjson.loads(narrowed[("aktualiseringar", "2024")][0])["rows"], "AKT-2024 counted"
    rows_2026 = orjson.loads(narrowed[("aktualiseringar", "2026")][0])["rows"]
    assert any(r["anmalare_kategori"] == "polis" for r in rows_2026)  # AKT-2025's 2nd anmälan
    assert any(orjson.loads(narrowed[("arsstatistik", y)][0])["rows"] for y in ("2025", "2026"))
