"""Rebuild throughput against a raw read + decrypt + decode baseline, measured in the same run.

    .venv/bin/python bench/rebuild.py --events 200000 [--database-url URL] [--repeat 3]
    .venv/bin/python bench/rebuild.py --events 1000000 --all-reports

Generates a synthetic history (~40 % of anmälningar lead to utredning, boys 55 %, two thirds
aged 0–12), records it as real encrypted stored events through the store's aggregate and
recorder (bulk saves of many cases per call), then times: a full rebuild of every report view,
a raw psycopg sequential read + AES-GCM decrypt + orjson decode of the same rows, and the
``frister`` and ``evb`` reports on that data (``--all-reports``: every registered report). Each
rebuild also prints its peak resident memory (the rebuilding process and its fold workers,
sampled with psutil every half second: listing the children scans /proc) and the CPU it cost
per event beside the raw read's, the figure that holds still on a shared machine. The schema
is dropped afterwards. The frister report's line says how many cases it recomputed from their
events (stored repeating frister ending before its as-of date); ``--extend`` first runs the
projection runner's horizon extension (``projections.horizon``) until no case is due, and
prints what it cost.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson
import psutil
import psycopg
from psycopg import sql

from domain.aggregate import ChildCase
from domain.calendar import STOCKHOLM
from domain.events import parse_event
from domain.lagrum import insats_lagrum
from infra.cli.demo import synthetic_pnr
from infra.persistence.store import EVENTS_TABLE, CaseStore, ensure_schema, eventsourcing_env
from projections.periods import parse_period, period_containing
from projections.reports import REPORTS
from projections.runner import RebuildResult, ReportsRunner, caught_up, rebuild

KOMMUNER = ("1280", "0127", "0180")
INSATSER = ("oppenvard", "familjebehandling", "kontaktperson", "familjehem", "hvb")
TODAY = date(2026, 11, 1)


def _case(rng: random.Random, n: int) -> list[dict[str, Any]]:
    kommun = KOMMUNER[n % len(KOMMUNER)]
    ref = f"B-{n:07d}"
    boy = rng.random() < 0.55
    age = rng.randrange(0, 13) if rng.random() < 2 / 3 else rng.randrange(13, 21)
    start = TODAY - timedelta(days=rng.randrange(200, 1000))
    born = start - timedelta(days=365 * age + rng.randrange(1, 360))
    pnr = synthetic_pnr(born, rng, not boy)
    out: list[dict[str, Any]] = []

    def add(day: int, etype: str, data: dict[str, Any]) -> None:
        at = datetime.combine(start + timedelta(days=day), dtime(10, 0), tzinfo=STOCKHOLM)
        out.append(
            {
                "kommun": kommun,
                "case_ref": ref,
                "type": etype,
                "occurred_at": at.isoformat(),
                "actor": {"id": f"hl-{n % 40}", "roll": "socialsekreterare"},
                "idempotency_key": f"{ref}-{len(out)}",
                "data": data,
            }
        )

    add(
        0,
        "anmalan_mottagen",
        {
            "anmalan_id": "A1",
            "barn": {"personnummer": pnr, "kon": "pojke" if boy else "flicka"},
            "anmalare_kategori": "skola",
            "enhet": f"{kommun}-barn-{n % 3}",
            "handlaggare": f"hl-{n % 40}",
        },
    )
    add(
        rng.choice((0, 0, 0, 1)),
        "skyddsbedomning_gjord",
        {"anmalan_id": "A1", "omedelbart_skydd": False},
    )
    fb = rng.randrange(3, 18)
    if rng.random() >= 0.4:
        add(
            fb,
            "forhandsbedomning_beslutad",
            {"anmalan_id": "A1", "beslut": "inte_inleda_utredning"},
        )
        add(fb + 1, "arende_avslutat", {"orsak": "ingen_utredning"})
        return out
    add(fb, "forhandsbedomning_beslutad", {"anmalan_id": "A1", "beslut": "inleda_utredning"})
    add(fb, "utredning_inledd", {"utredning_id": "U1", "grund": "anmalan", "anmalan_id": "A1"})
    if rng.random() < 0.8:
        add(fb + 20, "barnet_hort", {"moment": "utredning", "satt": "samtal", "utredning_id": "U1"})
    length = rng.randrange(60, 150)
    add(fb + length, "utredning_avslutad", {"utredning_id": "U1", "utfall": "insats"})
    b = fb + length
    add(
        b,
        "beslut_fattat",
        {
            "beslut_id": "B1",
            "lagrum": insats_lagrum(start + timedelta(days=b)),
            "beslutstyp": "insats",
            "insats": rng.choice(INSATSER),
            "gynnande": True,
            "delegat": {"id": "d1", "roll": "sektionschef"},
        },
    )
    wait = rng.choice((5, 10, 20, 40, 60, 100, 130, None))
    if wait is None or start + timedelta(days=b + wait + 60) > TODAY:
        return out
    add(b + wait, "insats_verkstalld", {"beslut_id": "B1"})
    add(b + wait + 50, "beslut_avslutat", {"beslut_id": "B1", "orsak": "mal_uppnatt"})
    add(b + wait + 50, "arende_avslutat", {"orsak": "behov_tillgodosett"})
    return out


def load(store: CaseStore, target: int, seed: int = 5) -> int:
    """Record about ``target`` events as real (guarded, encrypted) stored events."""
    rng = random.Random(seed)
    now = datetime.combine(TODAY, dtime(12), tzinfo=STOCKHOLM)
    total, n, pending = 0, 0, []
    while total < target:
        lines = _case(rng, n)
        n += 1
        evs = [parse_event(ln) for ln in lines[: target - total]]
        case = ChildCase.open(evs[0], now.date())
        for ev in evs[1:]:
            case.append(ev, now.date())
        pending.append(case)
        total += len(evs)
        if len(pending) >= 500:
            store.save(*pending)
            pending = []
    if pending:
        store.save(*pending)
    return total


def raw_baseline(url: str, schema: str, store: CaseStore) -> tuple[int, float, float]:
    cipher = store.mapper.cipher
    assert cipher is not None
    started = time.perf_counter()
    cpu = time.process_time()
    n = 0
    with psycopg.connect(url) as conn, conn.cursor(name="raw") as curs:
        curs.itersize = 5000
        curs.execute(
            sql.SQL("SELECT state FROM {}.{} ORDER BY notification_id").format(
                sql.Identifier(schema), sql.Identifier(EVENTS_TABLE)
            )
        )
        for (state,) in curs:
            orjson.loads(cipher.decrypt(state))
            n += 1
    return n, time.perf_counter() - started, time.process_time() - cpu


class PeakRss:
    """The highest resident memory of this process, and of it with its children (the fold
    workers and their fork server), sampled every ``interval`` seconds while in the block; and
    the CPU seconds the block cost (this process's, plus each child's at its last sample: a
    worker's last half second may be missing). On a shared machine the CPU per event is the
    steadier figure: wall time there depends on what else runs."""

    def __init__(self, interval: float = 0.5) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.own = 0
        self.total = 0
        self._child_cpu: dict[int, float] = {}
        self._cpu0 = 0.0
        self.cpu = 0.0

    def _sample(self) -> None:
        me = psutil.Process()
        while True:
            own = me.memory_info().rss
            total = own
            for child in me.children(recursive=True):
                # a worker that ended between the listing and the read counts no more
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += child.memory_info().rss
                    t = child.cpu_times()
                    self._child_cpu[child.pid] = t.user + t.system
            self.own, self.total = max(self.own, own), max(self.total, total)
            if self._stop.wait(self._interval):
                return

    def __enter__(self) -> PeakRss:
        self._cpu0 = time.process_time()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.cpu = time.process_time() - self._cpu0 + sum(self._child_cpu.values())


def timed_rebuild(env: dict[str, str], workers: int | None) -> tuple[RebuildResult, PeakRss]:
    with PeakRss() as peak:
        res = rebuild(env, workers=workers)
    return res, peak


#: The as-of day of the reports (the synthetic history ends on ``TODAY``).
REPORT_DAY = TODAY - timedelta(days=1)


def extend_horizons(env: dict[str, str]) -> None:
    """Run the projection runner's horizon extension (``projections.horizon``) until no case is
    due, as a runner does on views an older version wrote; print cases, time and CPU per case."""
    runner = ReportsRunner(env)
    try:
        if not runner.become_writer():
            print("extension: another runner writes the views; skipped")
            return
        cases, t, cpu = 0, time.perf_counter(), time.process_time()
        while n := runner.extend_horizons():
            cases += n
        took, cpu = time.perf_counter() - t, time.process_time() - cpu
        print(
            f"extension: {cases} cases in {took:.2f}s, CPU {cpu / max(cases, 1) * 1e3:.2f} "
            "ms/case (this process)"
        )
    finally:
        runner.close()


def time_reports(env: dict[str, str], names: list[str]) -> list[str]:
    """Build each report once for kommun 1280 over the period containing ``REPORT_DAY``; the
    names of the reports that failed (each printed with its error, the others still timed)."""
    failed = []
    with caught_up(env) as runner:
        for name in names:
            spec = REPORTS[name]
            text = period_containing(spec.period, REPORT_DAY)
            t, cpu = time.perf_counter(), time.process_time()
            try:
                doc = spec.build(runner.view, "1280", parse_period(spec.period, text))
            except Exception as exc:  # printed and counted: the exit code says it failed
                failed.append(name)
                print(
                    f"report {name} ({spec.period} {text}, kommun 1280): FAILED after "
                    f"{time.perf_counter() - t:.3f}s: {type(exc).__name__}: {exc}"
                )
                continue
            took, cpu = time.perf_counter() - t, time.process_time() - cpu
            rows = doc.get("rows")
            extra = (
                f", {recomputed(runner, REPORT_DAY)} cases recomputed" if name == "frister" else ""
            )
            print(
                f"report {name} ({spec.period} {text}, kommun 1280): "
                f"{len(rows) if isinstance(rows, list) else '-'} rows in {took:.3f}s "
                f"(CPU {cpu:.3f}s this process){extra}"
            )
    return failed


def recomputed(runner: ReportsRunner, as_of: date) -> int:
    """Cases of kommun 1280 the frister report as of ``as_of`` recomputes from their events
    (stored repeating frister end before it: ``projections.frister``)."""
    with runner.view.cursor() as curs:
        curs.execute(
            sql.SQL(
                "SELECT count(*) AS n FROM {}.report_cases WHERE kommun = '1280' "
                "AND frister_until < %s"
            ).format(sql.Identifier(runner.view.schema)),
            (as_of,),
        )
        row = curs.fetchone()
    return int(row["n"]) if row else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument(
        "--database-url",
        default=os.environ.get(
            "BARNFLOW_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    p.add_argument(
        "--keep-schema",
        default=None,
        help="load into (or reuse) this schema and keep it afterwards (for profiling runs)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time raw read and rebuild N times (0 with --keep-schema: the reports only)",
    )
    p.add_argument(
        "--workers", type=int, default=None, help="rebuild worker processes (default: per core)"
    )
    p.add_argument(
        "--all-reports",
        action="store_true",
        help="time every registered report afterwards (default: frister and evb)",
    )
    p.add_argument(
        "--extend",
        action="store_true",
        help="before the reports, extend the frister horizons due today (what a runner does)",
    )
    args = p.parse_args()
    schema = args.keep_schema or f"bench_{uuid.uuid4().hex[:8]}"
    ensure_schema(args.database_url, schema)
    key = b"k" * 32 if args.keep_schema else os.urandom(32)
    env = eventsourcing_env(args.database_url, schema, key)
    store = CaseStore(env=env)
    try:
        if store.max_position() == 0:
            t = time.perf_counter()
            n = load(store, args.events)
            print(f"loaded {n} events in {time.perf_counter() - t:.1f}s")
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("VACUUM ANALYZE {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(EVENTS_TABLE)
                )
            )
        runs = []
        for n in range(1, args.repeat + 1):
            loadavg = os.getloadavg()[0]
            raw_n, raw_s, raw_cpu = raw_baseline(args.database_url, schema, store)
            res, peak = timed_rebuild(env, args.workers)
            raw_rate = raw_n / raw_s
            runs.append((res.events_per_second, raw_rate))
            print(f"run {n} (load average {loadavg:.2f} on {os.cpu_count()} cores):")
            print(
                f"  raw read+decrypt+decode: {raw_n} events in {raw_s:.2f}s = "
                f"{raw_rate:,.0f} events/s, CPU {raw_cpu / raw_n * 1e6:.1f} µs/event"
            )
            print(
                f"  full rebuild:            {res.events} events ({res.cases} cases) in "
                f"{res.seconds:.2f}s = {res.events_per_second:,.0f} events/s, "
                f"CPU {peak.cpu / max(res.events, 1) * 1e6:.1f} µs/event (this process and "
                "its workers)"
            )
            with_vacuum = res.events / (res.seconds + res.vacuum_seconds) / raw_rate
            print(
                f"  then VACUUM (ANALYZE):   {res.vacuum_seconds:.2f}s "
                f"(ratio counting it: {with_vacuum:.2f}){res.vacuum_error or ''}"
            )
            print(
                f"  rebuild peak RSS:        {peak.own / 2**20:,.0f} MiB this process, "
                f"{peak.total / 2**20:,.0f} MiB with its fold workers"
            )
            print(f"  ratio rebuild/raw: {res.events_per_second / raw_rate:.2f}")
        if runs:
            rate = statistics.median(r for r, _ in runs)
            raw = statistics.median(r for _, r in runs)
            print(
                f"median of {len(runs)}: rebuild {rate:,.0f} events/s, raw {raw:,.0f} "
                f"events/s, ratio {statistics.median(r / b for r, b in runs):.2f} "
                "(target >= 0.4)"
            )
        if args.extend:
            extend_horizons(env)
        print(f"load average before the reports: {os.getloadavg()[0]:.2f}")
        failed = time_reports(env, list(REPORTS) if args.all_reports else ["frister", "evb"])
    finally:
        store.close()
    if not args.keep_schema:
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    if failed:
        print(f"failed reports: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
