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
import os
from datetime import timedelta
from typing import Any

from infra.config.timeouts import TEMPORAL_CONNECT_CLI, WEBHOOK_FAILING_MINUTES

EXIT_STUCK = 1
#: the environment setting behind ``--webhook-failing-minutes``
WEBHOOK_ENV = "BARNFLOW_OPS_WEBHOOK_FAILING_MINUTES"


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
    stuck.add_argument(
        "--webhook-failing-minutes",
        type=int,
        default=None,
        help="report webhook subscriptions whose deliveries have failed this long (default: "
        f"${WEBHOOK_ENV} or {WEBHOOK_FAILING_MINUTES})",
    )
    stuck.add_argument("--format", choices=("table", "json"), default="table")
    stuck.set_defaults(func=cmd_stuck)
    rep = sub.add_parser("repair", help="terminate + adopt a case from the store (dry run)")
    rep.add_argument(
        "case_ref",
        metavar="CASE",
        help="what `ops stuck` printed: a workflow id (barnarende-…), a case id, or a case_ref",
    )
    rep.add_argument("--kommun", default=None, help="the case's kommun (narrows a case_ref)")
    rep.add_argument("--reason", required=True, help="why (kept in barnflow_ops_log)")
    rep.add_argument("--actor", default=None, help="who (default: login name)")
    rep.add_argument("--apply", action="store_true", help="do it (default: print the plan)")
    rep.set_defaults(func=cmd_repair)


def _webhook_failing_for(args: argparse.Namespace) -> timedelta:
    """``--webhook-failing-minutes``, else ``$BARNFLOW_OPS_WEBHOOK_FAILING_MINUTES``, else 15."""
    from infra.cli.errors import UsageError

    raw: object = args.webhook_failing_minutes
    name = "--webhook-failing-minutes"
    if raw is None:
        raw, name = os.environ.get(WEBHOOK_ENV), WEBHOOK_ENV
    if raw is None or raw == "":
        return timedelta(minutes=WEBHOOK_FAILING_MINUTES)
    try:
        minutes = int(str(raw))
    except ValueError:
        raise UsageError(f"{name}: a whole number of minutes, got {raw!r}") from None
    if minutes < 0:
        raise UsageError(f"{name}: must not be negative, got {minutes}")
    return timedelta(minutes=minutes)


def cmd_stuck(args: argparse.Namespace) -> int:
    from infra.bootstrap import database, open_store
    from infra.config.settings import load_settings
    from infra.ops.stuck import StuckOptions, find_stuck
    from infra.temporal.client import connect_configured

    webhook_failing_for = _webhook_failing_for(args)
    settings = load_settings()
    with database(settings) as url, open_store(settings, url) as (store, _env):

        async def main() -> list[Any]:
            client = await connect_configured(
                settings, wait=TEMPORAL_CONNECT_CLI, workflow_keys=store.workflow_keys
            )
            opts = StuckOptions(
                args.max_attempts,
                args.no_progress_days,
                deep=args.deep,
                webhook_failing_for=webhook_failing_for,
                task_queues=(settings.task_queue,),
            )
            return await find_stuck(client, store, settings.keys.pseudonym, opts)

        rows = asyncio.run(main())
    if args.format == "json":
        print(json.dumps([r.to_json() for r in rows], ensure_ascii=False, indent=2))
    else:
        for r in rows:
            since = r.since.isoformat(timespec="seconds") if r.since else "-"
            who = r.workflow_id or r.case_id or f"webhook {r.subscription_id}"
            print(f"{r.kind:22} {who}  since {since}")
            if r.case_id is not None:
                print(f"{'':22} case id:  {r.case_id} (kommun {r.kommun})")
            print(f"{'':22} evidence: {r.evidence}")
            print(f"{'':22} action:   {r.action}")
        print(f"{len(rows)} stuck")
    return EXIT_STUCK if rows else 0


def cmd_repair(args: argparse.Namespace) -> int:
    from infra.bootstrap import database, open_store
    from infra.cli.errors import UsageError
    from infra.config.settings import load_settings
    from infra.ops.repair import repair
    from infra.temporal.client import connect_configured

    if not args.reason.strip():
        raise UsageError("--reason: say why (it is kept in the ops log)")
    settings = load_settings()
    actor = args.actor or getpass.getuser()
    with database(settings) as url, open_store(settings, url) as (store, _env):

        async def main() -> Any:
            client = await connect_configured(
                settings, wait=TEMPORAL_CONNECT_CLI, workflow_keys=store.workflow_keys
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
