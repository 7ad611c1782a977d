"""``barnflow klagomal`` and ``barnflow lex-sarah``: complaints and lex Sarah rapporter as flows of
their own (docs/domain.md §4.12, docs/law.md §14).

``send FILE`` records lines of that flow (``-`` reads stdin): each is parsed first (all or
nothing, one line naming the field, exit 2), then recorded in order through its stream's guards;
a refusal stops at its line (rule id, exit 2). Neither flow is a workflow, so no Temporal is
needed. ``list --kommun K [--as-of D]`` prints every complaint (or rapport) known on a legal date
with its frister then, as ``GET /klagomal/{kommun}`` does. The yearly figures are
``barnflow report klagomal|lex-sarah --year YYYY``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from infra.cli.api import CliInputError, _kommun, _lines, _store

#: command name → (flow, help)
FLOWS = {
    "klagomal": ("klagomal", "synpunkter och klagomål: send lines, list with frister (KL1)"),
    "lex-sarah": ("lex_sarah", "lex Sarah rapporter: send lines, list with frister (LS1-LS3)"),
}


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    for command, (flow, text) in FLOWS.items():
        p = subparsers.add_parser(command, help=text)
        sub = p.add_subparsers(dest=f"{flow}_command", required=True)
        send = sub.add_parser("send", help="record lines (JSON lines; '-' for stdin)")
        send.add_argument("file", help="a file of lines, or - for stdin")
        send.set_defaults(func=cmd_send, flow=flow)
        lst = sub.add_parser("list", help="every one known on a legal date, with its frister")
        lst.add_argument("--kommun", required=True, type=_kommun)
        lst.add_argument("--as-of", type=date.fromisoformat, default=None, help="legal date")
        lst.set_defaults(func=cmd_list, flow=flow)


def cmd_send(args: argparse.Namespace) -> int:
    from domain.errors import EventValidationError, RuleViolation
    from domain.kvalitet import parse_kvalitet_event
    from infra.persistence.kvalitet import kvalitet_of
    from infra.temporal.rejections import cli_line

    try:
        lines = _lines(args.file)
    except CliInputError as exc:
        print(f"barnflow: {exc}", file=sys.stderr)
        return 2
    events = []
    for number, obj in lines:
        try:
            events.append((number, parse_kvalitet_event(obj, args.flow)))
        except EventValidationError as exc:
            print(cli_line(exc, number), file=sys.stderr)
            return 2
    with _store() as store:
        record = kvalitet_of(store)
        for number, ev in events:
            try:
                line, duplicate = record.record(ev)
            except (RuleViolation, EventValidationError) as exc:
                print(cli_line(exc, number), file=sys.stderr)
                return 2
            print(json.dumps({"arende_id": ev.arende_id, "event": line, "duplicate": duplicate}))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from infra.config.clock import today_stockholm
    from infra.config.settings import load_settings
    from infra.persistence.kvalitet import flow_listing

    policy = load_settings().kommun_configs.policy(args.kommun)
    with _store() as store:
        doc = flow_listing(store, args.kommun, args.flow, args.as_of or today_stockholm(), policy)
    print(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))
    return 0
