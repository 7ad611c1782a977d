"""``barnflow api`` (serve the HTTP API, or print its OpenAPI document) and the CLI mirrors of
its main calls for scripts: ``case send``, ``case state``, ``export``, ``token create`` and
``api-key create``.

The mirrors talk to the configured stack directly (database, Temporal), not over HTTP: a script
on the server needs no token, and its reads of case content are access-logged as the OS user.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import orjson

from infra.cli.lazy import lazy_choices

DEFAULT_OPENAPI = Path("docs/openapi.json")


class CliInputError(Exception):
    """Bad input to a mirror command: printed as one line, exit 2."""


def _kommun(text: str) -> str:
    if len(text) != 4 or not text.isdigit():
        raise argparse.ArgumentTypeError(f"a kommunkod has 4 digits: {text!r}")
    return text


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    api = subparsers.add_parser("api", help="serve the HTTP API (or print its OpenAPI document)")
    api.add_argument("action", nargs="?", choices=("serve", "openapi"), default="serve")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8080)
    api.add_argument("--output", default=None, help="openapi: write here instead of stdout")
    api.set_defaults(func=cmd_api)

    case = subparsers.add_parser("case", help="send commands and read a case (API mirrors)")
    csub = case.add_subparsers(dest="case_command", required=True)
    send = csub.add_parser("send", help="send each JSON line of FILE (or - for stdin)")
    send.add_argument("file")
    send.set_defaults(func=cmd_case_send)
    state = csub.add_parser("state", help="a case's state (no content)")
    state.add_argument("case_ref")
    state.add_argument("--kommun", type=_kommun, required=True)
    state.set_defaults(func=cmd_case_state)

    export = subparsers.add_parser("export", help="export events as JSONL with digests")
    export.add_argument("--kommun", type=_kommun, required=True)
    export.add_argument("--case", dest="case_ref", default=None)
    export.add_argument("--purpose", default="export", help="kept in the access log")
    export.add_argument(
        "--role",
        default="system",
        help="the reader's role (access log); protected cases only for a role the kommun names",
    )
    export.set_defaults(func=cmd_export)

    token = subparsers.add_parser("token", help="bearer tokens (JWT)")
    tsub = token.add_subparsers(dest="token_command", required=True)
    tcreate = tsub.add_parser("create", help="print a signed JWT")
    _claim_args(tcreate)
    tcreate.add_argument(
        "--ttl",
        type=int,
        default=None,
        help="seconds (default and maximum: the role's lifetime, BARNFLOW_API_TOKEN_TTL and "
        "BARNFLOW_API_TOKEN_TTL_ROLES; 3600 unless configured)",
    )
    tcreate.set_defaults(func=cmd_token_create)

    key = subparsers.add_parser("api-key", help="API keys (stored hashed)")
    ksub = key.add_subparsers(dest="key_command", required=True)
    kcreate = ksub.add_parser("create", help="create an API key and print it once")
    _claim_args(kcreate)
    kcreate.set_defaults(func=cmd_api_key_create)


def _roles() -> tuple[str, ...]:
    from infra.config.api import ROLES

    return ROLES


def _claim_args(p: argparse.ArgumentParser) -> None:
    lazy_choices(p.add_argument("--role", required=True), _roles)
    p.add_argument("--kommun", type=_kommun, required=True)
    p.add_argument("--units", default="", help="comma-separated enheter (empty: all)")
    p.add_argument("--subject", required=True, help="who: system or person id")


def _units(text: str) -> list[str]:
    return [u.strip() for u in text.split(",") if u.strip()]


@contextmanager
def _store() -> Iterator[Any]:
    from infra.bootstrap import database, open_store
    from infra.config.settings import load_settings
    from infra.persistence.db import ensure_tables

    settings = load_settings()
    with database(settings) as url, open_store(settings, url) as (store, _env):
        ensure_tables(store)
        yield store


# ---------------------------------------------------------------------------- api
def cmd_api(args: argparse.Namespace) -> int:
    if args.action == "openapi":
        from infra.api import create_app

        doc = orjson.dumps(create_app(None).openapi(), option=orjson.OPT_INDENT_2) + b"\n"
        if args.output:
            Path(args.output).write_bytes(doc)
        else:
            sys.stdout.write(doc.decode())
        return 0
    return asyncio.run(_serve(args.host, args.port))


async def _serve(host: str, port: int) -> int:
    import uvicorn

    from infra.api import create_app
    from infra.api.services import Services
    from infra.bootstrap import database, open_store, startup_lock
    from infra.config.api import load_api_config
    from infra.config.settings import load_settings
    from infra.ops.readiness import require_ready
    from infra.persistence.db import ensure_tables
    from infra.temporal.client import connect_configured

    settings = load_settings()
    config = load_api_config(settings)
    address = settings.temporal_target
    async with AsyncExitStack() as stack:
        url = stack.enter_context(database(settings))
        with startup_lock(url, settings.database.schema):  # tables: one service at a time
            store, env = stack.enter_context(
                open_store(
                    settings, url, wait_for_database=120, migrate_schema=not settings.production
                )
            )
            if not settings.production:
                ensure_tables(store)
            view = _view(env)
        client = await connect_configured(settings, workflow_keys=store.workflow_keys)
        await require_ready(client, settings.temporal_namespace, store, url)
        services = Services(
            store,
            client,
            settings,
            config,
            projected=None if view is None else view.position,
            report_source=view,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(services),
                host=host,
                port=port,
                log_level="warning",
                # SIGTERM: stop accepting, let in-flight requests finish, but never hang on one
                # (a command waiting for Temporal); its caller retries with the same key
                timeout_graceful_shutdown=10,
            )
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:  # "api on" only once the socket listens (callers connect)
            if serving.done():
                await serving  # a startup failure (port in use …): its error, not "api on"
                return 2
            await asyncio.sleep(0.02)
        print(f"barnflow api on http://{host}:{port} (Temporal {address})", flush=True)
        await serving
    return 0


def _view(env: dict[str, str]) -> Any:
    """The report views (one pool for the process): their position and the reports' source."""
    from projections.view import open_view

    return open_view(env)


