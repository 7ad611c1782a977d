"""What every CLI command may raise or print on failure: one line and exit code 2.

Its own module so that subcommands (``infra.cli.audit``, ``infra.cli.ops``) raise the same
``UsageError`` the entry point catches, without importing the entry point.
"""

from __future__ import annotations

import re
import sys

from domain.error_texts import swedish


class UsageError(Exception):
    """Bad arguments or input: printed as one line, exit code 2."""


def if_imported(*classes: tuple[str, str]) -> tuple[type[BaseException], ...]:
    """The exception classes ``(module, name)`` whose module is imported already, for an
    ``except`` clause: an exception of a module never imported cannot have been raised.

    So the entry point catches psycopg's, eventsourcing's and temporalio's errors without
    importing them for every command (``--help`` would pay a third of a second for them)."""
    found: list[type[BaseException]] = []
    for module, name in classes:
        loaded = sys.modules.get(module)
        if loaded is not None:
            found.append(getattr(loaded, name))
    return tuple(found)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def database_unavailable(exc: BaseException) -> str:
    """One line for a database that cannot be reached or did not answer in time."""
    import psycopg  # only after a database error, so psycopg is loaded already

    if isinstance(exc, psycopg.errors.QueryCanceled) or isinstance(
        exc.__cause__, psycopg.errors.QueryCanceled
    ):
        return (
            f"PostgreSQL did not finish a statement in time ({first_line(exc)}); "
            "the database is overloaded or locked: retry later"
        )
    return (
        f"PostgreSQL does not answer ({first_line(exc)}); check that it runs (the embedded "
        "server under BARNFLOW_HOME/pgdata, or BARNFLOW_DATABASE_URL) and retry"
    )


_LINE = re.compile(
    r"(?P<where>(?:\S+ )?line \d+: )?(?P<field>[\w.$\[\]-]+): (?P<message>.*)", re.DOTALL
)


def bilingual(text: str) -> str:
    """A refusal of an input line with its Swedish after it, as the API answers it (``sv``):
    ``events.jsonl line 2: data.barn: required for … | sv: data.barn: krävs för …``. Text that
    is not such a refusal (or has no Swedish) is returned as it is."""
    m = _LINE.fullmatch(text)
    sv = swedish(m["message"]) if m else None
    if m is None or sv is None:
        return text
    return f"{text} | sv: {m['field']}: {sv}"
