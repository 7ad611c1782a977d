"""``barnflow report kvartal``: the nämnd's quarterly report as one self-contained HTML page
(``--output``) and, with ``--pdf``, a PDF of it (``projections.kvartal``).

``--quarter 2026Q3`` (default: the quarter containing today or ``--as-of``); ``--as-of D`` cuts
the quarter at D (the quarter so far); ``--known-at T`` answers as recorded at T. Every figure
is one of the registered reports (the page prints under each table the command that prints the
same figures). A bad option is one line on stderr and exit 2, and nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

#: Options of ``barnflow report`` that mean nothing for the page.
_NOT_FOR_KVARTAL = {
    "half": "--half",
    "month": "--month",
    "year": "--year",
    "snapshot": "--snapshot",
    "reason": "--reason",
}


class KvartalUsage(Exception):
    """A bad option: one line, exit 2."""


def _parse(args: argparse.Namespace) -> tuple[Any, datetime | None, Path, Path | None]:
    from infra.config.clock import today_stockholm
    from projections.kvartal.model import KvartalError, page_period

    if len(args.kommun) != 4 or not args.kommun.isdigit():
        raise KvartalUsage(f"--kommun: a kommunkod has 4 digits: {args.kommun!r}")
    for dest, flag in _NOT_FOR_KVARTAL.items():
        if getattr(args, dest) is not None:
            raise KvartalUsage(f"{flag}: report kvartal takes --quarter and --as-of")
    if args.replace or args.all or args.format != "table":
        raise KvartalUsage("report kvartal writes HTML (--output) and PDF (--pdf), no --format")
    if args.output is None:
        raise KvartalUsage("report kvartal needs --output FILE.html")
    as_of = None
    if args.as_of is not None:
        try:
            as_of = date.fromisoformat(args.as_of)
        except ValueError:
            raise KvartalUsage(f"--as-of: not a date (YYYY-MM-DD): {args.as_of!r}") from None
    try:
        period = page_period(args.quarter, as_of, today_stockholm())
    except KvartalError as exc:
        raise KvartalUsage(str(exc)) from None
    known_at = None
    if args.known_at is not None:
        try:
            known_at = datetime.fromisoformat(args.known_at)
        except ValueError:
            raise KvartalUsage(f"--known-at: not an ISO timestamp: {args.known_at!r}") from None
        if known_at.tzinfo is None:
            raise KvartalUsage("--known-at: needs a UTC offset, e.g. +01:00")
    outputs = [Path(args.output)] + ([Path(args.pdf)] if args.pdf else [])
    for path in outputs:
        if not path.parent.is_dir():
            raise KvartalUsage(f"{path}: no such directory {path.parent}")
        if path.is_dir():
            raise KvartalUsage(f"{path}: is a directory")
    return period, known_at, outputs[0], outputs[1] if len(outputs) > 1 else None


def cmd_kvartal(args: argparse.Namespace, settings: Any) -> int:
    from infra.bootstrap import database, open_store
    from projections.kvartal.page import build_page, render_html
    from projections.kvartal.pdf import html_to_pdf
    from projections.runner import CATCH_UP_HINT, reading

    try:
        period, known_at, html_path, pdf_path = _parse(args)
    except KvartalUsage as exc:
        print(f"barnflow: {exc}", file=sys.stderr)
        return 2
    with (
        database(settings) as url,
        open_store(settings, url) as (store, env),
        reading(env, store, catch_up=args.catch_up) as (view, lag),
    ):
        page = build_page(view, args.kommun, period, known_at=known_at, position=lag.position)
    print(lag.line(), file=sys.stderr)
    if lag.events:
        print(f"barnflow: {CATCH_UP_HINT}", file=sys.stderr)
    html = render_html(page)
    _write(html_path, html.encode("utf-8"))
    print(f"wrote {html_path} ({len(page.sections)} sections, {period.label})")
    if pdf_path is not None:
        _write(pdf_path, html_to_pdf(html))
        print(f"wrote {pdf_path}")
    return 0


def _write(path: Path, data: bytes) -> None:
    """Write through a temporary file and a rename: a reader never sees half a report."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
