"""``barnflow homes``: the kommun's homes as their own records (docs/domain.md §4.11).

``send FILE`` records home lines (``-`` reads stdin): each is parsed first (all or nothing, one
line naming the field, exit 2), then recorded in order through the home's guards; a refusal stops
at its line (rule id, exit 2). A home is not a workflow, so no Temporal is needed.
``list --kommun K [--as-of D] [--hem HEM_ID]`` prints the homes on a legal date with their placed
children (by case_ref), alerts (HEM7, HEM8) and the placements made under a recorded exception,
as ``GET /homes/{kommun}`` does.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from infra.cli.api import CliInputError, _kommun, _lines, _store


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    h = subparsers.add_parser("homes", help="familjehem, jourhem, HVB, stödboende as records")
    sub = h.add_subparsers(dest="homes_command", required=True)
    send = sub.add_parser("send", help="record home lines (JSON lines; '-' for stdin)")
    send.add_argument("file", help="a file of home lines, or - for stdin")
    send.set_defaults(func=cmd_send)
    lst = sub.add_parser("list", help="the homes on a legal date: placed children, alerts")
    lst.add_argument("--kommun", required=True, type=_kommun)
    lst.add_argument("--as-of", type=date.fromisoformat, default=None, help="legal date")
    lst.add_argument("--hem", default=None, help="one home's hem_id")
    lst.set_defaults(func=cmd_list)


def cmd_send(args: argparse.Namespace) -> int:
    from domain.errors import EventValidationError, RuleViolation
    from domain.homes import parse_home_event
    from infra.persistence.homes import homes_of
    from infra.temporal.rejections import cli_line

    try:
        lines = _lines(args.file)
    except CliInputError as exc:
        print(f"barnflow: {exc}", file=sys.stderr)
        return 2
    events = []
    for number, obj in lines:
        try:
            events.append((number, parse_home_event(obj)))
        except EventValidationError as exc:
            print(cli_line(exc, number), file=sys.stderr)
            return 2
    with _store() as store:
        homes = homes_of(store)
        for number, ev in events:
            try:
                line, duplicate = homes.record(ev)
            except (RuleViolation, EventValidationError) as exc:
                print(cli_line(exc, number), file=sys.stderr)
                return 2
            print(json.dumps({"hem_id": ev.hem_id, "event": line, "duplicate": duplicate}))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from infra.config.clock import today_stockholm
    from infra.persistence.homes import homes_report

    with _store() as store:
        try:
            doc = homes_report(store, args.kommun, args.as_of or today_stockholm(), args.hem)
        except LookupError as exc:
            print(f"barnflow: {exc}", file=sys.stderr)
            return 2
    print(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))
    return 0
