"""``barnflow setup``: make a fresh database and namespace ready for barnflow, or say what is
missing. A dry run by default (it changes nothing and prints one line per check); ``--apply``
creates or migrates the schema and registers the search attributes, and is safe to re-run.

Without the permission to register search attributes (a managed cluster, Temporal Cloud), it
prints the exact ``temporal`` commands an admin must run instead. Exit 0 when nothing FAILs,
1 otherwise, so a deployment script can stop on it.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.config.settings import Settings
    from infra.ops.readiness import Check


#: Days Temporal keeps closed workflows unless the kommun's policy says otherwise: long enough
#: for ``ops stuck``, ``audit verify`` and the Web UI to compare a closed case with the record.
DEFAULT_MIN_RETENTION_DAYS = 30
EXIT_NOT_READY = 1


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "setup",
        help="check (and with --apply prepare) the database schema and the Temporal namespace",
    )
    p.add_argument(
        "--apply", action="store_true", help="migrate the schema and register search attributes"
    )
    p.add_argument(
        "--min-retention-days",
        type=int,
        default=DEFAULT_MIN_RETENTION_DAYS,
        help="the kommun's policy for the namespace's retention (default %(default)s)",
    )
    p.set_defaults(func=cmd_setup)


def _settings_line(settings: Settings) -> Check:
    from infra.ops.readiness import Check

    transport = settings.temporal_transport.describe
    db = "external" if settings.database.url else "embedded"
    keys = "environment" if settings.production else "environment or key file"
    return Check(
        "settings",
        True,
        f"mode {settings.mode}; PostgreSQL {db}; Temporal {settings.temporal_target} "
        f"({transport}), namespace {settings.temporal_namespace!r}; keys from {keys}",
    )


def _database(settings: Settings, apply: bool) -> list[Check]:
    from infra.bootstrap import database, open_store
    from infra.ops.readiness import Check, keys_check, schema_check

    with database(settings) as url:
        check = schema_check(url, settings.database.schema)
        if check.ok is False and apply and check.fix == "barnflow setup --apply":
            with open_store(settings, url, wait_for_database=0.0) as (store, _env):
                checks = [
                    Check("schema", True, f"migrated: {schema_check(url, store.schema).detail}")
                ]
                return [*checks, keys_check(store)]
        if check.ok:
            with open_store(settings, url, migrate_schema=False) as (store, _env):
                return [check, keys_check(store)]
        return [check]


async def _register(settings: Settings, client: Any, apply: bool) -> list[str]:
    """Register what is missing when applying; the commands an admin must run when we may not.
    Returns lines to print after the checks (empty when nothing is left to do)."""
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
    from temporalio.service import RPCError, RPCStatusCode

    from infra.ops.readiness import create_commands, missing_search_attributes

    namespace = settings.temporal_namespace
    missing, _system = await missing_search_attributes(client, namespace)
    if not missing or not apply:
        return []
    from infra.temporal.client import SEARCH_ATTRIBUTES, indexed

    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=namespace,
                search_attributes={n: indexed(SEARCH_ATTRIBUTES[n]) for n in missing},
            )
        )
    except RPCError as exc:
        if exc.status not in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNAUTHENTICATED):
            raise
        return [
            f"no permission to register search attributes ({exc.status.name}); "
            "an admin of the cluster runs:",
            *(f"  {cmd}" for cmd in create_commands(namespace, missing)),
        ]
    return []


def cmd_setup(args: argparse.Namespace) -> int:
    from infra.config.settings import load_settings
    from infra.config.timeouts import TEMPORAL_CONNECT_CLI
    from infra.ops.readiness import temporal_checks
    from infra.temporal.client import connect_configured

    settings = load_settings()
    checks = [_settings_line(settings), *_database(settings, args.apply)]

    async def temporal() -> tuple[list[Check], list[str]]:
        client = await connect_configured(settings, wait=TEMPORAL_CONNECT_CLI)
        admin = await _register(settings, client, args.apply)
        found = await temporal_checks(client, settings.temporal_namespace, args.min_retention_days)
        return found, admin

    found, admin = asyncio.run(temporal())
    checks += found
    for check in checks:
        print(check.line())
    for line in admin:
        print(line)
    failed = [c for c in checks if c.ok is False]
    if not args.apply and any(c.fix == "barnflow setup --apply" for c in failed):
        print("dry run: nothing was changed; `barnflow setup --apply` fixes what it can")
    return EXIT_NOT_READY if failed else 0
