"""Run a barnflow command with ``tracemalloc`` on, writing a snapshot of the Python heap every
``--every`` seconds, to find what grows in a long-running process (issue 19 item 6).

    .venv/bin/python bench/traced.py --dir DIR [--every 300] [--frames 12] -- worker ...

Each snapshot is ``DIR/snapshot-<seconds>.pickle`` (``tracemalloc.Snapshot.dump``) with, beside
it, ``DIR/objects-<seconds>.json``: the count of each type among the objects the garbage
collector tracks, and the process's RSS and traced size at that moment. Compare two with
``bench/traced.py --compare A B``. What tracemalloc cannot see (memory the Temporal SDK's Rust
core allocates, allocator fragmentation) shows as RSS growing while the traced size does not.
``bench/memory.py --trace DIR [--trace-process worker|runner|api]`` runs one soak process
this way. A snapshot holds allocation sites and sizes, never values: no case data is written.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

MB = 1024 * 1024


def snapshot(directory: Path, started: float) -> None:
    """One snapshot of the traced heap and of the collector's object counts."""
    seconds = round(time.monotonic() - started)
    gc.collect()
    tracemalloc.take_snapshot().dump(str(directory / f"snapshot-{seconds:05d}.pickle"))
    counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    traced, peak = tracemalloc.get_traced_memory()
    doc = {
        "seconds": seconds,
        "rss_mb": psutil.Process().memory_info().rss / MB,
        "traced_mb": traced / MB,
        "traced_peak_mb": peak / MB,
        "objects": dict(counts.most_common(400)),
    }
    (directory / f"objects-{seconds:05d}.json").write_text(json.dumps(doc), encoding="utf-8")


def _every(directory: Path, every: float, started: float) -> None:
    while True:
        time.sleep(every)
        snapshot(directory, started)


def _objects_beside(snapshot_path: Path) -> dict[str, Any]:
    """The ``objects-<seconds>.json`` written with a snapshot."""
    name = snapshot_path.name.replace("snapshot", "objects")
    doc: dict[str, Any] = json.loads(snapshot_path.with_name(name).with_suffix(".json").read_text())
    return doc


def compare(a: Path, b: Path, top: int) -> None:
    """What grew from snapshot ``a`` to ``b``: by traceback, and by object type."""
    old = tracemalloc.Snapshot.load(str(a))
    new = tracemalloc.Snapshot.load(str(b))
    old_doc, new_doc = _objects_beside(a), _objects_beside(b)
    print(
        f"{a.name} -> {b.name}: RSS {old_doc['rss_mb']:.1f} -> {new_doc['rss_mb']:.1f} MB, "
        f"traced {old_doc['traced_mb']:.1f} -> {new_doc['traced_mb']:.1f} MB"
    )
    print("\nby file and line:")
    for stat in new.compare_to(old, "lineno")[:top]:
        print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+8d}  {stat.traceback[0]}")
    print("\nby object type (gc-tracked):")
    grown = {
        k: v - old_doc["objects"].get(k, 0)
        for k, v in new_doc["objects"].items()
        if v - old_doc["objects"].get(k, 0) > 0
    }
    for k, d in sorted(grown.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {d:+8d}  {k}")
    print("\nthe largest growths, with their tracebacks:")
    for stat in new.compare_to(old, "traceback")[: max(3, top // 5)]:
        print(f"\n  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+8d}")
        for line in stat.traceback.format()[-16:]:
            print(f"    {line}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", type=Path, help="where snapshots are written")
    p.add_argument("--every", type=float, default=300.0, help="seconds between snapshots")
    p.add_argument("--frames", type=int, default=12, help="frames kept per allocation")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"))
    p.add_argument("--top", type=int, default=25)
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- then barnflow's arguments")
    args = p.parse_args()
    if args.compare:
        first, second = args.compare
        compare(first, second, args.top)
        return
    if args.dir is None or not args.command:
        p.error("--dir and a barnflow command (after --) are needed")
    args.dir.mkdir(parents=True, exist_ok=True)
    tracemalloc.start(args.frames)
    started = time.monotonic()
    threading.Thread(target=_every, args=(args.dir, args.every, started), daemon=True).start()
    from infra.cli.main import entry

    sys.argv = ["barnflow", *[a for a in args.command if a != "--"]]
    entry()


if __name__ == "__main__":
    main()
