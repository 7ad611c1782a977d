"""``barnflow gallring plan``: which entries of each personakt are due for gallring, when and
why, and which are kept forever (docs/law.md §10, docs/operations.md "Gallring").

Read-only: it decrypts the record of one kommun and prints one row per person, case and
retention class. The persons appear only as keyed pseudonyms; the case reference lets the
registrator find the akt.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from infra.cli.formats import FORMATS, render


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``gallring plan`` to the barnflow CLI."""
    gallring = subparsers.add_parser("gallring", help="retention: plan gallring (SoL 16 kap.)")
    sub = gallring.add_subparsers(dest="gallring_command", required=True)
    plan = sub.add_parser("plan", help="what becomes due for gallring when, and what is kept")
    plan.add_argument("--kommun", required=True, help="4-digit kommunkod")
    plan.add_argument("--as-of", default=None, help="the day to judge (default: today)")
    plan.add_argument("--due", action="store_true", help="only what is due on --as-of")
    plan.add_argument("--format", choices=FORMATS, default="table")
    plan.set_defaults(func=cmd_plan)
    run = sub.add_parser("run", help="destroy the data keys of what is due (dry run by default)")
    run.add_argument("--kommun", required=True, help="4-digit kommunkod")
    run.add_argument("--beslut", required=True, help="the nämnd's gallringsbeslut reference")
    run.add_argument("--as-of", default=None, help="the day to judge (default: today)")
    run.add_argument("--apply", action="store_true", help="destroy the keys (default: dry run)")
    run.add_argument(
        "--no-rebuild", action="store_true", help="do not fold the views again afterwards"
    )
    run.add_argument("--format", choices=FORMATS, default="table")
    run.set_defaults(func=cmd_run)
    arkiv = sub.add_parser("arkiv", help="E-ARK SIP of what is kept forever (before a run)")
    arkiv.add_argument("--kommun", required=True, help="4-digit kommunkod")
    arkiv.add_argument("--output", "-o", required=True, help="directory to write the package in")
    arkiv.add_argument("--as-of", default=None, help="the day to judge (default: today)")
    arkiv.add_argument("--actor", default=None, help="who exports (access log; default: login)")
    arkiv.add_argument("--role", default="arkivarie", help="their role (access log)")
    arkiv.set_defaults(func=cmd_arkiv)
    utdrag = subparsers.add_parser(
        "registerutdrag", help="everything stored about one person (GDPR art. 15), logged"
    )
    utdrag.add_argument("--kommun", required=True, help="4-digit kommunkod")
    utdrag.add_argument("--person", required=True, help="personnummer or a case reference")
    utdrag.add_argument("--format", choices=("json", "html"), default="json")
    utdrag.add_argument("--output", "-o", default=None, help="file (default: standard output)")
    utdrag.add_argument("--actor", default=None, help="who produces it (default: login)")
    utdrag.add_argument("--role", default="registrator", help="their role (access log)")
    utdrag.add_argument("--purpose", default="begäran enligt GDPR art. 15", help="why")
    utdrag.set_defaults(func=cmd_registerutdrag)


RUN_COLUMNS = ("case_ref", "klass", "nyckel", "entries", "rule", "paragraph", "status")


def _args(args: argparse.Namespace) -> date:
    from infra.cli.errors import UsageError
    from infra.config.clock import today_stockholm

    if len(args.kommun) != 4 or not args.kommun.isdigit():
        raise UsageError(f"--kommun: a kommunkod has 4 digits: {args.kommun!r}")
    try:
        return date.fromisoformat(args.as_of) if args.as_of else today_stockholm()
    except ValueError:
        raise UsageError(f"--as-of: not a date (YYYY-MM-DD): {args.as_of!r}") from None


