"""``barnflow audit verify`` and ``barnflow audit case``: prove the record was not altered or
lost, and replay one case as it stood.

``verify`` exits 0 when every chain recomputes (and Temporal agrees for open cases), 1 when
something does not (each finding one line naming case id, version and position), 2 for bad
arguments. The last line prints the checkpoint to keep outside the database; pass it back with
``--checkpoint``.

``case`` prints (or with ``--format html`` writes) the case as it legally stood on ``--as-of`` and
as barnflow knew it at ``--known-at``. Reading a case is itself logged in the access log (who,
role, why), like every read of case content.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from infra.cli.formats import table

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
    case = sub.add_parser("case", help="a case as it legally stood and as it was known")
    case.add_argument("case_ref", metavar="REF", help="the calling system's case reference")
    case.add_argument("--kommun", required=True, help="4-digit kommunkod")
    case.add_argument("--as-of", default=None, help="legal date YYYY-MM-DD (default: today)")
    case.add_argument("--known-at", default=None, help="as recorded by this ISO timestamp")
    case.add_argument("--format", choices=("table", "json", "html"), default="table")
    case.add_argument("--output", "-o", default=None, help="html: file (default audit-K-REF.html)")
    case.add_argument("--actor", default=None, help="who reads (access log; default: login)")
    case.add_argument("--role", default="revisor", help="the reader's role (access log)")
    case.add_argument("--purpose", default="revision", help="why (access log)")
    case.add_argument(
        "--catch-up", action="store_true", help="run the projection runner once first"
    )
    case.set_defaults(func=cmd_case)


def cmd_verify(args: argparse.Namespace) -> int:
    from temporalio.service import RPCError

    from infra.audit.verify import Checkpoint, verify_store, verify_temporal
    from infra.bootstrap import database, open_store
    from infra.cli.errors import UsageError
    from infra.config.settings import load_settings
    from infra.config.timeouts import TEMPORAL_CONNECT_CLI, DependencyUnavailable
    from infra.persistence.homes import homes_of
    from infra.persistence.kvalitet import kvalitet_of
    from infra.temporal.case_workflow import all_links
    from infra.temporal.client import connect_configured

    try:
        expect = Checkpoint.parse(args.checkpoint) if args.checkpoint else None
    except ValueError as exc:
        raise UsageError(f"--checkpoint: {exc}") from None
    settings = load_settings()
    with database(settings) as url, open_store(settings, url) as (store, _env):
        report = verify_store(store, expect, homes=homes_of(store), kvalitet=kvalitet_of(store))
        if not args.no_temporal:
            address = settings.temporal_address or "127.0.0.1:7233"

            async def against_temporal() -> None:
                client = await connect_configured(
                    settings, wait=TEMPORAL_CONNECT_CLI, workflow_keys=store.workflow_keys
                )
                heads = store.case_heads()
                report.open_cases = sum(1 for h in heads if not h.closed)
                report.findings += await verify_temporal(
                    client, heads, settings.keys.pseudonym, all_links(store)
                )

            try:
                asyncio.run(against_temporal())
            except (DependencyUnavailable, RPCError) as exc:
                what = (
                    str(exc)
                    if isinstance(exc, DependencyUnavailable)
                    else f"Temporal at {address} failed a call ({exc.status.name})"
                )
                raise UsageError(
                    f"{what}; start Temporal, or check the store alone with --no-temporal"
                ) from None
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


def _case_query(args: argparse.Namespace) -> Any:
    from infra.audit.case import AuditQuery
    from infra.cli.errors import UsageError
    from infra.config.clock import today_stockholm

    if len(args.kommun) != 4 or not args.kommun.isdigit():
        raise UsageError(f"--kommun: a kommunkod has 4 digits: {args.kommun!r}")
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else today_stockholm()
    except ValueError:
        raise UsageError(f"--as-of: not a date (YYYY-MM-DD): {args.as_of!r}") from None
    known_at = None
    if args.known_at is not None:
        try:
            known_at = datetime.fromisoformat(args.known_at)
        except ValueError:
            raise UsageError(f"--known-at: not an ISO timestamp: {args.known_at!r}") from None
        if known_at.tzinfo is None:
            raise UsageError("--known-at: needs a UTC offset, e.g. 2026-03-01T12:00+01:00")
    for name in ("role", "purpose"):
        if not str(getattr(args, name)).strip():
            raise UsageError(f"--{name}: must not be empty (it is kept in the access log)")
    return AuditQuery(args.kommun, args.case_ref, as_of, known_at)


def cmd_case(args: argparse.Namespace) -> int:
    from domain.ids import case_id_for
    from infra.audit.case import case_audit
    from infra.audit.html import render_html
    from infra.audit.protection import PROTECTED_PURPOSE, ProtectedCase, check_reader
    from infra.bootstrap import database, open_store
    from infra.cli.errors import UsageError
    from infra.config.settings import load_settings
    from infra.persistence.access_log import record_access
    from projections.runner import CATCH_UP_HINT, reading

    query = _case_query(args)
    settings = load_settings()
    with (
        database(settings) as url,
        open_store(settings, url) as (store, env),
        reading(env, store, catch_up=args.catch_up) as (view, lag),
    ):
        case_id = case_id_for(query.kommun, query.case_ref)
        try:  # a protected case only in a role the kommun names, before anything is read
            marked = check_reader(
                store.case_events(case_id),
                args.role,
                settings.kommun_configs.skydd_roles(query.kommun),
            )
        except ProtectedCase as exc:
            raise UsageError(str(exc)) from None
        try:
            doc = case_audit(view, query)
        except LookupError as exc:
            raise UsageError(str(exc).strip("'\"") + lag.note()) from None
        print(lag.line(), file=sys.stderr)
        if lag.events:
            print(f"barnflow: {CATCH_UP_HINT}", file=sys.stderr)
        record_access(
            view,
            args.actor or getpass.getuser(),
            args.role,
            query.kommun,
            case_id,
            args.purpose + (PROTECTED_PURPOSE if marked else ""),
            datetime.now(UTC),
        )
    if args.format == "json":
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    elif args.format == "html":
        out = Path(args.output or f"audit-{query.kommun}-{query.case_ref}.html")
        try:
            out.write_text(render_html(doc), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--output: {exc.strerror}: {out}") from None
        print(f"wrote {out}")
    else:
        print(render_text(doc))
    return 0


TABLE_EVENT_COLUMNS = ("legal_date", "recorded_at", "position", "type", "actor", "law")
TABLE_FRIST_COLUMNS = ("rule", "name", "trigger_date", "due", "status", "law", "paragraph")


def render_text(doc: dict[str, Any]) -> str:
    """A readable report for a terminal: summary, frister, beslut, events, reads."""
    child = doc["child"]
    head = [
        f"Ärende {doc['kommun']}/{doc['case_ref']} (case {doc['case_id']})",
        f"som det rättsligen stod {doc['as_of']}"
        + (f", som barnflow kände det {doc['known_at']}" if doc["known_at"] else ""),
        f"stadium: {doc['stage']}; barn: kön {child['kon'] or '-'}, ålder {child['age'] or '-'}",
        "nästa frist: "
        + (
            f"{doc['next_frist']['name']} ({doc['next_frist']['rule']}) {doc['next_due']}"
            if doc["next_frist"]
            else "-"
        ),
        "stadier: " + " → ".join(f"{s['stage']} ({s['from']})" for s in doc["stages"]),
    ]
    events = [
        {**e, "actor": f"{e['actor']['id']} ({e['actor']['roll']})", "law": e["law"]}
        for e in doc["events"]
    ]
    beslut = [{**b, "actor": b["actor"]["id"]} for b in doc["beslut"]]
    sections = [
        "\n".join(head),
        "FRISTER\n" + table(doc["frister"], TABLE_FRIST_COLUMNS),
        "BESLUT\n"
        + table(beslut, ("legal_date", "beslut_id", "beslutstyp", "lagrum", "delegat", "actor")),
        "HÄNDELSER\n" + table(events, TABLE_EVENT_COLUMNS),
        "LÄSNINGAR\n" + table(doc["reads"], ("at", "who", "role", "purpose")),
    ]
    return "\n\n".join(sections)
