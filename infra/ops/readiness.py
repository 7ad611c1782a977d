"""Is this deployment complete? The checks behind ``barnflow setup``, the start of ``barnflow
worker`` and ``barnflow api serve``, and ``/health/ready``.

Issue 21: a namespace without barnflow's search attributes let the worker and the API start and
``/health`` say ok, and the first anmälan then failed every workflow task while its event was
already in the store. Each check here answers one question an operator can act on, as one line
that names what is missing and the command that fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import psycopg
from eventsourcing.persistence import MapperDeserialisationError
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.service import RPCError

from infra.persistence.schema import LATEST, MIGRATIONS, applied_versions
from infra.persistence.store import CaseStore
from workflows import search

if TYPE_CHECKING:  # temporalio.client is imported by whoever connects, not by a schema check
    from temporalio.client import Client

SETUP = "barnflow setup --apply"
#: The system search attribute a server sets on workflows whose tasks keep failing (``ops stuck``)
REPORTED_PROBLEMS = "TemporalReportedProblems"
#: The dynamic config that switches it on (``barnflow dev`` sets it to 2)
PROBLEMS_CONFIG = "system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute"
_KIND = {
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD: "Keyword",
    IndexedValueType.INDEXED_VALUE_TYPE_DATETIME: "Datetime",
    IndexedValueType.INDEXED_VALUE_TYPE_BOOL: "Bool",
    IndexedValueType.INDEXED_VALUE_TYPE_INT: "Int",
}


class NotReady(Exception):
    """A service refuses to start: the message is one line naming what is missing and the fix."""


@dataclass(frozen=True)
class Check:
    """One answer: ``ok`` True (fine), False (must be fixed), None (cannot be told from here:
    the operator confirms it)."""

    name: str
    ok: bool | None
    detail: str
    fix: str | None = None

    def line(self) -> str:
        status = {True: "ok", False: "FAIL", None: "WARN"}[self.ok]
        fix = f" (fix: {self.fix})" if self.fix and self.ok is not True else ""
        return f"{status:<4} {self.name:<17} {self.detail}{fix}"

    def refusal(self) -> str:
        fix = self.fix or SETUP
        if fix.startswith(("barnflow ", "temporal ")):
            return f"{self.name}: {self.detail}; run `{fix}`"
        return f"{self.name}: {self.detail}; {fix}"


def schema_check(url: str, schema: str) -> Check:
    """The database schema is at this code's version (older: migrate; newer: wrong release)."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        have = applied_versions(conn, schema)
    version = max(have, default=0)
    if version > LATEST:
        return Check(
            "schema",
            False,
            f"{schema!r} is at version {version}, newer than this barnflow ({LATEST})",
            "deploy the barnflow release that migrated it",
        )
    # the migrations this code has (numbers are reserved per branch, so there may be gaps)
    missing = sorted({m.version for m in MIGRATIONS} - have)
    if missing:
        state = "absent" if not have else f"at version {version}"
        return Check(
            "schema",
            False,
            f"{schema!r} is {state}, this barnflow needs version {LATEST}",
            SETUP,
        )
    return Check("schema", True, f"{schema!r} at version {LATEST}")


def keys_check(store: CaseStore) -> Check:
    """The cipher key reads the store's first event (a fresh store: nothing to read yet). The
    keys' presence and form are checked when the settings are read; this checks they are the
    store's, before a service appends with a key nothing else can read."""
    try:
        first = store.events_after(0, 1)
    except MapperDeserialisationError:
        return Check(
            "keys",
            False,
            "BARNFLOW_CIPHER_KEY does not decrypt the event store",
            "set the key it was written with (after a rotation the old one in "
            "BARNFLOW_CIPHER_OLD_KEYS)",
        )
    return Check("keys", True, "the cipher key reads the store" if first else "set (store empty)")


