"""The gallring run: destroy the data keys of what is due, and record it (crypto-shredding;
docs/operations.md "Gallring", docs/law.md §10, docs/security.md "Data keys and gallring").

``plan_run`` reads one kommun's record and its data keys and lists the keys whose every sealed
entry is due for gallring on the day (POL-GALLRING-NYCKEL): a key that also seals an entry to be
kept (a placement, the research sample, a barnutredning before the 30th birthday) is never
destroyed. The child's identity key of a case goes last, only when every entry of the case is due.

``run`` (``--apply``) then, per key: destroys it (idempotent) and appends one
``gallring_verkstalld`` to the case citing the rule, the paragraph and the gallringsbeslut. An
interrupted run is resumed by running it again: a destroyed key without its event gets the event
(with the beslut stored on the key), a key with both is done. The views are folded again
afterwards by the caller, so reports drop what was gallrat.

Temporal (docs/security.md "Temporal payloads under data keys"): a case workflow's payloads are
encrypted under the workflow's own key (``infra.persistence.workflowkeys``). The workflow is the
child's in the kommun and may carry several cases, so its key goes with the identity key of the
last of them: when every case of the workflow whose identity is still readable has its identity
key in this run. The identity target then also destroys the workflow key (first, so that an
interrupted run can still find the workflow from the child's identity), and its
``gallring_verkstalld`` names it in ``temporal_nyckel``. The frozen EVB quarters' rows of a case
whose identity is destroyed are anonymised (``anonymise_snapshots``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from domain.calendar import clock_date
from domain.events import CaseEvent, parse_event
from domain.ids import case_id_for
from domain.retention import IDENTITY, ClassPlan
from domain.sealing import SEALED_KEY, holds_clear_personal
from infra.persistence.datakeys import DataKeys, token_key_id
from infra.persistence.snapshots import anonymise_snapshots
from infra.persistence.store import CaseStore
from infra.temporal.case_workflow import stored_workflow_id
from projections.retention import plans

#: The actor barnflow records its own gallring events under.
GALLRING_ACTOR = {"id": "barnflow-gallring", "roll": "system"}


class GallringError(RuntimeError):
    """The run cannot proceed (no data keys, bad reference); nothing was destroyed."""


@dataclass(frozen=True)
class ShredTarget:
    """One data key to destroy, with the rule that allows it."""

    kommun: str
    case_ref: str
    case_id: str
    bucket: str
    key_id: str
    entries: int
    rule: str
    paragraph: str
    key_live: bool
    #: the identity target only: the child's workflow keys destroyed with it (Temporal)
    workflow_id: str | None = None
    temporal_keys: tuple[str, ...] = ()


@dataclass
class RunPlan:
    """What a run would do on ``as_of``."""

    as_of: date
    targets: list[ShredTarget] = field(default_factory=list)
    #: (case_ref, bucket, why): due in the plan but held, because the key seals a kept entry
    held: list[tuple[str, str, str]] = field(default_factory=list)
    #: due entries written before data keys existed: readable under the kommun key only
    unsealed_due: int = 0


@dataclass(frozen=True)
class RunResult:
    plan: RunPlan
    destroyed: int
    events: int


def _scan(
    store: CaseStore, kommun: str
) -> tuple[list[CaseEvent], dict[int, dict[str, str]], set[int]]:
    """The kommun's events (opened), per position its sealed buckets → key id, and the
    positions holding personal content in clear (written before data keys)."""
    events: list[CaseEvent] = []
    sealed: dict[int, dict[str, str]] = {}
    clear: set[int] = set()
    for row in store.stored_rows(by_position=True):
        stored = dict(store.domain_event(row).envelope)
        if stored.get("kommun") != kommun:
            continue
        if holds_clear_personal(stored):
            clear.add(row.position)
        tokens = stored.get(SEALED_KEY) or {}
        sealed[row.position] = {b: token_key_id(t) for b, t in tokens.items()}
        events.append(
            store.decode(row.originator_id, row.version, row.topic, row.state, row.position)
        )
    return events, sealed, clear


def plan_run(
    store: CaseStore, kommun: str, as_of: date, pseudonym_key: bytes | None = None
) -> RunPlan:
    """The keys a run on ``as_of`` destroys (POL-GALLRING-NYCKEL), and what it holds back.
    With ``pseudonym_key`` the children's workflow keys are planned too (Temporal)."""
    keys = _keys(store)
    events, sealed, clear = _scan(store, kommun)
    done = {str(ev.data.get("nyckel")) for ev in events if ev.type == "gallring_verkstalld"}
    live = {r.key_id: r.shredded_at is None for r in keys.rows()}
    out = RunPlan(as_of)
    for _kommun, _ident, plan in plans(events):
        status: dict[int, ClassPlan] = {p: c for c in plan.classes for p in c.positions}
        by_case: dict[str, list[int]] = defaultdict(list)
        for c in plan.classes:
            by_case[c.case_ref].extend(c.positions)
        for case_ref, positions in sorted(by_case.items()):
            _plan_case(out, kommun, case_ref, sorted(positions), status, sealed, live, done)
    every = plans_status(events)
    out.unsealed_due = sum(
        1 for ev in events if ev.position in clear and _due(ev.position, every, as_of)
    )
    if pseudonym_key is not None and store.workflow_keys is not None:
        _plan_workflows(store, out, events, pseudonym_key)
    return out


