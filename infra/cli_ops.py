"""``barnflow ops stuck`` and ``barnflow ops repair``: find and re-drive stuck cases.

``stuck`` exits 0 when nothing is stuck and 1 when rows were printed (so a cron job can alert).
``repair`` is a dry run unless ``--apply``; an applied repair is logged with ``--actor`` (default:
the login name) and ``--reason`` in ``barnflow_ops_log`` before it acts.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
from typing import Any

from infra.settings import load_settings
from infra.timeouts import TEMPORAL_CONNECT_CLI

EXIT_STUCK = 1


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``ops stuck`` and ``ops repair`` to the barnflow CLI."""
    ops = subparsers.add_parser("ops", help="operators: stuck cases and their repair")
    sub = ops.add_subparsers(dest="ops_command", required=True)
    stuck = sub.add_parser("stuck", help="cases whose workflow stopped moving, and why")
    stuck.add_argument("--max-attempts", type=int, default=5, help="activity attempts (N)")
    stuck.add_argument("--no-progress-days", type=int, default=30, help="days without events (X)")
    stuck.add_argument(
        "--deep",
        action="store_true",
        help="also describe every running workflow (one call each; for clusters without "
        "TemporalReportedProblems or workers without the attempt recorder)",
    )
    stuck.add_argument("--format", choices=("table", "json"), default="table")
    stuck.set_defaults(func=cmd_stuck)
    rep = sub.add_parser("repair", help="terminate + adopt a case from the store (dry run)")
    rep.add_argument("case_ref", metavar="CASE", help="the case_ref of the case")
    rep.add_argument("--kommun", required=True)
    rep.add_argument("--reason", required=True, help="why (kept in barnflow_ops_log)")
    rep.add_argument("--actor", default=None, help="who (default: login name)")
    rep.add_argument("--apply", action="store_true", help="do it (default: print the plan)")
    rep.set_defaults(func=cmd_repair)


def cmd_stuck(args: argparse.Namespace) -> int:
    from infra.bootstrap import database, open_store
    from infra.ops import StuckOptions, find_stuck
    from infra.temporal import connect

    settings = load_settings()
    address = settings.temporal_address or "127.0.0.1:7233"
    with database(settings) as url, open_store(settings, url) as (store, _env):

        async def main() -> list[Any]:
            client = await connect(
                address, settings.temporal_namespace, settings.keys.codec, wait=TEMPORAL_CONNECT_CLI
            )
            opts = StuckOptions(args.max_attempts, args.no_progress_days, deep=args.deep)
            return await find_stuck(client, store, settings.keys.pseudonym, opts)

        rows = asyncio.run(main())
    if args.format == "json":
        print(json.dumps([r.to_json() for r in rows], ensure_ascii=False, indent=2))
    else:
        for r in rows:
            since = r.since.isoformat(timespec="seconds") if r.since else "-"
            print(f"{r.kind:22} {r.workflow_id or r.case_id}  since {since}")
            print(f"{'':22} evidence: {r.evidence}")
            print(f"{'':22} action:   {r.action}")
        print(f"{len(rows)} stuck")
    return EXIT_STUCK if rows else 0


def cmd_repair(args: argparse.Namespace) -> int:
    from infra.bootstrap import database, open_store
    from infra.cli import UsageError
    from infra.ops import repair
    from infra.temporal import connect

    if not args.reason.strip():
        raise UsageError("--reason: say why (it is kept in the ops log)")
    settings = load_settings()
    address = settings.temporal_address or "127.0.0.1:7233"
    actor = args.actor or getpass.getuser()
    with database(settings) as url, open_store(settings, url) as (store, _env):

        async def main() -> Any:
            client = await connect(
                address, settings.temporal_namespace, settings.keys.codec, wait=TEMPORAL_CONNECT_CLI
            )
            return await repair(
                client,
                store,
                settings,
                url,
                kommun=args.kommun,
                case_ref=args.case_ref,
                reason=args.reason,
                actor=actor,
                apply=args.apply,
            )

        try:
            plan = asyncio.run(main())
        except LookupError as exc:
            raise UsageError(str(exc).strip("'\"")) from None
    for step in plan.steps:
        print(("done: " if plan.applied else "would: ") + step)
    if not plan.applied:
        print("dry run: add --apply to do it")
    return 0
