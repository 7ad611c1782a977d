"""``barnflow kommun``: the kommun configuration files and the stored versions.

``check`` validates files before they are deployed (the same pydantic models the start uses: one
line naming the file and the key path, exit code 2); ``list`` and ``show`` read back every
version ever in force from the database, for an auditor asking which configuration a case's
workflow, a decision or a report computed with (their version ids name it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.cli.errors import UsageError

if TYPE_CHECKING:
    from domain.kommun import KommunConfig


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    k = subparsers.add_parser("kommun", help="kommun configuration files and stored versions")
    sub = k.add_subparsers(dest="kommun_command", required=True)
    check = sub.add_parser("check", help="validate kommun files (a file or a directory)")
    check.add_argument("paths", nargs="+", help="a kommun TOML file or a BARNFLOW_KOMMUN_DIR")
    check.set_defaults(func=cmd_check)
    lst = sub.add_parser("list", help="every stored configuration version, oldest first")
    lst.add_argument("--kommun", default=None, help="only this kommun")
    lst.set_defaults(func=cmd_list)
    show = sub.add_parser("show", help="one stored version's document (JSON)")
    show.add_argument("version", help="a version id, e.g. 1280-3f2a9c0b1d4e")
    show.set_defaults(func=cmd_show)


def cmd_check(args: argparse.Namespace) -> int:
    from infra.config.kommun import KommunConfigError, load_kommun_dir, load_kommun_file

    for raw in args.paths:
        path = Path(raw)
        try:
            loaded = list(load_kommun_dir(path)) if path.is_dir() else [load_kommun_file(path)]
        except KommunConfigError as exc:
            print(f"barnflow: {exc}", file=sys.stderr)
            return 2
        for config in loaded:
            print(f"{config.source}: kommun {config.kommun}, version {config.version}")
            for line in _ordningar(config.config):
                print(f"  {line}")
    return 0


def _ordningar(config: KommunConfig) -> list[str]:
    """One line per version of the delegationsordning: from when, how many points, and the
    decision codes it does not list (only the nämnd itself may take those: a kommun sees
    before deploying which decisions its officials would be refused)."""
    from domain.decisions import DECISION_CODES

    lines = []
    for ordning in config.ordningar:
        listed = {r.beslutstyp for r in ordning.regler}
        missing = sorted(set(DECISION_CODES) - listed)
        since = ordning.giltig_fran.isoformat() if ordning.giltig_fran else "always"
        lines.append(
            f"delegationsordning {ordning.version or '-'} from {since}: {len(ordning.regler)} "
            f"points; not listed (the nämnd's own): {', '.join(missing) or 'none'}"
        )
    return lines


def cmd_list(args: argparse.Namespace) -> int:
    from infra.bootstrap import database, open_store
    from infra.config.settings import load_settings
    from infra.persistence.kommun_config import stored_versions

    settings = load_settings()
    with database(settings) as url, open_store(settings, url) as (store, _env):
        with store.pooled_connection() as conn:
            rows = stored_versions(conn, store.schema, args.kommun)
        in_force = settings.kommun_configs.versions()
    for r in rows:
        mark = "  (in force here)" if in_force.get(r.kommun) == r.version else ""
        print(f"{r.version}  {r.loaded_at.isoformat()}  {r.source}{mark}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from infra.bootstrap import database, open_store
    from infra.config.settings import load_settings
    from infra.persistence.kommun_config import UnknownKommunConfig, fetch, verified

    settings = load_settings()
    with (
        database(settings) as url,
        open_store(settings, url) as (store, _env),
        store.pooled_connection() as conn,
    ):
        stored = fetch(conn, store.schema, args.version)
    if stored is None:
        raise UsageError(f"no stored kommun configuration {args.version!r}")
    try:
        verified(stored)
    except UnknownKommunConfig as exc:
        raise UsageError(str(exc)) from None
    print(
        json.dumps(
            {
                "version": stored.version,
                "kommun": stored.kommun,
                "source": stored.source,
                "loaded_at": stored.loaded_at.isoformat(),
                "document": stored.document,
            },
            ensure_ascii=False,
            indent=2,
            sort_keys=True,
        )
    )
    return 0