def _plan_workflows(
    store: CaseStore, out: RunPlan, events: list[CaseEvent], pseudonym_key: bytes
) -> None:
    """Attach each child's workflow keys to the identity target of its cases, when every case
    of the workflow whose identity is still readable is in the run (else the key is held)."""
    wkeys = store.workflow_keys
    if wkeys is None:
        return
    first: dict[str, CaseEvent] = {}
    for ev in sorted(events, key=lambda e: e.position or 0):
        first.setdefault(ev.case_ref, ev)
    workflow_of: dict[str, str] = {}
    for case_ref, opening in first.items():
        # before the identity is destroyed: its pseudonym (an already gallrad case has none,
        # and its key was linked by the run that destroyed it)
        wid = stored_workflow_id(
            case_id_for(opening.kommun, case_ref), opening.kommun, opening.data, pseudonym_key, {}
        )
        if wid is not None:
            workflow_of[case_ref] = wid
    identity = {t.case_ref: i for i, t in enumerate(out.targets) if t.bucket == IDENTITY}
    cases_of: dict[str, list[str]] = defaultdict(list)
    for case_ref, wid in workflow_of.items():
        cases_of[wid].append(case_ref)
    live: dict[str, list[str]] = defaultdict(list)
    for row in wkeys.rows(list(cases_of)):
        if row.shredded_at is None:
            live[row.workflow_id].append(row.key_id)
    for wid, refs in sorted(cases_of.items()):
        if not live.get(wid):
            continue
        if all(r in identity for r in refs):
            for r in refs:
                i = identity[r]
                out.targets[i] = replace(
                    out.targets[i], workflow_id=wid, temporal_keys=tuple(live[wid])
                )
        else:
            for r in refs:
                if r in identity:
                    out.held.append(
                        (
                            r,
                            "temporal",
                            "the child's workflow also carries a case to keep or not yet due",
                        )
                    )
    for i, t in enumerate(out.targets):  # resumed: the identity is gone, the link is stored
        if t.bucket == IDENTITY and t.workflow_id is None and not t.key_live:
            linked = wkeys.rows(case_id=t.case_id)
            if linked:
                out.targets[i] = replace(
                    t,
                    workflow_id=linked[0].workflow_id,
                    temporal_keys=tuple(r.key_id for r in linked),
                )


def plans_status(events: list[CaseEvent]) -> dict[int, ClassPlan]:
    """position → its class plan, over every person in ``events``."""
    return {p: c for _k, _i, plan in plans(events) for c in plan.classes for p in c.positions}


def _due(position: int, status: dict[int, ClassPlan], as_of: date) -> bool:
    c = status.get(position)
    return c is not None and c.status(as_of) == "gallras"


