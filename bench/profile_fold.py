"""Where a rebuild worker's time goes: one in-process ``CaseFolder.fold`` of the first cases of
a kept bench store (``bench/rebuild.py --keep-schema NAME``), timed by CPU and optionally
profiled with yappi (CPU clock, so other helpers' load on a shared machine does not count).

    .venv/bin/python bench/profile_fold.py --schema rb_200k --events 50000 [--yappi] [--top 30]

Prints the fold's CPU per event, and with ``--yappi`` the functions by total (inclusive) time
and by own time. The rows are read before the clock starts: this measures the workers' work only
(decrypt, decode, redact, fold, frister, rows, COPY text), not the read or PostgreSQL's COPY.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from psycopg import sql

from infra.persistence.store import EVENTS_TABLE, eventsourcing_env
from projections import horizon
from projections.parallel import CaseFolder, StoredCase


def read_cases(url: str, schema: str, events: int) -> list[StoredCase]:
    """The first whole cases (stream order) holding about ``events`` events."""
    out: list[StoredCase] = []
    n = 0
    with psycopg.connect(url) as conn, conn.cursor(name="prof", binary=True) as curs:
        curs.itersize = 5000
        curs.execute(
            sql.SQL(
                "SELECT originator_id::text, notification_id, state FROM {}.{} "
                "ORDER BY originator_id, originator_version"
            ).format(sql.Identifier(schema), sql.Identifier(EVENTS_TABLE))
        )
        cid: str | None = None
        rows: list[tuple[int, bytes]] = []
        for case_id, position, state in curs:
            if case_id != cid:
                if rows and cid is not None:
                    out.append((cid, rows))
                    if n >= events:
                        return out
                cid, rows = case_id, []
            rows.append((position, bytes(state)))
            n += 1
        if rows and cid is not None:
            out.append((cid, rows))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--schema", required=True)
    p.add_argument("--events", type=int, default=50_000)
    p.add_argument(
        "--database-url",
        default=os.environ.get(
            "BARNFLOW_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    p.add_argument("--yappi", action="store_true", help="profile the fold with yappi (CPU)")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--repeat", type=int, default=1, help="fold the same cases N times")
    args = p.parse_args()
    env = eventsourcing_env(args.database_url, args.schema, b"k" * 32)
    cases = read_cases(args.database_url, args.schema, args.events)
    n_events = sum(len(rows) for _, rows in cases)
    # the projection day a rebuild would take now (repeating frister generated past it)
    folder = CaseFolder({**env, "CREATE_TABLE": "n"}, {}, horizon.projection_day())
    if args.yappi:
        import yappi

        yappi.set_clock_type("cpu")
        yappi.start()
    for r in range(args.repeat):
        cpu = time.process_time()
        for i in range(0, len(cases), 250):
            folder.fold(cases[i : i + 250])
        cpu = time.process_time() - cpu
        print(
            f"fold {r + 1}: {n_events} events, {len(cases)} cases, CPU {cpu:.2f}s = "
            f"{cpu / n_events * 1e6:.1f} µs/event (load average {os.getloadavg()[0]:.2f})"
        )
    if args.yappi:
        yappi.stop()
        stats = yappi.get_func_stats()
        for sort, label in (("ttot", "total (inclusive)"), ("tsub", "own")):
            stats.sort(sort, "desc")
            print(f"\nby {label} CPU time, µs per event:")
            for s in list(stats)[: args.top]:
                t = s.ttot if sort == "ttot" else s.tsub
                where = f"{Path(s.module).name}:{s.lineno}"
                print(f"  {t / n_events * 1e6:7.2f}  {s.ncall:9d}  {s.name}  ({where})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
