"""CPU seconds per line of ``import_lines``, every thread counted, for A/B runs of two trees.

    .venv/bin/python bench/import_cpu.py [--root TREE] [--cases 1000] [--database-url URL]

``--root`` imports barnflow from another checkout (``git archive main | tar -x -C /tmp/base``),
so the old and the new code run alternately in the same minutes on a shared machine, where
``time.process_time`` is disturbed far less than wall time (docs/operations.md "Import CPU per
line, third round"). The lines are ``bench/import.py``'s (closed lifecycles, interleaved), a
fresh schema per run, after a five-case warm-up import; the schema is dropped afterwards.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import secrets
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--root", default=str(Path(__file__).resolve().parents[1]))
    p.add_argument("--cases", type=int, default=1000, help="closed cases (11 lines each)")
    p.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = p.parse_args()
    root = str(Path(args.root).resolve())
    sys.path.insert(0, root)
    import psycopg
    from psycopg import sql

    bench_import = importlib.import_module("bench.import")
    importer = importlib.import_module("infra.persistence.importer")
    store_mod = importlib.import_module("infra.persistence.store")
    if not str(importer.__file__).startswith(root):
        raise SystemExit(f"imported {importer.__file__}, not from {root}")
    at = datetime.now(UTC) - timedelta(days=3)
    lines = bench_import._lines(range(args.cases), at)
    url, schema = args.database_url, f"cpu_{uuid.uuid4().hex[:8]}"
    store_mod.ensure_schema(url, schema)
    store = store_mod.CaseStore(
        env=store_mod.eventsourcing_env(url, schema, secrets.token_bytes(32))
    )
    try:
        importer.import_lines(store, bench_import._lines(range(900_000, 900_005), at))  # warm
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        summary = importer.import_lines(store, lines)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if summary.appended != len(lines):
            raise SystemExit(f"appended {summary.appended} of {len(lines)}")
        print(
            f"{root}: {1e6 * cpu / len(lines):.1f} us CPU per line, "
            f"{1e6 * wall / len(lines):.1f} us wall ({len(lines)} lines)"
        )
    finally:
        store.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


if __name__ == "__main__":
    main()