def _plan_case(  # noqa: PLR0917 - one case's share of the plan
    out: RunPlan,
    kommun: str,
    case_ref: str,
    positions: list[int],
    status: dict[int, ClassPlan],
    sealed: dict[int, dict[str, str]],
    live: dict[str, bool],
    done: set[str],
) -> None:
    as_of = out.as_of
    case_id = next((status[p].case_id for p in positions if status[p].case_id), None) or ""
    members: dict[tuple[str, str], list[int]] = defaultdict(list)
    for p in positions:
        for bucket, key_id in sealed.get(p, {}).items():
            members[(bucket, key_id)].append(p)
    whole_case_due = all(_due(p, status, as_of) for p in positions)
    ordered = sorted(members.items(), key=lambda kv: (kv[0][0] == IDENTITY, kv[0][0]))
    for (bucket, key_id), ps in ordered:
        if not live.get(key_id, False) and key_id in done:
            continue
        if not live.get(key_id, False):
            # destroyed by a run that stopped before its event (only gallring destroys keys):
            # record it now, even though the plan can no longer judge an identity it cannot read
            # (a person without a birth date is kept as if in the research sample)
            ok, why = True, ""
        elif bucket == IDENTITY:
            ok = whole_case_due
            why = "the case still holds entries to keep or not yet due"
        else:
            ok = all(_due(p, status, as_of) for p in ps)
            why = "the key also seals entries to keep or not yet due"
        if not ok:
            if any(_due(p, status, as_of) for p in ps) or (
                bucket == IDENTITY and any(_due(p, status, as_of) for p in positions)
            ):
                out.held.append((case_ref, bucket, why))
            continue
        cites = {x.rule: x.paragraph for p in ps for x in status[p].citations}
        out.targets.append(
            ShredTarget(
                kommun=kommun,
                case_ref=case_ref,
                case_id=case_id,
                bucket=bucket,
                key_id=key_id,
                entries=len(ps),
                rule=",".join(sorted(cites)),
                paragraph="; ".join(cites[r] for r in sorted(cites)),
                key_live=live.get(key_id, False),
            )
        )


def _keys(store: CaseStore) -> DataKeys:
    keys = store.data_keys
    if keys is None:
        raise GallringError("the store has no data keys (not barnflow's cipher): nothing to do")
    return keys


def run(
    store: CaseStore,
    kommun: str,
    gallringsbeslut: str,
    *,
    as_of: date,
    apply: bool = False,
    now: datetime | None = None,
    progress: Callable[[ShredTarget], None] | None = None,
    pseudonym_key: bytes | None = None,
) -> RunResult:
    """Plan, and with ``apply`` destroy every target key and record one event per key. With
    ``pseudonym_key`` the children's workflow keys (Temporal) go with their identity keys."""
    if not gallringsbeslut.strip():
        raise GallringError("a gallringsbeslut reference is required (--beslut)")
    moment = now or datetime.now(UTC)
    if as_of > clock_date(moment):
        raise GallringError(f"--as-of {as_of} lies in the future")
    plan = plan_run(store, kommun, as_of, pseudonym_key)
    destroyed = recorded = 0
    if not apply:
        return RunResult(plan, 0, 0)
    keys = _keys(store)
    beslut_of = {r.key_id: r.gallringsbeslut for r in keys.rows()}
    wkeys = store.workflow_keys
    temporal_destroyed = False
    for t in plan.targets:
        if wkeys is not None and t.temporal_keys:
            for wk in t.temporal_keys:  # first: an interrupted run finds them by the case
                wkeys.link(wk, [t.case_id])
                temporal_destroyed |= wkeys.shred(wk, gallringsbeslut)
        if keys.shred(t.key_id, gallringsbeslut):
            destroyed += 1
            beslut_of[t.key_id] = gallringsbeslut
        if t.bucket == IDENTITY:  # this process no longer holds the child's identity either
            store.forget_first_event(UUID(t.case_id))
        result = store.record(_event(t, beslut_of.get(t.key_id) or gallringsbeslut, moment),
                              now=moment)  # fmt: skip
        recorded += 0 if result.duplicate else 1
        if progress is not None:
            progress(t)
    if destroyed:
        keys.vacuum()
    if wkeys is not None and temporal_destroyed:
        wkeys.vacuum()
    gone = [t for t in plan.targets if t.bucket == IDENTITY]
    if gone:
        anonymise_snapshots(store, kommun, {t.case_ref for t in gone}, gallringsbeslut, moment)
    return RunResult(plan, destroyed, recorded)


def _event(t: ShredTarget, beslut: str, moment: datetime) -> CaseEvent:
    line: dict[str, Any] = {
        "kommun": t.kommun,
        "case_ref": t.case_ref,
        "type": "gallring_verkstalld",
        "occurred_at": moment.isoformat(),
        "actor": GALLRING_ACTOR,
        "idempotency_key": f"gallring-{t.key_id}",
        "data": {
            "klass": t.bucket,
            "regel": t.rule or "G-PERSONAKT",
            "paragraf": t.paragraph or "SoL 2025:400 16:1",
            "gallringsbeslut": beslut,
            "nyckel": t.key_id,
        },
    }
    if t.temporal_keys:
        line["data"]["temporal_nyckel"] = ",".join(t.temporal_keys)
    return parse_event(line, allow_system=True)
