"""``barnflow report NAME``: every report of docs/domain.md §5 (``projections.reports.REPORTS``).

A report only reads the views (the projection runner is their one writer) and says how far they
are behind the store: ``views at position N of M, lag K events`` as the table's first line, on
stderr for the machine formats. Without a running worker the views lag what was recorded since;
``--catch-up`` runs the projection runner once first (under its writer lock), as does
``barnflow projections catch-up``. ``--format json`` prints the report's rows (the same rows as
the table and CSV), ``--format document`` the whole report with its splits and summaries.
Every format states the report's name, kommun, period, as-of date (the period's last day) and
known-at time: the table in header lines, ``csv`` and ``csv-excel`` (UTF-8 with BOM, ``;``,
decimal comma: what a Swedish Excel opens) in leading metadata columns, ``document`` in its own
fields, ``json`` (the bare rows) in a ``report:`` line on stderr (docs/reports.md).
The kommun's configuration version the views were computed with is named on stderr
(``kommun configuration: 1280-…``; no line: the documented defaults).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from infra.cli.lazy import lazy_choices

FORMATS = ("table", "json", "csv", "csv-excel", "document")
PERIOD_FLAGS = {
    "as_of": "--as-of",
    "quarter": "--quarter",
    "half": "--half",
    "month": "--month",
    "year": "--year",
}
#: The format of each period flag, as ``projections.periods.parse_period`` reads it.
PERIOD_HELP = {
    "as_of": "a legal date YYYY-MM-DD (reports taking --as-of)",
    "quarter": "a quarter YYYYQn, e.g. 2026Q2 (reports taking --quarter)",
    "half": "a half year YYYYHn, e.g. 2026H1 (reports taking --half)",
    "month": "a month YYYY-MM, e.g. 2026-03 (reports taking --month)",
    "year": "a year YYYY, e.g. 2026 (reports taking --year)",
}


class ReportUsageError(Exception):
    """A bad option: one stderr line, exit code 2."""


def _report_names() -> list[str]:
    from projections.reports import REPORTS

    return [*sorted(REPORTS), "freeze", "kvartal"]


def _report_table() -> str:
    """The epilog of ``report --help``: each report with its period flag and title."""
    from projections.reports import REPORTS

    takes = "\n".join(
        f"  {name:<22} {PERIOD_FLAGS[spec.period]:<10} {spec.title}"
        for name, spec in sorted(REPORTS.items())
    )
    return f"report                 period flag\n{takes}"


class _ReportHelp(argparse.Action):
    """``report -h``: the help with the table of reports (``_report_table``), made only now."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show this help message and exit")

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        parser.epilog = _report_table()
        parser.print_help()
        parser.exit()


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    report = subparsers.add_parser(
        "report",
        help="reports from the projections (docs/domain.md §5)",
        description="A report of docs/domain.md §5. Each report takes one period flag "
        "(default: the period containing today, Europe/Stockholm):",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,  # -h below: the epilog lists the reports, read when asked for
    )
    report.add_argument("-h", "--help", action=_ReportHelp)
    name = report.add_argument(
        "name",
        help="which report; freeze: store the quarter's evb rows as a snapshot; kvartal: the "
        "nämnd's quarterly report as an HTML page (--output) and a PDF (--pdf)",
    )
    lazy_choices(name, _report_names)  # the reports (and the store) are imported when needed
    report.add_argument("--kommun", required=True, help="4-digit kommunkod")
    for kind, flag in PERIOD_FLAGS.items():
        report.add_argument(flag, dest=kind, default=None, help=PERIOD_HELP[kind])
    report.add_argument(
        "--known-at",
        default=None,
        help="as known at this ISO 8601 timestamp with offset, e.g. 2026-04-01T12:00:00+02:00",
    )
    report.add_argument("--format", choices=FORMATS, default="table")
    report.add_argument("--all", action="store_true", help="frister: include met and missed")
    report.add_argument(
        "--catch-up", action="store_true", help="run the projection runner once first"
    )
    report.add_argument(
        "--snapshot",
        nargs="?",
        const="latest",
        default=None,
        metavar="VERSION",
        help="evb, individrapport, kf-statistik: read the frozen quarter (default: the latest "
        "version) instead of the live views",
    )
    report.add_argument(
        "--replace", action="store_true", help="freeze: a new version of a frozen quarter"
    )
    report.add_argument("--reason", default=None, help="freeze --replace: why (required)")
    ars = report.add_argument_group("arsstatistik (Socialstyrelsen's yearly return)")
    ars.add_argument(
        "--validate",
        action="store_true",
        help="print the validator's findings; exit 1 when it finds errors (fel)",
    )
    ars.add_argument(
        "--output",
        "-o",
        default=None,
        metavar="FILE",
        help="arsstatistik: write the file for Socialstyrelsen (with personnummer; refused while "
        "the validator finds errors; every case's read is logged); kvartal: write the HTML page",
    )
    ars.add_argument(
        "--layout",
        choices=("csv", "fast"),
        default=None,
        help="--output: the file layout (default csv; docs/reports.md)",
    )
    ars.add_argument("--actor", default=None, help="--output: who writes it (access log)")
    ars.add_argument(
        "--role", default="statistikansvarig", help="--output: the writer's role (access log)"
    )
    report.add_argument("--pdf", default=None, metavar="FILE", help="kvartal: and a PDF of it")
    report.set_defaults(func=cmd_report)


