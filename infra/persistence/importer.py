"""Store-only loading of event lines (docs/domain.md §4): an auditor's export or a kommun's history.

The whole file is judged before anything is appended: every line is parsed like a command
(``domain.events.parse_event``) and every case is folded dry through the same guards as the
aggregate (``domain.case.CaseState.check``), starting from what the store already holds. A bad
line stops the import with its line number and nothing from the file is stored. Appends then go
in batches of many cases by ``infra.persistence.bulk`` (sealed, chained and positioned exactly as
one append at a time would, written with ``COPY``), idempotent by ``idempotency_key``, so
re-running an interrupted import appends exactly the lines that are still missing.

Every decision line is judged against the kommun's delegationsordning in force on its own legal
date (its era), in the configuration version in force in the importing process, and stored with
that judgement (``domain.delegation_record``). A decision taken without delegation is history,
not a command: it is recorded as ``obehorig`` and listed in the report of such decisions, never
refused. A line that already carries a judgement (an export of barnflow's record) keeps it.

History is judged by its own era but not refused for what it cited: a decision whose lagrum was
not in force on its date (``P-LAGRUM``, ``domain.lagrum``) is recorded as it was taken and
listed in the summary (``ImportSummary.flagged``, with its line), so the import reports the
decisions an auditor must look at instead of rewriting or dropping them. So is a step dated
before the step it follows (``P-ORDER``: an insats verkställd before its beslut, a beslut
avslutat before its verkställighet), which a new command would be refused for.
"""

from __future__ import annotations

import copy
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import NamedTuple
from uuid import UUID

import orjson
from eventsourcing.application import AggregateNotFoundError
from psycopg import sql

from domain.aggregate import ChildCase
from domain.calendar import clock_date
from domain.case import CaseState, date_order_violation
from domain.delegation_record import judge
from domain.errors import DomainError, RuleViolation
from domain.events import CaseEvent, parse_event
from domain.homes import HomeState
from domain.ids import case_id_for
from domain.kommun import KommunConfig
from domain.lagrum import event_problem as lagrum_problem
from domain.placement import PLACEMENT_TYPES, check_placement
from domain.retention import key_bucket
from infra.persistence.bulk import BULK_BATCH, Planned, append_planned
from infra.persistence.homes import homes_of
from infra.persistence.kommun_config import resolve, versions_in
from infra.persistence.store import CaseStore, body_digest

Progress = Callable[[int, int], None]


class ImportRejected(ValueError):
    """A line of the file is invalid; nothing from the file was stored.

    ``line``/``message`` are the first bad line; ``lines`` are all the malformed lines of the file
    (a kommun's history with an unknown spelling in 40 lines is reported with all 40, not one
    at a time), one per row of the message.
    """

    def __init__(self, line: int, message: str, more: Sequence[tuple[int, str]] = ()) -> None:
        self.lines = [(line, message), *more]
        super().__init__("\n".join(f"line {n}: {m}" for n, m in self.lines))
        self.line = line
        self.message = message


@dataclass(frozen=True)
class ImportFlag:
    """A line recorded although a rule that refuses new commands would refuse it (``rule``),
    with the reason in Swedish and English: imported history is listed, not refused."""

    line: int
    kommun: str
    case_ref: str
    idempotency_key: str
    rule: str
    sv: str
    en: str

    def to_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "kommun": self.kommun,
            "case_ref": self.case_ref,
            "idempotency_key": self.idempotency_key,
            "rule": self.rule,
            "sv": self.sv,
            "en": self.en,
        }


class Known(NamedTuple):
    """A case as an import folded it: the event that opened it (naming the child) and its state
    after the import's lines."""

    opening: CaseEvent
    state: CaseState


@dataclass(frozen=True)
class ImportSummary:
    """What an import did; ``open_cases`` are (kommun, case_ref) still open, to adopt;
    ``flagged`` the lines recorded with a problem a new command would be refused for."""

    lines: int
    cases: int
    appended: int
    skipped_duplicates: int
    open_cases: list[tuple[str, str]] = field(default_factory=list)
    flagged: list[ImportFlag] = field(default_factory=list)
    #: For each open case, its opening event and its state as this import folded them: what
    #: adoption starts the workflow with (the child's pseudonym, the static summary), so it need
    #: not read and fold the case once more (``infra.temporal.commands.adopt``). Empty when
    #: another writer stored some of the lines meanwhile: then adoption reads the store.
    adoption: dict[tuple[str, str], Known] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, object]:
        return {
            "lines": self.lines,
            "cases": self.cases,
            "appended": self.appended,
            "skipped_duplicates": self.skipped_duplicates,
            "open_cases": [{"kommun": k, "case_ref": r} for k, r in self.open_cases],
            "flagged": [f.to_json() for f in self.flagged],
        }


