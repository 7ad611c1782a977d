"""``barnflow projections rebuild|status|run|catch-up`` and ``barnflow import FILE
[--no-workflows]``.

Only the projection runner writes the report views, under the views' writer lock
(``projections.runner.WriterLock``): ``run`` is the follower on its own (a separate process next
to API and worker; a second one waits as a standby), ``catch-up`` brings the views to the store's
head once and exits (for one-shot use without a running worker; with a runner running it waits
for that runner instead), ``rebuild`` drops every view and folds the record again (a progress bar
on stderr when it is a terminal) and refuses while a runner runs. Killed at any moment, even with
SIGKILL inside a batch's transaction, ``run`` resumes from the committed position. Import
loads event lines validated like commands: a bad line is one stderr line naming its number,
exit 2, and nothing from the file is stored; with ``--no-workflows`` nothing talks to Temporal
(an auditor's isolated instance), otherwise every still-open case is adopted into its workflow.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.cli.errors import bilingual


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    proj = subparsers.add_parser("projections", help="the report views: rebuild, status")
    psub = proj.add_subparsers(dest="projections_command", required=True)
    rebuild = psub.add_parser("rebuild", help="drop and rebuild every view from the record")
    rebuild.add_argument("--quiet", action="store_true", help="no progress bar")
    rebuild.set_defaults(func=cmd_rebuild)
    status = psub.add_parser("status", help="the views' position and the store's head")
    status.set_defaults(func=cmd_status)
    catch = psub.add_parser(
        "catch-up", help="bring the views to the store's head once (when no runner runs)"
    )
    catch.add_argument(
        "--timeout", type=_positive, default=120, help="seconds to wait for a running runner"
    )
    catch.set_defaults(func=cmd_catch_up)
    run = psub.add_parser("run", help="follow the store, keeping every view up to date")
    run.add_argument("--batch-size", type=_positive, default=2000, help="events per transaction")
    run.add_argument("--until-caught-up", action="store_true", help="exit once at the head")
    run.add_argument("--trace", action="store_true", help="print each batch's position")
    # wait --hold seconds inside the --hold-batch'th batch's transaction before its commit: lets a
    # crash test kill the process while a batch is written but not committed
    run.add_argument("--hold", type=float, default=0.0, help=argparse.SUPPRESS)
    run.add_argument("--hold-batch", type=_positive, default=1, help=argparse.SUPPRESS)
    run.set_defaults(func=cmd_run)

    imp = subparsers.add_parser("import", help="load docs/domain.md §4 event lines into the store")
    imp.add_argument("file", help="JSON lines (an export or a history)")
    imp.add_argument(
        "--no-workflows", action="store_true", help="store only; do not adopt open cases"
    )
    imp.add_argument(
        "--batch-size", type=_positive, default=None, help="events per transaction (default 2000)"
    )
    imp.add_argument(
        "--concurrency", type=_positive, default=None, help="workflow starts in flight (default 32)"
    )
    imp.add_argument("--quiet", action="store_true", help="no progress bars on a terminal")
    # print "committed <done> <total>" after each batch, and wait --hold seconds after the first
    # one: lets a crash test kill the import by its pid between two committed batches
    imp.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    imp.add_argument("--hold", type=float, default=0.0, help=argparse.SUPPRESS)
    imp.set_defaults(func=cmd_import)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def cmd_rebuild(args: argparse.Namespace) -> int:
    from infra.bootstrap import database, open_store
    from infra.cli.progress import progress_bar
    from infra.config.settings import load_settings
    from projections.runner import ViewsBusy, rebuild

    settings = load_settings()
    with database(settings) as url, open_store(settings, url) as (_store, env):
        try:
            with progress_bar("rebuild", enabled=not args.quiet) as progress:
                result = rebuild(env, progress)
        except ViewsBusy as exc:
            print(f"barnflow: {exc}", file=sys.stderr)
            return 1
    print(
        f"rebuilt every view: {result.events} events, {result.cases} cases, position "
        f"{result.position}, {result.seconds:.2f}s ({result.events_per_second:,.0f} events/s)"
    )
    if result.vacuum_error is not None:
        print(
            f"barnflow: views not vacuumed ({result.vacuum_error}); autovacuum will",
            file=sys.stderr,
        )
    else:
        print(f"vacuumed the views in {result.vacuum_seconds:.2f}s")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Fold batches until SIGTERM/SIGINT (or the head, with ``--until-caught-up``)."""
    from infra.bootstrap import database, open_store, startup_lock
    from infra.config.retry import backoff_until_stopped
    from infra.config.settings import load_settings
    from projections.runner import TRANSIENT, NotWriter, ReportsRunner

    stopped = threading.Event()
    batches = 0

    def on_signal(signum: int, frame: object) -> None:
        stopped.set()

    def trace(word: str) -> Any:
        def hook(position: int) -> None:
            nonlocal batches
            if args.trace:
                print(f"{word} {position}", flush=True)
            if word == "committing":
                batches += 1
                if batches == args.hold_batch and args.hold > 0:
                    time.sleep(args.hold)

        return hook

    def unavailable(error: BaseException, sleep: float) -> None:
        # PostgreSQL restarting: the batch rolled back, retrying it is exactly-once
        print(
            f"database unavailable ({type(error).__name__}); retry in {sleep}s",
            file=sys.stderr,
            flush=True,
        )

    settings = load_settings()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:  # a closed terminal; not nohup
        signal.signal(signal.SIGHUP, on_signal)
    with database(settings) as url, contextlib.ExitStack() as resources:
        with startup_lock(url, settings.database.schema):  # tables: one service at a time
            _store, env = resources.enter_context(open_store(settings, url, wait_for_database=120))
            runner = ReportsRunner(
                env,
                batch_size=args.batch_size,
                before_commit=trace("committing"),
                after_batch=trace("committed"),
            )

        standby_since: float | None = None
        taken = 0

        def write_next() -> int | None:
            """The next batch's number of events, or None while another runner writes."""
            nonlocal standby_since, taken
            fresh = not runner.lock.acquired
            if not runner.become_writer():
                if standby_since is None:
                    standby_since = time.monotonic()
                return None
            if fresh:  # one line per taking of the lock: operators see who writes since when
                if standby_since is not None:
                    waited = f"after {time.monotonic() - standby_since:.2f}s as standby"
                else:
                    waited = "again, after losing it" if taken else "at start"
                taken += 1
                print(
                    f"writer: took the views' writer lock at "
                    f"{datetime.now(UTC).isoformat(timespec='milliseconds')} {waited}, "
                    f"views at position {runner.view.position()}",
                    file=sys.stderr,
                    flush=True,
                )
                standby_since = None
            # at the head: move the frister view's horizon on when due (projections.horizon)
            return runner.process_next() or runner.extend_when_due()

        try:
            if args.trace:
                print(f"starting at {runner.view.position()}", flush=True)
            standby = False
            while not stopped.is_set():
                try:
                    processed = backoff_until_stopped(
                        write_next, stopped, on=TRANSIENT, on_retry=unavailable
                    )
                except NotWriter:  # the lock's session ended: nothing written; retake it
                    runner.lock.release()
                    standby = False
                    continue
                if stopped.is_set():
                    break
                if processed is None:
                    if args.until_caught_up and runner.view.position() >= (
                        runner.app.max_position()
                    ):
                        break  # the other writer has reached the head
                    if not standby:
                        print(
                            "another projection runner writes the views; waiting as standby",
                            file=sys.stderr,
                            flush=True,
                        )
                        standby = True
                    stopped.wait(0.2)
                elif processed == 0:
                    if args.until_caught_up:
                        break
                    stopped.wait(0.2)
            print(f"views at position {runner.view.position()}", flush=True)
        finally:
            runner.close()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from infra.bootstrap import database, open_store
    from infra.config.settings import load_settings
    from projections.runner import WriterLock, lag_of
    from projections.view import open_view

    settings = load_settings()
    with database(settings) as url, open_store(settings, url) as (store, env):
        view = open_view(env)
        try:
            lag = lag_of(view, store)
            holder = WriterLock(env).holder()
            writer = "no runner" if holder is None else f"runner at PostgreSQL backend {holder}"
            print(f"store head {lag.head}, views at {lag.position} (lag {lag.events}), {writer}")
        finally:
            view.datastore.close()
    return 0