def current_period(kind: str) -> str:
    """The period of ``kind`` that contains today (Europe/Stockholm): the default."""
    from infra.config.clock import today_stockholm
    from projections.periods import period_containing

    return period_containing(kind, today_stockholm())


def _options(args: argparse.Namespace) -> tuple[Any, Any, datetime | None, Any]:
    from projections.periods import PeriodError, parse_period
    from projections.reports import REPORTS, ReportOptions

    spec = REPORTS["evb" if args.name == "freeze" else args.name]
    if len(args.kommun) != 4 or not args.kommun.isdigit():
        raise ReportUsageError(f"--kommun: a kommunkod has 4 digits: {args.kommun!r}")
    for kind, flag in PERIOD_FLAGS.items():
        if getattr(args, kind) is not None and kind not in spec.periods:
            raise ReportUsageError(
                f"{flag}: report {spec.name} takes {PERIOD_FLAGS[spec.period]}, not {flag}"
            )
    # the report's own period, or one of the others it also takes (utredningstider --quarter)
    kind = next((k for k in spec.periods if getattr(args, k) is not None), spec.period)
    raw = getattr(args, kind) or current_period(kind)
    try:
        period = parse_period(kind, raw)
    except PeriodError as exc:
        raise ReportUsageError(str(exc)) from None
    known_at = None
    if args.known_at is not None:
        try:
            known_at = datetime.fromisoformat(args.known_at)
        except ValueError:
            raise ReportUsageError(f"--known-at: not an ISO timestamp: {args.known_at!r}") from None
        if known_at.tzinfo is None:
            raise ReportUsageError("--known-at: needs a UTC offset, e.g. +01:00")
    _snapshot_options(args, known_at)
    _return_options(args, known_at)
    try:
        spec.check_period(period)
    except ValueError as exc:
        raise ReportUsageError(f"{PERIOD_FLAGS[spec.period]}: {exc}") from None
    return spec, period, known_at, ReportOptions(include_closed=args.all)


def _return_options(args: argparse.Namespace, known_at: datetime | None) -> None:
    """``--validate``, ``--output``, ``--layout`` and ``--actor`` go with arsstatistik only."""
    given = [
        flag
        for flag, value in (
            ("--validate", args.validate),
            ("--output", args.output),
            ("--layout", args.layout),
            ("--actor", args.actor),
        )
        if value
    ]
    if args.name != "arsstatistik":
        if given == ["--output"]:
            raise ReportUsageError("--output: only reports arsstatistik and kvartal take it")
        if given:
            raise ReportUsageError(f"{given[0]}: only report arsstatistik takes it")
        return
    if args.validate and args.output:
        raise ReportUsageError("--validate and --output: one at a time (--output validates too)")
    if (args.layout or args.actor) and not args.output:
        raise ReportUsageError(f"{'--layout' if args.layout else '--actor'} goes with --output")
    if args.output and known_at is not None:
        raise ReportUsageError("--known-at: the file is written from the record as it is now")
    if args.output and args.year is not None and args.year.isdigit():
        from domain.returns import UnknownReturnYear, own_rule_set

        try:
            own_rule_set(int(args.year))
        except UnknownReturnYear as exc:
            raise ReportUsageError(f"--year: {exc}") from None


