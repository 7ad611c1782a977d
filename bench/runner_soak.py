"""The projection runner alone under a steady stream of new events, for as long as you like:
does its RSS settle, or grow with the events it folds?

    .venv/bin/python bench/runner_soak.py [--minutes 60] [--cases-per-second 5] [--every 15]
                                          [--malloc-arena-max N] [--png PNG] [--database-url URL]

``bench/memory.py``'s one-hour soak found the runner's RSS climbing 1.3-1.8 MB/h at 4 commands
a second while its Python heap stayed flat under tracemalloc: too slow to tell a bound that has
not been reached from a leak. This bench feeds the runner ten to twenty times as many events
without Temporal or the API: every ``--interval`` seconds (default 1) it bulk-imports
``--cases-per-second`` new closed lifecycles (11 events each,
``infra.persistence.importer.import_lines``, the same rows a command appends) into the store
that ``barnflow projections run`` (a child process, stopped by its pid) follows. The runner
folds about one batch per import, so ``--interval`` sets the batches a second and
``--cases-per-second`` the events in each: growth per event folded shows with the second,
growth per batch (a transaction, a notification) with the first, growth per hour with neither.

Every ``--every`` seconds it samples the runner's RSS and, from ``/proc/PID/smaps`` (psutil's
grouped memory maps), how much of it is the main heap (``[heap]``: glibc's main arena), other
anonymous memory (pymalloc's arenas, glibc's per-thread arenas, large blocks) and files (shared
libraries); and how far the runner is behind the store (events imported minus its committed
position, from its ``--trace`` log). ``--trace DIR`` runs the runner under
``bench/traced.py`` (tracemalloc snapshots every ``--trace-every`` seconds, to compare with its
``--compare``). ``--malloc-arena-max N`` runs the runner with glibc's
``MALLOC_ARENA_MAX=N``, to tell thread-arena fragmentation from a leak. Writes the samples to
``PNG``'s ``.csv`` as they are taken and plots RSS and its parts to ``PNG``, with the slope of a
least-squares line over the second half of each.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson
import psutil

from bench.memory import _b64, child, plot, scratch_schema, slope_mb_per_hour
from bench.processes import unwind_on_sigterm
from bench.workflow import lifecycle
from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
#: The runner's ``--trace`` line after each committed batch.
COMMITTED = re.compile(rb"^committed (\d+)$", re.MULTILINE)


def memory_parts(pid: int) -> dict[str, float]:
    """RSS and its parts in MB: ``[heap]``, other anonymous mappings, file-backed mappings."""
    proc = psutil.Process(pid)
    heap = anon = files = 0
    for m in proc.memory_maps(grouped=True):
        if m.path == "[heap]":
            heap += m.rss
        elif not m.path or m.path.startswith("["):  # anonymous, [stack], [vdso], ...
            anon += m.rss
        else:
            files += m.rss
    return {
        "RSS": proc.memory_info().rss / MB,
        "[heap]": heap / MB,
        "anonymous": anon / MB,
        "files": files / MB,
    }


def closed_lines(cases: range, at: datetime) -> list[str]:
    """Whole lifecycles (closed cases), one case after another."""
    return [orjson.dumps(ev).decode() for i in cases for ev in lifecycle(i, at)]


def committed_position(log: Path) -> int:
    """The runner's last committed notification id, read from the end of its log."""
    with log.open("rb") as f:
        f.seek(max(0, log.stat().st_size - 4096))
        found = COMMITTED.findall(f.read())
    return int(found[-1]) if found else 0