def cmd_catch_up(args: argparse.Namespace) -> int:
    """The views brought to the store's head once, under the writer lock (or by the runner
    that holds it); the one-shot answer to a report that says the views lag."""
    from infra.bootstrap import database, open_store
    from infra.config.settings import load_settings
    from projections.runner import caught_up, lag_of

    settings = load_settings()
    with database(settings) as url, open_store(settings, url) as (store, env):
        try:
            with caught_up(env, timeout=float(args.timeout)) as runner:
                print(lag_of(runner.view, store).line())
        except TimeoutError as exc:
            print(f"barnflow: {exc}", file=sys.stderr)
            return 1
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from infra.bootstrap import database, open_store
    from infra.cli.progress import progress_bar
    from infra.config.settings import SettingsError, load_settings
    from infra.persistence.bulk import BULK_BATCH
    from infra.persistence.importer import ImportRejected, import_lines
    from infra.temporal.adoption import ADOPT_CONCURRENCY, AdoptionResult, adopt_all
    from infra.temporal.client import connect_configured

    settings = load_settings()
    path = Path(args.file)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"barnflow: {path.name}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 2
    if not args.no_workflows and settings.temporal_address is None:
        raise SettingsError(
            "BARNFLOW_TEMPORAL_ADDRESS: required to adopt open cases (or use --no-workflows)"
        )
    committed = 0

    def traced(report: Callable[[int, int], None]) -> Callable[[int, int], None]:
        def progress(done: int, total: int) -> None:
            nonlocal committed
            report(done, total)
            committed += 1
            if args.trace:
                print(f"committed {done} {total}", flush=True)
            if committed == 1 and args.hold > 0:
                time.sleep(args.hold)

        return progress

    with database(settings) as url, open_store(settings, url) as (store, _env):
        try:
            with progress_bar("import", enabled=not args.quiet) as bar:
                summary = import_lines(
                    store, lines, progress=traced(bar), batch=args.batch_size or BULK_BATCH
                )
        except ImportRejected as exc:
            first, *rest = str(exc).splitlines()  # each bad line also in Swedish
            rows = [bilingual(f"{path.name} {first}"), *(bilingual(r) for r in rest)]
            print("barnflow: " + "\n".join(rows), file=sys.stderr)
            return 2
        adopted = AdoptionResult()
        if not args.no_workflows and summary.open_cases:

            async def adopt_open() -> AdoptionResult:
                client = await connect_configured(
                    settings, wait=5.0, workflow_keys=store.workflow_keys
                )
                with progress_bar("adopt", enabled=not args.quiet) as bar:
                    return await adopt_all(
                        client,
                        store,
                        summary.open_cases,
                        pseudonym_key=settings.keys.pseudonym,
                        task_queue=settings.task_queue,
                        alert_settle_seconds=settings.alert_settle_seconds,
                        concurrency=args.concurrency or ADOPT_CONCURRENCY,
                        progress=bar,
                        known=summary.adoption,
                    )

            adopted = asyncio.run(adopt_open())
    print(
        f"imported {path.name}: {summary.lines} lines, {summary.cases} cases, "
        f"{summary.appended} appended, {summary.skipped_duplicates} duplicates skipped, "
        f"{len(summary.open_cases)} open cases"
        + (
            ""
            if args.no_workflows
            else f", {adopted.started} adopted into workflows"
            + (f" ({adopted.already_running} already running)" if adopted.already_running else "")
        )
        + (f", {len(summary.flagged)} flagged" if summary.flagged else "")
    )
    for flag in summary.flagged:
        # recorded as history, listed for review (docs/domain.md §7.1 P-LAGRUM)
        print(f"  line {flag.line}: {flag.kommun} {flag.case_ref} [{flag.rule}] {flag.sv}")
    for kommun, case_ref, reason in adopted.failed:
        print(f"barnflow: could not adopt {kommun} {case_ref}: {reason}", file=sys.stderr)
    if adopted.failed:
        print(
            f"barnflow: {len(adopted.failed)} open case(s) not adopted; run the import again to "
            "start them (cases already running are skipped)",
            file=sys.stderr,
        )
        return 1
    return 0
