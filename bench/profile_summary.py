"""Where the event loop's time went in a pyinstrument session of bench/api.py --profile: wall
seconds per component (the API app, uvicorn's HTTP parsing, the bench's HTTP client, the
Temporal client, idle), and the heaviest functions inside the API app by their own time.

    .venv/bin/python bench/profile_summary.py DIR/api-http.pyisession [--commands N] [--top 25]
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from pyinstrument.session import Session

#: Components, judged by the outermost frame that names one (first match wins).
COMPONENTS = (
    ("send_command (inside the route)", ("send_command ",)),
    ("API app (FastAPI, barnflow's middleware and route)", ("AppBodyLimitMiddleware.__call__",)),
    ("uvicorn: HTTP parsing and connection", ("uvicorn/",)),
    ("bench HTTP client (httpx)", ("httpx/", "httpcore/")),
    ("Temporal client and worker on the loop", ("temporalio/",)),
    ("idle: waiting in epoll", ("epoll.poll", "select.select")),
)


def _component(frame: Any, stack: tuple[str, ...]) -> str | None:
    for name, marks in COMPONENTS:
        if any(m in s for s in stack for m in marks):
            return name
    return None


def summarise(path: str, commands: int, top: int) -> str:
    session = Session.load(path)
    root = session.root_frame()
    assert root is not None
    per: Counter[str] = Counter()
    inside: Counter[str] = Counter()

    def walk(frame: Any, stack: tuple[str, ...], ident: str = "") -> None:
        if frame.is_synthetic or frame.is_synthetic_leaf:  # [self], [await]: the caller's time
            here = stack
        else:
            name = f"{frame.class_name}.{frame.function}" if frame.class_name else frame.function
            ident = f"{name}  {frame.file_path_short or ''}:{frame.line_no or ''}"
            here = (*stack, f"{name} {frame.file_path or ''}")
        own = frame.time - sum(c.time for c in frame.children)
        if own > 0:
            per[_component(frame, here) or "other on the loop"] += own
            if any("AppBodyLimitMiddleware.__call__" in s for s in here) and not any(
                "send_command " in s for s in here
            ):
                inside[ident] += own
        for child in frame.children:
            walk(child, here, ident)

    walk(root, ())
    total = root.time
    lines = [f"{session.duration:.2f} s recorded, {commands} commands; ms per command:"]
    for name, secs in per.most_common():
        lines.append(f"  {secs * 1000 / commands:8.2f}  {name}")
    lines.append(f"  {total * 1000 / commands:8.2f}  total")
    lines.append(f"\nthe API app: heaviest own time, ms per command (top {top})")
    for ident, secs in inside.most_common(top):
        lines.append(f"  {secs * 1000 / commands:8.3f}  {ident}")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("session")
    p.add_argument("--commands", type=int, required=True, help="commands in the profiled run")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args()
    print(summarise(args.session, args.commands, args.top))


if __name__ == "__main__":
    main()
