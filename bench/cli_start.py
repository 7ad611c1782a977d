"""``barnflow`` cold start: what a command costs before it does anything, against the floor.

    .venv/bin/python bench/cli_start.py [--repo DIR] [--runs 5]
                                        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Every ``barnflow`` command (and each of the ~150 CLI subprocesses of the test suite) is a new
interpreter that imports its dependencies first. This runs, ``--runs`` times interleaved (so a
machine shared with other work slows them alike), each of:

* the **baselines**: ``python -c pass`` (the interpreter) and ``python -c "import psycopg,
  orjson"`` (the floor of any command that reads the store);
* ``barnflow --help`` (building the parser), ``barnflow rules list`` (no database) and
  ``barnflow report evb --kommun 1280 --quarter 2026Q1`` on a small store (tests/golden/evb.jsonl
  imported with ``--no-workflows`` into a fresh schema of ``--database-url`` and the views caught
  up, so the report prints its rows; the schema is dropped at the end).

Prints the median wall and CPU (user + system of the child, ``os.wait4``) seconds of each, and
each command's ratio to both baselines. ``--repo`` times another checkout's code with its own
``.venv`` (e.g. ``--repo /work/main`` for the numbers before a change); the store is loaded by
that checkout's CLI too.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

HERE = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

BASELINES = {
    "python -c pass": ["-c", "pass"],
    "import psycopg, orjson": ["-c", "import psycopg, orjson"],
}
COMMANDS = {
    "barnflow --help": ["-m", "infra.cli", "--help"],
    "barnflow rules list": ["-m", "infra.cli", "rules", "list"],
    "barnflow report evb": [
        "-m",
        "infra.cli",
        *("report", "evb", "--kommun", "1280", "--quarter", "2026Q1"),
    ],
}


def run_once(python: Path, args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one child; a failing command stops the bench (no silent numbers)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(python), *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({proc.returncode}): {err.strip()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", type=Path, default=HERE, help="checkout to time (its .venv)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    opts = ap.parse_args()
    repo = opts.repo.resolve()
    python = repo / ".venv" / "bin" / "python"
    schema = f"bench_cli_{uuid.uuid4().hex[:8]}"

    def key() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    with tempfile.TemporaryDirectory(prefix="bench-cli-") as home:
        env = {
            **os.environ,
            "BARNFLOW_HOME": home,
            "BARNFLOW_DATABASE_URL": opts.database_url,
            "BARNFLOW_DATABASE_SCHEMA": schema,
            "BARNFLOW_CIPHER_KEY": key(),
            "BARNFLOW_CODEC_KEY": key(),
            "BARNFLOW_PSEUDONYM_KEY": key(),
        }
        env.pop("BARNFLOW_TELEMETRY", None)
        try:
            golden = HERE / "tests" / "golden" / "evb.jsonl"
            run_once(
                python, ["-m", "infra.cli", "import", str(golden), "--no-workflows"], repo, env
            )
            run_once(python, ["-m", "infra.cli", "projections", "catch-up"], repo, env)
            times: dict[str, list[tuple[float, float]]] = {n: [] for n in {**BASELINES, **COMMANDS}}
            for _ in range(opts.runs):
                for name, args in {**BASELINES, **COMMANDS}.items():
                    times[name].append(run_once(python, args, repo, env))
        finally:
            with psycopg.connect(opts.database_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )

    load = os.getloadavg()
    print(f"barnflow cold start: {repo} (median of {opts.runs} interleaved runs)")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    med = {
        n: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
        for n, t in times.items()
    }
    floor_pass, floor_pg = med["python -c pass"], med["import psycopg, orjson"]
    print(f"{'':24} {'wall s':>7} {'CPU s':>7}   {'CPU/pass':>9} {'CPU/psycopg':>11}")
    for name, (wall, cpu) in med.items():
        ratios = ""
        if name in COMMANDS:
            ratios = f"   {cpu / floor_pass[1]:8.1f}x {cpu / floor_pg[1]:10.1f}x"
        print(f"{name:24} {wall:7.3f} {cpu:7.3f}{ratios}")


if __name__ == "__main__":
    main()
