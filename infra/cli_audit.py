"""``barnflow audit verify``: prove the record was not altered or lost.

Exit 0 when every chain recomputes (and Temporal agrees for open cases), 1 when something does
not (each finding one line naming case id, version and position), 2 for bad arguments. The last
line prints the checkpoint to keep outside the database; pass it back with ``--checkpoint``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from infra.settings import load_settings

EXIT_FINDINGS = 1


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``audit verify`` to the barnflow CLI."""
    audit = subparsers.add_parser("audit", help="tamper evidence and audit replay")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = sub.add_parser("verify", help="recompute every hash chain; compare with Temporal")
    verify.add_argument(
        "--checkpoint", default=None, help="POSITION:DIGEST printed by an earlier verify"
    )
    verify.add_argument(
        "--no-temporal", action="store_true", help="check the store only (no Temporal cluster)"
    )
    verify.add_argument("--format", choices=("table", "json"), default="table")
    verify.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    from infra.audit import Checkpoint, verify_store, verify_temporal
    from infra.bootstrap import database, open_store
    from infra.cli import UsageError
    from infra.temporal import connect

    try:
        expect = Checkpoint.parse(args.checkpoint) if args.checkpoint else None
    except ValueError as exc:
        raise UsageError(f"--checkpoint: {exc}") from None
    settings = load_settings()
    with database(settings) as url, open_store(settings, url) as (store, _env):
        report = verify_store(store, expect)
        if not args.no_temporal:
            address = settings.temporal_address or "127.0.0.1:7233"

            async def against_temporal() -> None:
                client = await connect(address, settings.temporal_namespace, settings.keys.codec)
                heads = store.case_heads()
                report.open_cases = sum(1 for h in heads if not h.closed)
                report.findings += await verify_temporal(client, heads, settings.keys.pseudonym)

            asyncio.run(against_temporal())
    if args.format == "json":
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "streams": report.streams,
                    "events": report.events,
                    "open_cases": report.open_cases,
                    "checkpoint": str(report.checkpoint),
                    "findings": [f.to_json() for f in report.findings],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for f in report.findings:
            print(f"FAIL {f.line()}")
        status = "OK" if report.ok else f"{len(report.findings)} finding(s)"
        print(f"{status}: {report.streams} streams, {report.events} events verified")
        print(f"checkpoint {report.checkpoint}")
    return 0 if report.ok else EXIT_FINDINGS