def cmd_run(args: argparse.Namespace) -> int:
    """Dry run: the keys that would be destroyed. ``--apply``: destroy them, record one
    ``gallring_verkstalld`` per key, then fold the views again so reports drop the content."""
    from infra.bootstrap import database, open_store
    from infra.cli.errors import UsageError
    from infra.config.settings import load_settings
    from infra.ops.gallring import GallringError, run
    from projections.runner import ViewsBusy, rebuild

    as_of = _args(args)
    settings = load_settings()
    with database(settings) as url, open_store(settings, url) as (store, env):
        try:
            result = run(
                store,
                args.kommun,
                args.beslut,
                as_of=as_of,
                apply=args.apply,
                pseudonym_key=settings.keys.pseudonym,  # the children's Temporal keys too
            )
        except GallringError as exc:
            raise UsageError(str(exc)) from None
        rebuilt = False
        if args.apply and result.destroyed and not args.no_rebuild:
            try:
                rebuild(env)
                rebuilt = True
            except ViewsBusy as exc:
                print(f"views not rebuilt ({exc}): run `barnflow projections rebuild`")
    status = "gallrad" if args.apply else "gallras (dry run)"
    rows = [
        {
            "case_ref": t.case_ref,
            "klass": t.bucket,
            "nyckel": t.key_id + "".join(f" + temporal {k}" for k in t.temporal_keys),
            "entries": t.entries,
            "rule": t.rule,
            "paragraph": t.paragraph,
            "status": status,
        }
        for t in result.plan.targets
    ]
    rows += [
        {"case_ref": ref, "klass": bucket, "status": f"behålls: {why}"}
        for ref, bucket, why in result.plan.held
    ]
    print(render(rows, args.format, RUN_COLUMNS))
    if args.format == "table":
        print(
            f"{len(result.plan.targets)} key(s) due, {result.destroyed} destroyed, "
            f"{result.events} event(s) recorded, {len(result.plan.held)} held back"
            + (", views rebuilt" if rebuilt else "")
        )
        if result.plan.unsealed_due:
            print(
                f"{result.plan.unsealed_due} due entr(ies) were written before data keys and "
                "cannot be shredded (docs/security.md, 'Data keys and gallring')"
            )
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from infra.bootstrap import database, open_store
    from infra.config.settings import load_settings
    from projections.retention import COLUMNS, kommun_events, plan_rows

    as_of = _args(args)
    settings = load_settings()
    with database(settings) as url, open_store(settings, url) as (store, _env):
        events = kommun_events(store, args.kommun)
        rows = plan_rows(
            events, as_of=as_of, pseudonym_key=settings.keys.pseudonym, due_only=args.due
        )
    print(render(rows, args.format, COLUMNS))
    return 0


def cmd_registerutdrag(args: argparse.Namespace) -> int:
    """Write the registerutdrag; every case it covers gets an access-log row first."""
    import getpass
    import json
    from datetime import UTC, datetime
    from pathlib import Path

    from infra.audit.protection import ProtectedCase
    from infra.audit.registerutdrag import PersonNotFound, registerutdrag, render_html
    from infra.bootstrap import database, open_store
    from infra.cli.errors import UsageError
    from infra.config.clock import today_stockholm
    from infra.config.settings import load_settings
    from projections.view import open_view

    if len(args.kommun) != 4 or not args.kommun.isdigit():
        raise UsageError(f"--kommun: a kommunkod has 4 digits: {args.kommun!r}")
    settings = load_settings()
    with database(settings) as url, open_store(settings, url) as (store, env):
        try:
            doc = registerutdrag(
                store,
                open_view(env),
                args.kommun,
                args.person,
                who=args.actor or getpass.getuser(),
                role=args.role,
                purpose=args.purpose,
                at=datetime.now(UTC),
                as_of=today_stockholm(),
                pseudonym_key=settings.keys.pseudonym,
                skydd_roles=settings.kommun_configs.skydd_roles(args.kommun),
            )
        except (PersonNotFound, ProtectedCase) as exc:
            raise UsageError(str(exc)) from None
    text = (
        render_html(doc) if args.format == "html" else json.dumps(doc, ensure_ascii=False, indent=2)
    )
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: {sum(len(c['events']) for c in doc['cases'])} events")
    else:
        print(text)
    return 0


def cmd_arkiv(args: argparse.Namespace) -> int:
    """Write the archival package and check its structure and digests before reporting it."""
    import getpass
    from pathlib import Path

    from infra.bootstrap import database, open_store
    from infra.config.settings import load_settings
    from infra.ops.archive import check_package, export_kept

    as_of = _args(args)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    settings = load_settings()
    with database(settings) as url, open_store(settings, url) as (store, _env):
        result = export_kept(
            store,
            args.kommun,
            out,
            as_of=as_of,
            who=args.actor or getpass.getuser(),
            role=args.role,
            pseudonym_key=settings.keys.pseudonym,
        )
    problems = check_package(result.path)
    for p in problems:
        print(f"FAIL {p}")
    print(
        f"{result.path}: {result.cases} case(s), {result.entries} kept entries, "
        f"{result.files} files"
    )
    return 1 if problems else 0