def _snapshot_options(args: argparse.Namespace, known_at: datetime | None) -> None:
    """``--snapshot``, ``--replace`` and ``--reason`` only where they mean something."""
    from projections.reports import SNAPSHOT_REPORTS

    if args.snapshot is not None:
        if args.name not in SNAPSHOT_REPORTS:
            raise ReportUsageError(
                f"--snapshot: only {', '.join(SNAPSHOT_REPORTS)} read a frozen quarter"
            )
        if known_at is not None:
            raise ReportUsageError("--known-at: a snapshot is as known when it was frozen")
        if args.snapshot != "latest" and not args.snapshot.isdigit():
            raise ReportUsageError(f"--snapshot: a version number: {args.snapshot!r}")
    if args.name == "freeze":
        if known_at is not None:
            raise ReportUsageError("--known-at: a freeze stores what the views show now")
        if args.replace and not (args.reason or "").strip():
            raise ReportUsageError("--replace needs --reason TEXT")
        if args.reason and not args.replace:
            raise ReportUsageError("--reason goes with --replace")
    elif args.replace or args.reason:
        raise ReportUsageError("--replace and --reason go with report freeze")


def cmd_report(args: argparse.Namespace) -> int:
    from infra.bootstrap import database, open_store
    from infra.cli.formats import render
    from infra.config.settings import load_settings
    from projections.report_csv import report_meta
    from projections.reports import dumps, views_config
    from projections.runner import CATCH_UP_HINT, reading

    settings = load_settings()
    if args.name == "kvartal":
        from infra.cli.kvartal import cmd_kvartal

        return cmd_kvartal(args, settings)
    if args.pdf is not None:
        print("barnflow: --pdf goes with report kvartal", file=sys.stderr)
        return 2
    try:
        spec, period, known_at, options = _options(args)
    except ReportUsageError as exc:
        print(f"barnflow: {exc}", file=sys.stderr)
        return 2
    with (
        database(settings) as url,
        open_store(settings, url) as (store, env),
        reading(env, store, catch_up=args.catch_up) as (view, lag),
    ):
        if args.name == "freeze":
            return _freeze(args, store, view, lag, spec.build(view, args.kommun, period))
        if args.output is not None:
            return _return_file(args, store, view, lag, period, settings)
        if args.snapshot is not None:
            doc = _from_snapshot(args, store, view, period)
            if doc is None:
                return 1
        else:
            doc = spec.build(view, args.kommun, period, known_at=known_at, options=options)
        config = views_config(view, args.kommun)
    if args.format == "table":
        print(lag.line())
    else:
        print(lag.line(), file=sys.stderr)
    if lag.events:
        print(f"barnflow: {CATCH_UP_HINT}", file=sys.stderr)
    if config is not None:
        print(f"kommun configuration: {config}", file=sys.stderr)
    meta = report_meta(doc)
    if args.validate:
        return _validate(args, doc, meta)
    if args.format == "json":
        print(_meta_line(meta), file=sys.stderr)
    if args.format == "document":
        print(dumps(doc).decode())
    elif args.format == "csv-excel":
        # bytes, not print(): the BOM and CRLF must reach the file whatever the locale says
        out = render(doc["rows"], args.format, doc["columns"], meta) + "\r\n"
        sys.stdout.flush()
        sys.stdout.buffer.write(out.encode("utf-8"))
        sys.stdout.buffer.flush()
    else:
        print(render(doc["rows"], args.format, doc["columns"], meta))
    return 0


def _freeze(args: argparse.Namespace, store: Any, view: Any, lag: Any, doc: Any) -> int:
    """``report freeze``: the quarter's evb document, stored as the next snapshot version."""
    from infra.persistence.snapshots import SnapshotError, freeze

    print(lag.line(), file=sys.stderr)
    if lag.events:
        # a freeze of lagging views would store a quarter without what was recorded since
        print(
            f"barnflow: the views lag {lag.events} events; freeze with --catch-up", file=sys.stderr
        )
        return 1
    try:
        snap = freeze(
            store,
            kommun=args.kommun,
            kvartal=doc["period"]["label"],
            position=lag.position,
            doc=doc,
            seal=view.seal,
            replace_reason=args.reason.strip() if args.replace else None,
        )
    except SnapshotError as exc:
        print(f"barnflow: {exc}", file=sys.stderr)
        return 1
    print(
        f"frozen {snap.kommun} {snap.kvartal} version {snap.version}: {len(doc['rows'])} evb rows "
        f"at position {snap.position}, {snap.digest}"
    )
    return 0


