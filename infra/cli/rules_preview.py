"""``barnflow rules preview --on D --kommun K``: what a change of law does to a kommun's open
compulsory-care cases, frist by frist.

The cases come from the projections (the ``report_cases`` view, brought up to the store's head
first, as ``barnflow report`` does); each listed case's content read is written to the access log.
The comparison itself is ``domain.law_preview``: this module only selects cases and renders rows.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from domain.events import CaseEvent
    from domain.frister import Frist
    from domain.law_preview import FristChange
    from domain.rules import KommunPolicy


if TYPE_CHECKING:
    from projections.view import ReportsView

EXIT_BAD_INPUT = 2
FORMATS = ("table", "json", "csv")
COLUMNS = (
    "case_ref",
    "key",
    "rule",
    "frist",
    "trigger_date",
    "due_before",
    "law_before",
    "due_after",
    "law_after",
    "change",
    "policy",
)
#: ``change`` of the one row of a listed case that has no frist the switch touches.
NO_FRISTER = "no_running_frister"


class PreviewInputError(Exception):
    """Bad input: printed as one stderr line, exit code 2, nothing read or logged."""


@dataclass(frozen=True)
class CasePreview:
    """One open compulsory-care case and what the switch does to its frister."""

    case_id: str
    kommun: str
    case_ref: str
    changes: list[FristChange]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``rules preview`` to the ``rules`` command's subparsers."""
    p = sub.add_parser(
        "preview",
        help="each frist of a kommun's open compulsory-care cases before and after a law switch",
    )
    p.add_argument("--on", required=True, help="the switch date YYYY-MM-DD, e.g. 2027-01-01")
    p.add_argument("--kommun", required=True, help="4-digit kommunkod")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument(
        "--policy",
        default=None,
        help="a kommun configuration file whose policy applies (default: the views' version)",
    )
    p.add_argument("--actor", default=None, help="who reads (access log; default: login)")
    p.add_argument("--role", default="handlaggare", help="the reader's role (access log)")
    p.add_argument("--purpose", default="lagandring", help="why (access log)")
    p.add_argument("--catch-up", action="store_true", help="run the projection runner once first")
    p.set_defaults(func=cmd_preview)


