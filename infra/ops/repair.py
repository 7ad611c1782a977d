"""``ops repair``: re-drive a case from the event store (the record is the truth; Temporal only
drives the process): terminate the workflow if one runs, then adopt the case from its stored
events. It is a dry run unless ``apply``; an applied repair is written to the append-only
``barnflow_ops_log`` with who and why, before it acts. ``find_case`` resolves what an operator
typed (workflow id, case id or case_ref) the way ``ops stuck`` prints it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from temporalio.client import Client

from infra.audit.verify import running_case_workflows
from infra.config.settings import Settings
from infra.ops.stuck import workflow_id_of
from infra.persistence.schema import OPS_LOG, is_current, ops_log_table
from infra.persistence.store import CaseHead, CaseStore
from infra.temporal.case_workflow import all_links
from infra.temporal.commands import adopt_case


@dataclass(frozen=True)
class RepairPlan:
    workflow_id: str
    case_id: str
    steps: list[str]
    applied: bool


def ensure_ops_log(url: str, schema: str) -> None:
    """The append-only log of operator actions (DDL in ``infra.persistence.schema``)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if is_current(conn, schema):  # migrated: it exists; DDL again only collides
            return
        for stmt in ops_log_table(schema):
            conn.execute(stmt)


def log_action(
    url: str, schema: str, *, actor: str, action: str, plan: RepairPlan, reason: str
) -> None:
    ensure_ops_log(url, schema)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "INSERT INTO {}.{} (actor, action, workflow_id, case_id, reason, detail) "
                "VALUES (%s, %s, %s, %s, %s, %s)"
            ).format(sql.Identifier(schema), sql.Identifier(OPS_LOG)),
            (
                actor,
                action,
                plan.workflow_id,
                plan.case_id,
                reason,
                json.dumps({"steps": plan.steps}),
            ),
        )


def ops_log(url: str, schema: str) -> list[dict[str, Any]]:
    ensure_ops_log(url, schema)
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(
            sql.SQL("SELECT * FROM {}.{} ORDER BY id").format(
                sql.Identifier(schema), sql.Identifier(OPS_LOG)
            )
        )
        return list(cur.fetchall())


def find_case(
    store: CaseStore, pseudonym_key: bytes, target: str, kommun: str | None = None
) -> CaseHead:
    """The case an operator named, as ``ops stuck`` prints it: a workflow id
    (``barnarende-…``), a case id (UUID), or a case_ref (with its kommun). ``LookupError``
    (one line, no identity) when nothing or more than one case matches."""
    target = target.strip()
    heads = store.case_heads()
    if kommun is not None:
        heads = [h for h in heads if h.kommun == kommun]
    if target.startswith("barnarende-"):
        # one workflow id per child and kommun: a child's older, closed cases share it, and
        # only its open case can be the workflow's (repair must never terminate the open
        # case's workflow to "adopt" a closed one)
        linked = all_links(store)
        found = [h for h in heads if workflow_id_of(h, pseudonym_key, linked) == target]
        what = f"workflow id {target}"
        open_ = [h for h in found if not h.closed]
        if found and len(open_) != 1:
            ids = ", ".join(str(h.case_id) for h in (open_ or found))
            if open_:
                raise LookupError(f"{what} has {len(open_)} open cases ({ids}): name a case id")
            raise LookupError(f"{what} has no open case (closed: {ids}): name a case id")
        found = open_
    else:
        try:
            case_id: UUID | None = UUID(target)
        except ValueError:
            case_id = None
        if case_id is not None:
            found = [h for h in heads if h.case_id == case_id]
            what = f"case id {target}"
        else:
            found = [h for h in heads if h.case_ref == target]
            what = f"case_ref {target!r}"
            if len(found) > 1:
                raise LookupError(
                    f"case_ref {target!r} exists in kommuner "
                    f"{', '.join(sorted(h.kommun for h in found))}: add --kommun"
                )
    if not found:
        where = f" in kommun {kommun}" if kommun is not None else ""
        raise LookupError(f"no case with {what}{where}")
    return found[0]


async def repair(
    client: Client,
    store: CaseStore,
    settings: Settings,
    url: str,
    *,
    case_ref: str,
    kommun: str | None = None,
    reason: str,
    actor: str,
    apply: bool = False,
) -> RepairPlan:
    """Terminate the case's workflow (if one runs) and adopt the case again from the store.

    ``case_ref`` is whatever ``ops stuck`` printed: a workflow id, a case id, or a case_ref
    (``kommun`` narrows it; needed only when a case_ref exists in more than one kommun).
    """
    if not reason.strip():
        raise ValueError("--reason is required: the ops log records why")
    head = find_case(store, settings.keys.pseudonym, case_ref, kommun)
    linked = all_links(store)
    wid = workflow_id_of(head, settings.keys.pseudonym, linked)
    if wid is None:
        # gallring destroyed the child's identity and left no link to its workflow: no id can
        # be named (never the pseudonym of the missing identity, another workflow's id)
        raise LookupError(
            f"case {head.case_id} is gallrad and has no recorded workflow id: nothing to repair"
        )
    running = await running_case_workflows(client, f" AND WorkflowId = '{wid}'")
    steps = []
    # a closed case's workflow id may run the child's open case: that workflow is not ours
    sibling = head.closed and any(
        not h.closed
        and h.kommun == head.kommun
        and workflow_id_of(h, settings.keys.pseudonym, linked) == wid
        for h in store.case_heads()
    )
    terminate = wid in running and not sibling
    if terminate:
        steps.append(f"terminate {wid} (run {running[wid].run_id})")
    elif wid in running:
        steps.append(f"keep {wid} running: it drives the child's open case")
    if head.closed:
        steps.append("case is closed in the store: nothing to adopt")
    else:
        steps.append(
            f"adopt {wid} from the store ({head.versions} events, position {head.last_position})"
        )
    plan = RepairPlan(wid, str(head.case_id), steps, applied=apply)
    if not apply:
        return plan
    log_action(
        url, settings.database.schema, actor=actor, action="repair", plan=plan, reason=reason
    )
    if terminate:
        # the reason stays in the ops log: Temporal shows terminate reasons in plaintext
        await client.get_workflow_handle(wid).terminate(reason="barnflow ops repair")
    if not head.closed:
        await adopt_case(client, store, settings, head.kommun, head.case_ref)
    return plan
