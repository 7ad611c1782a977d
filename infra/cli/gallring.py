"""``barnflow gallring plan``: which entries of each personakt are due for gallring, when and
why, and which are kept forever (docs/law.md §10, docs/operations.md "Gallring").

Read-only: it decrypts the record of one kommun and prints one row per person, case and
retention class. The persons appear only as keyed pseudonyms; the case reference lets the
registrator find the akt.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING, Any

from infra.cli.formats import FORMATS, render
from infra.config.settings import load_settings

if TYPE_CHECKING:
    from domain.events import CaseEvent
    from infra.persistence.store import CaseStore


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


def cmd_plan(args: argparse.Namespace) -> int:
    from infra.bootstrap import database, open_store
    from infra.cli.errors import UsageError
    from infra.config.clock import today_stockholm
    from projections.retention import COLUMNS, plan_rows

    if len(args.kommun) != 4 or not args.kommun.isdigit():
        raise UsageError(f"--kommun: a kommunkod has 4 digits: {args.kommun!r}")
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else today_stockholm()
    except ValueError:
        raise UsageError(f"--as-of: not a date (YYYY-MM-DD): {args.as_of!r}") from None
    settings = load_settings()
    with database(settings) as url, open_store(settings, url) as (store, _env):
        events = kommun_events(store, args.kommun)
        rows = plan_rows(
            events, as_of=as_of, pseudonym_key=settings.keys.pseudonym, due_only=args.due
        )
    print(render(rows, args.format, COLUMNS))
    return 0


def kommun_events(store: CaseStore, kommun: str) -> list[CaseEvent]:
    """Every event of ``kommun`` in the store (a full scan, decrypting each row once)."""
    out: list[CaseEvent] = []
    for row in store.stored_rows(by_position=True):
        ev = store.decode(row.originator_id, row.version, row.topic, row.state, row.position)
        if ev.kommun == kommun:
            out.append(ev)
    return out