def parse_switch(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PreviewInputError(f"--on: not an ISO date (YYYY-MM-DD): {text!r}") from None


def _check(args: argparse.Namespace) -> tuple[date, KommunPolicy | None]:
    from domain.events import KOMMUN_RE
    from infra.config.kommun import KommunConfigError, load_kommun_file

    switch = parse_switch(args.on)
    if not KOMMUN_RE.match(args.kommun):
        raise PreviewInputError(f"--kommun: a kommunkod has 4 digits: {args.kommun!r}")
    for name in ("role", "purpose"):
        if not str(getattr(args, name)).strip():
            raise PreviewInputError(f"--{name}: must not be empty (it is kept in the access log)")
    policy = None
    if args.policy is not None:
        try:
            policy = load_kommun_file(args.policy).config.policy
        except KommunConfigError as exc:
            raise PreviewInputError(f"--policy: {exc}") from None
    return switch, policy


def kommun_cases(view: ReportsView, kommun: str) -> list[tuple[str, str, list[CaseEvent]]]:
    """Every case of ``kommun`` in the projections as (case_id, case_ref, events)."""
    from psycopg import sql

    from domain.events import event_from_json
    from projections.source import table_ref
    from projections.tables import CASES

    with view.cursor() as curs:
        curs.execute(
            sql.SQL(
                "SELECT case_id::text AS case_id, case_ref, events FROM {} "
                "WHERE kommun = %s ORDER BY case_ref"
            ).format(table_ref(view.schema, CASES.name)),
            (kommun,),
        )
        rows = curs.fetchall()
    return [
        (
            r["case_id"],
            r["case_ref"],
            [event_from_json(e) for e in orjson.loads(view.unseal(r["events"]))],
        )
        for r in rows
    ]


def is_listed(events: Sequence[CaseEvent]) -> bool:
    """Open (not avslutat, not moved to another kommun) and with compulsory care."""
    from domain.case import fold
    from domain.law_preview import is_compulsory_care

    return bool(events) and fold(events).closed_on is None and is_compulsory_care(events)


def previews(
    cases: Sequence[tuple[str, str, list[CaseEvent]]],
    kommun: str,
    switch: date,
    policy: KommunPolicy | None,
) -> list[CasePreview]:
    from domain.law_preview import preview_case

    return [
        CasePreview(cid, kommun, ref, preview_case(events, switch, policy=policy))
        for cid, ref, events in cases
        if is_listed(events)
    ]


def _side(f: Frist | None) -> tuple[str, str]:
    if f is None:
        return "-", "-"
    due = f.due.isoformat() + (f" ({f.shifted_due.isoformat()})" if f.shifted_due else "")
    return due, f"{f.law} {f.paragraph}"


def _trigger(c: FristChange) -> str:
    """The start date after the switch; the one before it too when the switch moves it."""
    ref = c.after or c.before
    assert ref is not None
    text = ref.trigger_date.isoformat()
    if c.before is not None and c.after is not None and c.before.trigger_date != ref.trigger_date:
        text += f" (före: {c.before.trigger_date.isoformat()})"
    return text


def rows(cases: Sequence[CasePreview]) -> list[dict[str, Any]]:
    """The flat rows of the table, JSON and CSV: one per frist, or one per case without any."""
    out: list[dict[str, Any]] = []
    for case in cases:
        if not case.changes:
            out.append({"case_ref": case.case_ref, "change": NO_FRISTER})
        for c in case.changes:
            ref = c.after or c.before
            assert ref is not None
            due_before, law_before = _side(c.before)
            due_after, law_after = _side(c.after)
            out.append(
                {
                    "case_ref": case.case_ref,
                    "key": c.key,
                    "rule": c.rule,
                    "frist": c.name,
                    "trigger_date": _trigger(c),
                    "due_before": due_before,
                    "law_before": law_before,
                    "due_after": due_after,
                    "law_after": law_after,
                    "change": ",".join(c.changes),
                    "policy": "; ".join(c.policies),
                }
            )
    return out


def cmd_preview(args: argparse.Namespace) -> int:
    from domain.law_preview import switch_on
    from domain.protection import MARKER, is_protected, may_read
    from infra.bootstrap import database, open_store
    from infra.cli.formats import render
    from infra.config.settings import load_settings
    from infra.persistence.access_log import record_access
    from projections.runner import CATCH_UP_HINT, reading

    settings = load_settings()
    try:
        switch, policy = _check(args)
    except PreviewInputError as exc:
        print(f"barnflow: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    with (
        database(settings) as url,
        open_store(settings, url) as (store, env),
        reading(env, store, catch_up=args.catch_up) as (view, lag),
    ):
        cases = kommun_cases(view, args.kommun)
        # a protected case is listed under the marker unless the role is named (POL-SKYDD-RAPPORT)
        roles = settings.kommun_configs.skydd_roles(args.kommun)
        if not may_read(args.role, roles):
            cases = [(cid, MARKER if is_protected(evs) else ref, evs) for cid, ref, evs in cases]
        if not cases:
            print(
                f"barnflow: --kommun: no cases of kommun {args.kommun}{lag.note()}",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        print(lag.line(), file=sys.stderr)
        if lag.events:
            print(f"barnflow: {CATCH_UP_HINT}", file=sys.stderr)
        listed = previews(cases, args.kommun, switch, policy or view.policy(args.kommun))
        now = datetime.now(UTC)
        who = args.actor or getpass.getuser()
        for case in listed:
            record_access(view, who, args.role, args.kommun, case.case_id, args.purpose, now)
    out = rows(listed)
    if args.format == "table":
        sw = switch_on(switch)
        what = f"{sw.id}: {sw.old_law} -> {sw.new_law}" if sw else "inget lagbyte i katalogen"
        print(f"Lagbyte {switch.isoformat()} ({what}), kommun {args.kommun}")
        if sw and sw.policies:
            print(f"Övergångspolicyer: {', '.join(sw.policies)}")
        print(
            f"{len(listed)} öppna ärenden med tvångsvård; före = lagen dagen innan, "
            "efter = lagen på dagen; status per lagbytesdagen"
        )
    print(render(out, args.format, COLUMNS))
    return 0
