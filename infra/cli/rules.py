"""``barnflow rules``: print the rules catalogue and explain the frister of an event file.

``rules explain`` is how a handläggare or an integrator checks a due date without a server: it
reads docs/domain.md §4 lines, validates them exactly like the API does, and shows every frist with
the arithmetic and the paragraph behind it. Bad input is one stderr line naming the line, exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.cli.errors import bilingual

if TYPE_CHECKING:
    from domain.events import CaseEvent
    from domain.frister import Frist
    from domain.rules import KommunPolicy

EXIT_BAD_INPUT = 2


class InputError(Exception):
    """One line of user input is wrong; the message is already the full stderr line body."""


@dataclass(frozen=True)
class _Line:
    number: int
    event: CaseEvent


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``rules list`` and ``rules explain`` to the barnflow CLI."""
    rules_p = subparsers.add_parser("rules", help="the rules catalogue and frist explanations")
    sub = rules_p.add_subparsers(dest="rules_command", required=True)
    list_p = sub.add_parser("list", help="print every rule with its legal references")
    list_p.set_defaults(func=cmd_list)
    explain = sub.add_parser("explain", help="compute and explain the frister of an event file")
    explain.add_argument("file", help="JSON lines in the docs/domain.md §4 format")
    explain.add_argument("--as-of", dest="as_of", default=None, help="YYYY-MM-DD (default: all)")
    explain.add_argument("--format", choices=("table", "json"), default="table")
    explain.add_argument(
        "--policy", default=None, help="a kommun configuration file whose policy applies"
    )
    explain.set_defaults(func=cmd_explain)
    from infra.cli.rules_preview import register as register_preview

    register_preview(sub)


def cmd_list(args: argparse.Namespace) -> int:
    """Print the catalogue as a table: id, name, how often it falls due (C4 quarterly, D4 two
    years then yearly), old and new reference and the day the new one applies from (the
    trigger's legal date decides, e.g. LVU -> lag 2026:1600 on 2027-01-01). A rule with more
    versions than an old and a new one (D2 from 2021-03-01, D4's three-year rule) gets an
    indented line listing every version with its duty."""
    from domain.rules import RULES

    rows = [("id", "namn", "tid", "gammal lag", "ny lag", "ny lag från", "förlängning")]
    for r in RULES:
        versions = r.versions()
        old = f"{r.old_ref.law} {r.old_ref.paragraph}" if r.old_ref else "-"
        last = versions[-1] if versions else None
        new = f"{last.ref.law} {last.ref.paragraph}" if last else "-"
        since = last.since.isoformat() if last and last.since != date.min else "-"
        ext = f"{r.extension.grounds} ({r.extension.event_type})" if r.extension else "-"
        rows.append((r.id, r.name, r.cadence_text(), old, new, since, ext))
    lines = _table(rows).splitlines()
    out = lines[:1]
    for line, r in zip(lines[1:], RULES, strict=True):
        out.append(line)
        if r.history:
            out.append("    lydelser: " + "; ".join(r.version_text(v) for v in r.history))
    print("\n".join(out))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Validate the file, group by (kommun, case_ref) and print every frist."""
    from domain.frister import compute_frister

    try:
        as_of = _parse_as_of(args.as_of)
        policy = _policy(args.policy)
        cases = _read_cases(Path(args.file))
    except InputError as exc:
        print(f"barnflow: {bilingual(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    frister: list[tuple[str, Frist]] = []
    for (kommun, _), events in sorted(cases.items()):
        frister.extend((kommun, f) for f in compute_frister(events, as_of, policy=policy))
    if args.format == "json":
        print(json.dumps([frist_json(k, f) for k, f in frister], ensure_ascii=False, indent=2))
    else:
        print(_explain_table(frister))
    return 0


def _parse_as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"--as-of: not an ISO date (YYYY-MM-DD): {text!r}") from exc


def _policy(path: str | None) -> KommunPolicy | None:
    from infra.config.kommun import KommunConfigError, load_kommun_file

    if path is None:
        return None
    try:
        return load_kommun_file(path).config.policy
    except KommunConfigError as exc:
        raise InputError(str(exc)) from exc


def _read_cases(path: Path) -> dict[tuple[str, str], list[CaseEvent]]:
    """Parse every line, then check that no event predates its case's first anmälan/ansökan."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path.name}: {exc.strerror}") from exc
    lines = _parse_lines(path.name, text.splitlines())
    cases: dict[tuple[str, str], list[_Line]] = {}
    for line in lines:
        cases.setdefault((line.event.kommun, line.event.case_ref), []).append(line)
    for (_, case_ref), case_lines in cases.items():
        _check_start(path.name, case_ref, case_lines)
    return {k: [ln.event for ln in v] for k, v in cases.items()}