# ---------------------------------------------------------------------------- mirrors
def _lines(name: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliInputError(f"{name}: {exc.strerror}") from None
    out = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            out.append((number, orjson.loads(raw)))
        except orjson.JSONDecodeError:
            raise CliInputError(f"line {number}: not valid JSON") from None
    return out


def cmd_case_send(args: argparse.Namespace) -> int:
    from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

    from domain.errors import EventValidationError
    from domain.events import parse_event
    from infra.config.settings import load_settings
    from infra.config.timeouts import TEMPORAL_CONNECT_CLI
    from infra.temporal.client import connect_configured
    from infra.temporal.commands import CommandRejected, WorkflowMissing, send_command
    from infra.temporal.rejections import cli_line

    settings = load_settings()
    try:
        lines = _lines(args.file)
    except CliInputError as exc:
        print(f"barnflow: {exc}", file=sys.stderr)
        return 2
    events = []
    for number, obj in lines:  # every line is parsed once, here, before anything is sent
        try:
            events.append((number, parse_event(obj)))
        except EventValidationError as exc:
            print(cli_line(exc, number), file=sys.stderr)
            return 2

    async def main() -> int:
        with _store() as store:
            client = await connect_configured(
                settings, wait=TEMPORAL_CONNECT_CLI, workflow_keys=store.workflow_keys
            )
            for number, ev in events:
                try:
                    result = await send_command(
                        client,
                        store,
                        ev,
                        pseudonym_key=settings.keys.pseudonym,
                        task_queue=settings.task_queue,
                        alert_settle_seconds=settings.alert_settle_seconds,
                    )
                except CommandRejected as exc:
                    print(cli_line(exc.cause, number), file=sys.stderr)
                    return 2
                except WorkflowMissing as exc:
                    print(cli_line(exc, number), file=sys.stderr)
                    return 2
                except WorkflowUpdateRPCTimeoutOrCancelledError:
                    print(
                        f"barnflow: line {number}: the case's workflow did not answer in time "
                        "(is a worker running?); send the line again: its idempotency_key makes "
                        "a retry safe",
                        file=sys.stderr,
                    )
                    return 2
                print(
                    orjson.dumps(
                        {
                            "line": number,
                            "case_id": result.case_id,
                            "position": result.position,
                            "duplicate": result.duplicate,
                        }
                    ).decode()
                )
        return 0

    return asyncio.run(main())


def cmd_case_state(args: argparse.Namespace) -> int:
    from domain.case import fold
    from domain.ids import case_id_for
    from domain.protection import MARKER

    with _store() as store:
        events = store.case_events(case_id_for(args.kommun, args.case_ref))
    if not events:
        print(f"barnflow: no case {args.case_ref!r} in kommun {args.kommun}", file=sys.stderr)
        return 2
    state = fold(events)
    print(
        orjson.dumps(
            {
                "kommun": args.kommun,
                "case_ref": args.case_ref,
                "stage": state.stage,
                # where a protected child's case is handled is not for the command line
                "enhet": MARKER if state.protected else state.enhet,
                "protected": state.protected,
                "event_count": len(events),
                "last_position": max(e.position or 0 for e in events),
                "closed": state.closed_on is not None,
            },
            option=orjson.OPT_INDENT_2,
        ).decode()
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from domain.ids import case_id_for
    from infra.api.access import log_access_as
    from infra.audit.protection import PROTECTED_PURPOSE, ProtectedCase, check_reader
    from infra.config.settings import load_settings

    who = f"cli:{getpass.getuser()}"
    cases: set[tuple[str, str]] = set()
    with _store() as store:
        if args.case_ref is not None:
            events = store.case_events(case_id_for(args.kommun, args.case_ref))
            if not events:
                print(
                    f"barnflow: no case {args.case_ref!r} in kommun {args.kommun}", file=sys.stderr
                )
                return 2
        else:
            events = []
            after = 0
            while page := store.events_after(after, 1000):
                after = page[-1].position or after
                events.extend(e for e in page if e.kommun == args.kommun)
        by_case: dict[str, list[Any]] = {}
        for e in events:
            by_case.setdefault(str(case_id_for(e.kommun, e.case_ref)), []).append(e)
        roles = load_settings().kommun_configs.skydd_roles(args.kommun)
        protected: set[str] = set()
        left_out = 0
        for cid, case_events in list(by_case.items()):
            try:  # protection as the case stands now (the export holds all its events)
                if check_reader(case_events, args.role, roles):
                    protected.add(cid)
            except ProtectedCase as exc:
                if args.case_ref is not None:
                    print(f"barnflow: {exc}", file=sys.stderr)
                    return 2
                del by_case[cid]
                left_out += 1
        for e in events:
            cid = str(case_id_for(e.kommun, e.case_ref))
            if cid not in by_case:
                continue
            cases.add((cid, e.kommun))
            sys.stdout.write(orjson.dumps({**e.to_json(), "case_id": cid}).decode() + "\n")
        plain = sorted(c for c in cases if c[0] not in protected)
        marked = sorted(c for c in cases if c[0] in protected)
        log_access_as(store, who, args.role, plain, args.purpose)
        log_access_as(store, who, args.role, marked, args.purpose + PROTECTED_PURPOSE)
    if left_out:
        print(
            f"barnflow: {left_out} case(s) with skyddade personuppgifter left out "
            f"(role {args.role!r} is not named in the kommun's [skydd] roller)",
            file=sys.stderr,
        )
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from infra.api.auth import create_jwt
    from infra.config.api import jwt_key, token_lifetimes
    from infra.config.settings import load_settings

    settings = load_settings()
    key = jwt_key(settings, os.environ)
    allowed = token_lifetimes(os.environ).for_role(args.role)
    ttl = allowed if args.ttl is None else args.ttl
    if not 0 < ttl <= allowed:
        print(
            f"barnflow: --ttl {ttl}: {args.role} tokens live 1 to {allowed} seconds "
            "(BARNFLOW_API_TOKEN_TTL, BARNFLOW_API_TOKEN_TTL_ROLES)",
            file=sys.stderr,
        )
        return 2
    print(
        create_jwt(
            key,
            subject=args.subject,
            role=args.role,
            kommun=args.kommun,
            units=_units(args.units),
            ttl_seconds=ttl,
        )
    )
    return 0


def cmd_api_key_create(args: argparse.Namespace) -> int:
    from infra.api.auth import create_api_key

    with _store() as store:
        print(
            create_api_key(
                store,
                subject=args.subject,
                role=args.role,
                kommun=args.kommun,
                units=_units(args.units),
            )
        )
    return 0