def soak(args: argparse.Namespace) -> None:
    at = datetime.now(UTC) - timedelta(days=3)
    cipher, codec, pseudonym, jwt = (secrets.token_bytes(32) for _ in range(4))
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bf-runner-soak-")))
        url, schema = scratch_schema(stack, tmp, args.database_url)
        ensure_schema(url, schema)
        store = CaseStore(env=eventsourcing_env(url, schema, cipher))
        stack.callback(store.close)
        env = {
            **os.environ,
            "BARNFLOW_HOME": str(tmp / "home"),
            "BARNFLOW_DATABASE_URL": url,
            "BARNFLOW_DATABASE_SCHEMA": schema,
            "BARNFLOW_CIPHER_KEY": _b64(cipher),
            "BARNFLOW_CODEC_KEY": _b64(codec),
            "BARNFLOW_PSEUDONYM_KEY": _b64(pseudonym),
            "BARNFLOW_JWT_KEY": _b64(jwt),
            "BARNFLOW_TELEMETRY": "off",
        }
        if args.malloc_arena_max:
            env["MALLOC_ARENA_MAX"] = str(args.malloc_arena_max)
        log = tmp / "runner.log"
        trace = ["--dir", str(args.trace), "--every", str(args.trace_every)] if args.trace else None
        pid = stack.enter_context(
            child(["projections", "run", "--trace"], env, log, "", trace=trace)
        )

        samples_csv = args.png.with_suffix(".csv")
        samples_csv.write_text("seconds,part,mb,events,behind\n", encoding="utf-8")
        series: dict[str, list[tuple[float, float]]] = {}
        # the clock starts once the runner has folded a first batch (its start-up is not growth)
        case = args.cases_per_second
        imported = import_lines(store, closed_lines(range(case), at)).appended
        deadline = time.monotonic() + 120
        while committed_position(log) < imported:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the runner folded nothing in 120 s: see {log}")
            time.sleep(0.2)
        started = time.monotonic()
        next_sample = started
        seconds = args.minutes * 60
        while (now := time.monotonic()) - started < seconds:
            lines = closed_lines(range(case, case + args.cases_per_second), at)
            case += args.cases_per_second
            summary = import_lines(store, lines)
            imported += summary.appended
            if now >= next_sample:
                t = now - started
                behind = imported - committed_position(log)
                with samples_csv.open("a", encoding="utf-8") as out:
                    for part, mb in memory_parts(pid).items():
                        series.setdefault(part, []).append((t, mb))
                        out.write(f"{t:.1f},{part},{mb:.2f},{imported},{behind}\n")
                print(
                    f"{t / 60:6.1f} min  {imported:9,} events  runner behind {behind:6,}  "
                    + "  ".join(f"{k} {v[-1][1]:7.1f}" for k, v in series.items()),
                    flush=True,
                )
                next_sample += args.every
            time.sleep(max(0.0, args.interval - (time.monotonic() - now)))
    per_hour = imported / (args.minutes / 60)
    imports = f"{args.cases_per_second} closed cases every {args.interval:g} s"
    print(
        f"\nrunner soak: {args.minutes:g} min, {imported:,} events ({per_hour:,.0f} per hour), "
        f"MALLOC_ARENA_MAX={args.malloc_arena_max or 'unset'}"
    )
    for part, samples in series.items():
        print(
            f"  {part:10} start {samples[0][1]:7.1f}  end {samples[-1][1]:7.1f}  "
            f"peak {max(v for _, v in samples):7.1f} MB; slope over the second half "
            f"{slope_mb_per_hour(samples):+6.2f} MB/h"
        )
    note = (
        f"projection runner alone, {args.minutes:g} min, {imported:,} events imported "
        f"({imports}), RSS every {args.every:g} s; "
        f"MALLOC_ARENA_MAX={args.malloc_arena_max or 'unset'}"
    )
    plot(args.png, series, note)
    print(f"plot: {args.png}")


def plot_runs(runs: list[str], png: Path, note: str) -> None:
    """RSS of several runs' CSVs on one zoomed plot (from their second sample), each with its
    slope over the second half."""
    series: dict[str, list[tuple[float, float]]] = {}
    for run in runs:
        label, _, csv_path = run.rpartition("=")
        rows = Path(csv_path).read_text(encoding="utf-8").splitlines()[1:]
        series[label or csv_path] = [
            (float(t), float(mb))
            for t, part, mb, *_ in (r.split(",") for r in rows)
            if part == "RSS" and float(t) > 0  # runs before 7cc49db sampled before the start
        ]
    for label, samples in series.items():
        print(
            f"  {label:50} {samples[0][1]:6.1f} -> {samples[-1][1]:6.1f} MB over "
            f"{samples[-1][0] / 60:.0f} min; second half {slope_mb_per_hour(samples):+.2f} MB/h"
        )
    plot(png, series, note, title="projection runner alone: RSS", from_zero=False)
    print(f"plot: {png}")


def main() -> None:
    unwind_on_sigterm()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument(
        "--cases-per-second", type=int, default=5, help="11 events each, per import (--interval)"
    )
    p.add_argument(
        "--interval",
        type=float,
        default=1.0,
        help="seconds between imports: with --cases-per-second N, N cases per import (the runner "
        "folds about one batch per import, so this sets batches per second apart from events)",
    )
    p.add_argument("--every", type=float, default=15.0, help="seconds between samples")
    p.add_argument("--malloc-arena-max", type=int, default=0, help="0: glibc's default")
    p.add_argument("--png", type=Path, default=ROOT / "docs" / "runner-soak.png")
    p.add_argument("--database-url", default=None, help="default: an embedded PostgreSQL")
    p.add_argument(
        "--trace",
        type=Path,
        default=None,
        help="run the runner under bench/traced.py, snapshots here",
    )
    p.add_argument("--trace-every", type=float, default=300.0, help="seconds between snapshots")
    p.add_argument(
        "--plot-runs",
        nargs="+",
        metavar="LABEL=CSV",
        help="only plot the RSS of earlier runs (their .csv) together to --png, zoomed",
    )
    p.add_argument("--note", default="", help="with --plot-runs: the line under the plot")
    args = p.parse_args()
    if args.plot_runs:
        plot_runs(args.plot_runs, args.png, args.note)
        return
    if args.cases_per_second < 1 or args.minutes <= 0 or args.interval <= 0:
        p.error("--cases-per-second >= 1, --minutes > 0 and --interval > 0")
    soak(args)


if __name__ == "__main__":
    main()
