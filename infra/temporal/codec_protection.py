"""Which workflows' payloads the codec server may decode for whom (POL-SKYDD-CODEC; docs/security.md
"Protected identities").

Temporal's codec server protocol carries payloads and the namespace only: nothing in a request
says which workflow they belong to. So the server decodes first and then looks inside, before
anything is answered: a payload that names a case (an event's ``kommun`` and ``case_ref``, the
workflow input's ``kommun`` and ``child_pseudonym``, or a ``barnarende-…`` workflow id; also an
``X-Workflow-Id`` header a client sends) is matched against the cases that are protected now, read
from the store. A token whose role the case's kommun does not name for protected cases gets 403
and the decoded content is dropped unanswered. Payloads that name no case (a timer's, an
activity's counts) are answered as before: they carry no case content.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import orjson
from temporalio.api.common.v1 import Payload

from domain.case import fold
from domain.ids import case_id_for, workflow_id_for
from domain.protection import SKYDD_TYPES
from infra.persistence.store import CaseStore
from infra.temporal.case_workflow import Links, all_links, stored_workflow_id

WORKFLOW_ID = re.compile(r"barnarende-(\d{4})-[A-Za-z0-9_\-]+")


def _strings_and_dicts(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _strings_and_dicts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings_and_dicts(item)
    elif isinstance(node, str):
        yield node


def named_cases(
    payloads: list[Payload], header: str | None
) -> tuple[set[tuple[str, str]], set[str]]:
    """(kommun, case_ref) pairs and workflow ids the decoded ``payloads`` (and the header) name."""
    cases: set[tuple[str, str]] = set()
    workflows: set[str] = set()
    if header:
        workflows.add(header)
    for p in payloads:
        try:
            doc = orjson.loads(p.data)
        except orjson.JSONDecodeError:
            continue
        for node in _strings_and_dicts(doc):
            if isinstance(node, str):
                workflows.update(m.group(0) for m in WORKFLOW_ID.finditer(node))
                continue
            kommun = node.get("kommun")
            if not isinstance(kommun, str):
                continue
            if isinstance(node.get("case_ref"), str):
                cases.add((kommun, node["case_ref"]))
            if isinstance(node.get("child_pseudonym"), str):
                workflows.add(workflow_id_for(kommun, node["child_pseudonym"]))
    return cases, workflows


class ProtectedCases:
    """The protected cases of a store, by (kommun, case_ref) and by workflow id, kept current:
    at most every ``ttl`` seconds the events stored since the last look are scanned for
    registrations of protection, and the cases that ever had one are folded again."""

    def __init__(self, store: CaseStore, pseudonym_key: bytes, *, ttl: float = 2.0) -> None:
        self._store = store
        self._key = pseudonym_key
        self._ttl = ttl
        self._lock = threading.Lock()
        self._after = 0
        self._checked = -float("inf")
        self._candidates: set[UUID] = set()
        self._cases: dict[tuple[str, str], str] = {}
        self._workflows: dict[str, str] = {}
        self._unresolved: set[str] = set()

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self._ttl:
            return
        while page := self._store.events_after(self._after, 1000):
            self._after = page[-1].position or self._after
            for e in page:
                if e.type in SKYDD_TYPES:
                    self._candidates.add(case_id_for(e.kommun, e.case_ref))
        cases: dict[tuple[str, str], str] = {}
        workflows: dict[str, str] = {}
        unresolved: set[str] = set()
        links: Links | None = None
        for cid in self._candidates:
            events = self._store.case_events(cid)
            if events and fold(events).protected:
                first = events[0]
                cases[(first.kommun, first.case_ref)] = first.kommun
                wid = stored_workflow_id(cid, first.kommun, first.data, self._key, {})
                if wid is None:  # gallrad: gallring's link names the workflow (one SELECT)
                    links = all_links(self._store) if links is None else links
                    wid = stored_workflow_id(cid, first.kommun, first.data, self._key, links)
                if wid is None:
                    # no identity and no link: which workflow carries this protected case is
                    # unknown, so every case workflow of its kommun is treated as protected
                    unresolved.add(first.kommun)
                else:
                    workflows[wid] = first.kommun
        self._cases, self._workflows, self._checked = cases, workflows, now
        self._unresolved = unresolved

    def kommuner(self, cases: set[tuple[str, str]], workflows: set[str]) -> set[str]:
        """The kommuner of the protected cases among those named (empty: none is protected)."""
        with self._lock:
            self._refresh()
            found = {self._cases[c] for c in cases if c in self._cases}
            found |= {self._workflows[w] for w in workflows if w in self._workflows}
            for w in workflows:
                match = WORKFLOW_ID.fullmatch(w)
                if match is not None and match.group(1) in self._unresolved:
                    found.add(match.group(1))
        return found


#: (kommuner of protected cases named, the token's role) -> may the token see them
Permits = Callable[[set[str], str | None], bool]