@dataclass
class _Case:
    state: CaseState
    known: dict[str, CaseEvent]  # idempotency key → event (stored or earlier in the file)
    version: int = 0  # the stream's last version (stored, then planned)
    digest: str | None = None  # the stream's last stored digest (None: new or unchained)


def _parse(lines: Iterable[str]) -> list[tuple[int, CaseEvent]]:
    """Every line through ``parse_event``, which maps the known legacy spellings of meaningful
    fields (``kvartal``, ``lvu_dom.utfall``) to their canonical form; every line it refuses
    (an unknown spelling among them) is reported with its number."""
    out = []
    bad: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            bad.append((number, f"malformed JSON: {exc}"))
            continue
        try:
            out.append((number, parse_event(obj, allow_system=True)))
        except DomainError as exc:
            bad.append((number, str(exc)))
    if bad:
        raise ImportRejected(*bad[0], more=bad[1:])
    return out


def _load(store: CaseStore, case_id: UUID) -> _Case:
    try:
        aggregate: ChildCase = store.repository.get(case_id)
    except AggregateNotFoundError:
        return _Case(CaseState(), {})
    stored = store.case_events(case_id)
    return _Case(
        copy.deepcopy(aggregate.state),
        {e.idempotency_key: e for e in stored},
        aggregate.version,
        aggregate.digest,
    )


#: Case ids asked for per query when finding which of a file's cases the store already holds.
_STORED_CHUNK = 5000


def _stored_cases(store: CaseStore, case_ids: Sequence[UUID]) -> set[UUID]:
    """Which of ``case_ids`` the store holds, in one query per ``_STORED_CHUNK``: a new case
    (a kommun's history is mostly new cases) needs no load of its own."""
    query = sql.SQL(
        "SELECT DISTINCT originator_id FROM {}.{} WHERE originator_id = ANY(%s)"
    ).format(sql.Identifier(store.schema), sql.Identifier(store.events_table))
    found: set[UUID] = set()
    with store.pooled_connection() as conn:
        for start in range(0, len(case_ids), _STORED_CHUNK):
            rows = conn.execute(query, [list(case_ids[start : start + _STORED_CHUNK])])
            found.update(row["originator_id"] for row in rows.fetchall())
    return found


class _Configs:
    """The kommun configurations in force in the importing process, read once per kommun."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store
        self._versions = versions_in(store.env)
        self._loaded: dict[str, KommunConfig | None] = {}
        self._homes: dict[tuple[str, str], HomeState | None] = {}

    def home(self, kommun: str, hem_id: str) -> HomeState | None:
        """The home's record as stored (``None``: barnflow does not know the home)."""
        key = (kommun, hem_id)
        if key not in self._homes:
            self._homes[key] = homes_of(self._store).state(kommun, hem_id)
        return self._homes[key]

    def of(self, kommun: str) -> KommunConfig | None:
        if kommun not in self._loaded:
            version = self._versions.get(kommun)
            if version is None:
                self._loaded[kommun] = None
            else:
                with self._store.pooled_connection() as conn:
                    self._loaded[kommun] = resolve(conn, self._store.schema, version)
        return self._loaded[kommun]


def _judged(ev: CaseEvent, state: CaseState, configs: _Configs) -> CaseEvent:
    """``ev`` with the judgement of its decision by its own era's ordning (never refused)."""
    if ev.delegation is not None:
        return ev  # judged when it was first recorded (an export of barnflow's record)
    judgement = judge(ev, state, configs.of(ev.kommun))
    return ev if judgement is None else replace(ev, delegation=judgement.record)


def _placement_flag(
    number: int, ev: CaseEvent, case: _Case, configs: _Configs
) -> ImportFlag | None:
    """The placement guard of the command path (HEM1-HEM6, ``domain.placement.check_placement``)
    on a historical placement line: a placement in a home the record does not know, or without
    the utredning/registerkontroll the law asks for, is recorded as it happened and listed, like a
    lagrum not in force (POL-IMPORT-PLACERING, docs/law.md §11). An incomplete exception pair is a
    malformed line and refuses the file."""
    if ev.type not in PLACEMENT_TYPES:
        return None
    hem_id = ev.data.get("hem_id")
    home = configs.home(ev.kommun, hem_id) if isinstance(hem_id, str) else None
    config = configs.of(ev.kommun)
    krav = config.policy.hem_id_krav_fran if config is not None else None
    try:
        check_placement(
            list(case.known.values()), ev, home, hem_id_krav_fran=krav, beslut=case.state.beslut
        )
    except RuleViolation as refusal:
        return ImportFlag(
            number, ev.kommun, ev.case_ref, ev.idempotency_key, refusal.rule, refusal.sv, refusal.en
        )
    except DomainError as exc:
        raise ImportRejected(number, str(exc)) from None
    return None


