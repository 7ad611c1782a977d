"""Reports on a kept bench store, each timed by wall clock and by CPU: this process's and that
of its PostgreSQL backends (same machine; found by this process's client ports), the figures
that hold still on a shared machine. Each report is built once to warm up, then timed.

    .venv/bin/python bench/report_cpu.py SCHEMA REPORT[,REPORT...] [REPEAT]

Prints per build the rows, wall, CPU (own + PostgreSQL), load average and the SHA-1 of the
canonical document (``projections.reports.dumps``): equal documents before and after a change
give equal hashes. Kommun 1280 and the periods of ``bench/rebuild.py --all-reports``; the key
of ``bench/rebuild.py --keep-schema``.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil
import psycopg

from infra.persistence.store import eventsourcing_env
from projections.periods import parse_period
from projections.reports import REPORTS, dumps, opened

URL = os.environ.get("BARNFLOW_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
PERIODS = {
    "as_of": "2026-10-31",
    "quarter": "2026Q4",
    "year": "2026",
    "half": "2026H2",
    "month": "2026-10",
}


def _backends(admin: psycopg.Connection[tuple[int]]) -> list[psutil.Process]:
    """The PostgreSQL backends serving this process (not ``admin``'s own)."""
    ports = [
        c.laddr.port
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == 5432
    ]
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE client_port = ANY(%s) AND pid <> %s",
        (ports, admin.info.backend_pid),
    ).fetchall()
    return [psutil.Process(r[0]) for r in rows]


def _cpu(processes: list[psutil.Process]) -> float:
    total = 0.0
    for p in processes:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def main() -> int:
    schema, names = sys.argv[1], sys.argv[2].split(",")
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    env = eventsourcing_env(URL, schema, b"k" * 32)
    with psycopg.connect(URL, autocommit=True) as admin, opened(env) as view:

        def build(name: str) -> dict[str, object]:
            spec = REPORTS[name]
            return spec.build(view, "1280", parse_period(spec.period, PERIODS[spec.period]))

        for name in names:
            build(name)  # the pool's connections and the caches, once
        for run in range(1, repeat + 1):
            for name in names:
                backends = _backends(admin)
                pg = _cpu(backends)
                wall, cpu = time.perf_counter(), time.process_time()
                doc = build(name)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                pg = _cpu(backends) - pg
                rows = doc.get("rows")
                print(
                    f"run {run} {name}: {len(rows) if isinstance(rows, list) else '-'} rows, "
                    f"wall {wall:.3f} s, CPU {cpu:.3f} s + PostgreSQL {pg:.3f} s = "
                    f"{cpu + pg:.3f} s, load {os.getloadavg()[0]:.2f}, "
                    f"sha1 {hashlib.sha1(dumps(doc)).hexdigest()[:12]}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