def _parse_lines(name: str, raw_lines: Sequence[str]) -> list[_Line]:
    from domain.errors import DomainError
    from domain.events import parse_event

    out: list[_Line] = []
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name} line {number}: malformed JSON: {exc.msg}") from exc
        try:
            out.append(_Line(number, parse_event(obj, allow_system=True)))
        except DomainError as exc:
            raise InputError(f"{name} line {number}: {exc}") from exc
    return out


def _check_start(name: str, case_ref: str, lines: list[_Line]) -> None:
    """Reject events dated before the case began (docs/domain.md §2: transitions are validated)."""
    from domain.events import OPENING_TYPES

    openings = [ln.event.legal_date for ln in lines if ln.event.type in OPENING_TYPES]
    if not openings:
        raise InputError(
            f"{name} line {lines[0].number}: case {case_ref} has no anmalan_mottagen or "
            "ansokan_mottagen"
        )
    first = min(openings)
    for ln in lines:
        if ln.event.legal_date < first:
            raise InputError(
                f"{name} line {ln.number}: occurred_at: {ln.event.legal_date} is before the "
                f"case's first anmälan/ansökan ({first})"
            )


def _computation(f: Frist) -> str:
    """The arithmetic behind ``due`` in words, e.g. '2025-10-31 + 4 månader = 2026-02-28'.

    The engine writes the sum (``Frist.arithmetic``): it knows what it counted from and how
    long (the old three-year rule, the F1 months under the old SoL, a kommun's policy days),
    which the catalogue's default length does not."""
    from domain.rules import rule

    parts = [f.arithmetic or f"{f.trigger_date} + {rule(f.rule).length_text()} = {f.original_due}"]
    if f.due != f.original_due:
        parts.append(f"förlängd till {f.due}")
    parts.extend(f.notes)
    return "; ".join(parts)


def frist_json(kommun: str, f: Frist) -> dict[str, Any]:
    """The machine-readable row of ``rules explain --format json``."""
    return {
        "kommun": kommun,
        "case_ref": f.case_ref,
        "key": f.key,
        "rule": f.rule,
        "name": f.name,
        "subject": f.subject,
        "trigger_type": f.trigger_type,
        "trigger_date": f.trigger_date.isoformat(),
        "due": f.due.isoformat(),
        "original_due": f.original_due.isoformat(),
        "shifted_due": f.shifted_due.isoformat() if f.shifted_due else None,
        "status": f.status,
        "fulfilled_date": f.fulfilled_date.isoformat() if f.fulfilled_date else None,
        "law": f.law,
        "paragraph": f.paragraph,
        "blocks_closing": f.blocks_closing,
        "alert_event": f.alert_event,
        "computation": _computation(f),
    }


def _explain_table(frister: list[tuple[str, Frist]]) -> str:
    header = ("case_ref", "key", "regel", "start", "slutdag", "vardag", "status", "klar", "lag")
    rows: list[tuple[str, ...]] = [header]
    for _, f in frister:
        rows.append(
            (
                f.case_ref,
                f.key,
                f"{f.rule} {f.name}",
                f.trigger_date.isoformat(),
                f.due.isoformat(),
                f.shifted_due.isoformat() if f.shifted_due else "",
                f.status,
                f.fulfilled_date.isoformat() if f.fulfilled_date else "",
                f"{f.law} {f.paragraph}",
            )
        )
    lines = _table(rows).splitlines()
    out = lines[:1]
    for line, (_, f) in zip(lines[1:], frister, strict=True):
        out.extend((line, f"    {_computation(f)}"))
    return "\n".join(out)


def _table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns; the last column is not padded."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for r in rows:
        cells = [c.ljust(w) for c, w in zip(r, widths, strict=False)] + [r[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
