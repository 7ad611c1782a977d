"""Tamper evidence: recompute every stream's hash chain and the global chain, then compare the
store with Temporal for open cases.

An auditor must be able to prove that nothing in the personakt was altered or lost. Three checks
together cover the ways a record goes wrong:

* the stream chain (``domain.aggregate.stream_digest``, stored encrypted inside each event) shows
  an event whose content was changed, even by someone holding the cipher key;
* the global chain (``infra.persistence.recorder``) over position, stream, version and each event's
  stream
  digest (read back by decrypting the row) shows a changed, deleted, inserted or moved row and a
  truncated stream tail; its last link is the *checkpoint* an operator copies elsewhere, so a
  truncated global tail is caught next time. It links plaintext digests, so it survives key
  rotation, and a changed ciphertext still fails (AES-GCM authentication) and is named;
* for open cases, Temporal must run the case's workflow and know the same last position.

Findings name the event by case id, kommun/case_ref, version and position; never the child.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any
from uuid import UUID

from temporalio.client import Client

from domain.aggregate import STREAM_GENESIS, stream_digest
from infra.config.timeouts import OPS_RPC_TIMEOUT
from infra.persistence.recorder import GENESIS, global_link
from infra.persistence.store import CaseHead, CaseStore, ChainedStore, StoredRow, chain_digest
from infra.temporal.case_workflow import Links, stored_workflow_id
from workflows import search
from workflows.messages import WORKFLOW_NAME


@dataclass(frozen=True)
class Finding:
    """One thing that does not add up, with where it is."""

    check: str  # stream-chain | global-chain | temporal
    problem: str
    case_id: str | None = None
    version: int | None = None
    position: int | None = None
    where: str | None = None  # kommun/case_ref or workflow id (pseudonymous)

    def line(self) -> str:
        parts = [self.check, self.problem]
        if self.where:
            parts.append(self.where)
        if self.case_id:
            parts.append(f"case {self.case_id}")
        if self.version is not None:
            parts.append(f"v{self.version}")
        if self.position is not None:
            parts.append(f"position {self.position}")
        return ": ".join(parts[:2]) + (" (" + ", ".join(parts[2:]) + ")" if parts[2:] else "")

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


#: What ``verify_temporal`` says of an open case whose workflow id cannot be named.
NO_WORKFLOW_ID = "no workflow id (gallrad)"


@dataclass(frozen=True)
class Checkpoint:
    """The last link of the global chain: keep it outside the database to catch truncation."""

    position: int
    digest: str

    def __str__(self) -> str:
        return f"{self.position}:{self.digest}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        pos, sep, digest = text.partition(":")
        if not sep or not pos.isdigit() or len(digest) != 64:
            raise ValueError(f"checkpoint must be POSITION:SHA256HEX, got {text!r}")
        return cls(int(pos), digest)


@dataclass
class VerifyReport:
    findings: list[Finding]
    streams: int
    events: int
    checkpoint: Checkpoint
    open_cases: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_streams(store: ChainedStore) -> tuple[list[Finding], int, int]:
    """Each stream: versions 1..n, digests recompute; reports the first bad event per stream."""
    findings: list[Finding] = []
    streams = events = 0
    current: UUID | None = None
    prev = STREAM_GENESIS
    expected_version = 1
    broken = False
    last_ok: str | None = None
    for row in store.stored_rows():
        events += 1
        if row.originator_id != current:
            current, prev, expected_version, broken, last_ok = (
                row.originator_id,
                STREAM_GENESIS,
                1,
                False,
                None,
            )
            streams += 1
        if broken:
            continue
        finding = _check_row(store, row, prev, expected_version, last_ok)
        if isinstance(finding, Finding):
            findings.append(finding)
            broken = True
            continue
        prev, last_ok = finding
        expected_version += 1
    return findings, streams, events


def _check_row(
    store: ChainedStore, row: StoredRow, prev: str, expected_version: int, last_ok: str | None
) -> Finding | tuple[str, str]:
    """The row's digest and where it belongs (``kommun/case_ref``, ``kommun/hem:<id>``), or
    the finding that breaks its stream."""
    ids: dict[str, Any] = {
        "case_id": str(row.originator_id),
        "version": row.version,
        "position": row.position,
        "where": last_ok,
    }
    if row.version != expected_version:
        return Finding(
            "stream-chain", f"version {expected_version} is missing (next stored is this)", **ids
        )
    try:
        envelope = dict(store.domain_event(row).envelope)
    except (ValueError, KeyError, TypeError) as exc:
        return Finding("stream-chain", f"event cannot be read back ({exc})", **ids)
    where = store.locate(envelope)
    ids["where"] = where
    digest = envelope.get("digest")
    if digest is None:
        if prev == STREAM_GENESIS:  # written before the chain existed: the chain starts later
            return prev, where
        return Finding("stream-chain", "digest missing inside a chained stream", **ids)
    if stream_digest(prev, envelope) != digest:
        return Finding("stream-chain", "content does not match its digest (altered)", **ids)
    return str(digest), where


def verify_global(
    store: ChainedStore, expect: Checkpoint | None = None
) -> tuple[list[Finding], Checkpoint]:
    """Positions 1..N all present once, each matching its chain link; returns the checkpoint.

    A merge of two position-ordered scans (events and chain), so memory stays flat.
    """
    rows = store.stored_rows(by_position=True)
    row = next(rows, None)
    prev, expected = GENESIS, 1
    last = Checkpoint(0, GENESIS)
    digest_at_expect: str | None = None
    for link in store.chain_rows():
        ids: dict[str, Any] = {
            "case_id": str(link.originator_id),
            "version": link.version,
            "position": link.position,
        }
        if row is not None and row.position < link.position:
            return [_unchained(row)], last
        if link.position != expected:
            return [Finding("global-chain", f"position {expected} is missing", **ids)], last
        if row is None or row.position != link.position:
            return [Finding("global-chain", "event deleted", **ids)], last
        if (row.originator_id, row.version) != (link.originator_id, link.version):
            return [Finding("global-chain", "event moved to another stream/version", **ids)], last
        try:
            digest = chain_digest(dict(store.domain_event(row).envelope))
        except (ValueError, KeyError, TypeError) as exc:
            return [Finding("global-chain", f"event cannot be read back ({exc})", **ids)], last
        if digest != link.event_digest:
            return [Finding("global-chain", "event does not match its chain link", **ids)], last
        prev = global_link(prev, link.position, str(row.originator_id), row.version, digest)
        if prev != link.digest:
            return [Finding("global-chain", "chain link does not recompute", **ids)], last
        last = Checkpoint(link.position, link.digest)
        if expect is not None and link.position == expect.position:
            digest_at_expect = link.digest
        expected += 1
        row = next(rows, None)
    if row is not None:
        return [_unchained(row)], last
    if expect is not None:
        if last.position < expect.position:
            msg = f"store ends at position {last.position}, checkpoint says {expect.position}"
            return [Finding("global-chain", msg + " (tail truncated)")], last
        if digest_at_expect != expect.digest:
            return [
                Finding("global-chain", "checkpoint digest differs", position=expect.position)
            ], last
    return [], last


def _unchained(row: StoredRow) -> Finding:
    return Finding(
        "global-chain",
        "event is not in the chain (written outside the recorder?)",
        case_id=str(row.originator_id),
        version=row.version,
        position=row.position,
    )


async def verify_temporal(
    client: Client, heads: list[CaseHead], pseudonym_key: bytes, links: Links | None = None
) -> list[Finding]:
    """Open cases: a running workflow exists and its BarnflowLastPosition equals the store's.

    The workflow id is ``stored_workflow_id`` (``links``: gallring's case -> workflow links,
    ``WorkflowKeys.linked_cases``). An open case whose identity is gone and that has no link
    has no workflow id to compare: it is reported as exactly that, not as a missing workflow
    (which would be a comparison with the pseudonym of the missing identity)."""
    running = await running_case_workflows(client)
    findings: list[Finding] = []
    for head in heads:
        if head.closed:
            continue
        wid = stored_workflow_id(
            head.case_id, head.kommun, head.opening.data, pseudonym_key, links or {}
        )
        ids: dict[str, Any] = {
            "case_id": str(head.case_id),
            "position": head.last_position,
            "where": wid or f"{head.kommun}/{head.case_ref}",
        }
        if wid is None:
            findings.append(
                Finding(
                    "temporal",
                    f"{NO_WORKFLOW_ID}: its identity is gone and gallring recorded no link to "
                    "its workflow; the Temporal comparison was skipped",
                    **ids,
                )
            )
            continue
        if wid not in running:
            findings.append(Finding("temporal", "open case has no running workflow", **ids))
            continue
        known = running[wid].last_position
        if known is not None and known != head.last_position:
            findings.append(
                Finding(
                    "temporal",
                    f"workflow knows position {known}, store has {head.last_position}",
                    **ids,
                )
            )
    return findings


@dataclass(frozen=True)
class RunningWorkflow:
    """What visibility says about one running case workflow."""

    workflow_id: str
    run_id: str | None
    task_queue: str
    start_time: Any
    last_position: int | None
    overdue: bool
    next_due: Any
    stage: str | None
    history_length: int


async def running_case_workflows(client: Client, extra: str = "") -> dict[str, RunningWorkflow]:
    """All running case workflows from one paginated visibility query (not one call each)."""
    query = f"WorkflowType = '{WORKFLOW_NAME}' AND ExecutionStatus = 'Running'{extra}"
    out: dict[str, RunningWorkflow] = {}
    async for wf in client.list_workflows(
        query, page_size=1000, rpc_timeout=timedelta(seconds=OPS_RPC_TIMEOUT)
    ):
        sa = wf.typed_search_attributes
        out[wf.id] = RunningWorkflow(
            workflow_id=wf.id,
            run_id=wf.run_id,
            task_queue=wf.task_queue,
            start_time=wf.start_time,
            last_position=sa.get(search.LAST_POSITION),
            overdue=bool(sa.get(search.OVERDUE)),
            next_due=sa.get(search.NEXT_DUE),
            stage=sa.get(search.STAGE),
            history_length=wf.history_length,
        )
    return out


def verify_store(
    store: CaseStore,
    expect: Checkpoint | None = None,
    homes: ChainedStore | None = None,
    kvalitet: ChainedStore | None = None,
) -> VerifyReport:
    """The cases' chains (and the checkpoint) and, given ``homes`` and ``kvalitet``, the homes'
    and the complaints' and lex Sarah chains too: their findings name the stream (``where``:
    ``kommun/hem:<id>``, ``kommun/klagomal:<id>``, ``kommun/lex-sarah:<id>``) and count in
    ``streams``/``events`` (the checkpoint stays the cases' global chain)."""
    stream_findings, streams, events = verify_streams(store)
    global_findings, checkpoint = verify_global(store, expect)
    findings = stream_findings + global_findings
    for label, other in (("homes", homes), ("kvalitet", kvalitet)):
        if other is None:
            continue
        other_findings, other_streams, other_events = verify_streams(other)
        other_global, _ = verify_global(other)
        findings += other_findings + [_other_chain(f, label) for f in other_global]
        # a stream finding already says where: kommun/hem:<id>, kommun/klagomal:<id>
        streams, events = streams + other_streams, events + other_events
    return VerifyReport(findings, streams, events, checkpoint)


def _other_chain(finding: Finding, label: str) -> Finding:
    """A finding of another record's global chain, told apart from the cases' one."""
    return replace(finding, where=finding.where or label)