@dataclass
class Validated:
    """What ``validate`` found: the events to append (file order), the duplicates, the cases
    folded dry, and the lines to list (``ImportFlag``)."""

    todo: list[CaseEvent]
    skipped: int
    cases: dict[UUID, _Case]
    flagged: list[ImportFlag]
    planned: list[Planned] = field(default_factory=list)

    def heads(self) -> dict[UUID, str | None]:
        """Each stored case's last stream digest, where the bulk append chains on."""
        return {cid: c.digest for cid, c in self.cases.items() if c.digest is not None}


def validate(store: CaseStore, lines: Iterable[str], *, now: datetime | None = None) -> Validated:
    """Judge every line; a guard refuses the file, a lagrum not in force is flagged."""
    today = clock_date(now or datetime.now(UTC))
    parsed = _parse(lines)
    configs = _Configs(store)
    cases: dict[UUID, _Case] = {}
    ids = {case_id_for(ev.kommun, ev.case_ref) for _, ev in parsed}
    stored = _stored_cases(store, sorted(ids))
    todo: list[CaseEvent] = []
    planned: list[Planned] = []
    flagged: list[ImportFlag] = []
    skipped = 0
    for number, ev in parsed:
        cid = case_id_for(ev.kommun, ev.case_ref)
        case = cases.get(cid)
        if case is None:
            case = cases[cid] = _load(store, cid) if cid in stored else _Case(CaseState(), {})
        earlier = case.known.get(ev.idempotency_key)
        if earlier is not None:
            if body_digest(earlier) != body_digest(ev):
                raise ImportRejected(
                    number,
                    f"[P-IDEMPOTENCY] idempotency_key {ev.idempotency_key!r} was already used "
                    "with a different body",
                )
            skipped += 1
            continue
        try:
            case.state.check(ev, today, lagrum=False)
        except DomainError as exc:
            raise ImportRejected(number, str(exc)) from None
        problem = lagrum_problem(ev)
        refusal = (
            problem.violation() if problem is not None else date_order_violation(case.state, ev)
        )
        if refusal is not None:
            flagged.append(
                ImportFlag(
                    number,
                    ev.kommun,
                    ev.case_ref,
                    ev.idempotency_key,
                    refusal.rule,
                    refusal.sv,
                    refusal.en,
                )
            )
        placement = _placement_flag(number, ev, case, configs)
        if placement is not None:
            flagged.append(placement)
        judged = _judged(ev, case.state, configs)
        bucket = key_bucket(case.state, judged)  # judged before the event, as the sealer does
        case.state.apply(judged)
        case.known[judged.idempotency_key] = judged
        case.version += 1
        todo.append(judged)
        planned.append(Planned(judged, cid, case.version, bucket))
    return Validated(todo, skipped, cases, flagged, planned)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a file is judged and written, as it was after.

    An import keeps every line's event, fold and row alive until its batch is written, so the
    collector's full passes re-scan a heap that only grows: measured, a third of the import's CPU
    (``bench/import.py``; docs/operations.md "Bulk import and adoption"). Reference counting
    still frees what the import drops; cycles wait for the collector's next pass after it. The
    switch is process-wide: in the API process another request's cycles also wait (seconds)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_lines(
    store: CaseStore,
    lines: Iterable[str],
    *,
    progress: Progress | None = None,
    now: datetime | None = None,
    batch: int = BULK_BATCH,
) -> ImportSummary:
    """Validate all ``lines``, then append them in order, ``batch`` events per transaction
    (``infra.persistence.bulk``); ``ImportRejected`` names a bad line."""
    materialised = list(lines)
    with _cyclic_gc_paused():
        # the import's events, folds and rows are dropped when ``_import`` returns, before the
        # collector is back: its next pass then does not walk them all once more
        return _import(store, materialised, progress=progress, now=now, batch=batch)


def _import(
    store: CaseStore,
    lines: list[str],
    *,
    progress: Progress | None,
    now: datetime | None,
    batch: int,
) -> ImportSummary:
    checked = validate(store, lines, now=now)
    cases = checked.cases
    written = append_planned(
        store, checked.planned, checked.heads(), batch=batch, now=now, progress=progress
    )
    appended = written.appended
    skipped = checked.skipped + written.duplicates  # another writer stored it meanwhile
    open_cases = sorted(
        (c.state.kommun, c.state.case_ref) for c in cases.values() if c.state.is_open
    )
    adoption = (
        {}
        if written.duplicates
        else {
            (c.state.kommun, c.state.case_ref): Known(next(iter(c.known.values())), c.state)
            for c in cases.values()
            if c.state.is_open and c.known
        }
    )
    return ImportSummary(
        lines=sum(1 for ln in lines if ln.strip()),
        cases=len(cases),
        appended=appended,
        skipped_duplicates=skipped,
        open_cases=open_cases,
        flagged=checked.flagged,
        adoption=adoption,
    )