def create_commands(namespace: str, names: list[str]) -> list[str]:
    """The ``temporal`` CLI commands an admin runs to register ``names`` on ``namespace``."""
    from infra.temporal.client import SEARCH_ATTRIBUTES

    return [
        f"temporal operator search-attribute create --namespace {namespace} "
        f"--name {name} --type {SEARCH_ATTRIBUTES[name]}"
        for name in names
    ]


async def missing_search_attributes(client: Client, namespace: str) -> tuple[list[str], set[str]]:
    """Barnflow's search attributes absent (or of another type) on ``namespace``, and the names
    of the server's system attributes."""
    from infra.temporal.client import SEARCH_ATTRIBUTES

    answer = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    have = {name: _KIND.get(kind) for name, kind in answer.custom_attributes.items()}
    missing = [name for name, kind in SEARCH_ATTRIBUTES.items() if have.get(name) != kind]
    return missing, set(answer.system_attributes)


async def search_attributes_check(client: Client, namespace: str) -> Check:
    missing, _system = await missing_search_attributes(client, namespace)
    if missing:
        return Check(
            "search attributes",
            False,
            f"namespace {namespace!r} lacks {len(missing)} of {len(search.ALL)}: "
            + ", ".join(missing),
            SETUP,
        )
    return Check("search attributes", True, f"all {len(search.ALL)} on namespace {namespace!r}")


async def retention_check(client: Client, namespace: str, min_days: int) -> Check:
    """Temporal keeps closed workflows this long: ``ops stuck``, ``audit verify`` and the Web UI
    compare them with the record, so a shorter retention than the kommun's policy hides them."""
    answer = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace)
    )
    ttl = answer.config.workflow_execution_retention_ttl.ToTimedelta()
    days = ttl / timedelta(days=1)
    unit = "day" if days == 1 else "days"
    if ttl < timedelta(days=min_days):
        return Check(
            "retention",
            False,
            f"namespace {namespace!r} keeps closed workflows {days:g} {unit}, the policy is at "
            f"least {min_days}",
            f"temporal operator namespace update --namespace {namespace} --retention {min_days}d",
        )
    return Check("retention", True, f"{days:g} {unit} (policy: at least {min_days})")


async def task_problems_check(client: Client, namespace: str) -> Check:
    """Whether the server can flag workflows whose tasks keep failing (``ops stuck`` reads that
    flag). The threshold is dynamic config, which the frontend API does not expose: present
    attribute → WARN asking the operator to confirm the setting; absent → the server is too old."""
    _missing, system = await missing_search_attributes(client, namespace)
    if REPORTED_PROBLEMS not in system:
        return Check(
            "task problems",
            False,
            f"the server has no {REPORTED_PROBLEMS} search attribute: `ops stuck` cannot see "
            "workflows whose tasks keep failing",
            "upgrade Temporal to 1.28 or later",
        )
    return Check(
        "task problems",
        None,
        f"{REPORTED_PROBLEMS} exists; confirm the server's dynamic config sets {PROBLEMS_CONFIG} "
        "(e.g. 2): it cannot be read over the API",
    )


async def temporal_checks(client: Client, namespace: str, min_retention_days: int) -> list[Check]:
    """Every check of the namespace; an RPC the credentials may not make is a FAIL line."""
    checks = []
    for name, probe in (
        ("search attributes", search_attributes_check(client, namespace)),
        ("retention", retention_check(client, namespace, min_retention_days)),
        ("task problems", task_problems_check(client, namespace)),
    ):
        try:
            checks.append(await probe)
        except RPCError as exc:
            checks.append(Check(name, False, f"Temporal refused the check ({exc.status.name})"))
    return checks


async def require_ready(client: Client, namespace: str, store: CaseStore, url: str) -> None:
    """What a service needs before it takes work: the schema at this version, keys that read
    the store and the search attributes on the namespace. ``NotReady`` with the first problem,
    as one line."""
    checks = (
        schema_check(url, store.schema),
        keys_check(store),
        await search_attributes_check(client, namespace),
    )
    for check in checks:
        if check.ok is False:
            raise NotReady(check.refusal())
