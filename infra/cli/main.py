"""The ``barnflow`` command line: local stack, demo, worker, reports, rules.

Errors a user can fix print one line (``barnflow: …``) and exit 2; nothing is half-done.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn, TypeVar

from infra.cli import (
    api,
    audit,
    gallring,
    homes,
    keys,
    kommun,
    kvalitet,
    ops,
    projections,
    report,
    rules,
    setup,
)
from infra.cli.errors import (
    UsageError,
    bilingual,
    database_unavailable,
    first_line,
    if_imported,
)
from infra.config.timeouts import (
    DB_STATEMENT_API,
    DB_STATEMENT_OPS,
    DependencyUnavailable,
    bound_libpq,
    connection_failure,
)

T = TypeVar("T")


#: Signals that stop a barnflow process cleanly: Ctrl-C, SIGTERM (systemd, kill) and SIGHUP (the
#: terminal that runs ``barnflow dev`` was closed; its default would end the process without
#: stopping the servers it started).
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


async def _wait_for_signal() -> None:
    await _stop_requested().wait()


def _stop_requested() -> asyncio.Event:
    """An event that SIGINT, SIGTERM or SIGHUP sets, for the rest of the loop's life.

    A signal is remembered, never lost: ``asyncio.run`` turns the first Ctrl-C into a
    cancellation of the main task, and a start-up step that swallows that cancellation (a
    ``wait_for`` racing its own completion, a retry loop) used to leave ``dev`` running with the
    signal spent, so nothing stopped it (and its PostgreSQL) any more.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in _STOP_SIGNALS:
        if signal.getsignal(sig) is not signal.SIG_IGN:  # nohup: SIGHUP stays ignored
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _enter_unless_stopped(
    stack: contextlib.AsyncExitStack,
    cm: contextlib.AbstractAsyncContextManager[T],
    stop: asyncio.Event,
) -> T | None:
    """Enter ``cm`` on ``stack`` unless a stop is requested first (then None).

    A stop during start-up cancels the start; the context manager unwinds what it had started.
    If the start completes anyway, ``stack`` holds it and its owner closes it.
    """
    entering = asyncio.ensure_future(stack.enter_async_context(cm))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({entering, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not entering.done():
        entering.cancel()
    try:
        value = await entering
    except asyncio.CancelledError:
        if stop.is_set():
            return None
        raise
    return None if stop.is_set() else value


# ---------------------------------------------------------------------------- dev / worker
def cmd_dev(args: argparse.Namespace) -> int:
    from infra.api.dev import dev_stack
    from infra.config.settings import load_settings

    settings = load_settings()

    async def main() -> None:
        api_port = None if args.no_api else args.api_port
        stop = _stop_requested()  # before anything starts: Ctrl-C during start-up stops it
        async with contextlib.AsyncExitStack() as stack:
            st = await _enter_unless_stopped(
                stack,
                dev_stack(
                    settings, temporal_port=args.port, ui_port=args.ui_port, api_port=api_port
                ),
                stop,
            )
            if st is None:
                print("stopping …")
                return
            print(f"barnflow dev stack running (home {settings.home})")
            print(
                f"  PostgreSQL: {'external' if settings.database.url else 'embedded'}"
                f" (schema {settings.database.schema})"
            )
            print(
                f"  Temporal:   {st.temporal_address} (namespace {settings.temporal_namespace},"
                f" task queue {settings.task_queue})"
            )
            print(f"  Web UI:     {st.ui_url}")
            if st.api_url is not None:
                print(f"  HTTP API:   {st.api_url} (OpenAPI at {st.api_url}/docs)")
                print(
                    "              a token: barnflow token create --role system"
                    " --kommun 1280 --subject dev"
                )
            print("  worker and projections running. Ctrl-C stops everything.")
            sys.stdout.flush()
            await stop.wait()
            print("stopping …")

    try:
        asyncio.run(main())
    except OSError as exc:  # e.g. a port already in use: one line, not a trace
        raise UsageError(f"cannot start the dev stack: {exc.strerror or exc}") from None
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from infra.bootstrap import database, open_store, startup_lock
    from infra.config.settings import load_settings
    from infra.ops.readiness import require_ready
    from infra.telemetry import observe_views
    from infra.temporal.client import connect_configured
    from infra.temporal.worker import running_worker
    from projections.runner import all_runners

    settings = load_settings()
    address = settings.temporal_target

    async def main() -> None:
        with database(settings) as url, contextlib.ExitStack() as stack:
            # the tables (store, views) are created under the start-up lock; Temporal is
            # connected to after it is released: a worker waiting for an unreachable Temporal
            # must not hold up the API, a runner or `projections status` on the same schema
            with startup_lock(url, settings.database.schema):
                store, env = stack.enter_context(
                    open_store(
                        settings, url, wait_for_database=120, migrate_schema=not settings.production
                    )
                )
                if not args.no_projections:  # its views are created here
                    runner = stack.enter_context(all_runners(env))
                    observe_views(store, runner.view)  # OPS: lag, overdue, EVB gauges
            client = await connect_configured(settings, workflow_keys=store.workflow_keys)
            await require_ready(client, settings.temporal_namespace, store, url)
            async with running_worker(
                client,
                store,
                settings.task_queue,
                pseudonym_key=settings.keys.pseudonym,
                alert_settle_seconds=settings.alert_settle_seconds,
                max_cached_workflows=args.max_cached_workflows,
            ):
                print(
                    f"barnflow worker on {address} ({settings.temporal_transport.describe})"
                    f" / {settings.task_queue}"
                )
                sys.stdout.flush()
                await _wait_for_signal()

    asyncio.run(main())
    return 0


# ---------------------------------------------------------------------------- demo
def cmd_demo(args: argparse.Namespace) -> int:
    from temporalio.exceptions import WorkflowAlreadyStartedError

    from infra.bootstrap import local_stack
    from infra.cli.demo import KOMMUNER, demo_cases
    from infra.cli.formats import render
    from infra.config.clock import today_stockholm
    from infra.config.settings import load_settings
    from infra.temporal.commands import adopt_case, send_command
    from projections.frister import COLUMNS as FRISTER_COLUMNS
    from projections.frister import frister_rows
    from projections.runner import catch_up

    settings = load_settings()
    today = today_stockholm()
    cases = demo_cases(today)
    for c in cases:  # one set per day, so a rerun on another day never collides
        c.case_ref = f"{c.case_ref}-{today:%Y%m%d}"
        for ln in (*c.history, *c.live):
            ln["case_ref"] = c.case_ref
            ln["idempotency_key"] = f"{ln['idempotency_key']}-{today:%Y%m%d}"

    async def main() -> None:
        from domain.events import parse_event

        async with local_stack(settings, headless=True) as st:
            print(f"demo: {len(cases)} backdated cases in kommun {' and '.join(KOMMUNER)}")
            for c in cases:
                for ln in c.history:
                    st.store.record(parse_event(ln), now=None)
                with contextlib.suppress(WorkflowAlreadyStartedError):
                    await adopt_case(st.client, st.store, settings, c.kommun, c.case_ref)
            for c in cases:
                for ln in c.live:
                    await send_command(
                        st.client,
                        st.store,
                        parse_event(ln),
                        pseudonym_key=settings.keys.pseudonym,
                        task_queue=settings.task_queue,
                        alert_settle_seconds=settings.alert_settle_seconds,
                    )
            await asyncio.sleep(1.0)  # let adopted workflows append their overdue alerts
            catch_up(st.projections)
            for kommun in KOMMUNER:
                view = st.projections.view
                with view.cursor() as curs:
                    found = frister_rows(
                        curs,
                        view.schema,
                        kommun,
                        today,
                        view.unseal,
                        include_closed=True,
                        policy=view.policy(kommun),
                    )
                rows = [r for r in found if r["case_ref"].endswith(f"{today:%Y%m%d}")]
                print(f"\nFrister i kommun {kommun} per {today.isoformat()}:")
                print(render(rows, "table", FRISTER_COLUMNS))
        print(
            "\nThe same cases live on in Temporal's database under "
            f"{settings.home / 'temporal'}.\nBrowse them: run `./run.sh dev` (or `barnflow dev`)"
            " and open http://127.0.0.1:8233 — workflow ids are barnarende-<kommun>-<pseudonym>;"
            " payloads are encrypted, ids and details carry no identity."
        )

    asyncio.run(main())
    return 0


# ---------------------------------------------------------------------------- parser
#: Above this the sticky cache would hold more case workflows than a worker's memory should
#: (docs/operations.md "Memory": about 0.3 MB each).
MAX_CACHED_WORKFLOWS = 100_000


def _cache_size(text: str) -> int:
    """``--max-cached-workflows``: a whole number from 0 (no sticky cache) to the bound."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_CACHED_WORKFLOWS:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 0 to {MAX_CACHED_WORKFLOWS}, got {text!r}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="barnflow", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the local stack until Ctrl-C")
    dev.add_argument("--port", type=int, default=7233, help="Temporal gRPC port")
    dev.add_argument("--ui-port", type=int, default=8233, help="Temporal Web UI port")
    dev.add_argument("--api-port", type=int, default=8080, help="HTTP API port")
    dev.add_argument("--no-api", action="store_true", help="do not serve the HTTP API")
    dev.set_defaults(func=cmd_dev)

    demo = sub.add_parser("demo", help="drive backdated demo cases on a local stack, then exit")
    demo.set_defaults(func=cmd_demo)

    worker = sub.add_parser("worker", help="run a worker against the configured Temporal")
    worker.add_argument("--no-projections", action="store_true")
    worker.add_argument(
        "--max-cached-workflows",
        type=_cache_size,
        default=1000,
        metavar="N",
        help="case workflows kept in memory between commands (sticky cache; default 1000, "
        "docs/operations.md 'Memory')",
    )
    worker.set_defaults(func=cmd_worker)

    rules.register(sub)  # rules explain/preview
    report.register(sub)
    projections.register(sub)
    keys.register(sub)  # keys generate/rotate, codec-server
    ops.register(sub)  # ops stuck/repair
    audit.register(sub)  # audit verify
    kommun.register(sub)  # kommun check/list/show
    homes.register(sub)  # homes send/list (issue 15)
    kvalitet.register(sub)  # klagomal, lex-sarah send/list (issue 17 item 4)
    api.register(sub)  # api, case send/state, export, token, api-key
    setup.register(sub)  # setup: schema, search attributes, retention (issue 21)
    gallring.register(sub)  # gallring plan (issue 16)
    return p


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so every context manager (the embedded PostgreSQL's owner
    list, servers we started) is left properly instead of the process vanishing mid-way."""
    raise KeyboardInterrupt(f"signal {signum}")


#: commands whose statements get a server-side ``statement_timeout`` (seconds); the others
#: (dev, worker, rebuilds, key rotation) run long statements on purpose
_STATEMENT_TIMEOUTS = {"ops": DB_STATEMENT_OPS, "audit": DB_STATEMENT_OPS, "api": DB_STATEMENT_API}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()  # imports the whole CLI: Ctrl-C may land here
    except KeyboardInterrupt:
        return 130
    args = parser.parse_args(argv)
    if threading.current_thread() is threading.main_thread():  # (tests call main in threads)
        signal.signal(signal.SIGTERM, _terminate)
        if signal.getsignal(signal.SIGHUP) is signal.SIG_DFL:  # not under nohup
            signal.signal(signal.SIGHUP, _terminate)
    with bound_libpq(_STATEMENT_TIMEOUTS.get(args.command)):
        return _run(args)


def entry() -> NoReturn:
    """The ``barnflow`` script and ``python -m infra.cli``: ``main``, then exit with its code.

    After a Temporal client was connected the interpreter is not finalised: the SDK's threads
    may abort it there (``infra.temporal.client.connected``). Every context has exited by now; the
    exit hooks (telemetry's final export) run, the streams are flushed, then ``os._exit``."""
    code = main()
    # a command that never imported the client module connected nothing (and must not pay ~0.5 s
    # for importing it now)
    client = sys.modules.get("infra.temporal.client")
    if client is not None and client.connected():
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _run(args: argparse.Namespace) -> int:
    """The command, with every expected failure turned into one line and exit code 2."""
    try:
        from infra.telemetry import setup as setup_telemetry  # OPS: BARNFLOW_TELEMETRY

        setup_telemetry()
        return int(args.func(args))
    except UsageError as exc:  # a refused input line also in Swedish, as the API answers it
        print(f"barnflow: {bilingual(str(exc))}", file=sys.stderr)
        return 2
    # The classes below are looked up only when an exception arrives, and only in modules the
    # command imported (``if_imported``): an exception of a module never loaded cannot have been
    # raised, and the parser (``--help``) does not pay for pydantic, eventsourcing or temporalio.
    except if_imported(
        ("infra.config.environment", "SettingsError"), ("infra.ops.readiness", "NotReady")
    ) as exc:
        print(f"barnflow: {exc}", file=sys.stderr)
        return 2
    except if_imported(("eventsourcing.persistence", "MapperDeserialisationError")) as exc:
        # wrong cipher key: one line, no stack trace
        print(f"barnflow: cannot decrypt the event store ({exc})", file=sys.stderr)
        return 2
    except DependencyUnavailable as exc:  # a bounded wait ran out: say what and what to do
        print(f"barnflow: {exc}", file=sys.stderr)
        return 2
    except if_imported(
        ("psycopg", "OperationalError"),  # unreachable, frozen or timed-out PostgreSQL ...
        ("eventsourcing.persistence", "OperationalError"),  # ... as eventsourcing reports it
        ("eventsourcing.persistence", "InterfaceError"),
    ) as exc:
        if not connection_failure(exc):
            raise  # a real fault (full disk, deadlock): its traceback, not "does not answer"
        print(f"barnflow: {database_unavailable(exc)}", file=sys.stderr)
        return 2
    except if_imported(("temporalio.service", "RPCError")) as exc:  # Temporal went away
        from temporalio.service import RPCError  # loaded already: it was raised

        assert isinstance(exc, RPCError)
        print(
            f"barnflow: Temporal did not answer ({exc.status.name}: {first_line(exc)}); "
            "check that it runs (BARNFLOW_TEMPORAL_ADDRESS) and retry",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130