def _from_snapshot(
    args: argparse.Namespace, store: Any, view: Any, period: Any
) -> dict[str, Any] | None:
    from infra.persistence.snapshots import SnapshotError, load
    from projections.reports import from_snapshot

    version = None if args.snapshot == "latest" else int(args.snapshot)
    try:
        snap = load(store, args.kommun, period.label, view.unseal, version)
    except SnapshotError as exc:
        print(f"barnflow: {exc}", file=sys.stderr)
        return None
    meta = {
        "version": snap.version,
        "position": snap.position,
        "digest": snap.digest,
        "reason": snap.reason,
    }
    print(
        f"snapshot {snap.kommun} {snap.kvartal} version {snap.version} "
        f"(position {snap.position}, {snap.digest})",
        file=sys.stderr,
    )
    return from_snapshot(args.name, snap.doc, meta)


def _validate(args: argparse.Namespace, doc: dict[str, Any], meta: dict[str, str]) -> int:
    """``arsstatistik --validate``: the findings in the chosen format; 1 when any is a fel."""
    from infra.cli.formats import render
    from projections.arsstatistik import FEL_COLUMNS

    summa = doc["summa"]
    line = (
        f"arsstatistik {doc['kommun']} {doc['period']['label']} (regelverk "
        f"{doc['regelverk']['version']}): {summa['alla']['poster']} poster, {summa['fel']} fel, "
        f"{summa['varningar']} varningar"
    )
    if args.format == "table":
        print(line)
    else:
        print(line, file=sys.stderr)
    if args.format == "document":
        print(dumps_fel(doc))
    else:
        print(render(doc["fel"], args.format, FEL_COLUMNS, meta))
    return 1 if summa["fel"] else 0


def dumps_fel(doc: dict[str, Any]) -> str:
    from projections.reports import dumps

    keep = ("report", "title", "kommun", "period", "known_at", "regelverk", "fel", "summa")
    return dumps({k: doc[k] for k in keep if k in doc}).decode()


def _return_file(  # noqa: PLR0917 - the pieces cmd_report holds open
    args: argparse.Namespace, store: Any, view: Any, lag: Any, period: Any, settings: Any
) -> int:
    """``arsstatistik --output FILE``: the file for Socialstyrelsen (infra.audit.arsstatistik)."""
    import getpass
    from datetime import UTC
    from pathlib import Path

    from domain.returns import UnknownReturnYear
    from domain.returns.layout import LayoutError
    from infra.audit.arsstatistik import ReturnNotReady, return_file
    from infra.audit.protection import ProtectedCase

    print(lag.line(), file=sys.stderr)
    if lag.events:
        print(
            f"barnflow: the views lag {lag.events} events; write with --catch-up", file=sys.stderr
        )
        return 1
    out = Path(args.output)
    if out.is_dir():
        print(f"barnflow: --output: is a directory: {out}", file=sys.stderr)
        return 2
    try:
        written = return_file(
            store,
            view,
            args.kommun,
            period,
            layout=args.layout or "csv",
            who=args.actor or getpass.getuser(),
            role=args.role,
            at=datetime.now(UTC),
            skydd_roles=settings.kommun_configs.skydd_roles(args.kommun),
        )
    except (ReturnNotReady, LayoutError, ProtectedCase, UnknownReturnYear) as exc:
        print(f"barnflow: {exc}", file=sys.stderr)
        return 1
    try:
        out.write_bytes(written.data)
    except OSError as exc:
        print(f"barnflow: --output: {exc.strerror}: {out}", file=sys.stderr)
        return 2
    print(
        f"wrote {out}: {written.lines} poster, {written.children} barn ({written.protected} med "
        f"skyddade personuppgifter), {written.warnings} varningar; layout "
        f"{args.layout or 'csv'}, regelverk {written.rules.version}"
    )
    return 0


def _meta_line(meta: dict[str, str]) -> str:
    """The metadata the bare JSON rows lack, as one stderr line."""
    known = f" known-at {meta['kant_per']}" if meta["kant_per"] else ""
    return (
        f"report: {meta['rapport']} kommun {meta['kommun']} period {meta['period']}"
        f" as-of {meta['per_datum']}{known}"
    )
